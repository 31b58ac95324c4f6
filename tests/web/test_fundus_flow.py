"""A fundus patient end to end in the browser: sign-in, readiness, both eyes (one blurred, guidance in
French, retake), the patient's outcome, the hand-out as PDF; recorded with the operator, never sent."""

from __future__ import annotations

import json
import sqlite3

from playwright.sync_api import expect

from firmware_app.records.clock import current_boot
from tests.web.conftest import (
    AUDIT,
    OPERATOR,
    csrf_header,
    first_eye_screened,
    new_patient,
    pressed_after_another_patient_opened,
    shoot,
    sign_in,
    snap,
    switch_to,
    unscrolled,
)


def test_fundus_patient_both_eyes_with_a_retake(page, app, retina_jpeg, retina_blurred):
    sign_in(page, app)
    page.wait_for_url("**/ready")
    snap(page, "ready")
    checks = {row.get_attribute("data-test"): row.get_attribute("data-level") for row in page.locator(".check").all()}
    assert checks["check-models"] == "green" and checks["check-disk"] == "green" and checks["check-audit"] == "green"
    assert checks["check-broker"] == "amber" and checks["check-calibration"] == "amber"
    page.get_by_text("Start screening").click()

    new_patient(page, app, "MRN-4711")
    page.wait_for_url("**/capture")
    assert "MRN-4711" not in page.url and "MRN-4711" not in page.title()
    page.wait_for_selector("#guidance[data-seq]")
    snap(page, "capture")
    shoot(page)
    assert page.locator("[data-test=check-quality]").get_attribute("class").split()[-1] in (
        "verdict-good",
        "verdict-usable",
    )
    snap(page, "check")
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    first_eye = page.locator("[data-test=triage-R]").get_attribute("data-outcome")
    assert first_eye in ("refer", "no_refer")
    assert "sensitivity" in page.locator("[data-test=performance]").inner_text()
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") in ("refer", "pending")
    assert "not a diagnosis: a specialist validates every result" in page.locator(".disclaimer").inner_text()
    heading, action = page.locator("[data-test=triage-R] h1"), page.locator("[data-test=triage-R] p")
    assert heading.inner_text().split(": ")[1].lower() not in action.inner_text().lower()  # no repeat
    assert page.locator("[data-test=patient-outcome]").inner_text().startswith("Patient's outcome: ")
    snap(page, "result-right")

    # The left eye: a blurred photo, the nurse reads the guidance in French and retakes.
    app.show(retina_blurred)
    page.locator("[data-test=language]").click()
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    # The preview's cheap check already sees the blur (the full check, below, rejects it).
    page.wait_for_function("() => document.getElementById('guidance').innerText.includes('floue')")
    snap(page, "capture-blurred")
    shoot(page)
    quality = page.locator("[data-test=check-quality]")
    assert "verdict-reject" in quality.get_attribute("class") and "floue" in quality.inner_text()
    assert "Enregistrer comme ininterprétable" in page.locator("[data-test=use]").inner_text()
    snap(page, "check-blurred")
    app.show(retina_jpeg)
    page.locator("[data-test=retake]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    left = page.locator("[data-test=triage-L]").get_attribute("data-outcome")
    assert left in ("refer", "no_refer")
    expected = "refer" if "refer" in (first_eye, left) else "no_refer"
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == expected
    outcome = page.locator("[data-test=patient-outcome]").inner_text()
    assert outcome.startswith("Résultat du patient\u00a0: ") and outcome.count(":") == 1, outcome
    assert "un spécialiste valide chaque résultat" in page.locator(".disclaimer").inner_text()
    snap(page, "result-left")

    # The hand-out, printed to A5 PDF by the browser, with the reference only when asked.
    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    assert page.locator("[data-test=handout-reference]").count() == 0
    page.locator("input[name=with_reference]").check()
    page.wait_for_selector("[data-test=handout-reference]")
    assert "MRN-4711" in page.locator("[data-test=handout-reference]").inner_text()
    snap(page, "handout")
    pdf = page.pdf(format="A5", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page") >= 1
    (app.directory / "handout.pdf").write_bytes(pdf)

    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        rows = db.execute("SELECT eye, operator FROM screening ORDER BY recorded_at").fetchall()
        payloads = [row[0] for row in db.execute("SELECT payload FROM outbox")]
    assert rows == [("R", OPERATOR), ("L", OPERATOR)]
    for payload in payloads:
        assert OPERATOR.encode() not in payload and b"MRN-4711" not in payload
        assert "operator" not in json.loads(payload)


def test_finishing_with_an_eye_not_photographed_asks_first_and_today_shows_it(page, app):
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-5")
    page.locator("[data-test=finish]").click()
    confirm = page.locator("[data-test=finish-confirm]")
    assert "Left eye not photographed \u2013 finish anyway?" in confirm.inner_text()
    assert unscrolled(page)
    snap(page, "result-finish-confirm")
    page.locator("[data-test=language]").click()
    assert "Œil gauche non photographié \u2013 terminer quand même\u00a0?" in confirm.inner_text()
    assert unscrolled(page)
    snap(page, "result-finish-confirm")
    page.goto(f"{app.url}/result")
    assert page.locator("[data-test=finish-confirm]").count() == 0  # asking closed nothing: the visit is open
    page.locator("[data-test=handout]").click()  # the patient's page says so, its colon from the catalogue
    assert page.locator("[data-test=handout-pending]").inner_text() == "Œil gauche\u00a0: Pas encore photographié"
    snap(page, "handout-one-eye")
    page.goto(f"{app.url}/result")
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")

    page.goto(f"{app.url}/today")
    rows = [row.locator("td").all_inner_texts() for row in page.locator("[data-test=entry]").all()]
    # Its View opens the right eye's record, which names the patient to call back.
    assert rows[0][1:] == ["Œil gauche", "Pas encore photographié\u00a0: à rappeler", "Rien à envoyer", "Voir"]
    assert rows[1][1] == "Œil droit" and len(rows) == 2
    # Both times came from the same clock: the missed eye is marked "clock not set" as the screening is.
    badges = [row.locator("[data-test=clock-not-set]").count() for row in page.locator("[data-test=entry]").all()]
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        (clock,) = db.execute("SELECT clock FROM screening").fetchone()
    assert badges == [int(clock != "synchronised")] * 2, (badges, clock)
    snap(page, "today-not-photographed")
    page.goto(f"{app.url}/today?filter=mine")
    assert page.locator("[data-test=entry]").count() == 2
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        (details,) = db.execute("SELECT details FROM audit WHERE kind = 'visit'").fetchone()
        (right,) = db.execute("SELECT result_id FROM screening").fetchone()
    expected = {"action": "finished", "not_photographed": ["L"], "operator": OPERATOR, "clock": clock}
    expected |= {"results": [right]}  # the visit's result ids, never its patient: the row's View
    assert json.loads(details) == expected | ({"boot": current_boot()} if current_boot() else {})


def test_two_posts_of_finish_anyway_list_the_eye_not_photographed_once(page, app):
    """A double tap on "Finish anyway" (or a retry of a slow answer) while the first post's audit
    waits on the records (another writer holds them here): the first post closes the visit, and the
    second finds none to close, where Today listed the left eye twice."""
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-6")
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-confirm]").wait_for()
    visit = page.locator("input[name=visit]").first.input_value()
    writer = sqlite3.connect(app.directory / "records.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    page.evaluate(
        """([headers, visit]) => { window.answered = 0; window.answers = Promise.all([1, 2].map(() =>
            fetch('/finish', {
                method: 'POST', headers, redirect: 'manual', body: new URLSearchParams({visit, confirmed: 'yes'}),
            }).then(r => { window.answered += 1; return r.type; }))); }""",
        [csrf_header(page), visit],
    )
    # Both posts are in while the first one's audit waits: the second, finding the visit closed, is
    # answered at once (on main it waited for the records too, and neither was answered).
    page.wait_for_function("() => window.answered >= 1", timeout=15_000)
    assert page.evaluate("window.answered") == 1  # the first one's audit still waits for the records
    writer.execute("ROLLBACK")
    writer.close()
    assert page.evaluate("window.answers") == ["opaqueredirect"] * 2  # both sent on to the next patient's form
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM audit WHERE kind = 'visit'").fetchone()[0] == 1
    page.goto(f"{app.url}/today")
    eyes = [row.locator("td").nth(1).inner_text() for row in page.locator("[data-test=entry]").all()]
    assert eyes == ["Left eye", "Right eye"], eyes


def test_finish_on_the_result_screen_of_a_patient_left_since_is_told_so(page, app):
    """The result screen of a patient left since in another tab (New patient, then Start): its Finish
    asked the question of the patient open now, whose eyes are not photographed yet ("Right eye and left
    eye not photographed - finish anyway?"), as if it were this one's. It says the screen was for another
    patient, as every other post of such a screen does, and the patient open now is not finished."""
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-12")
    pressed_after_another_patient_opened(page, app, "finish", "finish")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM open_visit").fetchone()[0] == 1


def test_two_posts_of_the_patient_form_open_one_visit(page, app):
    """A double tap on "Start" while the first post's visit waits on the records (another writer holds
    them here): the second post found no visit open yet and opened one of its own in its place, whose
    eyes, kept in the records (records/open_visits.py) and finished by nobody, went on Today at the next
    start as "Visit not finished: call back", though the visit the nurse went on with was finished."""
    sign_in(page, app)
    page.goto(f"{app.url}/patient")
    writer = sqlite3.connect(app.directory / "records.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        page.evaluate(
            """(headers) => { window.answers = Promise.all([1, 2].map(() => fetch('/patient', {
                method: 'POST', headers, redirect: 'manual',
                body: new URLSearchParams({reference: 'MRN-9', modality: 'fundus', eyes: 'R', consent: 'yes'}),
            }).then(r => r.type))); }""",
            csrf_header(page),
        )
        page.wait_for_timeout(1000)  # both posts in while the first one's visit waits (no answer tells it)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    # One goes on to the camera; the other is told a visit is open (409), as a form of another tab is.
    assert sorted(page.evaluate("window.answers")) == ["basic", "opaqueredirect"]
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM open_visit").fetchone()[0] == 1


def test_new_patient_during_a_visit_asks_first_and_finishes_it_as_finish_anyway_does(page, app):
    """ "New patient" in the nav opened the form at once and dropped the visit: the left eye's photo
    waiting to be checked was lost and the eye never went on Today as not photographed. Now it says
    what finishing does, offers the way back first, and only then finishes as "Finish anyway"."""
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-7")
    page.locator("[data-test=next-slot]").click()
    shoot(page)  # the left eye's photo waits to be checked
    new_patient_link = page.locator("nav.nav a[href='/patient']")
    new_patient_link.click()
    leave = page.locator("[data-test=leave-visit]")
    assert "The photo waiting to be checked is not used." in leave.inner_text()
    assert "Left eye: listed as not photographed yet, to call back, as “Finish anyway” does." in leave.inner_text()
    assert "The results already recorded are kept." in leave.inner_text()
    assert page.locator("[data-test=resume]").get_attribute("class") == "button primary"
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "new-patient-during-visit")
    switch_to(page, "fr")
    assert "La photo en attente de vérification n'est pas utilisée." in leave.inner_text()
    assert "Œil gauche\u00a0: inscrit comme pas encore photographié, à rappeler" in leave.inner_text()
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "new-patient-during-visit")
    # A patient form opened before (another tab) cannot drop the visit either.
    form = {"reference": "MRN-8", "modality": "fundus", "eyes": "R", "consent": "yes"}
    assert page.request.post(f"{app.url}/patient", form=form, headers=csrf_header(page)).status == 409
    page.locator("[data-test=resume]").click()
    page.wait_for_url("**/check")  # the photo still waits to be used
    assert page.locator("[data-test=checked-photo]").is_visible()

    new_patient_link.click()
    page.locator("[data-test=leave-start]").click()
    page.wait_for_url("**/patient")
    assert page.locator("[data-test=next]").is_visible()  # the new patient's form
    page.goto(f"{app.url}/today")
    rows = [row.locator("td").all_inner_texts() for row in page.locator("[data-test=entry]").all()]
    assert rows[0][1:3] == ["Œil gauche", "Pas encore photographié\u00a0: à rappeler"]
    assert rows[1][1] == "Œil droit" and len(rows) == 2
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        (details,) = db.execute("SELECT details FROM audit WHERE kind = 'visit'").fetchone()
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1  # the waiting photo was not used
    assert json.loads(details)["not_photographed"] == ["L"]


def test_a_retake_does_not_clear_a_referral(page, app, retina_referable_jpeg, retina_jpeg):
    """A referred eye photographed again and not referred stays referred, for the patient's
    outcome and the hand-out; both results are recorded. An ungradable photo, retaken, gives way."""
    sign_in(page, app)
    app.show(retina_referable_jpeg)
    first_eye_screened(page, app, "MRN-77", eyes=("R",))
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") == "refer"
    assert page.locator("[data-test=earlier-stands]").count() == 0

    app.show(retina_jpeg)
    page.locator("form[action='/retake'] button").first.click()
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") == "refer"  # what the eye stands at
    expect(page.locator("[data-test=backlog]")).to_have_text("2 to send", timeout=1500)  # refreshed with the swap
    stands = page.locator("[data-test=earlier-stands]")
    assert stands.get_attribute("data-outcome") == "refer"
    assert stands.inner_text().startswith("Right eye: this photo reads “No referral needed now”, but an earlier")
    assert page.locator("[data-test=patient-outcome]").get_attribute("data-outcome") == "refer"
    assert unscrolled(page)
    snap(page, "result-referral-stands")
    page.locator("[data-test=language]").click()
    assert page.locator("[data-test=earlier-stands]").inner_text().startswith("Œil droit\u00a0: cette photo indique")
    assert unscrolled(page)
    snap(page, "result-referral-stands")

    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    assert page.locator("[data-test=handout] [data-test=triage-R]").get_attribute("data-outcome") == "refer"
    assert "spécialiste" in page.locator("[data-test=handout] p strong").inner_text()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        outcomes = [row[0] for row in db.execute("SELECT outcome FROM screening ORDER BY recorded_at")]
        assert outcomes == ["refer", "no_refer"]
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2
