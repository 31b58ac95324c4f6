"""The capture screen's live preview as a new nurse reads it: what its automatic shutter waits for.
Real Chromium, the real app and the files camera."""

from __future__ import annotations

import pytest

from firmware_app.messages import message
from firmware_app.quality.guidance import instruction
from tests.conftest import write_rgb
from tests.degradations import underexpose
from tests.web.conftest import AUDIT, new_patient, sign_in, snap, switch_to, unscrolled

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
    page.screenshot(path=f"/work/notes/s44/shots-preview/capture-dark-{language}.png")
