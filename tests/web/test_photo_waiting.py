"""A photo waiting to be used is given up by its own check screen alone, and that screen's Retake
opens the camera for the eye it shows. Two tabs of one session in real Chromium: a screen opened
before the other tab moved on (the right eye's result or check screen) threw the left eye's photo
away unseen, and its Retake opened the camera for the eye the visit stood at."""

from __future__ import annotations

import pytest

from firmware_app.messages import message
from tests.web.conftest import new_patient, recorded, shoot, sign_in, snap, switch_to, unscrolled

# The right eye's screen left open in the first tab, by the button tapped on it there.
RIGHT_EYES_SCREEN = {"next-slot": "result", "retake-slot": "result", "retake": "check"}


def left_eye_taken_in_another_tab(page, app, screen: str, reference: str):
    """The right eye photographed in the first tab, which stays on ``screen`` ("check": its photo
    waiting; "result": used); in another tab the right eye's photo used if it waits, Next, and the
    left eye's photo taken: it waits on that tab's check screen, which is returned."""
    new_patient(page, app, reference)
    shoot(page)
    if screen == "result":
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
    other = page.context.new_page()
    other.goto(f"{app.url}/{screen}")
    if screen == "check":
        other.locator("[data-test=use]").click()
        other.wait_for_url("**/result")
    other.locator("[data-test=next-slot]").click()
    other.wait_for_url("**/capture")
    return other


@pytest.mark.parametrize("button", RIGHT_EYES_SCREEN)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_right_eyes_screen_keeps_the_left_eyes_photo_waiting_in_another_tab(page, app, language, button):
    """Next, "Retake this one" on the right eye's result screen, or Retake on its check screen once
    its photo was used elsewhere, gave up the left eye's photo waiting in the other tab: its "Use
    this photo" then opened the camera, the photo lost unseen. The photo is kept, the screen says so,
    and Try again shows it, to be used as the left eye."""
    sign_in(page, app)
    switch_to(page, language)
    other = left_eye_taken_in_another_tab(page, app, RIGHT_EYES_SCREEN[button], "W-1")
    shoot(other)  # the left eye's photo waits on the other tab's check screen
    waiting = other.locator("form[action='/check/use'] input[name=photo]").input_value()

    page.locator(f"[data-test={button}]").click()  # the first tab: the right eye's screen
    said = page.locator("[data-test=message]")
    said.wait_for(timeout=10_000)
    assert said.inner_text().strip() == message("capture.photo_waiting", language)
    assert unscrolled(page)
    snap(page, f"photo-waiting-{button}")

    other.reload()  # the left eye's photo still waits: the same photo, on its check screen
    assert other.locator("h1.slot").inner_text().strip() == message("eye.L", language)
    assert other.locator("form[action='/check/use'] input[name=photo]").input_value() == waiting
    page.get_by_role("link", name=message("capture.try_again", language)).click()
    page.wait_for_url("**/check")
    assert page.locator("h1.slot").inner_text().strip() == message("eye.L", language)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-L]").is_visible()
    assert [eye for eye, _ in recorded(app)] == ["R", "L"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_retake_on_the_check_screen_retakes_the_eye_it_shows(page, app, language):
    """The right eye's photo waits on the check screen; in another tab it is used and the nurse goes
    on to the left eye's camera. Retake on the first tab's check screen, of the right eye, posted no
    eye, and opened the camera for the left one (where the visit stood); it opens it for the right."""
    sign_in(page, app)
    switch_to(page, language)
    left_eye_taken_in_another_tab(page, app, "check", "W-2")

    page.locator("[data-test=retake]").click()  # the first tab: the right eye's check screen
    page.wait_for_url("**/capture")
    assert page.locator("h1.slot").inner_text().strip() == message("eye.R", language)
    shoot(page)  # the right eye photographed again
    assert page.locator("h1.slot").inner_text().strip() == message("eye.R", language)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").is_visible()
    assert [eye for eye, _ in recorded(app)] == ["R", "R"]
