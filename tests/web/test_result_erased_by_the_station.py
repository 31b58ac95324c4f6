"""A result of the visit open on the screen erased by the review station's notice (its administrator
erased a wrong photo there), which the sync service takes in a process of its own. The visit holds its
results in the app's memory: its result screen and its hand-out kept showing the erased result as the
one the eye stood at, and the hand-out printed it for the patient. They show none of it now, say so,
and the visit goes on: the eye is photographed again, or the visit finished."""

from __future__ import annotations

import sqlite3

import pytest

from firmware_app.app import open_store
from firmware_app.messages import message
from tests.web.conftest import (
    AUDIT,
    RunningApp,
    cannot_photograph,
    first_eye_screened,
    longest_guidance_shown,
    new_patient,
    on_screen,
    recorded,
    shoot,
    sign_in,
    snap,
    switch_to,
    unscrolled,
)
from tests.web.test_back_button import dermatoscope  # noqa: F401 (a fixture)
from tests.web.test_no_answer import RESULT_COVERED, answer_lost, unanswered


def erased_by_the_station(app: RunningApp, slot: str) -> None:
    """The station's notice naming the result recorded for ``slot`` (an eye, or ``lesion``'s none),
    taken as the sync service takes it: the records' own erasure, its own connection."""
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        [(result_id,)] = db.execute("SELECT result_id FROM screening WHERE coalesce(eye, 'lesion') = ?", (slot,))
    store = open_store(app.config)
    try:
        assert store.erase_erased_at_the_station([result_id]).results == 1
    finally:
        store.records.close()


def heading(slot: str, language: str, key: str) -> str:
    return message("result.slot_heading", language).format(slot=slot, heading=message(key, language))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_eye_whose_result_the_station_erased_is_shown_erased_and_photographed_again(page, app, language):
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "S-1")
    erased_by_the_station(app, "R")
    page.reload()
    right = message("eye.R", language)
    erased = page.locator("[data-test=erased-R]")
    assert page.locator("[data-test=triage-R]").count() == 0
    assert heading(right, language, "result.heading.erased") in erased.inner_text()
    assert message("result.action.erased", language) in erased.inner_text()
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == "pending"
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "result-erased-by-the-station")

    page.goto(f"{app.url}/today")  # read from the records: it was right, the result gone with them
    assert page.locator("[data-test=entry]").count() == 0
    page.goto(f"{app.url}/handout")  # nothing left to print: the screen that says why, with no Hand-out
    page.wait_for_url("**/result")
    assert page.locator("[data-test=handout]").count() == 0
    assert page.locator("[data-test=retake-slot]").inner_text() == message("result.photograph_again", language)
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    assert page.locator("h1.slot").inner_text().strip() == right
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").is_visible()
    assert page.locator("[data-test^=erased]").count() == 0
    assert [eye for eye, _ in recorded(app)] == ["R"]


def test_the_other_eye_is_next_under_an_eye_whose_result_the_station_erased(page, app):
    """The right eye's result erased, the left one never photographed: the right one's screen offered
    only to photograph it again, or Finish; the left eye is next too, as under a result."""
    sign_in(page, app)
    first_eye_screened(page, app, "S-5")
    erased_by_the_station(app, "R")
    page.reload()
    assert page.locator("[data-test=erased-R]").is_visible()
    assert page.locator("[data-test=retake-slot]").is_visible()
    assert page.locator("[data-test=next-slot]").inner_text() == message("result.next", "en").format(eye="Left eye")
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    assert page.locator("h1.slot").inner_text().strip() == message("eye.L", "en")


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("erased_on", ["capture", "check"])
def test_retaking_an_eye_whose_result_the_station_erased_says_so_on_the_camera_and_check_screens(
    page, app, language, erased_on
):
    """The right eye photographed again ("Retake this one"), its result erased by the station while its
    camera, or its new photo's check screen, is open: neither said a word of it, and the camera still
    offered to keep the earlier photo, erased. Both say it as the result screen does, and the camera
    offers nothing earlier to keep."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, f"S-13{erased_on[:2].upper()}")
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    said = erased_said(language, message("eye.R", language))
    if erased_on == "capture":
        erased_by_the_station(app, "R")
        page.reload()
        assert page.locator("[data-test=erased-note]").inner_text() == said
        assert page.locator("[data-test=keep-earlier]").count() == 0
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "capture-result-erased")
    shoot(page)
    if erased_on == "check":
        erased_by_the_station(app, "R")
        page.reload()
    assert page.locator("[data-test=erased-note]").inner_text() == said
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, f"check-result-erased-on-{erased_on}")
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").is_visible()
    assert page.locator("[data-test^=erased]").count() == 0


# "Finish anyway"'s question with both eyes left: each named, in the agreement French gives two.
BOTH_EYES_MISSING = {
    "en": "Right eye and left eye not photographed \u2013 finish anyway?",
    "fr": "Œil droit et œil gauche non photographiés \u2013 terminer quand même\u00a0?",
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_finish_anyway_names_both_eyes_when_the_station_erased_the_only_result(page, app, language):
    """The right eye's result erased, the left one never photographed: "Finish anyway"'s question named
    the right eye alone, and its no-answer alert said that eye may have been listed on Today. Both are
    left unphotographed, and with no result of the visit left nothing names the patient on Today: the
    question names both and says so, the alert promises no listing, and Today lists nothing."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "S-6")
    erased_by_the_station(app, "R")
    page.reload()
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/finish")
    confirm = page.locator("[data-test=finish-confirm]")
    assert BOTH_EYES_MISSING[language] in confirm.inner_text()
    assert message("result.finish_unlisted", language) in confirm.inner_text()
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "result-finish-confirm-both-eyes")
    anyway = message("result.finish_anyway", language)
    said = message("result.finish_no_answer_unlisted", language).format(button=anyway)
    unanswered(page, "finish-yes", "**/finish", answer_lost, said)
    snap(page, "result-finish-both-eyes-no-answer")
    assert page.evaluate(RESULT_COVERED) == []
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").count() == 0


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("eyes", [("R", "L"), ("R",)])
def test_finish_anyways_question_offers_the_eye_still_to_photograph_not_the_erased_one(page, app, language, eyes):
    """The right eye's result erased, its screen on: "Finish anyway"'s question offered "Next: Right eye",
    the eye on screen, where the screen's own Next offers the left eye. It offers the left eye, and with
    no other eye to photograph (the visit's only eye) the right eye's own "Photograph it again"."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, f"S-12{len(eyes)}", eyes=eyes)
    erased_by_the_station(app, "R")
    page.reload()
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/finish")
    left = message("eye.L", language)
    again = message("result.photograph_again", language)
    on = message("result.next", language).format(eye=left) if "L" in eyes else again
    assert page.locator("[data-test=finish-next]").inner_text() == on
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, f"result-finish-confirm-erased-{len(eyes)}-eyes")
    page.locator("[data-test=finish-next]").click()
    page.wait_for_url("**/capture")
    assert page.locator("h1.slot").inner_text().strip() == (left if "L" in eyes else message("eye.R", language))


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("eyes", [("R", "L"), ("R",)])
def test_the_patients_outcome_names_no_other_eye_when_no_eye_has_a_result(page, app, language, eyes):
    """The right eye's result erased, no other eye with one: the patient's outcome read "not complete
    until the other eye is photographed", where no eye has a result (both left, or the visit's only eye)."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, f"S-7{len(eyes)}", eyes=eyes)
    erased_by_the_station(app, "R")
    page.reload()
    outcome = page.locator("[data-test=patient-outcome]")
    assert outcome.get_attribute("data-outcome") == "pending"
    assert message("patient_outcome.pending", language) not in outcome.inner_text()
    assert message("patient_outcome.pending_no_result", language) in outcome.inner_text()
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, f"result-erased-outcome-{len(eyes)}-eyes")


def both_eyes_screened_and_the_right_erased(page, app: RunningApp, reference: str) -> None:
    """Both eyes screened, the left one's result on screen, and the right one's erased by the station."""
    first_eye_screened(page, app, reference)
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    erased_by_the_station(app, "R")


# The nav's ways out of an open visit, each asking first (leave_visit.html).
WAYS_OUT = {"new-patient": "nav.nav a[href='/patient']", "sign-out": "[data-test=sign-out]"}


def leaving(page, way_out: str):
    """The question a way out of the visit asks (``WAYS_OUT``): what leaving does to it."""
    with page.expect_navigation():
        page.locator(WAYS_OUT[way_out]).click()
    return page.locator("[data-test=leave-visit]")


def erased_said(language: str, slot: str) -> str:
    return message("result.erased", language).format(slot=slot)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("way_out", ["new-patient", "sign-out"])
def test_leaving_a_visit_whose_only_result_the_station_erased_says_it_was_erased(page, app, language, way_out):
    """The right eye's result erased by the station, the left one never photographed: New patient's
    question, and Sign out's, said "No photo of this patient was used: nothing is recorded", where a
    photo was used and its result erased. They say so, that nothing goes on Today to call the patient
    back (no result of the visit names them), and to photograph the patient again now; Today lists
    nothing."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "S-8")
    erased_by_the_station(app, "R")
    page.reload()
    said = leaving(page, way_out).inner_text()
    assert message("leave.nothing_recorded", language) not in said
    assert erased_said(language, message("eye.R", language)) in said
    assert message("leave.nothing_kept", language) in said
    assert page.locator("[data-test=leave-eye]").count() == 0
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, f"leave-{way_out}-only-result-erased")
    page.locator("[data-test=leave-start]").click()
    if way_out == "sign-out":
        page.wait_for_url("**/signin")
        sign_in(page, app)
    page.wait_for_url("**/patient" if way_out == "new-patient" else "**/ready")
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").count() == 0


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("way_out", ["new-patient", "sign-out"])
def test_leaving_a_visit_one_result_of_which_the_station_erased_says_which_are_kept(page, app, language, way_out):
    """Both eyes screened, the right one's result erased: New patient's question said "The results already
    recorded are kept", the erased one among them. It says the right eye's was erased, that eye goes on
    Today to call back (beside the left eye's result, which names the patient), and the others are kept:
    the right eye in one line, where it had two (erased, then listed as not photographed yet)."""
    sign_in(page, app)
    switch_to(page, language)
    both_eyes_screened_and_the_right_erased(page, app, "S-9")
    page.reload()
    lines = leaving(page, way_out).locator("li").all_inner_texts()
    right = message("eye.R", language)
    assert len([line for line in lines if line.startswith(right)]) == 1
    listed = "leave.erased_not_photographed" if way_out == "new-patient" else "leave.signout_erased_not_photographed"
    assert message(listed, language).format(eye=right) in lines
    assert message("leave.results_kept", language) not in lines
    assert message("leave.other_results_kept", language) in lines
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, f"leave-{way_out}-one-result-erased")
    page.locator("[data-test=leave-start]").click()
    if way_out == "sign-out":
        page.wait_for_url("**/signin")
        sign_in(page, app)
    page.wait_for_url("**/patient" if way_out == "new-patient" else "**/ready")
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").count() == 2  # the left eye's result, the right eye to call back


def test_leaving_says_a_result_the_station_erased_since_the_screen_was_loaded(page, app):
    """The right eye's result on screen, erased by the station then, New patient tapped at once (no
    screen loaded between): its question said the result kept and the left eye listed to call back, as
    the visit in memory still held them. It reads the records first, as the result screen does."""
    sign_in(page, app)
    first_eye_screened(page, app, "S-11")
    erased_by_the_station(app, "R")
    said = leaving(page, "new-patient").inner_text()
    assert erased_said("en", message("eye.R", "en")) in said
    assert message("leave.nothing_kept", "en") in said
    assert page.locator("[data-test=leave-eye]").count() == 0


def test_leaving_a_lesion_whose_result_the_station_erased_says_it_was_erased(page, dermatoscope):  # noqa: F811
    """New patient's question said "No photo of this lesion was used: nothing is recorded for it", where
    its photo was used and its result erased by the station."""
    sign_in(page, dermatoscope)
    for number, language in enumerate(("en", "fr")):
        switch_to(page, language)
        new_patient(page, dermatoscope, f"S-10{number}", "dermoscopy", "trunk")
        page.wait_for_url("**/capture")
        shoot(page)
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
        erased_by_the_station(dermatoscope, "lesion")
        page.reload()
        said = leaving(page, "new-patient").inner_text()
        assert message("leave.lesion_not_photographed", language) not in said
        assert erased_said(language, message("body_site.trunk", language)) in said
        assert message("leave.lesion_nothing_kept", language) in said
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "leave-new-patient-lesion-erased")


def test_the_other_eyes_result_erased_by_the_station_is_said_and_the_eye_is_next_again(page, app):
    """Both eyes screened, the left one's result on screen; the right one's erased: it no longer stands
    on the screen nor on the hand-out, the screen says so under the left eye's, and Next is the right eye."""
    sign_in(page, app)
    both_eyes_screened_and_the_right_erased(page, app, "S-2")
    page.reload()
    assert page.locator("[data-test=triage-L]").is_visible()
    said = message("result.erased", "en").format(slot=message("eye.R", "en"))
    assert page.locator("[data-test=erased-note]").inner_text() == said
    assert page.locator("[data-test=next-slot]").inner_text() == message("result.next", "en").format(eye="Right eye")
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == "pending"
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    page.goto(f"{app.url}/handout")
    assert page.locator("[data-test=handout] [data-test=triage-R]").count() == 0
    assert page.locator("[data-test=handout] [data-test=triage-L]").count() == 1


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_hand_out_gives_no_result_for_an_eye_whose_result_the_station_erased(page, app, language):
    """The hand-out printed the erased eye as "Not photographed yet", a result to come, where it was
    photographed and its result withdrawn: it says that eye has no result on this page, to be
    photographed again (the nurse does so now, or Today calls the patient back for it)."""
    sign_in(page, app)
    switch_to(page, language)
    both_eyes_screened_and_the_right_erased(page, app, "S-4")
    page.goto(f"{app.url}/handout")
    handout = page.locator("[data-test=handout]")
    said = heading(message("eye.R", language), language, "handout.erased")
    assert handout.locator("[data-test=handout-erased]").inner_text() == said
    assert message("result.pending", language) not in handout.inner_text()
    assert handout.locator("[data-test=triage-L]").count() == 1
    snap(page, "handout-eye-erased-by-the-station")


def test_a_lesion_whose_result_the_station_erased_is_shown_erased(page, dermatoscope):  # noqa: F811
    """A skin visit's one lesion: its result screen says it was erased and offers it again; the
    hand-out has nothing to give and sends the nurse back to that screen."""
    sign_in(page, dermatoscope)
    new_patient(page, dermatoscope, "S-3", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    erased_by_the_station(dermatoscope, "lesion")
    page.goto(f"{dermatoscope.url}/handout")
    page.wait_for_url("**/result")
    assert page.locator("[data-test=erased-lesion]").is_visible()
    assert page.locator(".triage.refer, .triage.no_refer, .triage.ungradable").count() == 0
    assert page.locator("[data-test=handout]").count() == 0
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")


def whole_on_screen(page, *shown: str) -> bool:
    """Whether the capture or check screen keeps each of ``shown`` wholly on the 800x480 screen with
    nothing to scroll, the camera's guidance whole in its box (none scrolled away inside it)."""
    guidance = page.locator("#guidance")
    if guidance.count():
        height, box = guidance.evaluate("element => [element.scrollHeight, element.clientHeight]")
        if height > box:
            return False
    return unscrolled(page) and all(on_screen(element) for name in shown for element in page.locator(name).all())


@pytest.mark.parametrize("language", ["fr", "en"])
def test_both_eyes_erased_by_the_station_fit_the_camera_and_check_screens(page, app, language):
    """Both eyes' results erased by the station: the camera and the check screen of the eye photographed
    again said each in a sentence of its own under the slot, and in French the two pushed the shutter
    past the 800x480 screen's foot. One sentence names both, and leaves the guidance, the shutter, and
    the check screen's reasons and buttons on the screen."""
    sign_in(page, app)
    switch_to(page, language)
    both_eyes_screened_and_the_right_erased(page, app, "S-14")
    erased_by_the_station(app, "L")
    page.reload()
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    said = [message("result.erased_both", language).format(eyes=message("eyes.both", language))]
    assert page.locator("[data-test=erased-note]").all_inner_texts() == said
    assert whole_on_screen(page, "[data-test=erased-note]", "#guidance", "[data-test=shutter]")
    assert page.evaluate(AUDIT) == []
    snap(page, "capture-both-results-erased")
    longest_guidance_shown(page)  # the notice leaves the guidance the room it has without one
    assert whole_on_screen(page, "[data-test=erased-note]", "#guidance", "[data-test=shutter]")
    snap(page, "capture-both-results-erased-longest-guidance")
    shoot(page)
    assert page.locator("[data-test=erased-note]").all_inner_texts() == said
    buttons = ("[data-test=use]", "[data-test=retake]")
    assert whole_on_screen(page, "[data-test=erased-note]", "[data-test=check-quality]", *buttons)
    assert page.evaluate(AUDIT) == []
    snap(page, "check-both-results-erased")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_eye_photographed_after_all_beside_an_erased_result_keeps_its_way_back_on_the_camera(page, app, language):
    """The left eye recorded as impossible to photograph, the right eye's result erased by the station,
    the left eye then photographed after all: beside the right eye's notice, the camera's way back
    ("Keep 'Cannot photograph'", at the side column's foot) was pushed below the 800x480 screen's foot,
    in English and French, the page scrolling to reach it. The way back stands under the picture, the
    notice under the slot, the guidance beside it in the smallest text (test_camera_layout)."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, f"S-16{language[0].upper()}")
    page.locator("[data-test=next-slot]").click()
    cannot_photograph(page)
    erased_by_the_station(app, "R")
    page.reload()
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    said = [erased_said(language, message("eye.R", language))]
    assert page.locator("[data-test=erased-note]").all_inner_texts() == said
    shown = ("[data-test=erased-note]", "#guidance", "[data-test=shutter]", "[data-test=keep-earlier]")
    assert whole_on_screen(page, *shown)
    assert page.evaluate(AUDIT) == []
    snap(page, "capture-after-all-beside-an-erased-result")
