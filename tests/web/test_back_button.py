"""The browser's Back (a swipe back on a tablet) after a result: the camera of the eye or lesion just
screened came back, and a shot there recorded it a second time, unasked (a second result of the same
eye for the station, beside the first). The slot already screened says so and leads to its result,
where "Retake this one" is the one way to photograph it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    RunningApp,
    cannot_photograph,
    every_line_shown,
    first_eye_screened,
    longest_guidance_shown,
    new_patient,
    on_screen,
    recorded,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
    unscrolled,
)

ALREADY = {"en": "already screened in this visit", "fr": "dépistage déjà fait pendant cette visite"}


@pytest.fixture()
def dermatoscope(tmp_path: Path) -> Iterator[RunningApp]:
    running = start_app(tmp_path, sections={"device": 'modality = "dermoscopy"\n'})
    app = next(running)
    app.show(DERMOSCOPY_SAMPLE)
    yield app
    next(running, None)


def back_to_the_screened_slot(page, language: str, name: str) -> None:
    """Back from the result: the slot's screen says it was screened, with no shutter, on one screen."""
    page.go_back()
    said = page.locator("[data-test=already-screened]")
    said.wait_for()
    assert ALREADY[language] in said.inner_text()
    assert page.locator("[data-test=shutter]").count() == 0
    assert unscrolled(page)
    snap(page, name)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_back_after_an_eye_result_does_not_photograph_it_again(page, app, language):
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-BACK")
    back_to_the_screened_slot(page, language, "back-after-result")
    page.locator("[data-test=see-result]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").count() == 1
    assert [eye for eye, _ in recorded(app)] == ["R"]

    # "Retake this one", the deliberate way, still photographs the eye again.
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert [eye for eye, _ in recorded(app)] == ["R", "R"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_retake_pressed_by_mistake_keeps_the_earlier_photo(page, app, language):
    """ "Retake this one" pressed by mistake led to the camera with no button back to the eye's result,
    though that result was recorded and stood (a retake drops nothing; a new photo used joins it): the
    screen led only to a new photo. The camera of an eye chosen again offers "Keep the earlier photo", back
    to its result as it was, the eye closed to the camera again; nothing recorded. So does it after a
    new photo given up on its check screen (the earlier one still stands); the first photo of an eye has
    no earlier one to keep."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "MRN-KEEP")
    page.wait_for_url("**/capture")
    keep = page.locator("[data-test=keep-earlier]")
    assert keep.count() == 0
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    result = page.locator("[data-test=triage-R]").inner_text()

    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]")
    assert keep.inner_text() == {"en": "Keep the earlier photo", "fr": "Garder la photo précédente"}[language]
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "capture-retake")
    shoot(page)
    page.locator("[data-test=retake]").click()  # the new photo given up: the earlier one still stands
    page.wait_for_url("**/capture")
    keep.click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").inner_text() == result
    assert [eye for eye, _ in recorded(app)] == ["R"]
    page.goto(f"{app.url}/capture")  # the eye is closed to the camera again
    page.locator("[data-test=already-screened]").wait_for()
    assert page.locator("[data-test=shutter]").count() == 0

    page.locator("[data-test=see-result]").click()
    page.locator("[data-test=next-slot]").click()  # the next eye has no earlier photo
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]")
    assert keep.count() == 0


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("earlier", ["photo", "not-photographed"])
def test_the_longest_instruction_is_read_whole_beside_the_way_back(page, app, language, earlier):
    """An eye photographed again, no notice on the screen: "Keep the earlier photo" (or "Keep 'Could
    not be photographed'") at the side column's foot took the guidance box's room, and the longest
    instruction (French) ran out of it, 175 px of text in 122, its last lines hidden while the nurse
    aims. Every line of it is on the screen, beside the shutter and the way back."""
    sign_in(page, app)
    switch_to(page, language)
    if earlier == "photo":
        first_eye_screened(page, app, f"K-{language.upper()}", eyes=("R",))
    else:
        new_patient(page, app, f"K-{language.upper()}", eyes=("R",))
        cannot_photograph(page)
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    longest_guidance_shown(page)
    assert every_line_shown(page.locator("#guidance")) and unscrolled(page)
    assert on_screen(page.locator("[data-test=shutter]")) and on_screen(page.locator("[data-test=keep-earlier]"))
    snap(page, f"capture-keep-{earlier}-longest-guidance")


def test_photograph_it_after_all_pressed_by_mistake_keeps_the_eye_as_it_was_recorded(page, app):
    """An eye recorded as impossible to photograph has no earlier photo: its way back from the camera
    names what it keeps, the result screen's own words."""
    sign_in(page, app)
    new_patient(page, app, "MRN-KEEP-SHUT", eyes=("R",))
    cannot_photograph(page)
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    keep = page.locator("[data-test=keep-earlier]")
    assert keep.inner_text() == "Keep “Could not be photographed”"
    switch_to(page, "fr")
    assert keep.inner_text() == "Garder «\u00a0Impossible à photographier\u00a0»"
    page.wait_for_selector("#guidance[data-seq]")
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "capture-photograph-after-all")
    keep.click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") == "ungradable"
    assert [eye for eye, _ in recorded(app)] == ["R"]


def test_back_after_a_lesion_result_does_not_photograph_it_again(page, dermatoscope):
    sign_in(page, dermatoscope)
    new_patient(page, dermatoscope, "D-BACK", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    back_to_the_screened_slot(page, "en", "lesion-back-after-result")
    assert len(recorded(dermatoscope)) == 1


def test_back_after_an_eye_recorded_as_not_photographed_does_not_ask_again(page, app):
    """Back from the result of "Cannot photograph this eye" reloaded its question, and its Yes recorded
    the eye a second time: the eye says it was screened, and names "Photograph it after all"."""
    sign_in(page, app)
    new_patient(page, app, "MRN-SHUT")
    cannot_photograph(page)
    back_to_the_screened_slot(page, "en", "back-after-not-photographed")
    assert "Photograph it after all" in page.locator("[data-test=already-screened]").inner_text()
    assert page.locator("[data-test=not-photographed-yes]").count() == 0
    assert [eye for eye, _ in recorded(app)] == ["R"]


def test_a_stale_shot_of_an_eye_already_screened_is_refused(page, app):
    """The capture screen's form posted again once its eye has a result (a page kept from before it):
    refused with the same sentence, nothing taken nor recorded."""
    sign_in(page, app)
    new_patient(page, app, "MRN-STALE")
    page.wait_for_url("**/capture")
    form = {name: page.locator(f"#shoot input[name={name}]").input_value() for name in ("csrf", "token", "visit")}
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    answer = page.request.post(f"{app.url}/capture/shoot", form=form, max_redirects=0)
    assert answer.status == 409
    assert ALREADY["en"] in answer.text()
    assert [eye for eye, _ in recorded(app)] == ["R"]
    page.goto(f"{app.url}/check")  # no photo was left waiting
    page.locator("[data-test=already-screened]").wait_for()


@pytest.mark.parametrize(("leave", "language"), [("finish", "en"), ("sign-out", "fr"), ("lock", "en")])
def test_back_after_leaving_the_patient_shows_none_of_their_data(page, app, leave, language):
    """Back after Finish, Sign out or Lock: the result is never shown again from the browser's cache
    (the app's pages say ``no-store``); it is asked for again, and the app sends the nurse on."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-4242", eyes=("R",))
    assert page.request.get(f"{app.url}/result").headers["cache-control"] == "no-store"
    button, landing = {
        "finish": ("[data-test=finish]", "/patient"),
        "sign-out": ("[data-test=sign-out]", "/signin"),
        "lock": ("form[action='/lock'] button", "/signin"),
    }[leave]
    page.locator(button).click()
    if leave == "sign-out":  # asked first: a patient is in progress
        page.locator("[data-test=leave-start]").click()
    page.wait_for_url(f"**{landing}")
    page.go_back()
    page.wait_for_url(f"**{landing}")
    assert page.locator(".triage, [data-test=patient-outcome]").count() == 0
    assert "MRN-4242" not in page.content()
    snap(page, f"back-after-{leave}")
