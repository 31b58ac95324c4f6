"""The worklist and records screens in the browser, with a real broker: the offline banner while it
is down, the backlog sent once it is back, a result sent but not yet acknowledged while the broker is
frozen, a specialist's verdict appearing, and a patient erased."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest

from edgescreen_wire.topics import ERASURE, REVIEW, device_topic
from firmware_app.config import LANGUAGES
from firmware_app.inference.triage import Outcome, Triage
from firmware_app.messages import message
from firmware_app.records.audit import Exports
from firmware_app.records.clock import boot_time, current_boot
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import Review, ScreeningContext
from firmware_app.records.verdicts import SOON_OR_URGENT
from firmware_app.wording import exports_said, readable_date
from tests.conftest import filled
from tests.mqtt_broker import Broker, Tap, free_port, stop_network_loop, wait_until
from tests.records.kit import (
    DEVICE,
    ROOM_FOR_AN_ERASURE,
    damage_a_sealed_value,
    open_store,
    record_one,
    sample_record,
    screenings_left_in_the_log,
    small_photo,
)
from tests.test_cli_records import export_times
from tests.web.conftest import (
    AUDIT,
    SCREEN,
    add_operator,
    csrf_header,
    enter_pin,
    first_eye_screened,
    new_patient,
    on_screen,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)
from tests.web.test_capture_cases import lose_the_camera


def screen_one_eye(page, app, reference: str) -> None:
    first_eye_screened(page, app, reference, eyes=("R",))
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/patient")


def publish_review(port: int, result_id: str, verdict: str, **fields: object) -> None:
    """A verdict as the station sends it (``fields``: what ``edgescreen.review/2`` adds or changes)."""
    review = (
        fields
        | {
            "schema": "edgescreen.review/1",
            "review_id": "rev-1",
            "result_id": result_id,
            "verdict": verdict,
            "reviewed_at": "2026-01-02T03:04:05Z",
            "reviewer": "dr-lopez",
        }
        | fields
    )
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="review-station")
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(device_topic(DEVICE.site, DEVICE.id, REVIEW), json.dumps(review), qos=1).wait_for_publish(10)
    stop_network_loop(client)
    client.disconnect()


@pytest.fixture()
def offline_app(tmp_path, retina_jpeg):
    port = free_port()
    running = start_app(tmp_path, broker_port=port, app="offline_banner_after_s = 1\n")
    app = next(running)
    app.show(retina_jpeg)
    broker = Broker(tmp_path / "broker", port=port)
    yield app, broker
    broker.stop()
    next(running, None)


def sync_states(page, app) -> list[str]:
    page.goto(f"{app.url}/today")
    return [row.get_attribute("data-sync") for row in page.locator("[data-test=entry]").all()]


def test_an_urgent_call_back_stays_on_screen_beside_a_camera_set_up_wrong(page, offline_app):
    """A camera set up wrong keeps its banner until the technician comes, maybe for days: the
    specialist's urgent call-back stays counted beside it (leading to it on Today), and so do the
    connection and what waits to be sent, in both languages."""
    app, broker = offline_app
    broker.start()
    sign_in(page, app)
    screen_one_eye(page, app, "W-9")
    wait_until(lambda: sync_states(page, app) == ["acknowledged"], 60, "the result to be acknowledged")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        (result_id,) = db.execute("SELECT result_id FROM screening").fetchone()
    publish_review(broker.port, result_id, "refer", schema="edgescreen.review/2", urgency="urgent")
    wait_until(lambda: page.reload() or page.locator("[data-test=call-back-banner]").count(), 30, "the call-back")
    new_patient(page, app, "W-10")
    lose_the_camera(page, app, set_up_wrong=True)
    page.locator("[data-test=camera-banner]").wait_for(timeout=15_000)
    for language, words, urgent in (("en", "Call back: 1", "1 urgent"), ("fr", "À rappeler\xa0: 1", "dont 1 urgent")):
        switch_to(page, language)
        camera, count = page.locator("[data-test=camera-banner]"), page.locator("[data-test=call-back-count]")
        count.wait_for(timeout=15_000)
        assert camera.is_visible() and on_screen(camera)
        assert count.is_visible() and on_screen(count)
        assert count.inner_text().split("\n") == [words, urgent]
        assert page.locator("[data-test=call-back-count-urgent]").inner_text() == urgent
        assert page.locator("[data-test=connection]").inner_text() in ("Online", "En ligne")
        assert page.locator("[data-test=backlog]").is_visible()
        assert unscrolled(page)
        snap(page, "camera-not-set-up-and-call-back")
    page.locator("[data-test=language]").click()
    count.click()
    page.wait_for_url("**/today?filter=verdict")
    assert page.locator("[data-test=verdict]").get_attribute("data-call-back") == "urgent"
    assert camera.is_visible() and count.is_visible()  # on every screen, Today as the others


def test_offline_banner_backlog_sent_when_the_broker_returns_and_a_verdict_arrives(page, offline_app):
    app, broker = offline_app
    sign_in(page, app)
    screen_one_eye(page, app, "W-1")
    page.goto(f"{app.url}/today")
    banner = page.locator("[data-test=offline-banner]")
    banner.wait_for(timeout=15_000)
    assert "results have waited on this device for less than a minute." in banner.inner_text()  # never "0 min"
    amber = "rgb(107, 74, 0)"  # the readiness list's amber, as the offline badge: offline never blocks
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == amber
    assert page.locator("[data-test=connection]").inner_text() == "Offline"  # kept beside the banner
    assert page.locator("[data-test=backlog]").inner_text() == "1 to send"
    assert page.locator("[data-test=entry]").get_attribute("data-sync") == "queued"
    snap(page, "today-offline")

    broker.start()
    page.wait_for_function(
        "() => document.querySelector('[data-test=backlog]')?.innerText === '0 to send'", timeout=60_000, polling=500
    )
    assert page.locator("[data-test=connection]").inner_text() == "Online"
    assert page.locator("[data-test=offline-banner]").count() == 0
    page.reload()
    assert page.locator("[data-test=entry]").get_attribute("data-sync") == "acknowledged"

    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        (result_id,) = db.execute("SELECT result_id FROM screening").fetchone()
    # As edgescreen.review/2 (the device's results ask for it): the urgency and grading come too.
    findings = {"icdr_grade": "severe", "maculopathy": "present"}
    publish_review(broker.port, result_id, "refer", schema="edgescreen.review/2", urgency="urgent", findings=findings)
    for _ in range(60):
        page.goto(f"{app.url}/today?filter=verdict")
        if page.locator("[data-test=verdict]").count():
            break
        page.wait_for_timeout(500)
    # The device did not refer this eye (the plain retina): the specialist's urgent referral is the one
    # to act on, said in one badge.
    verdict = page.locator("[data-test=verdict]")
    assert verdict.get_attribute("data-call-back") == "urgent"
    assert verdict.inner_text() == "Specialist asks for an urgent referral. Contact the patient"
    assert page.locator("[data-test=entry] .verdict-row .badge").count() == 1
    banner = page.locator("[data-test=call-back-banner]")
    assert "open the record to call them back" in banner.inner_text()
    assert page.locator("[data-test=call-back-urgent]").inner_text() == "Urgent."
    assert unscrolled(page)
    snap(page, "today-verdict")
    page.locator("[data-test=language]").click()
    assert "rappeler" in page.locator("[data-test=call-back-banner]").inner_text()
    assert page.locator("[data-test=call-back-urgent]").inner_text() == "Urgent."
    assert "current" in page.locator("[data-test=filter-verdict]").get_attribute("class")  # the filter kept
    assert unscrolled(page)
    snap(page, "today-verdict")
    page.locator("[data-test=language]").click()
    page.goto(f"{app.url}/patient")  # on every screen until the record is opened
    page.locator("[data-test=call-back-banner]").click()
    page.wait_for_url("**/today?filter=verdict")
    page.locator("[data-test=open-verdict]").click()  # the record: who to call, and the verdict
    detail = page.locator("[data-test=detail]").inner_text()
    assert "W-1" in detail and "Specialist: refer (dr-lopez" in detail
    findings = page.locator("[data-test=findings]")
    assert findings.inner_text() == "Urgent · ICDR grade: severe · Maculopathy: present"
    assert page.locator("[data-test=call-back-banner]").count() == 0
    snap(page, "record-verdict")
    page.locator("[data-test=language]").click()
    assert findings.inner_text() == "Urgent · Grade ICDR\xa0: sévère · Maculopathie\xa0: présente"  # French spacing
    snap(page, "record-verdict")
    page.locator("[data-test=language]").click()

    # A frozen broker takes the next result and never acknowledges it: sent, not yet confirmed.
    broker.pause()
    try:
        screen_one_eye(page, app, "W-2")
        wait_until(lambda: sync_states(page, app) == ["sent", "acknowledged"], 30, "the new result sent")
        assert page.locator("[data-test=entry]").first.locator("td").nth(3).inner_text() == "Sent, not yet confirmed"
        page.locator("[data-test=language]").click()
        assert (
            page.locator("[data-test=entry]").first.locator("td").nth(3).inner_text() == "Envoyé, pas encore confirmé"
        )
        snap(page, "today-sent")
        page.locator("[data-test=language]").click()
    finally:
        broker.resume()
    wait_until(lambda: sync_states(page, app) == ["acknowledged", "acknowledged"], 30, "both acknowledged")


def test_the_record_says_the_triage_in_the_result_screens_words_in_both_languages(page, app):
    """The French record said "Pas d'orientation nécessaire" of a screening whose result screen and
    list said "Pas d'orientation pour l'instant": the record opens with the result screen's heading."""
    sign_in(page, app)
    first_eye_screened(page, app, "WORDS-1", eyes=("R",))
    outcome = page.locator("[data-test=triage-R]").get_attribute("data-outcome")
    headings = {}
    for language in ("en", "fr"):
        switch_to(page, language)
        headings[language] = message(f"result.heading.{outcome}", language)
        assert headings[language] in page.locator("[data-test=triage-R] h1").inner_text()
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/patient")
    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "WORDS-1")
    page.locator("[data-test=find]").click()
    for language, heading in headings.items():
        page.locator("table.worklist button").first.click()
        page.wait_for_url("**/records/view")
        switch_to(page, language)
        assert page.locator("[data-test=detail-triage]").inner_text().startswith(heading), language
        snap(page, "record-triage")
        page.locator("[data-test=see-list]").click()  # the list under the search, in the same words
        assert page.locator("table.worklist td").nth(2).inner_text() == heading


def test_records_find_view_export_and_erase_with_a_confirmation(page, app):
    sign_in(page, app)
    screen_one_eye(page, app, "E-9")
    page.goto(f"{app.url}/records")
    for key in "E-9":
        page.locator(f'[data-keypad="reference"] [data-key="{key}"]').click()
    page.locator("[data-test=find]").click()
    assert page.locator("[data-test=found]").inner_text() == "1 screening found."
    assert "E-9" not in page.url and "E-9" not in page.title()
    page.get_by_role("button", name="View").click()
    detail = page.locator("[data-test=detail]")
    assert "E-9" in detail.inner_text()
    assert on_screen(detail)  # read where it appears, not below the keypad
    snap(page, "records-view")
    page.locator("[data-test=language]").click()  # the same screening, in French
    text = detail.inner_text()
    day = datetime.now().astimezone()
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre")
    months += ("novembre", "décembre")
    assert f"Dépistage du {day.day} {months[day.month - 1]} {day.year} à " in text
    assert "Photo\nŒil droit" in text and "Étalonnage\nNon étalonné" in text and "Pris par\nAmina" in text
    assert any(f"Tri\n{words}" in text for words in ("Adresser à un spécialiste.", "Pas d'orientation pour l'instant"))
    for raw in ("recorded_at", "score", "threshold", "fundus", "UTC", "+00:00"):
        assert raw not in text, raw
    assert re.search(r"\b0\.\d{3}", text) is None  # no raw score
    assert on_screen(detail)
    snap(page, "records-view")
    page.goto(f"{app.url}/records")
    page.locator("[data-test=language]").click()
    with page.expect_download() as download:
        page.locator("[data-test=export]").click()
    assert download.value.path().read_bytes()[:3] == b"\xff\xd8\xff"
    page.locator("[data-test=erase]").click()
    confirm = page.locator("[data-test=erase-confirm]").inner_text()
    assert "Erase 1 screening and 1 photo of patient E-9" in confirm
    assert on_screen(page.locator("[data-test=erase-yes]"))
    snap(page, "records-erase-confirm")
    page.locator("[data-test=language]").click()  # the question asked again, in French; nothing erased
    assert "1 dépistage et 1 photo du patient E-9" in page.locator("[data-test=erase-confirm]").inner_text()
    snap(page, "records-erase-confirm")
    page.locator("[data-test=language]").click()
    page.locator("[data-test=erase-yes]").click()
    # The photo downloaded above is a decrypted copy the erasure does not reach: said, with when.
    (when,) = export_times(app.directory / "records.sqlite3")
    exported = {
        language: exports_said("records.erased_exported", Exports(1, when, when), language) for language in LANGUAGES
    }
    erased = page.locator("[data-test=erased]")
    assert "Erased 1 screening and 1 photo; 1 unsent result withdrawn." in erased.inner_text()
    assert exported["en"] in erased.inner_text()
    # What was erased is said again in the other language: the switch reloaded the page without it.
    page.locator("[data-test=language]").click()
    page.locator("html[lang=fr]").wait_for(state="attached")
    assert "Supprimé\u00a0: 1 dépistage et 1 photo\u00a0; 1 résultat non envoyé retiré." in erased.inner_text()
    assert exported["fr"] in erased.inner_text()
    snap(page, "records-erased")
    page.locator("[data-test=language]").click()
    page.locator("html[lang=en]").wait_for(state="attached")
    assert "Erased 1 screening and 1 photo; 1 unsent result withdrawn." in erased.inner_text()
    snap(page, "records-erased")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0
        kinds = [row[0] for row in db.execute("SELECT kind FROM audit ORDER BY seq")]
    assert kinds[-3:] == ["view", "export", "erasure"]
    page.goto(f"{app.url}/ready")  # an erasure is no loss: the witness moved with it (records/witness.py)
    assert page.locator("[data-test=check-committed]").get_attribute("data-level") == "green"


def test_exporting_a_photo_no_longer_kept_says_so(page, app):
    """The retention purge deletes a photo and keeps its screening: "Export the photo" on its row
    answered with the same screen, nothing downloaded and nothing said."""
    sign_in(page, app)
    screen_one_eye(page, app, "E-10")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:  # as the retention purge leaves it
        db.execute("DELETE FROM image")
    _find(page, app, "E-10")
    for language, words in (
        ("en", "The photo is no longer kept on this device (deleted after its retention period)."),
        ("fr", "La photo n'est plus conservée sur cet appareil (supprimée après sa durée de conservation)."),
    ):
        switch_to(page, language)
        page.locator("[data-test=export]").click()
        said = page.locator("[data-test=export-gone]")
        assert said.inner_text() == words
        assert on_screen(said) and page.locator("[data-test=found]").is_visible()  # the list stays below it
        snap(page, "records-export-gone")
    switch_to(page, "en")  # from the refused export's page: back to the patient's screenings, no dead end
    assert page.url.endswith("/records") and page.locator("[data-test=found]").is_visible()


def test_an_exported_photo_is_said_exported_and_where_it_went(page, app):
    """On the kiosk "Export photo" downloaded without a word (its browser shows no download bar): the
    nurse could not tell it worked, nor where the file went. Once the browser has the file, the line
    under the search says so, names the file and where a kiosk keeps it, and that the copy stays."""
    sign_in(page, app)
    screen_one_eye(page, app, "E-11")
    _find(page, app, "E-11")
    line = page.locator("[data-test=exported]")
    assert line.is_hidden()
    for language, said, kept in (
        ("en", "Photo exported: ", "That copy is not erased with the patient."),
        ("fr", "Photo exportée\u00a0: ", "Cette copie n'est pas supprimée avec le patient."),
    ):
        switch_to(page, language)
        page.locator(f"html[lang={language}]").wait_for(state="attached")
        assert line.is_hidden()  # a new page: said after an export only
        with page.expect_download() as download:
            page.locator("[data-test=export]").click()
        line.wait_for()
        text = line.inner_text()
        assert text.startswith(said + download.value.suggested_filename) and text.endswith(kept), text
        assert download.value.path().read_bytes()[:3] == b"\xff\xd8\xff"
        assert on_screen(line)
        snap(page, "records-exported")


def _find(page, app, reference: str) -> None:
    page.goto(f"{app.url}/records")
    for key in reference:
        page.locator(f'[data-keypad="reference"] [data-key="{key}"]').click()
    page.locator("[data-test=find]").click()


def test_yes_erases_the_patient_confirmed_never_one_another_tab_found_since(page, app):
    """The confirmation names one patient; another tab of the session then finds another one. The
    answer "yes" to the first question erases nobody: the question is asked again, about the patient
    on the screen now."""
    sign_in(page, app)
    for reference in ("X-1", "Y-1"):
        screen_one_eye(page, app, reference)
    _find(page, app, "X-1")
    page.locator("[data-test=erase]").click()
    assert "of patient X-1" in page.locator("[data-test=erase-confirm]").inner_text()
    token = page.locator("input[name=csrf]").first.input_value()
    assert page.request.post(f"{app.url}/records", form={"reference": "Y-1", "csrf": token}).ok  # the other tab
    page.locator("[data-test=erase-yes]").click()
    assert "of patient Y-1" in page.locator("[data-test=erase-confirm]").inner_text()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 2


def test_a_patient_being_screened_is_erased_only_once_the_visit_is_finished(page, app, browser):
    """The patient withdraws consent after the first eye, and the patient is erased from Records (on
    this screen, or another screen of the app). The erasure went through and the visit went on: its
    result screen still showed the erased eye's result, the hand-out printed it, and the next eye was
    recorded after it, the patient back on the device and sent. While the visit is open, the erasure
    is refused, said in the nurse's language, and nothing is erased; once it is finished, it erases."""
    sign_in(page, app)
    first_eye_screened(page, app, "K-7")
    elsewhere = browser.new_context(viewport=SCREEN).new_page()
    sign_in(elsewhere, app)
    for screen in (elsewhere, page):
        _find(screen, app, "K-7")
        screen.locator("[data-test=erase]").click()
        for language in ("fr", "en"):
            switch_to(screen, language)
            said = screen.locator("[data-test=records-error]").inner_text()
            assert said == message("records.erase_visit_open", language), language
            assert screen.locator("[data-test=erase-yes]").count() == 0
            snap(screen, "records-erase-visit-open")
    # "Yes" to a question asked before the visit opened (another tab) erases nothing either.
    form = {"confirmed": "yes", "reference": "K-7", "csrf": csrf_header(elsewhere)["X-CSRF-Token"]}
    assert elsewhere.request.post(f"{app.url}/records/erase", form=form).status == 409
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1
    page.goto(f"{app.url}/result")
    page.locator("[data-test=finish]").click()
    page.locator("[data-test=finish-yes]").click()
    page.wait_for_url("**/patient")
    elsewhere.goto(f"{app.url}/records")  # its search kept: the patient's list, with the erasure under it
    elsewhere.locator("[data-test=erase]").click()
    elsewhere.locator("[data-test=erase-yes]").click()
    assert "Erased 1 screening and 1 photo" in elsewhere.locator("[data-test=erased]").inner_text()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0


def test_erasing_says_how_many_results_were_already_being_sent(page, app):
    """A result the sync worker has taken may have reached the specialists: the nurse is told so, as
    the command line and the audit say."""
    sign_in(page, app)
    screen_one_eye(page, app, "Z-1")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        db.execute("UPDATE outbox SET claimed_at = '2026-12-01T00:00:00+00:00'")  # as the worker's claim does
    _find(page, app, "Z-1")
    page.locator("[data-test=language]").click()  # and in French, each count in its own form
    assert page.locator("[data-test=found]").inner_text() == "1 dépistage trouvé."
    page.locator("[data-test=erase]").click()
    page.locator("[data-test=erase-yes]").click()
    erased = page.locator("[data-test=erased]").inner_text()
    assert "Supprimé\u00a0: 1 dépistage et 1 photo ; 0 résultat non envoyé retiré." in erased.replace("\u00a0;", " ;")
    assert "1 résultat était déjà en cours d'envoi et a pu parvenir aux spécialistes" in erased


def test_erasing_a_patient_whose_result_was_sent_asks_the_station_to_erase_it(page, offline_app):
    """The nurse is told the device asks the station to erase the result it sent (no administrator to
    find), and the sync service publishes the request: the device id and the result id alone."""
    app, broker = offline_app
    broker.start()
    tap = Tap(broker.port, device_topic(DEVICE.site, DEVICE.id, ERASURE))
    try:
        sign_in(page, app)
        screen_one_eye(page, app, "S-4")
        wait_until(lambda: sync_states(page, app) == ["acknowledged"], 60, "the result to be acknowledged")
        with sqlite3.connect(app.directory / "records.sqlite3") as db:
            (result_id,) = db.execute("SELECT result_id FROM screening").fetchone()
        _find(page, app, "S-4")
        page.locator("[data-test=erase]").click()
        page.locator("[data-test=erase-yes]").click()
        erased = page.locator("[data-test=erased]")
        said = {
            "en": "The review station may hold 1 of these results, without the name: the device asks the station "
            "to erase it at the next sync.",
            "fr": "Le poste de relecture peut détenir 1 de ces résultats, sans le nom : l'appareil lui demande de "
            "l'effacer à la prochaine synchronisation.",
        }
        for language in ("fr", "en"):
            switch_to(page, language)
            page.locator(f"html[lang={language}]").wait_for(state="attached")
            assert said[language] in erased.inner_text().replace("\u00a0", " ")
            assert on_screen(erased)
            snap(page, "records-erased-at-station")
        wait_until(lambda: tap.on("/erasure"), 30, "the request at the broker")
        assert json.loads(tap.on("/erasure")[0]) == {
            "schema": "edgescreen.erasure/1",
            "device_id": DEVICE.id,
            "result_ids": [result_id],
        }
    finally:
        tap.close()


def test_a_result_the_full_outbox_deleted_unsent_reads_never_sent_not_waiting(page, tmp_path, retina_jpeg):
    """A campaign offline past the outbox's row cap under ``drop_oldest``: Today said "Waiting to send"
    for good of a result that will never leave, the one ``sync status`` counts as dropped."""
    limits = 'outbox_max_rows = 1\noverflow_policy = "drop_oldest"\n'
    running = start_app(tmp_path, app="offline_banner_after_s = 1\n", sections={"sync": limits})
    app = next(running)
    try:
        app.show(retina_jpeg)
        sign_in(page, app)
        screen_one_eye(page, app, "D-1")
        screen_one_eye(page, app, "D-2")  # the outbox holds one: D-1's result is deleted unsent
        assert sync_states(page, app) == ["queued", "dropped"]
        dropped = page.locator("[data-test=entry][data-sync=dropped]")
        assert "Never sent: deleted from the full outbox, kept on this device only" in dropped.inner_text()
        switch_to(page, "fr")
        assert "Jamais envoyé\u00a0: supprimé de la file d'envoi pleine" in dropped.inner_text()
        # The readiness list said only that the outbox was almost full, not that a result was lost.
        page.goto(f"{app.url}/ready")
        backlog = page.locator("[data-test=check-backlog]")
        assert backlog.get_attribute("data-level") == "amber"
        assert "1 résultat a été supprimé sans être envoyé" in backlog.inner_text()
        switch_to(page, "en")
        assert "1 result was deleted unsent (the outbox's cap" in backlog.inner_text()
    finally:
        next(running, None)


@pytest.mark.parametrize(
    ("row_cap", "said_key", "language"),
    [
        ("", "records.outbox_too_old", "en"),
        ("", "records.outbox_too_old", "fr"),
        ("outbox_max_rows = 1\n", "records.outbox_full_and_too_old", "en"),
        ("outbox_max_rows = 1\n", "records.outbox_full_and_too_old", "fr"),
    ],
)
def test_a_screening_the_outbox_age_cap_refuses_names_each_cap_reached(
    page, tmp_path, retina_jpeg, row_cap, said_key, language
):
    """One result waiting past ``outbox_max_age_days``, far under the row cap: the page said "Too many
    results are waiting to be sent", a count the nurse could see was not reached. It says the results
    waited too long; and, that one result at the row cap too (``row_cap``), both: it named the age alone,
    and the nurse who got one result sent was refused again."""
    limits = f'outbox_max_age_days = 10\n{row_cap}overflow_policy = "refuse"\n'
    running = start_app(tmp_path, sections={"sync": limits})
    app = next(running)
    try:
        app.show(retina_jpeg)
        sign_in(page, app)
        switch_to(page, language)
        screen_one_eye(page, app, "D-1")
        with sqlite3.connect(app.directory / "records.sqlite3") as db:  # queued 11 days ago, by this boot's clock
            db.execute("UPDATE outbox SET queued_boottime = queued_boottime - ?", (11 * 86400,))
        new_patient(page, app, "D-2", eyes=("R",))
        page.wait_for_url("**/capture")
        shoot(page)
        with page.expect_response("**/check/use") as answer:
            page.locator("[data-test=use]").click()
        assert answer.value.status == 507
        said = page.locator("[data-test=message]").inner_text()
        assert said == message(said_key, language)
        snap(page, f"outbox-refused-{said_key.removeprefix('records.')}")
    finally:
        next(running, None)


def test_a_result_the_sync_worker_withheld_as_altered_reads_never_sent_not_waiting(page, offline_app):
    """A payload altered on the card is withheld by the sync worker for good (``sync status`` counts it):
    Today said "Waiting to send" of it forever, and the nurse and campaign lead believed it would go."""
    app, broker = offline_app
    sign_in(page, app)
    screen_one_eye(page, app, "A-1")
    screen_one_eye(page, app, "A-2")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:  # A-1's payload, altered on the card
        db.execute("UPDATE outbox SET payload = replace(payload, 'R', 'L') WHERE seq = (SELECT min(seq) FROM outbox)")
    # Said at once, offline, by the digest check the worker withholds it for: not when it next tries.
    assert sync_states(page, app) == ["queued", "withheld"]
    for language in ("fr", "en"):
        switch_to(page, language)
        snap(page, "today-withheld-offline")
    broker.start()
    wait_until(lambda: sync_states(page, app) == ["acknowledged", "withheld"], 60, "A-2 sent, A-1 withheld")
    withheld = page.locator("[data-test=entry][data-sync=withheld]")
    assert "Never sent: altered on this device. Call the technician" in withheld.inner_text()
    assert unscrolled(page)
    snap(page, "today-withheld")
    switch_to(page, "fr")
    assert "Jamais envoyé\u00a0: modifié sur cet appareil. Appelez le technicien" in withheld.inner_text()
    assert unscrolled(page)
    snap(page, "today-withheld")


def test_the_worklist_filters_the_operators_own_screenings(page, app):
    sign_in(page, app)
    screen_one_eye(page, app, "O-1")
    add_operator(app, "Bruno", "1357")
    page.goto(f"{app.url}/today?filter=mine")
    assert page.locator("[data-test=entry]").count() == 1
    page.locator("[data-test=sign-out]").click()
    page.get_by_label("Bruno").check()
    enter_pin(page, "1357")
    page.goto(f"{app.url}/today?filter=mine")
    assert page.locator("[data-test=entry]").count() == 0
    page.goto(f"{app.url}/today")
    assert page.locator("[data-test=entry]").count() == 1


def test_todays_screenings_from_before_ntp_set_the_clock_are_listed_and_marked(page, app):
    """A morning recorded on fake-hwclock's time, two days behind, before NTP stepped the clock: on
    Today (it was recorded on this boot), its time marked as from a clock not set, in both languages."""
    behind = datetime.now(UTC) - timedelta(days=2)
    store = open_store(app.directory, clock=lambda: behind, synchronised=False, boot=current_boot(), boottime=boot_time)
    record_one(store, small_photo(), sample_record(captured_at=behind))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language, words in (("en", "clock not set"), ("fr", "horloge non réglée")):
        page.goto(f"{app.url}/today")
        switch_to(page, language)
        assert page.locator("[data-test=entry]").count() == 1
        assert page.locator("[data-test=clock-not-set]").inner_text() == words
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "today-clock-not-set")


def test_a_screening_dated_days_ahead_by_a_clock_not_set_shows_its_date_on_today(page, app):
    """A screening recorded on this boot by a clock two days ahead, before NTP stepped it back: Today
    listed it by its time alone, as if recorded today. Its date is said with its time, as an earlier
    day's is, and its time marked as from a clock not set."""
    ahead = datetime.now(UTC) + timedelta(days=2)
    store = open_store(app.directory, clock=lambda: ahead, synchronised=False, boot=current_boot())
    record_one(store, small_photo(), sample_record(captured_at=ahead))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language in ("en", "fr"):
        page.goto(f"{app.url}/today")
        switch_to(page, language)
        time_cell = page.locator("[data-test=entry] td").first
        assert readable_date(ahead, language) in time_cell.inner_text()
        assert time_cell.locator("[data-test=clock-not-set]").is_visible()
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        snap(page, "today-clock-ahead")


def test_an_urgent_referral_of_a_patient_the_device_referred_is_a_call_back_on_every_screen(page, app):
    """The device referred this patient (routine, the only referral it gives) days ago; the specialist
    asks for an urgent one. On main it was only a badge on Today the day it came: now it is the
    call-back banner, on every screen, and its own words on Today, until the record is opened."""
    days_ago = datetime.now(UTC) - timedelta(days=3)
    store = open_store(app.directory, clock=lambda: days_ago)
    context = ScreeningContext(eye="R", patient_ref="U-7")
    record = record_one(store, small_photo(), sample_record(context, captured_at=days_ago, score=0.9))
    store.records.clock = lambda: datetime.now(UTC)
    urgent = Review("rev-1", record.result_id, "refer", datetime.now(UTC), "dr-lopez", None, urgency="urgent")
    assert store.add_review(urgent) == "stored"
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    banners = {
        "en": "A specialist asks you to contact a patient",
        "fr": "Un spécialiste vous demande de rappeler un patient",
    }
    badges = {
        "en": "Specialist asks for an urgent referral. Contact the patient",
        "fr": "Le spécialiste demande une orientation urgente. Contactez le patient",
    }
    for language, banner in banners.items():
        switch_to(page, language)
        assert banner in page.locator("[data-test=call-back-banner]").inner_text()
        assert page.locator("[data-test=call-back-urgent]").inner_text() == "Urgent."
        snap(page, "ready-urgent-call-back")
        assert on_screen(page.locator("[data-test=call-back-banner]"))
        page.locator("[data-test=call-back-banner]").click()
        page.wait_for_url("**/today?filter=verdict")
        verdict = page.locator("[data-test=verdict]")
        assert verdict.get_attribute("data-call-back") == "urgent" and verdict.inner_text() == badges[language]
        assert unscrolled(page)
        snap(page, "today-urgent-call-back")
        page.goto(f"{app.url}/ready")
    page.goto(f"{app.url}/today?filter=verdict")
    page.locator("[data-test=open-verdict]").click()
    assert "U-7" in page.locator("[data-test=detail]").inner_text()
    assert page.locator("[data-test=call-back-banner]").count() == 0  # opened: the nurse has whom to call


def with_verdicts(app, verdicts) -> None:
    """Each (record, verdict, urgency) recorded with its photo, then the specialist's verdict on it."""
    store = open_store(app.directory)
    for number, (record, verdict, urgency) in enumerate(verdicts):
        record_one(store, small_photo(), record)
        review = Review(f"rev-{number}", record.result_id, verdict, datetime.now(UTC), "dr-lopez", None, urgency)
        assert store.add_review(review) == "stored"
    store.records.close()


def test_each_verdict_that_asks_something_of_the_nurse_is_one_badge_saying_what(page, app):
    """Three patients the device referred, could not grade, or cleared; the specialist asks for each
    one's referral soon, refers the ungradable photo (routine) and refers the cleared one urgently.
    Each is a call-back (on main the first two were not: a "Soon" badge beside "Specialist: refer",
    and a plain "Specialist: refer", shown only the day they came), and each row has one badge that
    says what to do (on main the urgent one was "Call the patient back" beside "Urgent"), in both
    languages, on the 800x480 screen."""
    ungradable = Triage(Outcome.UNGRADABLE)
    verdicts = (
        (sample_record(ScreeningContext("S-1", eye="R"), score=0.9), "refer", "soon"),
        (replace(sample_record(ScreeningContext("S-2", eye="L")), triage=ungradable), "refer", "routine"),
        (sample_record(ScreeningContext("S-3", eye="R"), score=0.05), "refer", "urgent"),
    )
    with_verdicts(app, verdicts)
    sign_in(page, app)
    page.wait_for_url("**/ready")
    badges = {
        "en": [
            "Specialist asks for an urgent referral. Contact the patient",
            "Specialist: refer. Call the patient back unless already referred",
            "Specialist asks for a referral soon. Contact the patient",
        ],
        "fr": [
            "Le spécialiste demande une orientation urgente. Contactez le patient",
            "Spécialiste\xa0: adresser. Rappelez le patient s'il n'a pas déjà été orienté",
            "Le spécialiste demande d'adresser le patient prochainement. Contactez-le",
        ],
    }
    for language, words in badges.items():
        page.goto(f"{app.url}/today?filter=verdict")
        switch_to(page, language)
        assert "3" in page.locator("[data-test=call-back-banner]").inner_text()
        rows = page.locator("[data-test=entry]").all()
        assert [row.locator(".verdict-row .badge").all_inner_texts() for row in rows] == [[said] for said in words]
        assert page.locator("[data-test=verdict]:not(.call-back)").count() == 0
        assert page.evaluate(AUDIT) == []
        snap(page, "today-call-backs")


# What Today's badge says of each call-back (records/verdicts.py, ``CALL_BACK_REASON``), in each language.
CALL_BACK_WORDS = {
    "urgent": {
        "en": "Specialist asks for an urgent referral. Contact the patient",
        "fr": "Le spécialiste demande une orientation urgente. Contactez le patient",
    },
    "soon": {
        "en": "Specialist asks for a referral soon. Contact the patient",
        "fr": "Le spécialiste demande d'adresser le patient prochainement. Contactez-le",
    },
    "refer_unless_referred": {
        "en": "Specialist: refer. Call the patient back unless already referred",
        "fr": "Spécialiste\xa0: adresser. Rappelez le patient s'il n'a pas déjà été orienté",
    },
    "ungradable": {
        "en": "Specialist: not gradable. Call the patient back for another photo",
        "fr": "Spécialiste\xa0: ininterprétable. Rappelez le patient pour une nouvelle photo",
    },
    "refer": {"en": "Specialist: refer. Call the patient back", "fr": "Spécialiste\xa0: adresser. Rappelez le patient"},
    "no_refer": {
        "en": "Specialist: no referral. Tell the patient; cancel the referral if nothing else needs it",
        "fr": "Spécialiste\xa0: pas d'orientation. Prévenez le patient\xa0; annulez l'orientation sauf autre motif",
    },
    "no_refer_if_referred": {
        "en": "Specialist: no referral. Tell the patient if referred for an unreadable photo",
        "fr": "Spécialiste\xa0: pas d'orientation. Prévenez le patient s'il a été orienté faute de photo lisible",
    },
}


def test_the_record_opened_from_a_call_back_says_what_todays_badge_said(page, app):
    """The nurse opens a call-back's record from Today to make the call. On main the record showed the
    verdict and its findings but not what to do ("Contact the patient", "unless already referred"),
    and in French named a "soon" referral "Prochainement" where Today had said "orientation rapide".
    Now it says Today's words, under its heading on the 800x480 screen, in both languages, still once
    opened (Today keeps the badge too), and its urgency is the badge's word; an agreed routine
    referral, asking nothing, says nothing more."""
    ungradable = Triage(Outcome.UNGRADABLE)
    verdicts = (
        (sample_record(ScreeningContext("S-0", eye="L"), score=0.9), "refer", "urgent"),
        (sample_record(ScreeningContext("S-1", eye="R"), score=0.9), "refer", "soon"),
        (replace(sample_record(ScreeningContext("S-2", eye="L")), triage=ungradable), "refer", "routine"),
        (sample_record(ScreeningContext("S-3", eye="R"), score=0.05), "ungradable", "routine"),
        (sample_record(ScreeningContext("S-4", eye="L"), score=0.05), "refer", "routine"),
        (sample_record(ScreeningContext("A-5", eye="L"), score=0.9), "refer", "routine"),
        (sample_record(ScreeningContext("S-6", eye="R"), score=0.9), "no_refer", "routine"),
        (replace(sample_record(ScreeningContext("S-7", eye="R")), triage=ungradable), "no_refer", "routine"),
    )
    with_verdicts(app, verdicts)
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for reason, words in CALL_BACK_WORDS.items():
        page.goto(f"{app.url}/today?filter=verdict")
        page.locator(f"[data-test=entry]:has([data-call-back={reason}]) [data-test=open-verdict]").click()
        page.wait_for_url("**/records/view")
        for language in ("en", "fr"):
            switch_to(page, language)
            instruction = page.locator("[data-test=detail] [data-test=call-back]")
            assert instruction.inner_text() == words[language] and on_screen(instruction)
            if reason in SOON_OR_URGENT:  # the specialist's urgency, in the badge's word
                urgency = page.locator("[data-test=urgency]").inner_text()
                assert urgency.lower() in words[language].lower(), urgency
            assert page.evaluate(AUDIT) == []
            snap(page, f"record-call-back-{reason}")
    page.goto(f"{app.url}/today?filter=verdict")  # opened, each still says it on Today, marked so
    for reason, words in CALL_BACK_WORDS.items():
        badge = page.locator(f"[data-call-back={reason}]")
        assert badge.inner_text() == f"{words['fr']} (dossier ouvert)"
    page.locator("[data-test=entry]:not(:has(.call-back)) [data-test=open-verdict]").click()
    page.wait_for_url("**/records/view")
    assert "A-5" in page.locator("[data-test=detail]").inner_text()
    assert page.locator("[data-test=call-back]").count() == 0


def test_an_amendment_of_a_call_back_the_nurse_opened_is_on_the_banner_again(page, app):
    """The device referred one patient and cleared the other; the specialist said the other ("no
    referral", "refer"), and the nurse opened each call-back to tell the patient (and cancel or make
    the referral); then the specialist amended each back. On main Today showed a plain verdict, and
    the banner nothing: each patient stood told what the amended verdict said. Now each is a call-back,
    in both languages, on the 800x480 screen."""
    store = open_store(app.directory)
    reviewed_at = datetime.now(UTC)
    for number, (score, first, amended) in enumerate(((0.9, "no_refer", "refer"), (0.05, "refer", "no_refer"))):
        record = sample_record(ScreeningContext(f"AMEND-{number}", eye="R"), score=score)
        record_one(store, small_photo(), record)
        store.add_review(Review(f"rev-{number}", record.result_id, first, reviewed_at, "dr-lopez", None, "routine"))
        assert store.view(record.result_id)["call_back"] == first  # the nurse told the patient
        later = reviewed_at + timedelta(minutes=5)
        store.add_review(Review(f"rev-{number}-again", record.result_id, amended, later, "dr-lopez", None, "routine"))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    page.goto(f"{app.url}/today?filter=verdict")
    for language in ("en", "fr"):
        switch_to(page, language)
        assert "2" in page.locator("[data-test=call-back-banner]").inner_text()
        badges = page.locator("[data-test=entry] [data-call-back]")
        assert sorted(badges.all_inner_texts()) == sorted(
            CALL_BACK_WORDS[reason][language] for reason in ("refer", "no_refer")
        )
        snap(page, "today-call-backs-amended")


def test_the_banner_opens_today_on_its_urgent_call_back_above_the_days_later_verdicts(page, app):
    """An urgent call-back came at the start of the day, then the specialist agreed with four of the
    device's referrals. On main Today listed by time alone: the banner's "1 urgent" led to a screen
    of agreed referrals, the urgent one below the fold. It is now the first row, on the 800x480
    screen as the banner opens it, in both languages. Once its record is opened it goes back to its
    time, its badge marked "record opened" (on main it looked like those still to open)."""
    store = open_store(app.directory)
    for number, (reference, score, urgency) in enumerate(
        [("U-1", 0.05, "urgent")] + [(f"A-{n}", 0.9, "routine") for n in range(4)]
    ):
        record = record_one(store, small_photo(), sample_record(ScreeningContext(reference, eye="R"), score=score))
        received = datetime.now(UTC) + timedelta(seconds=number)  # the urgent one first
        store.records.clock = lambda received=received: received
        review = Review(f"rev-{number}", record.result_id, "refer", received, "dr-lopez", None, urgency)
        assert store.add_review(review) == "stored"
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language in ("en", "fr"):
        switch_to(page, language)
        page.locator("[data-test=call-back-banner]").click()
        page.wait_for_url("**/today?filter=verdict")
        first = page.locator("[data-test=entry]").first.locator("[data-test=verdict]")
        assert first.get_attribute("data-call-back") == "urgent" and on_screen(first)
        snap(page, "today-urgent-call-back-first")
        page.goto(f"{app.url}/ready")
    page.goto(f"{app.url}/today?filter=verdict")
    page.locator("[data-test=open-verdict]").first.click()
    page.wait_for_url("**/records/view")
    for language, opened in (("en", "(record opened)"), ("fr", "(dossier ouvert)")):
        page.goto(f"{app.url}/today?filter=verdict")
        switch_to(page, language)  # the urgent call-back back at its time, the last, marked opened
        last = page.locator("[data-test=entry]").last.locator("[data-test=verdict]")
        assert last.get_attribute("data-call-back") == "urgent"
        assert last.locator("[data-test=call-back-opened]").inner_text() == opened
        assert page.locator("[data-test=call-back-opened]").count() == 1 and page.evaluate(AUDIT) == []
        snap(page, "today-call-back-opened")


def test_a_record_opened_from_today_lists_its_own_patients_screenings_not_the_last_search(page, app):
    """The nurse searched patient H-8 on Records, then opened a call-back of patient A-1 from Today. On
    main the record of A-1 sat above "1 screening found" (H-8's) and "Erase this patient", which
    asked to erase H-8. Now the search under the record is A-1's: its count over the record, its reference
    in the field and its screenings in the list under "See the list" (a retake that cleared the eye is
    there to see), and the erasure asks about A-1."""
    store = open_store(app.directory)
    record_one(store, small_photo(), sample_record(ScreeningContext("H-8", eye="L"), score=0.9))
    called = record_one(store, small_photo(), sample_record(ScreeningContext("A-1", eye="R"), score=0.05))
    store.add_review(Review("rev-1", called.result_id, "refer", datetime.now(UTC), "dr-lopez", None, "urgent"))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "H-8")
    page.locator("[data-test=find]").click()
    page.locator("[data-test=found]").wait_for()
    page.goto(f"{app.url}/today?filter=verdict")
    page.locator("[data-test=open-verdict]").click()
    page.wait_for_url("**/records/view")
    for language in ("en", "fr"):
        switch_to(page, language)
        assert "A-1" in page.locator("[data-test=detail]").inner_text()
        assert page.locator("[data-test=found]").inner_text() in ("1 screening found.", "1 dépistage trouvé.")
        snap(page, "record-from-today-after-a-search")
    page.locator("[data-test=see-list]").click()  # the search put away under the record
    assert page.locator("#reference").input_value() == "A-1"
    page.locator("[data-test=erase]").click()
    confirm = page.locator("[data-test=erase-confirm]").inner_text()
    assert "A-1" in confirm and "H-8" not in confirm


def referred_by_the_specialist(app, reference: str, eyes: tuple[str, ...], urgency: str | None = None) -> None:
    """Eyes of one patient the device cleared, each referred by the specialist (``urgency``: as
    ``edgescreen.review/2`` says it): to call back."""
    store = open_store(app.directory)
    for eye in eyes:
        record = record_one(store, small_photo(), sample_record(ScreeningContext(reference, eye=eye), score=0.05))
        review_id = f"rev-{record.result_id}"
        store.add_review(Review(review_id, record.result_id, "refer", datetime.now(UTC), "dr-lopez", None, urgency))
    store.records.close()


def banner_reads(page, words: dict[str, str], name: str) -> bool:
    """Whether the call-back banner says ``words`` in each language (the screen snapped as ``name``)."""
    said = {}
    for language in words:
        switch_to(page, language)
        said[language] = page.locator("[data-test=call-back-banner]").inner_text()
        snap(page, name)
    return said == words


def test_the_call_back_banner_counts_a_patient_referred_for_both_eyes_once(page, app):
    """Both eyes of one patient the device cleared, both referred by the specialist: one patient to
    call, and the banner says so in the singular (on main: "2 patients"), in both languages; a second
    patient makes it two. A third, urgent, is counted as one of three, in sentences (before: "...call
    them back Urgent.", as if all three were, and "pour les rappeler Dont" mid-sentence in French)."""
    referred_by_the_specialist(app, "T-3", ("R", "L"))
    sign_in(page, app)
    page.wait_for_url("**/ready")
    one = {
        "en": "A specialist asks you to contact a patient: open the record to call them back.",
        "fr": "Un spécialiste vous demande de rappeler un patient\xa0: ouvrez son dossier.",
    }
    two = {
        "en": "Specialists ask you to contact 2 patients: open their records to call them back.",
        "fr": "Des spécialistes vous demandent de rappeler 2 patients\xa0: ouvrez leurs dossiers.",
    }
    assert banner_reads(page, one, "ready-call-back-one-patient")
    referred_by_the_specialist(app, "T-4", ("R",))
    assert banner_reads(page, two, "ready-call-back-two-patients")
    referred_by_the_specialist(app, "T-5", ("R",), urgency="urgent")
    three = {
        "en": "Specialists ask you to contact 3 patients: open their records to call them back. 1 urgent.",
        "fr": "Des spécialistes vous demandent de rappeler 3 patients\xa0: ouvrez leurs dossiers. Dont 1 urgent.",
    }
    assert banner_reads(page, three, "ready-call-back-one-urgent-of-three")


def test_a_verdict_received_before_ntp_set_the_clock_is_on_today(page, app):
    """A screening of days ago; its verdict delivered on this boot before NTP set the clock, so dated
    by fake-hwclock's time two days behind: on main it never showed on Today (a "no referral" is no
    call-back); now it is there, as a screening recorded so would be, in both languages."""
    screened = datetime.now(UTC) - timedelta(days=3)
    store = open_store(app.directory, clock=lambda: screened, boot="an earlier boot")
    record = record_one(store, small_photo(), sample_record(captured_at=screened, score=0.05))
    store.records.close()
    behind = datetime.now(UTC) - timedelta(days=2)
    store = open_store(app.directory, clock=lambda: behind, synchronised=False, boot=current_boot())
    assert store.add_review(Review("rev-1", record.result_id, "no_refer", behind, "dr-lopez", None)) == "stored"
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language, words in (("en", "Specialist: no referral"), ("fr", "Spécialiste\xa0: pas d'orientation")):
        page.goto(f"{app.url}/today")
        switch_to(page, language)
        assert page.locator("[data-test=verdict]").inner_text() == words
        assert page.locator("[data-test=clock-not-set]").count() == 0  # the screening was dated right
        assert unscrolled(page)
        snap(page, "today-verdict-clock-not-set")


def test_a_long_day_shows_the_triage_disclaimer_without_scrolling_to_its_end(page, app):
    """A day of many screenings is many screens long: the disclaimer is above the list, not after it."""
    store = open_store(app.directory)
    for _ in range(20):
        record_one(store, small_photo(), sample_record(captured_at=datetime.now(UTC)))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language in ("en", "fr"):
        page.goto(f"{app.url}/today")
        switch_to(page, language)
        assert page.locator("[data-test=entry]").count() == 20 and not unscrolled(page)
        assert on_screen(page.locator("[data-test=disclaimer]"))
        snap(page, "today-long")


def test_a_stored_comment_with_an_override_reads_in_order_on_the_record(page, app):
    """A verdict stored before the device took controls out of comments: its override shows as a code,
    and neither it nor the comment reorders the record's own words after it ("replaced")."""
    store = open_store(app.directory)
    record = record_one(store, small_photo(), sample_record(ScreeningContext(eye="R", patient_ref="B-7")))
    said = {"result_id": record.result_id, "verdict": "refer", "reviewer": "dr-lopez", "comment": None}
    store.add_review(Review("rev-1", reviewed_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC), **said | REVERSED))
    store.add_review(Review("rev-2", reviewed_at=datetime(2026, 1, 2, 4, 4, tzinfo=UTC), **said))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    _find(page, app, "B-7")
    page.get_by_role("button", name="View").click()
    for language in ("en", "fr"):
        switch_to(page, language)
        comment = page.locator("[data-test=comment]")
        assert comment.inner_text() == "Refer [U+202E]evig ton od\u05e9\u05dc\u05d5\u05dd"
        assert comment.evaluate("e => e.tagName") == "BDI"
        # The colon before it as each language sets one: French's after a no-break space (it read "):").
        said = comment.evaluate("e => e.previousSibling.textContent")
        assert said.endswith({"en": "): ", "fr": ")\u00a0: "}[language]), said
        replaced = page.locator("[data-test=replaced]").inner_text()
        assert drawn_before(page, comment, "evig", replaced.strip("()").split()[0])
        assert on_screen(page.locator("[data-test=detail]"))
        snap(page, "record-override")


# A comment stored raw: a right-to-left override left open, then Hebrew, which without isolation
# would pull the record's own "(replaced)" after it into its right-to-left run.
REVERSED = {"comment": "Refer \u202eevig ton od\u05e9\u05dc\u05d5\u05dd"}


def drawn_before(page, comment, first: str, then: str) -> bool:
    """Whether the word ``first`` of the comment is drawn before ``then``, the record's own word after it:
    left of it on the same line, or on a line above (each measured where it starts; the verdicts' width
    may put the two on one line or on two)."""
    return comment.evaluate(
        """(e, [first, then]) => {
          const box = (node, word) => {
            const range = document.createRange(), at = node.textContent.indexOf(word);
            range.setStart(node, at);
            range.setEnd(node, at + word.length);
            return range.getClientRects()[0];
          };
          const own = e.parentElement.querySelector("[data-test=replaced]").firstChild;
          const [a, b] = [box(e.firstChild, first), box(own, then)];
          return a.bottom <= b.top || (a.top < b.bottom && a.left < b.left);
        }""",
        [first, then],
    )


def test_a_comment_of_two_readers_keeps_one_line_each_on_the_record(page, app):
    """Two agreeing blind reads reach the device as one comment, a reader to a line: the record shows
    the lines as sent, not run together."""
    store = open_store(app.directory)
    record = record_one(store, small_photo(), sample_record(ScreeningContext(eye="R", patient_ref="B-8")))
    joint = "First reader / Premier lecteur: early signs\nSecond reader / Second lecteur: agree, recheck in 6 months"
    said = {"result_id": record.result_id, "verdict": "refer", "reviewer": "dr-lopez", "comment": joint}
    store.add_review(Review("rev-1", reviewed_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC), **said))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    _find(page, app, "B-8")
    page.get_by_role("button", name="View").click()
    comment = page.locator("[data-test=comment]")
    assert comment.inner_text() == joint
    # The second reader's line starts below the first, at the start of a line of the record's field.
    first, second, field_left = comment.evaluate(
        """e => [...["First", "Second"].map(word => {
            const text = e.firstChild, range = document.createRange(), at = text.data.indexOf(word);
            range.setStart(text, at); range.setEnd(text, at + 1);
            const box = range.getBoundingClientRect();
            return {left: box.left, top: box.top};
        }), e.parentElement.getBoundingClientRect().left]"""
    )
    assert second["top"] > first["top"] and abs(second["left"] - field_left) < 1
    snap(page, "record-two-readers")


def test_a_referral_whose_comment_the_card_damaged_opens_with_its_verdict_and_the_patient(page, tmp_path, retina_jpeg):
    """On main the record failed whole (an error page) for one damaged comment: the nurse could read
    neither the referral nor whom to call back, though neither was damaged."""
    store = open_store(tmp_path)
    context = ScreeningContext(eye="R", patient_ref="B-9")
    record = record_one(store, small_photo(), sample_record(context, score=0.05))
    decided = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    store.add_review(Review("rev-1", record.result_id, "refer", decided, "dr-lopez", "Neovessels: see this week"))
    damage_a_sealed_value(store, "SELECT comment_sealed FROM review")
    running = start_app(tmp_path)
    app = next(running)
    try:
        app.show(retina_jpeg)
        sign_in(page, app)
        page.wait_for_url("**/ready")
        assert page.locator("[data-test=call-back-banner]").count() == 1
        _find(page, app, "B-9")
        page.get_by_role("button", name="View").click()
        for language, words in (("en", "its comment cannot be read"), ("fr", "son commentaire est illisible")):
            switch_to(page, language)
            detail = page.locator("[data-test=detail]")
            assert "B-9" in detail.inner_text()
            assert {"en": "Specialist: refer", "fr": "Spécialiste\u00a0: adresser"}[language] in detail.inner_text()
            assert words in page.locator("[data-test=comment-unreadable]").inner_text()
            assert page.locator("[data-test=comment]").count() == 0
            snap(page, f"record-comment-unreadable-{language}")
        assert page.locator("[data-test=call-back-banner]").count() == 0  # the referral was read
    finally:
        next(running, None)


def test_a_lesion_whose_photo_the_card_damaged_opens_and_says_the_photo_is_unreadable(page, tmp_path, retina_jpeg):
    """On main the record failed whole (an error page) when its photo did not open; a photo deleted
    after its retention reads otherwise ("no longer kept") than one a worn card damaged."""
    store = open_store(tmp_path)
    lesion = sample_record(ScreeningContext(body_site="trunk", patient_ref="D-31"), score=0.05)
    record = record_one(store, small_photo(), replace(lesion, modality="dermoscopy"))
    decided = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    store.add_review(Review("rev-1", record.result_id, "refer", decided, "dr-lopez", None))
    damage_a_sealed_value(store, "SELECT sealed FROM image")
    running = start_app(tmp_path)
    app = next(running)
    try:
        app.show(retina_jpeg)
        sign_in(page, app)
        page.wait_for_url("**/ready")
        _find(page, app, "D-31")
        page.get_by_role("button", name="View").click()
        for language, words in (("en", "The photo cannot be read"), ("fr", "La photo est illisible")):
            switch_to(page, language)
            assert "D-31" in page.locator("[data-test=detail]").inner_text()
            assert words in page.locator("[data-test=record-photo-unreadable]").inner_text()
            assert page.locator("[data-test=record-photo-gone]").count() == 0
            snap(page, f"record-photo-unreadable-{language}")
    finally:
        next(running, None)


def test_erasing_a_patient_whose_results_were_sent_tells_the_nurse_the_station_may_hold_them(page, app):
    store = open_store(app.directory)
    for reference in ("E-8", "E-7"):
        record_one(store, small_photo(), sample_record(ScreeningContext(eye="R", patient_ref=reference)))
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    said = {
        "en": "The review station may hold 1 of these results, without the name",
        "fr": "Le poste de relecture peut détenir 1 de ces résultats, sans le nom",
    }
    for reference, language in (("E-8", "en"), ("E-7", "fr")):
        _find(page, app, reference)
        switch_to(page, language)
        page.locator("[data-test=erase]").click()
        page.locator("[data-test=erase-yes]").click()
        done = page.locator("[data-test=erased]")
        assert said[language] in done.inner_text() and on_screen(done)
        snap(page, "records-erased-at-station")


def test_the_checks_say_an_erasure_request_waits_for_the_broker_in_both_languages(page, app):
    """The device is offline (its broker port answers nothing): the erasure's request to the station
    waits with every result sent, and the readiness list says so instead of green, so nobody wipes it."""
    store = open_store(app.directory)
    record_one(store, small_photo(), sample_record(ScreeningContext(eye="R", patient_ref="E-9")))
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("E-9")
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    said = {
        "en": "Patients' erasures still to reach the review station: 1. Check the network; the device must not",
        "fr": "Effacements de patients encore à transmettre au poste de relecture\u00a0: 1.",
    }
    for language in ("en", "fr"):
        switch_to(page, language)
        line = page.locator("[data-test=check-backlog]")
        assert said[language] in line.inner_text() and line.get_attribute("data-level") == "amber"
        line.scroll_into_view_if_needed()
        snap(page, "ready-erasure-requests")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_erasing_on_a_nearly_full_disk_tells_the_nurse_the_disk_keeps_the_erased_data(
    page, tiny_filesystem, retina_rgb, language
):
    """As ``edgescreen erase`` on a nearly full disk (tests/records/test_disk_full.py): the erasure is
    committed, its checkpoint fails. The screen said another program was reading the records, where
    the technician must free space."""
    running = start_app(tiny_filesystem)
    app = next(running)
    try:
        store = open_store(app.directory)
        screenings_left_in_the_log(store, retina_rgb, "F-1")
        store.records.close()  # the app's connection stays open: what was recorded stays in the log
        sign_in(page, app)
        page.wait_for_url("**/ready")
        _find(page, app, "F-1")
        switch_to(page, language)
        page.locator("[data-test=erase]").click()
        page.locator("[data-test=erase-yes]").wait_for()
        filled(tiny_filesystem, leaving=ROOM_FOR_AN_ERASURE)
        page.locator("[data-test=erase-yes]").click()
        done = page.locator("[data-test=erased]")
        said = done.inner_text()
        assert message("records.erased_left_on_disk.full", language) in said and on_screen(done)
        assert message("records.erased_left_on_disk.reader", language) not in said
        snap(page, "records-erased-disk-full")
    finally:
        (tiny_filesystem / "filler").unlink(missing_ok=True)
        next(running, None)


def test_the_erase_question_names_close_references_it_leaves_out(page, app):
    store = open_store(app.directory)
    for reference in ("EM-6061", "EM 6061", "FX-9090"):
        record_one(store, small_photo(), sample_record(ScreeningContext(eye="R", patient_ref=reference)))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    _find(page, app, "EM-6061")
    page.locator("[data-test=erase]").click()
    for language, words in (("en", "Not included, in case one is the same patient"), ("fr", "Non inclus")):
        switch_to(page, language)
        close = page.locator("[data-test=erase-close]")
        assert words in close.inner_text() and "EM 6061" in close.inner_text() and "FX" not in close.inner_text()
        assert on_screen(page.locator("[data-test=erase-yes]"))
        snap(page, "records-erase-close")
    page.locator("[data-test=erase-yes]").click()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 2  # "EM 6061" and "FX-9090" stay


def test_a_close_reference_the_keypad_cannot_type_opens_with_a_tap_and_is_erased_alone(page, app):
    """ "EM 6061" came from a scanned code: the records keypad has no space, so the nurse types
    "EM6061". The search names the close references as buttons; one tap opens that patient, whose
    erasure leaves the others."""
    store = open_store(app.directory)
    for reference in ("EM 6061", "EM-6061", "FX-9090"):
        record_one(store, small_photo(), sample_record(ScreeningContext(eye="R", patient_ref=reference)))
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    _find(page, app, "EM6061")
    for language, words in (("en", "Perhaps the same patient:"), ("fr", "Peut-être le même patient")):
        switch_to(page, language)
        assert page.locator("[data-test=none-found]").count() == 1
        close = page.locator("[data-test=close]")
        assert words in close.inner_text() and "FX" not in close.inner_text()
        buttons = close.locator("[data-test=close-reference]")
        assert sorted(" ".join(text.split()) for text in buttons.all_inner_texts()) == sorted(
            f"{r} (1 {'screening' if language == 'en' else 'dépistage'})" for r in ("EM 6061", "EM-6061")
        )
        snap(page, "records-close-references")
        assert on_screen(buttons.first) and unscrolled(page)
    close.get_by_text("EM 6061").click()
    assert page.locator("#reference").input_value() == "EM 6061"
    assert page.locator("[data-test=found]").count() == 1
    page.locator("[data-test=erase]").click()
    assert "EM-6061" in page.locator("[data-test=erase-close]").inner_text()
    page.locator("[data-test=erase-yes]").click()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 2  # "EM-6061" and "FX-9090" stay


def test_a_patient_found_on_records_shows_the_call_back_today_shows(page, app):
    """A patient searched for on Records, whose right eye the specialist asks to call back urgently and
    whose left eye the specialist cleared. On main the patient's list of screenings said nothing of
    the call-back (Today alone had the badge); now its row has Today's badge, in Today's words, marked
    once the record is opened, in both languages; the cleared eye's row has none."""
    with_verdicts(
        app,
        (
            (sample_record(ScreeningContext("P-7", eye="R"), score=0.05), "refer", "urgent"),
            (sample_record(ScreeningContext("P-7", eye="L"), score=0.05), "no_refer", "routine"),
        ),
    )
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language in ("en", "fr"):
        switch_to(page, language)
        page.goto(f"{app.url}/records")
        page.locator("#reference").click()  # the last search's list shown: the field tapped brings the keypad
        page.locator('[data-keypad="reference"] [data-key="clear"]').click()  # the last search's reference
        type_on_keypad(page, "reference", "P-7")
        page.locator("[data-test=find]").click()
        page.locator("[data-test=found]").wait_for()
        badges = page.locator(".worklist [data-test=verdict]")
        assert badges.count() == 1 and badges.get_attribute("data-call-back") == "urgent"
        assert badges.inner_text() == CALL_BACK_WORDS["urgent"][language]
        row = page.locator(".worklist tr:has([data-call-back=urgent])")
        assert message("eye.R", language) in row.inner_text()
        assert page.evaluate(AUDIT) == []
        snap(page, "records-found-call-back")
    row.get_by_role("button", name=message("records.view", "fr")).click()  # opened to make the call
    page.wait_for_url("**/records/view")
    page.locator("[data-test=see-list]").click()  # back to the list under the search
    for language in ("fr", "en"):
        switch_to(page, language)
        said = f"{CALL_BACK_WORDS['urgent'][language]} ({message('today.call_back_opened', language)})"
        badge = page.locator(".worklist [data-call-back=urgent]")
        assert badge.inner_text() == said
        snap(page, "records-found-call-back-opened")
