"""The capture screen's live preview as a new nurse reads it: what its automatic shutter waits for,
and a preview that stopped because the app stopped answering. Real Chromium, the real app (in a
process of its own where it is stopped) and the files camera."""

from __future__ import annotations

import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from firmware_app.messages import message
from firmware_app.quality.guidance import instruction
from tests.conftest import write_rgb
from tests.degradations import underexpose
from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    app_config,
    app_process,
    new_patient,
    on_screen,
    recorded,
    sign_in,
    snap,
    switch_to,
    unscrolled,
)

ALERT = "[role=alert][data-test=no-answer]"

# The word for a sharp picture, in each language: the automatic shutter's label named sharpness alone.
SHARP = {"en": "sharp", "fr": "nette"}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_dark_preview_is_told_as_dark_and_nothing_on_the_screen_waits_for_it_to_be_sharp(
    page, app, language, tmp_path, retina_rgb
):
    """The automatic shutter's label said "Take it when sharp" under "Too dark": the nurse waited for a
    sharpness the picture had, while the shutter waits for the gate's verdict, whatever its reason."""
    app.show(write_rgb(tmp_path / "dark.jpg", underexpose(retina_rgb, 3)))
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "P-3")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    guidance = page.locator("#guidance")
    assert guidance.get_attribute("data-verdict") == "reject"
    assert instruction("too_dark", "fundus", language) in guidance.inner_text()
    side = page.locator(".capture .side").inner_text()
    assert SHARP[language] not in side.lower()
    assert page.locator("label.choice").inner_text().strip() == message("capture.auto", language)
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "capture-dark")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_preview_the_app_stopped_answering_says_so_and_comes_back_by_itself(tmp_path: Path, page, language: str):
    """The app hung (SIGSTOP), then stopped: the capture screen kept its last frame, "Image quality:
    good" and a shutter that looked ready, a frozen picture a nurse took for a live one. It says the
    device does not answer, claims no quality and holds the shutter; answering again, the screen
    comes back by itself, live."""
    config, port = app_config(tmp_path, DERMOSCOPY_SAMPLE, language)  # its preview passes: "good" on the screen
    app = SimpleNamespace(url=f"http://127.0.0.1:{port}")
    guidance, shutter, alert = page.locator("#guidance"), page.locator("[data-test=shutter]"), page.locator(ALERT)
    good = message("quality.verdict.good", language)

    running = app_process(config, port)
    try:
        sign_in(page, app)
        new_patient(page, app, "H-1", "dermoscopy", "trunk")
        page.wait_for_selector("#guidance[data-verdict=good]", timeout=30_000)
        assert good in guidance.inner_text() and shutter.is_enabled()

        running.send_signal(signal.SIGSTOP)  # hung: its connections open, nothing on them
        alert.wait_for(timeout=30_000)
        assert alert.locator("p").inner_text().strip() == message("app.no_answer", language)
        assert good not in page.locator("main").inner_text()
        assert guidance.get_attribute("data-verdict") != "good"
        assert not shutter.is_enabled() and not page.locator("#auto").is_enabled()
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "capture-app-hung")

        running.send_signal(signal.SIGCONT)  # answering again: live once more, nobody touched it
        page.wait_for_selector("#guidance[data-verdict=good]", timeout=30_000)
        assert not alert.is_visible() and shutter.is_enabled() and page.url.endswith("/capture")
        snap(page, "capture-app-back")
        shutter.click()
        page.wait_for_url("**/check", timeout=60_000)  # the camera is this screen's again
        page.go_back()
        page.wait_for_selector("#guidance[data-verdict=good]", timeout=30_000)
    finally:
        running.send_signal(signal.SIGCONT)
        running.send_signal(signal.SIGTERM)
        running.wait(30)
    alert.wait_for(timeout=30_000)  # stopped: said the same way
    assert good not in page.locator("main").inner_text() and not shutter.is_enabled()
    snap(page, "capture-app-stopped")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_lesion_capture_screen_has_a_way_out_before_a_photo(page, app, language):
    """The eye's capture screen has "Cannot photograph this eye"; the lesion's had no way out but the
    nav. A lesion is no eye: with no photo nothing is recorded for it (no record of an eye "not
    photographed", which the wire, Today and the station read as an eye). Its way out is the question
    "New patient" asks with a visit open, which says so, and leads back to the camera or on."""
    app.show(DERMOSCOPY_SAMPLE)
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "L-1", "dermoscopy", "trunk")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    way_out = page.locator("[data-test=lesion-way-out]")
    assert way_out.inner_text().strip() == message("capture.lesion_way_out", language)
    assert on_screen(way_out) and unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "capture-lesion")

    way_out.click()
    leave = page.locator("[data-test=leave-visit]")
    assert message("leave.lesion_not_photographed", language) in leave.inner_text()
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "capture-lesion-way-out")
    page.locator("[data-test=resume]").click()  # back: the camera, live
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)

    way_out.click()
    page.locator("[data-test=leave-start]").click()  # on: the next patient's form, nothing recorded
    page.locator('[data-keypad="reference"]').wait_for()
    assert recorded(app) == []
