"""The patient screen at 800x480: the reference, then the eyes or the body site chosen on a picture
(every region a finger-sized target, measured), in two steps that each fit the screen unscrolled."""

from __future__ import annotations

import sqlite3

import cv2
import numpy as np

from firmware_app.records.screening import MAX_PATIENT_REF
from tests.web.conftest import (
    AUDIT,
    csrf_header,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)

# Each region of the pictures: its box on screen, and whether a tap at its centre lands on it.
REGIONS = """(selector) => [...document.querySelectorAll(selector)].map((region) => {
  const box = region.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return {value: region.dataset.value, width: box.width, height: box.height, x: box.x,
          own: hit !== null && hit.closest("[data-input]") === region};
})"""


def open_step_two(page, app, modality: str, reference: str = "P-7") -> None:
    page.goto(f"{app.url}/patient")
    assert unscrolled(page)  # the reference step fits
    type_on_keypad(page, "reference", reference)
    page.locator(f"input[name=modality][value={modality}]").check()
    page.locator("[data-test=next]").click()
    assert unscrolled(page), modality
    assert page.evaluate(AUDIT) == [], modality  # targets, text size and contrast, as every screen


def test_the_body_map_regions_are_finger_sized_and_choose_the_site(page, app):
    sign_in(page, app)
    for language in ("en", "fr"):
        switch_to(page, language)
        open_step_two(page, app, "dermoscopy")
        regions = page.evaluate(REGIONS, ".body-map [data-input]")
        assert len(regions) == 11
        for region in regions:
            assert region["width"] >= 48 and region["height"] >= 48, region
            assert region["own"], region  # no other region covers it
        for value in sorted({region["value"] for region in regions}):
            page.locator(f'.body-map [data-value="{value}"]').first.click()
            assert page.locator(f"input[name=body_site][value={value}]").is_checked()
            assert page.locator(f'.body-map [data-value="{value}"].chosen').count() >= 1
        snap(page, "patient-body-map")


def test_one_eye_chosen_on_the_picture_is_the_whole_screening(page, app):
    sign_in(page, app)
    open_step_two(page, app, "fundus")
    regions = {region["value"]: region for region in page.evaluate(REGIONS, ".eye-map [data-input]")}
    assert all(r["width"] >= 48 and r["height"] >= 48 and r["own"] for r in regions.values())
    assert regions["R"]["x"] < regions["L"]["x"]  # facing the patient, the right eye is on the left
    assert [page.locator(f".eye-map [data-value={eye}] text").text_content() for eye in "RL"] == [
        "Right eye",
        "Left eye",
    ]
    snap(page, "patient-eyes")
    for eye in ("R", "L"):  # tapping both pictures leaves no eye chosen: refused, with why
        page.locator(f'.eye-map [data-value="{eye}"]').click()
    page.locator("input[name=consent]").check()
    page.locator("[data-test=start]").click()
    assert page.locator("[data-test=patient-error]").inner_text() == "Choose at least one eye."
    assert page.locator(".step-2").is_visible()

    page.locator('.eye-map [data-value="L"]').click()
    assert page.locator("input[name=eyes][value=L]").is_checked()
    assert not page.locator("input[name=eyes][value=R]").is_checked()
    page.locator("input[name=consent]").check()
    page.locator("[data-test=start]").click()
    page.wait_for_url("**/capture")
    assert page.locator("h1.slot").inner_text() == "Left eye"
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    eye = page.locator("[data-test=triage-L]").get_attribute("data-outcome")
    outcome = page.locator("[data-test=patient-outcome]")
    assert outcome.get_attribute("data-outcome") == ("refer" if eye != "no_refer" else "no_refer")
    assert page.locator("[data-test=next-slot]").count() == 0
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT eye FROM screening").fetchall() == [("L",)]


def test_next_without_a_reference_is_refused_at_once_with_why(page, app):
    sign_in(page, app)
    for language, words in (("en", "Type the patient reference."), ("fr", "Tapez la référence du patient.")):
        page.goto(f"{app.url}/patient")
        switch_to(page, language)
        page.locator("[data-test=next]").click()
        assert page.locator("[data-test=reference-needed]").inner_text() == words
        assert page.locator(".step-1").is_visible() and not page.locator(".step-2").is_visible()
        assert unscrolled(page)
        snap(page, "patient-no-reference")
        type_on_keypad(page, "reference", "P-8")
        page.locator("[data-test=next]").click()
        assert page.locator(".step-2").is_visible()
        assert not page.locator("[data-test=reference-needed]").is_visible()


def test_the_language_switch_keeps_what_was_typed_and_chosen_on_the_patient_form(page, app):
    """The patient answers in the other language: the switch reloads the form. It came back empty at
    its first step: the reference typed again on the keypad, the eyes or the body site chosen again.
    Now the form comes back as it was left, in the other language; the consent is asked anew in it."""
    sign_in(page, app)
    open_step_two(page, app, "fundus")
    page.locator("input[name=eyes][value=L]").set_checked(False)  # the left eye cannot be photographed
    page.locator("input[name=consent]").check()
    for language in ("fr", "en"):
        switch_to(page, language)
        assert page.locator(".step-2").is_visible(), language  # where she was
        assert page.locator("input[name=eyes][value=R]").is_checked(), language
        assert not page.locator("input[name=eyes][value=L]").is_checked(), language
        assert page.locator(".eye-map .chosen").count() == 1, language  # the picture shows it too
        assert not page.locator("input[name=consent]").is_checked(), language  # asked in her language
        assert unscrolled(page), language
        snap(page, "patient-after-language-switch")
    page.locator(".step-2 [data-step-to='1']").click()
    assert page.locator("#reference").input_value() == "P-7"
    page.locator("input[name=modality][value=dermoscopy]").check()
    page.locator("[data-test=next]").click()
    page.locator('.body-map [data-value="trunk"]').first.click()
    switch_to(page, "fr")
    assert page.locator("input[name=body_site][value=trunk]").is_checked()
    assert page.locator("input[name=modality][value=dermoscopy]").is_checked()
    assert page.locator(".step-2").is_visible() and page.locator("#reference").input_value() == "P-7"
    page.locator("input[name=consent]").check()
    page.locator("[data-test=start]").click()
    page.wait_for_url("**/capture")  # started as chosen
    page.goto(f"{app.url}/today")
    page.goto(f"{app.url}/patient")  # the kept form is used once: a later patient's comes empty
    page.locator("[data-test=leave-start]").click()
    page.locator('[data-keypad="reference"]').wait_for()
    assert page.locator("#reference").input_value() == "" and page.locator(".step-1").is_visible()


def test_a_kept_form_the_checks_refused_is_never_offered_to_a_later_patient(page, app, retina_jpeg, monkeypatch):
    """The language switch tapped on the form as a check turned red (the camera's cable knocked): the
    checks sent her to "Ready to screen?" and the kept form stayed in the session, to come back at the
    next "New patient", maybe hours later, at its second step, where the reference is not shown: the
    next patient's photos filed under this one's reference. It is dropped once the form is refused."""
    monkeypatch.setattr("firmware_app.web.device.READINESS_FRESH_S", 0.0)  # each form load runs the checks
    sign_in(page, app)
    open_step_two(page, app, "fundus")
    app.show()  # no photo: the camera check turns red
    switch_to(page, "fr")
    page.wait_for_url("**/ready")
    assert page.locator("[data-test=blocked]").is_visible()
    snap(page, "ready-blocked-after-language-switch")
    app.show(retina_jpeg)  # the camera back
    page.goto(f"{app.url}/ready")  # "Check again"
    assert page.locator("[data-test=blocked]").count() == 0
    page.goto(f"{app.url}/patient")  # a later patient
    for language in ("fr", "en"):
        switch_to(page, language)
        assert page.locator(".step-1").is_visible() and page.locator("#reference").input_value() == "", language
        snap(page, "patient-after-refused-draft")


def test_a_dermatoscope_offers_skin_first(page, tmp_path, retina_jpeg):
    """A new visit on a device configured for dermoscopy starts on "Skin": left as it came, the
    form no longer sends a dermatoscope's photos to the retinopathy model."""
    running = start_app(tmp_path, sections={"device": 'modality = "dermoscopy"\n'})
    app = next(running)
    app.show(retina_jpeg)  # any photo: the camera is ready
    try:
        sign_in(page, app)
        page.goto(f"{app.url}/patient")
        assert page.locator("input[name=modality][value=dermoscopy]").is_checked()
        assert not page.locator("input[name=modality][value=fundus]").is_checked()
    finally:
        next(running, None)


def test_a_fundus_camera_offers_eyes_first(page, app):
    sign_in(page, app)
    page.goto(f"{app.url}/patient")
    assert page.locator("input[name=modality][value=fundus]").is_checked()


def _skin_video(path, rgb) -> str:
    """A dermatoscope's stream as an OpenCV camera reads it: frames that differ, as a sensor's do."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (rgb.shape[1], rgb.shape[0]))
    rng = np.random.default_rng(0)
    for _ in range(40):
        noisy = np.clip(rgb.astype(np.int16) + rng.integers(-2, 3, rgb.shape), 0, 255).astype(np.uint8)
        writer.write(cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR))
    writer.release()
    return str(path)


def test_a_real_dermatoscope_starts_skin_visits_only(page, tmp_path, retina_rgb):
    """A device whose camera is a dermatoscope (not the files camera, which holds both kinds of
    photo) offers no eye visit, and a posted one becomes a skin visit: its photos never reach the
    retinopathy model."""
    video = _skin_video(tmp_path / "dermatoscope.avi", retina_rgb[::-1].copy())
    camera = f'backend = "opencv"\nsource = "{video}"\n'
    running = start_app(tmp_path, sections={"device": 'modality = "dermoscopy"\n', "camera": camera})
    app = next(running)
    try:
        sign_in(page, app)
        page.goto(f"{app.url}/patient")
        assert page.locator("input[name=modality]").count() == 1
        assert not page.locator("input[name=modality][value=dermoscopy]").is_visible()
        assert page.locator("input[name=modality][value=dermoscopy]").is_checked()
        snap(page, "patient-dermatoscope")
        type_on_keypad(page, "reference", "P-9")
        page.locator("[data-test=next]").click()
        assert page.locator(".body-map").is_visible() and not page.locator(".eye-map").is_visible()
        posted = page.request.post(
            f"{app.url}/patient",
            form={"reference": "P-10", "modality": "fundus", "eyes": "R", "body_site": "trunk", "consent": "yes"},
            headers=csrf_header(page),
        )
        assert posted.ok, posted.status
        assert '<h1 class="slot">Trunk</h1>' in posted.text()  # the capture screen of a skin visit
    finally:
        next(running, None)


def test_the_eyes_and_consent_step_shows_the_reference_typed(page, app):
    """The nurse checks she is on the right patient before the photos: the second step hid the
    reference typed on the first. It shows it now, for eyes and for skin, in both languages, and after
    a language switch (the form comes back at its second step)."""
    sign_in(page, app)
    for language, label in (("en", "Patient reference"), ("fr", "Référence du patient")):
        switch_to(page, language)
        for modality in ("fundus", "dermoscopy"):
            open_step_two(page, app, modality)
            shown = page.locator("[data-test=reference-shown]")
            assert shown.is_visible() and shown.inner_text().split() == [*label.split(), "P-7"], (language, modality)
            snap(page, f"patient-step-two-{modality}")
    switch_to(page, "en")  # back where it was, still showing it
    assert page.locator("[data-test=reference-shown]").inner_text().split()[-1] == "P-7"
    page.locator(".step-2 [data-step-to='1']").click()
    type_on_keypad(page, "reference", "8")  # corrected on the first step: the second shows the new one
    page.locator("[data-test=next]").click()
    assert page.locator("[data-test=reference-shown]").inner_text().split()[-1] == "P-78"


def test_the_eyes_and_consent_step_fits_with_the_longest_reference(page, app):
    """The longest reference the form takes (64 characters) wrapped in the picture's narrow column
    and pushed the skin step about 70 px past the screen. Shown whole, it still fits, for eyes and
    for skin, in both languages; in the widest letters too (64 W, four lines beside Back and Start in
    French, took the skin step 18 px past the screen)."""
    sign_in(page, app)
    for name, reference in (
        ("mixed", ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 2)[:MAX_PATIENT_REF]),
        ("widest", "W" * MAX_PATIENT_REF),
    ):
        for language in ("en", "fr"):
            switch_to(page, language)
            for modality in ("fundus", "dermoscopy"):
                open_step_two(page, app, modality, reference)  # unscrolled, and the audit's sizes and contrast
                shown = page.locator("[data-test=reference-shown] bdi")
                assert shown.is_visible() and shown.inner_text() == reference, (name, language, modality)
                snap(page, f"patient-step-two-longest-reference-{name}-{modality}")
