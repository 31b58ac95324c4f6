"""An eye no photo can be taken of (closed, a small pupil, a cataract, an artificial eye): the capture
screen's "Cannot photograph this eye", asked first, records it as ungradable and so referred, says so
on the result screen and the hand-out, goes on to the next eye, and sends the specialist a result
that carries nothing a photographed ungradable eye's does not."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from datetime import UTC, datetime

import pytest

from edgescreen_wire.result import allow_list
from firmware_app.messages import message, sentence
from firmware_app.web import sessions
from review_station.ingest.classify import result_row
from tests.mqtt_broker import Broker, Tap, free_port, wait_until
from tests.web.conftest import (
    AUDIT,
    OPERATOR,
    PIN,
    cannot_photograph,
    csrf_header,
    first_eye_screened,
    new_patient,
    shoot,
    sign_in,
    sign_out,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)

REFERENCE = "MRN-2024-EYE"


@pytest.fixture()
def synced_app(tmp_path, retina_jpeg):
    """The app sending its results to a real mosquitto, and a subscriber on it."""
    broker = Broker(tmp_path / "broker", port=free_port()).start()
    running = start_app(tmp_path, broker_port=broker.port)
    app = next(running)
    app.show(retina_jpeg)
    tap = Tap(broker.port)
    yield app, tap
    tap.close()
    next(running, None)
    broker.stop()


def test_an_eye_that_cannot_be_photographed_is_recorded_referred_and_sent_as_ungradable(page, synced_app):
    app, tap = synced_app
    sign_in(page, app)
    new_patient(page, app, REFERENCE)
    page.wait_for_url("**/capture")
    way_out = page.locator("[data-test=not-photographed]")
    assert way_out.inner_text() == "Cannot photograph this eye" and unscrolled(page)
    snap(page, "capture-way-out")
    assert page.evaluate(AUDIT) == []  # every button 48 px or more, every text legible

    # Asked first; "Back to the camera" records nothing.
    way_out.click()
    page.wait_for_url("**/capture/not-photographed")
    question = page.locator("[data-test=not-photographed-question]")
    assert "Right eye: record it as impossible to photograph?" in question.inner_text()
    assert "a specialist must examine this eye" in question.inner_text()
    assert unscrolled(page)
    snap(page, "not-photographed-question")
    assert page.evaluate(AUDIT) == []
    switch_to(page, "fr")
    assert "Œil droit\u00a0: l'enregistrer comme impossible à photographier\u00a0?" in question.inner_text()
    assert unscrolled(page)
    snap(page, "not-photographed-question")
    assert page.evaluate(AUDIT) == []
    confirm = page.locator("[data-test=not-photographed-yes]")
    assert confirm.inner_text() == "Enregistrer comme impossible à photographier"
    page.locator("[data-test=not-photographed-back]").click()
    page.wait_for_url("**/capture")
    assert "Œil impossible à photographier" in way_out.inner_text() and unscrolled(page)
    snap(page, "capture-way-out")
    assert page.evaluate(AUDIT) == []
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0

    way_out.click()
    page.wait_for_url("**/capture/not-photographed")
    form = {name: page.locator(f"form input[name={name}]").last.input_value() for name in ("visit", "slot", "taken")}
    page.locator("[data-test=not-photographed-yes]").click()
    page.wait_for_url("**/result")
    right = page.locator("[data-test=triage-R]")
    assert right.get_attribute("data-outcome") == "ungradable"
    assert right.locator("h1").inner_text() == "Œil droit\u00a0: Impossible à photographier"
    assert "Cet œil n'a pas pu être photographié\u00a0: un spécialiste doit l'examiner." in right.inner_text()
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == "refer"
    assert page.locator("[data-test=next-slot]").inner_text() == "Suivant\u00a0: Œil gauche" and unscrolled(page)
    assert page.locator("[data-test=retake-slot]").inner_text() == "Le photographier finalement"  # no photo to retake
    snap(page, "result-not-photographed")
    assert page.evaluate(AUDIT) == []
    switch_to(page, "en")
    assert "This eye could not be photographed: a specialist must examine it." in right.inner_text()
    assert page.locator("[data-test=retake-slot]").inner_text() == "Photograph it after all"
    assert unscrolled(page)
    snap(page, "result-not-photographed")
    assert page.evaluate(AUDIT) == []

    # The same confirmation posted again (a double tap, a lost answer tapped again) records nothing more.
    again = page.request.post(f"{app.url}/capture/not-photographed", form=form, headers=csrf_header(page))
    assert again.ok and page.url.endswith("/result")

    # The next eye follows as usual; the patient stays referred whatever it reads.
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-L]").get_attribute("data-outcome") in ("refer", "no_refer")
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == "refer"
    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    handout = page.locator("[data-test=handout]")
    assert "Right eye: Could not be photographed" in handout.inner_text()
    assert page.locator("[data-test=handout-not-photographed]").inner_text() == (
        "This eye could not be photographed: a specialist must examine it."
    )
    assert "you will be referred to a specialist" in handout.inner_text()
    snap(page, "handout-not-photographed")
    switch_to(page, "fr")
    assert page.locator("[data-test=handout-not-photographed]").inner_text() == (
        "Cet œil n'a pas pu être photographié\u00a0: un spécialiste doit l'examiner."
    )
    snap(page, "handout-not-photographed")

    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        rows = db.execute(
            "SELECT result_id, eye, outcome, quality, operator FROM screening ORDER BY recorded_at"
        ).fetchall()
        images = dict(db.execute("SELECT result_id, count(*) FROM image GROUP BY result_id").fetchall())
    assert rows[0][1:3] == ("R", "ungradable") and len(rows) == 2
    right_id, _, _, quality, operator = rows[0]
    assert json.loads(quality) == {"verdict": "reject", "reasons": ["not_photographed"]} and operator == OPERATOR
    assert right_id not in images and images[rows[1][0]] == 1  # no photo kept of the eye not photographed

    # What reached the broker: an ungradable result on the allow-list, nothing new that identifies,
    # and a result the review station takes in.
    wait_until(lambda: len(tap.on("/result")) == 2, 30, "both results on the broker")
    sent = {json.loads(payload)["eye"]: (payload, json.loads(payload)) for payload in tap.on("/result")}
    raw, right_payload = sent["R"]
    assert REFERENCE.encode() not in raw and OPERATOR.encode() not in raw
    assert set(right_payload) <= allow_list(right_payload["schema"]) and set(right_payload) == set(sent["L"][1])
    assert right_payload["triage"] == "ungradable" and right_payload["result_id"] == right_id
    assert right_payload["quality"] == {"verdict": "reject", "reasons": ["not_photographed"], "measures": {}}
    assert right_payload["model"] is None and right_payload["score"] is None and right_payload["calibration_id"] is None
    topic = next(topic for topic, payload in tap.messages if payload == raw)
    row = result_row(topic, raw, {app.config.device.id: app.config.device.site}, datetime.now(UTC))
    # The station files it under a quality of its own, not with the photos the gate refused.
    assert (row["eye"], row["triage"], row["quality_verdict"]) == ("R", "ungradable", "not_photographed")


def test_today_and_records_tell_an_eye_that_could_not_be_photographed_from_one_not_photographed_yet(page, app):
    """Referred, recorded with no photo, against "Finish anyway"'s eye left to call the patient back for:
    both read "Not photographed" on Today, under the column "Photo", and Records listed the first
    "Could not be graded", with a photo to export that never was."""
    sign_in(page, app)
    new_patient(page, app, "MRN-CANNOT")
    cannot_photograph(page)
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/patient")
    new_patient(page, app, "MRN-LATER")  # the right eye photographed, the left left by "Finish anyway"
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")

    page.goto(f"{app.url}/today")
    said = {
        "en": ("Not photographed yet: call back", "Could not be photographed"),
        "fr": ("Pas encore photographié\u00a0: à rappeler", "Impossible à photographier"),
    }
    heading = {"en": "Site", "fr": "Zone"}  # an eye or a body site; not "Photo", of eyes with none
    for language, (later, cannot) in said.items():
        switch_to(page, language)
        assert page.locator("[data-test=worklist] th").nth(1).inner_text() == heading[language]
        rows = [row.locator("td").all_inner_texts()[1:3] for row in page.locator("[data-test=entry]").all()]
        eyes = {"en": ("Left eye", "Right eye"), "fr": ("Œil gauche", "Œil droit")}[language]
        assert rows[0] == [eyes[0], later] and rows[3] == [eyes[1], cannot] and len(rows) == 4, rows
        snap(page, "today-cannot-and-not-yet")
        assert page.evaluate(AUDIT) == []

    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "MRN-CANNOT")
    page.locator("[data-test=find]").click()
    for language, (_, cannot) in said.items():
        switch_to(page, language)
        rows = page.locator("table.worklist tr")
        assert rows.last.locator("td").nth(2).inner_text() == cannot
        assert rows.last.locator("[data-test=export]").count() == 0  # no photo to export
        assert rows.first.locator("[data-test=export]").count() == 1
        snap(page, "records-cannot-photograph")
        assert page.evaluate(AUDIT) == []


def test_records_names_the_eye_that_could_not_be_photographed_and_no_photo_of_it(page, app):
    """Its record said "Photo: Right eye", "Ungradable: retake the photo" and "Taken by Amina", with a
    calibration, of an eye no photo was taken of."""
    sign_in(page, app)
    new_patient(page, app, "MRN-NOPHOTO", eyes=("R",))
    cannot_photograph(page)
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/patient")
    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "MRN-NOPHOTO")
    page.locator("[data-test=find]").click()
    page.locator("table.worklist button").first.click()
    page.wait_for_url("**/records/view")
    detail = page.locator("[data-test=detail]")
    said = {
        "en": ("Eye", "Right eye", "This eye could not be photographed: a specialist must examine it.", "Recorded by"),
        "fr": (
            "Œil",
            "Œil droit",
            "Cet œil n'a pas pu être photographié\u00a0: un spécialiste doit l'examiner.",
            "Enregistré par",
        ),
    }
    for language, (field, eye, triage, recorder) in said.items():
        switch_to(page, language)
        fields = dict(zip(detail.locator("dt").all_inner_texts(), detail.locator("dd").all_inner_texts(), strict=True))
        assert fields[field] == eye and "Photo" not in fields, fields
        assert fields[recorder] == OPERATOR and not {"Taken by", "Pris par"} & set(fields), fields
        assert page.locator("[data-test=detail-triage]").inner_text().startswith(triage)
        assert not {"Calibration", "Étalonnage"} & set(fields)  # nothing was calibrated
        snap(page, "record-cannot-photograph")
        assert page.evaluate(AUDIT) == []


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_eye_left_by_finish_anyway_opens_its_patient_from_today(page, app, language):
    """Today told the nurse to call back for an eye "Finish anyway" left, and named no patient: the
    row opened nothing, and Records wants the reference it never showed. Its View now opens the record
    of the visit's photographed eye, which names the patient (the audit event keeps result ids only)."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-CALL-ME")
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")

    page.goto(f"{app.url}/today")
    missed = page.locator("[data-test=entry]").filter(has_text=message("result.heading.not_photographed", language))
    assert missed.count() == 1 and unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "today-not-photographed-view")
    missed.locator("[data-test=open-visit]").click()
    page.wait_for_url("**/records/view")
    assert "MRN-CALL-ME" in page.locator("dl.detail").inner_text()
    page.locator("[data-test=see-list]").click()  # the search put away under the record is its patient's
    assert page.locator("#reference").input_value() == "MRN-CALL-ME"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_patient_erased_after_finish_anyway_leaves_no_call_back_on_today(page, app, language):
    """Today kept "Not photographed yet: call back" for the eye of a patient erased since: a prompt to
    call back someone the device must no longer know. Erased, the patient leaves Today with the rest."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-ERASE-ME")
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")
    missed = message("result.heading.not_photographed", language)
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").filter(has_text=missed).count() == 1

    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "MRN-ERASE-ME")
    page.locator("[data-test=find]").click()
    page.locator("[data-test=erase]").click()
    page.locator("[data-test=erase-yes]").click()
    page.locator("[data-test=erased]").wait_for()
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").filter(has_text=missed).count() == 0
    assert page.locator("[data-test=entry]").count() == 0 and unscrolled(page)
    snap(page, "today-after-erase")


def signed_in_again(page, app, language: str) -> None:
    """Signed in on a new session (after a sign-out, or the old one forgotten), in ``language``."""
    sign_in(page, app)
    page.wait_for_url("**/ready")
    switch_to(page, language)  # a new session is in the device's language
    page.locator(f"html[lang={language}]").wait_for(state="attached")


def call_back_opens(page, app, language: str, reference: str) -> None:
    """Today lists one eye "Visit not finished: call back", and its View opens ``reference``'s record."""
    page.goto(f"{app.url}/today")
    lost = page.locator("[data-test=entry]").filter(has_text=message("result.heading.visit_not_finished", language))
    assert lost.count() == 1 and unscrolled(page) and page.evaluate(AUDIT) == []
    lost.locator("[data-test=open-visit]").click()
    page.wait_for_url("**/records/view")
    assert reference in page.locator("dl.detail").inner_text()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_signing_out_mid_visit_lists_its_eye_not_photographed_on_today_at_once(page, app, language):
    """Signing out with the right eye recorded and the left not dropped the visit from memory, but
    its eye reached Today only at the app's next start, maybe days later. Now at once, as not finished."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-SIGNED-OUT")
    sign_out(page)
    signed_in_again(page, app, language)
    call_back_opens(page, app, language, "MRN-SIGNED-OUT")


def test_sign_out_during_a_visit_asks_first_and_back_resumes_it(page, app):
    """Sign out with a patient in progress signed out at once and closed the visit unfinished, unasked,
    where New patient asks first. Now Sign out asks too, with the same question (leave_visit.html) in
    its own words: "Back to the patient in progress" first, "Sign out anyway" next; the question is a page of its own,
    kept through the language switch. With no patient in progress, Sign out is still one press."""
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-LEAVING")
    page.locator("[data-test=next-slot]").click()
    shoot(page)  # the left eye's photo waits to be checked: the question's longest list
    with page.expect_navigation():
        page.locator("[data-test=sign-out]").click()
    assert page.url.endswith("/signout")
    leave, back = page.locator("[data-test=leave-visit]"), page.locator("[data-test=resume]")
    said = {
        "en": (
            "A patient is in progress. Signing out leaves this visit not finished:",
            "Left eye: listed on Today as a visit not finished, to call back.",
            "Back to the patient in progress",
            "Sign out anyway",
        ),
        "fr": (
            "Un patient est en cours. La déconnexion laisse cette visite non terminée\u00a0:",
            "Œil gauche\u00a0: inscrit dans Aujourd'hui comme visite non terminée, à rappeler.",
            "Reprendre le patient en cours",
            "Se déconnecter quand même",
        ),
    }
    for language in ("en", "fr"):
        switch_to(page, language)
        question, eye, back_words, anyway = said[language]
        assert question in leave.inner_text() and eye in leave.inner_text()
        assert message("leave.photo_waiting", language) in leave.inner_text()
        assert message("leave.results_kept", language) in leave.inner_text()
        assert back.inner_text() == back_words and back.get_attribute("class") == "button primary"
        assert page.locator("[data-test=leave-start]").inner_text() == anyway
        assert page.locator(".nav .current").count() == 0  # not New patient's question
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "sign-out-during-visit")
    back.click()
    page.wait_for_url("**/check")  # the visit as it was: its photo still waits to be used
    assert page.locator("[data-test=checked-photo]").is_visible()

    page.locator("[data-test=sign-out]").click()
    page.locator("[data-test=leave-start]").click()
    page.wait_for_url("**/signin")
    signed_in_again(page, app, "fr")
    call_back_opens(page, app, "fr", "MRN-LEAVING")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:  # the waiting photo was not used
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1
    page.goto(f"{app.url}/ready")  # no patient in progress: one press
    with page.expect_navigation():
        page.locator("[data-test=sign-out]").click()
    assert page.url.endswith("/signin") and page.locator("[data-test=sign-out]").count() == 0


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_session_forgotten_mid_visit_lists_its_eye_not_photographed_on_today_at_once(
    page, app, language, monkeypatch
):
    """A screen left mid-visit for 12 hours is forgotten (``sessions.FORGET_AFTER_S``) and its visit
    with it, but its eye not photographed reached Today only at the app's next start, days later on a
    device left running. Now at once, as a sign-out's. (The 12 hours are made to have passed: the
    next new session, here a request from another screen, forgets every session idle since.)"""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-FORGOTTEN")
    monkeypatch.setattr(sessions, "FORGET_AFTER_S", 0)
    assert urllib.request.urlopen(f"{app.url}/signin", timeout=30).status == 200  # another screen, no cookie
    monkeypatch.undo()
    # This screen's session was forgotten: its status poll sends it to sign in (a page.goto here raced
    # that poll's navigation and failed, "interrupted by another navigation").
    page.wait_for_url("**/signin")
    signed_in_again(page, app, language)
    call_back_opens(page, app, language, "MRN-FORGOTTEN")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_locked_screen_come_back_to_after_12_hours_resumes_no_visit_and_lists_its_eye_on_today(
    page, app, language, monkeypatch
):
    """A session idle past ``sessions.FORGET_AFTER_S`` was forgotten only when the next new session was
    made: with none made (no other screen), the PIN on the lock screen 13 hours later resumed a visit
    long stale, and its eye not photographed was not on Today until then. Now looking the session up
    forgets it: the PIN leads to a fresh sign-in that says to look at Today, which lists the eye."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "MRN-STALE")
    page.locator("form[action='/lock'] button").click()
    page.wait_for_url("**/signin")
    type_on_keypad(page, "pin", PIN)
    monkeypatch.setattr(sessions, "FORGET_AFTER_S", 0)  # the 12 hours have passed, no session made since
    with page.expect_navigation():
        page.locator("form.signin button[type=submit]").click()
    monkeypatch.undo()
    assert page.url.endswith("/signin") and page.locator("[data-test=sign-out]").count() == 0
    said = sentence("signin.signed_out", language, hours=sessions.FORGET_AFTER_S // 3600)
    assert page.locator("[data-test=signed-out]").inner_text().strip() == said
    signed_in_again(page, app, language)
    call_back_opens(page, app, language, "MRN-STALE")


def test_a_sign_in_screen_left_overnight_takes_the_morning_pin(page, app, monkeypatch):
    """The sign-in screen a sign-out leaves sits idle overnight, past ``sessions.FORGET_AFTER_S``:
    forgotten as the morning's PIN was posted, the PIN was refused and the nurse was told she had been
    signed out and to look at Today, with nothing there. Nobody's visit is in it: the PIN signs in."""
    sign_in(page, app)
    page.locator("[data-test=sign-out]").click()
    page.wait_for_url("**/signin")
    page.get_by_label(OPERATOR).check()
    type_on_keypad(page, "pin", PIN)

    def posted_next_morning(route):
        """The PIN's post alone is answered with the night passed (a session made for it is then
        young), the redirect it answers with followed by the browser on today's clock."""
        if route.request.method != "POST":
            return route.continue_()
        monkeypatch.setattr(sessions, "FORGET_AFTER_S", 0)  # the night has passed, no session made since
        try:
            response = route.fetch(max_redirects=0)
        finally:
            monkeypatch.undo()
        route.fulfill(response=response)

    page.route("**/signin", posted_next_morning)
    with page.expect_navigation():
        page.locator("form.signin button[type=submit]").click()
    page.unroute("**/signin")
    page.wait_for_load_state()
    assert page.locator("[data-test=sign-out]").count() == 1 and page.locator("[data-test=signed-out]").count() == 0


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_visit_signed_out_before_any_photo_lists_no_call_back_that_opens_nobody(page, app, language):
    """Signing out right after Start listed both eyes "Visit not finished: call back" on Today, each
    with nothing to open: no photo, so no record names the patient, and the nurse had nobody to call.
    Such a visit is not listed; one with a photo is (above). Sign out's question, and New patient's,
    promised each eye "listed on Today, to call back": they say nothing goes on Today."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "MRN-NO-PHOTO")
    page.wait_for_url("**/capture")
    for way_out in ("nav.nav a[href='/patient']", "[data-test=sign-out]"):
        with page.expect_navigation():
            page.locator(way_out).click()
        leave = page.locator("[data-test=leave-visit]")
        assert page.locator("[data-test=leave-eye]").count() == 0, way_out
        assert message("leave.nothing_recorded", language) in leave.inner_text(), way_out
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        page.locator("[data-test=resume]").click()
        page.wait_for_url("**/capture")
    sign_out(page)
    signed_in_again(page, app, language)
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").count() == 0
    assert message("today.empty", language) in page.locator("main").inner_text()


@pytest.mark.parametrize("graded", ["no_refer", "refer"])
def test_a_graded_eye_retaken_then_not_photographed_is_said_as_it_stands(page, app, retina_referable_jpeg, graded):
    """A graded eye retaken ("Retake this one"), then "Cannot photograph this eye" (the patient cannot hold still
    again; the capture screen of a retake has no other way back to the result): its question said the
    patient is referred, and the result screen that "this photo" read "Could not be graded", no photo
    taken. The graded photo's result stands (``protocol.slot_outcome``): after a "no referral" the
    patient is not referred for this eye. Both screens say what stands, in both languages, on 800x480."""
    if graded == "refer":
        app.show(retina_referable_jpeg)
    sign_in(page, app)
    first_eye_screened(page, app, REFERENCE, eyes=("R",))
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == graded
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    page.locator("[data-test=not-photographed]").click()
    page.wait_for_url("**/capture/not-photographed")
    referred, cleared = "not_photographed.referred", "not_photographed.earlier_stands"
    said, unsaid = (cleared, referred) if graded == "no_refer" else (referred, cleared)
    for language in ("fr", "en"):
        switch_to(page, language)
        question = page.locator("[data-test=not-photographed-question]").inner_text()
        assert message(unsaid, language) not in question and message(said, language) in question, language
        snap(page, f"not-photographed-question-of-a-graded-eye-{graded}")
        assert unscrolled(page) and page.evaluate(AUDIT) == [], language
    page.locator("[data-test=not-photographed-yes]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == graded
    for language in ("fr", "en"):
        switch_to(page, language)
        stands = page.locator("[data-test=earlier-stands]").inner_text()
        eye = message("eye.R", language)
        assert stands == sentence(f"result.earlier_stands.{graded}_not_photographed", language, slot=eye), language
        snap(page, f"result-of-a-graded-eye-then-not-photographed-{graded}")
        assert unscrolled(page) and page.evaluate(AUDIT) == [], language
