"""A patient erased by ``edgescreen erase`` while the nurse screens them. The app refuses an erasure
from its own Records screen while the patient's visit is open (test_worklist_and_records), but the
command line runs in another process and cannot see the app's memory: the erasure went through, and
the visit's next eye or lesion was recorded after it, under the erased patient's reference, and sent,
with nobody told; its result screen and hand-out still showed the erased results. Now nothing more
is recorded nor shown for them: the visit is closed and the nurse told."""

from __future__ import annotations

import sqlite3

import pytest

from firmware_app.messages import message, sentence
from firmware_app.records.worklist import VISIT_EVENT
from tests.records.kit import in_language
from tests.test_cli import edgescreen
from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    RunningApp,
    first_eye_screened,
    first_photo_used,
    new_patient,
    recorded,
    shoot,
    sign_in,
    snap,
    switch_to,
    unscrolled,
)
from tests.web.test_back_button import dermatoscope  # noqa: F401 (a fixture)
from tests.web.test_result_erased_by_the_station import WAYS_OUT
from tests.web.test_worklist_and_records import screen_one_eye


def erased_on_the_command_line(app: RunningApp, reference: str) -> str:
    """``edgescreen erase`` run by the technician on the app's device, in a process of its own: what it
    printed."""
    erased = edgescreen("erase", "--patient", reference, config=app.directory / "config.toml")
    assert erased.returncode == 0, erased.stderr
    assert recorded(app) == []
    return erased.stdout


def told_and_closed(
    page, app: RunningApp, language: str, status: int, name: str, said_key: str = "records.patient_erased"
) -> None:
    """Nothing was recorded, the nurse is told on one screen in her language (``said_key``), and the
    visit is closed: no eye of it left open in the records, none listed on Today to call an erased
    patient back."""
    assert recorded(app) == []
    assert status == 409
    said = page.locator("[data-test=message]")
    assert said.inner_text() == message(said_key, language)
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, name)
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM open_visit").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM audit WHERE kind = ?", (VISIT_EVENT,)).fetchone()[0] == 0
    page.goto(f"{app.url}/capture")
    page.wait_for_url("**/patient")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_next_eye_of_a_patient_erased_mid_visit_is_not_recorded_and_the_nurse_is_told(page, app, language):
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "K-7")
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)  # its check screen open as the patient is erased
    said = erased_on_the_command_line(app, "K-7")
    assert message("erase.visit_open", "en") in said.splitlines()  # the device's language, not the nurse's
    with page.expect_response("**/check/use") as answer:
        page.locator("[data-test=use]").click()
    told_and_closed(page, app, language, answer.value.status, "patient-erased-mid-visit")


@pytest.mark.parametrize(("way_out", "language"), [("new-patient", "en"), ("sign-out", "fr")])
def test_leaving_a_visit_whose_patient_was_erased_promises_nothing_of_them(page, app, way_out, language):
    """The first eye's result on screen, its patient erased on the command line: New patient's question,
    and Sign out's, said "The results already recorded are kept" and "Left eye: listed ... to call back",
    where no result of theirs is kept and no eye goes on Today (nobody to call back). The visit is closed
    and the nurse told, as the result screen does."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "K-13")
    erased_on_the_command_line(app, "K-13")
    with page.expect_navigation() as answer:
        page.locator(WAYS_OUT[way_out]).click()
    assert page.locator("[data-test=leave-visit]").count() == 0
    status, shown = answer.value.status, "records.patient_erased_shown"
    told_and_closed(page, app, language, status, f"patient-erased-{way_out}", shown)


def test_finish_anyway_after_the_patient_was_erased_lists_no_eye_to_call_back(page, app):
    """ "Finish anyway" asked before ``edgescreen erase`` and answered after it: the eye left was listed
    on Today as not photographed, to call back a patient whose data is gone. The visit is closed, the
    nurse told, as a result recorded or shown then would be."""
    sign_in(page, app)
    first_eye_screened(page, app, "K-12")
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-confirm]").wait_for()
    erased_on_the_command_line(app, "K-12")
    with page.expect_response("**/finish") as answer:
        page.locator("[data-test=finish-yes]").click()
    status, shown = answer.value.status, "records.patient_erased_shown"
    told_and_closed(page, app, "en", status, "patient-erased-finish-anyway", shown)


def test_an_eye_that_cannot_be_photographed_of_a_patient_erased_mid_visit_is_not_recorded(page, app):
    sign_in(page, app)
    first_eye_screened(page, app, "K-8")
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    page.locator("[data-test=not-photographed]").click()
    erased_on_the_command_line(app, "K-8")  # its question open
    with page.expect_response("**/capture/not-photographed") as answer:
        page.locator("[data-test=not-photographed-yes]").click()
    told_and_closed(page, app, "en", answer.value.status, "patient-erased-not-photographed")


def test_a_lesion_photographed_again_after_its_patient_was_erased_is_not_recorded(page, dermatoscope):  # noqa: F811
    """A skin visit keeps no row in the records (no eye to call back for), only the app's memory: its
    lesion photographed again ("Retake this one") and used after the erasure was recorded all the same."""
    sign_in(page, dermatoscope)
    new_patient(page, dermatoscope, "D-9", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    erased_on_the_command_line(dermatoscope, "D-9")  # its check screen open
    with page.expect_response("**/check/use") as answer:
        page.locator("[data-test=use]").click()
    told_and_closed(page, dermatoscope, "en", answer.value.status, "patient-erased-lesion-retaken")


def test_the_first_eye_of_a_visit_opened_before_its_patient_was_erased_is_not_recorded(page, app):
    """A patient screened before comes back; erased once the visit is open, before any eye of it is
    recorded (the erasure removes the earlier screening), the first eye was recorded all the same."""
    sign_in(page, app)
    screen_one_eye(page, app, "K-10")
    new_patient(page, app, "K-10")
    page.wait_for_url("**/capture")
    erased_on_the_command_line(app, "K-10")
    with page.expect_response("**/capture/shoot") as answer:
        shoot(page)  # the check screen it brings says so: no photo of theirs to use
    assert page.locator("[data-test=use]").count() == 0
    shown = "records.patient_erased_shown"
    told_and_closed(page, app, "en", answer.value.status, "patient-erased-before-the-first-eye", shown)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("screen", ["capture", "check", "not-photographed"])
def test_the_camera_and_check_screens_of_a_patient_erased_mid_visit_close_it_and_say_so(page, app, screen, language):
    """The next eye's camera, its photo's check screen, or its "Cannot photograph this eye" question,
    open as the patient is erased on the command line: loaded again (a reload, the language switch),
    each offered the shutter, "Use this photo" or "Record as not photographed" as before, the nurse
    told only once she had used a photo or answered. They say so as they load, as the result screen
    does: the visit closed, nothing recorded."""
    sign_in(page, app)
    switch_to(page, language)
    reference = f"K-14{screen[:2].upper()}"
    first_eye_screened(page, app, reference)
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    if screen == "check":
        shoot(page)
    elif screen == "not-photographed":
        page.locator("[data-test=not-photographed]").click()
        page.wait_for_url("**/capture/not-photographed")
    erased_on_the_command_line(app, reference)
    answer = page.reload(wait_until="domcontentloaded")  # a camera's live picture never finishes loading
    assert page.locator("[data-test=shutter], [data-test=use], [data-test=not-photographed-yes]").count() == 0
    shown = "records.patient_erased_shown"
    told_and_closed(page, app, language, answer.status, f"patient-erased-on-{screen}", shown)


def test_another_lesion_of_a_patient_erased_once_its_visit_opened_is_not_recorded(page, dermatoscope):  # noqa: F811
    """The lesion after "Another lesion": a visit of its own for the same patient, nothing recorded yet."""
    sign_in(page, dermatoscope)
    new_patient(page, dermatoscope, "D-11", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    page.locator("[data-test=another-lesion]").click()
    page.wait_for_url("**/patient")
    page.locator('.body-map [data-value="upper_limb"]').first.click()
    page.locator("input[name=consent]").check()
    page.locator("[data-test=start]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    erased_on_the_command_line(dermatoscope, "D-11")  # its check screen open
    with page.expect_response("**/check/use") as answer:
        page.locator("[data-test=use]").click()
    told_and_closed(page, dermatoscope, "en", answer.value.status, "patient-erased-another-lesion")


@pytest.mark.parametrize(("screen", "language"), [("result", "en"), ("handout", "fr"), ("result", "fr")])
def test_the_result_and_handout_of_a_patient_erased_mid_visit_show_none_of_it(page, app, screen, language):
    """The first eye's result on screen, its patient erased on the command line: the result screen
    loaded again still showed the result, and the hand-out printed it for the patient, though the
    records hold nothing of them any more. Neither shows it: the visit is closed, as its next result
    would be refused, and the nurse told."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "K-12")
    erased_on_the_command_line(app, "K-12")
    answer = page.goto(f"{app.url}/{screen}")
    assert page.locator(".triage, [data-test=handout], [data-test=patient-outcome]").count() == 0
    told_and_closed(page, app, language, answer.status, f"patient-erased-{screen}", "records.patient_erased_shown")


def a_lesion_screened(page, app: RunningApp, reference: str) -> None:
    """A skin visit of ``reference``: one lesion photographed, used and finished."""
    app.show(DERMOSCOPY_SAMPLE)
    first_photo_used(page, app, reference, modality="dermoscopy", body_site="trunk")
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/patient")


@pytest.mark.parametrize(("open_visit", "language"), [("dermoscopy", "en"), ("fundus", "fr"), ("dermoscopy", "fr")])
def test_erase_says_a_skin_visit_or_one_with_nothing_recorded_yet_is_open_on_the_apps_screens(
    page, app, open_visit, language
):
    """A patient with an eye screened and a lesion screened, back for another visit left open on the camera
    before any photo: ``edgescreen erase`` said that a visit of the patient was open on the app's screens
    only for an eye visit that had recorded a result (the records kept no patient for a visit, and none
    at all of a skin visit), so whoever erased was not told to warn the nurse, whose screen still shows
    the patient. It says so for these too, in the device's language, after what it erased counted; and
    the visit is closed at its next screen, as for any other."""
    sign_in(page, app)
    screen_one_eye(page, app, "K-20")
    a_lesion_screened(page, app, "K-20")
    new_patient(page, app, "K-20", open_visit, "upper_limb" if open_visit == "dermoscopy" else None)
    page.wait_for_url("**/capture")
    in_language(app.directory / "config.toml", language)  # the command's, read as it starts
    said = erased_on_the_command_line(app, "K-20").splitlines()
    done = {
        "screenings": sentence("count.screenings", language, count=2),
        "photos": sentence("count.photos", language, count=2),
        "withdrawn": sentence("count.withdrawn", language, count=2),
        "in_flight": "",
    }
    assert said == [sentence("erase.done", language, **done), message("erase.visit_open", language)]
    answer = page.reload(wait_until="domcontentloaded")
    assert page.locator("[data-test=shutter]").count() == 0
    name = f"patient-erased-{open_visit}-visit-open-command-{language}"
    told_and_closed(page, app, "en", answer.status, name, "records.patient_erased_shown")
