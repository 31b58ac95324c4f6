"""Verdicts that cannot reach a nurse are listed for a coordinator, not closed quietly: a result the
device does not hold, a retired device (sent nothing more), a verdict unacknowledged for too long."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, select, update

from firmware_app.inference.card import read_card
from review_station import accounts, devices, undelivered
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import audit, deliveries, results
from tests.conftest import MODELS_DIR
from tests.mqtt_broker import Tap, wait_until
from tests.review_station.kit import running_station
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station

URGENT = {"verdict": "refer", "urgency": "urgent", "icdr_grade": "proliferative", "maculopathy": "present"}


def read(client, result_id: str, form: dict[str, str] = URGENT) -> None:
    answer = client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(client, f"/results/{result_id}")})
    assert answer.status_code == 303, answer.text


def review_id_of(engine: Engine, result_id: str) -> str:
    with engine.connect() as connection:
        return connection.execute(
            select(deliveries.c.review_id).where(deliveries.c.result_id == result_id)
        ).scalar_one()


def answer(engine: Engine, site: str, device: str, result_id: str, status: str) -> None:
    """The device's review_ack, through the ingester's own batch writer."""
    ack = {
        "schema": "edgescreen.review-ack/1",
        "review_id": review_id_of(engine, result_id),
        "result_id": result_id,
        "status": status,
    }
    with engine.begin() as connection:
        topic = f"edgescreen/v1/{site}/{device}/review_ack"
        incoming = Incoming(topic, json.dumps(ack).encode(), datetime.now(UTC))
        store_batch(connection, [incoming], devices.active_sites(connection))


def test_a_verdict_the_device_does_not_hold_is_listed_until_a_coordinator_passes_it_on(engine: Engine) -> None:
    [lost, kept] = add_results(engine, "cam-01", "site-a", [0.9, 0.8], payload={"eye": "L"})
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
    read(coordinator, lost)
    read(coordinator, kept)
    answer(engine, "site-a", "cam-01", lost, "unknown_result")  # restored from a backup older than it
    answer(engine, "site-a", "cam-01", kept, "stored")
    worklist = coordinator.get("/").text
    assert "1 verdict has not reached a nurse" in worklist
    dashboard = coordinator.get("/dashboard").text
    assert (
        lost[:8] in dashboard
        and kept[:8] not in dashboard
        and "does not hold this result (erased on the patient" in dashboard
    )
    assert (
        "refer, urgent" in dashboard and 'data-test="photographed">left eye<' in dashboard
    )  # the eye in words, as on the result page
    assert "it will not reach the nurse" in coordinator.get(f"/results/{lost}/delivery").text

    reviewer = signed_in_client(engine, station(), "ana", "reviewer")
    assert "not reached a nurse" not in reviewer.get("/").text  # the worklist banner is the coordinators'
    handled = f"/undelivered/{review_id_of(engine, lost)}/handled"
    assert reviewer.post(handled, data={"csrf": csrf_of(reviewer)}).status_code == 403
    assert coordinator.post(handled, data={"csrf": csrf_of(coordinator)}).status_code == 303
    assert lost[:8] not in coordinator.get("/dashboard").text
    assert "not reached a nurse" not in coordinator.get("/").text
    assert coordinator.post(handled, data={"csrf": csrf_of(coordinator)}).status_code == 404  # once
    with engine.connect() as connection:
        [event] = connection.execute(select(audit.c.details).where(audit.c.kind == "undelivered_handled")).scalars()
    assert json.loads(event) == {
        "review": review_id_of(engine, lost),
        "result": lost,
        "why": "the device does not hold this result (erased on the patient's request, restored from an older "
        "backup, or replaced)",
        "by": "cleo",
    }


def test_two_coordinators_passing_on_one_verdict_at_once_handle_it_once(engine: Engine) -> None:
    """Two coordinators mark one undelivered verdict handled at the same moment. Each listed it as
    undelivered, then marked it: the second's mark, committed while the first was between the two,
    was overwritten by the first's, and the audit log said twice that it was passed on, by each. Held
    back at the database driver as it marks it, the first lets the second run: one of them handles it,
    the other is told it is not undelivered (any more), as a second click is."""
    [lost] = add_results(engine, "cam-01", "site-a", [0.9])
    read(signed_in_client(engine, station(), "root", "admin"), lost)
    answer(engine, "site-a", "cam-01", lost, "unknown_result")
    review_id, alert_h = review_id_of(engine, lost), station().dashboard.undelivered_alert_h
    coordinators = {}
    for name in ("cleo", "dora"):
        accounts.add_user(engine, name, PASSWORD, "coordinator", by="test")
        coordinators[name] = accounts.sign_in(engine, name, PASSWORD, station().web)[1]
    handled: dict[str, bool] = {}

    def mark(name: str) -> None:
        try:
            undelivered.mark_handled(engine, review_id, alert_h, coordinators[name])
            handled[name] = True
        except undelivered.NotUndelivered:
            handled[name] = False

    held_thread, other = threading.get_ident(), threading.Thread(target=mark, args=("dora",))

    def hold_back(connection, cursor, statement: str, *_: object) -> None:
        if threading.get_ident() == held_thread and statement.startswith("UPDATE deliveries"):
            other.start()
            other.join(2)

    event.listen(engine, "before_cursor_execute", hold_back)
    try:
        mark("cleo")
    finally:
        event.remove(engine, "before_cursor_execute", hold_back)
    other.join(20)
    assert sorted(handled.values()) == [False, True], handled
    [by] = [name for name, done in handled.items() if done]
    with engine.connect() as connection:
        events = connection.execute(select(audit.c.details).where(audit.c.kind == "undelivered_handled")).scalars()
        assert [json.loads(details)["by"] for details in events] == [by]
        assert connection.execute(select(deliveries.c.handled_by)).scalar_one() == by


def test_a_verdict_unacknowledged_past_the_alert_is_listed_and_a_recent_one_is_not(engine: Engine) -> None:
    [old, recent] = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
    read(coordinator, old)
    read(coordinator, recent)
    with engine.begin() as connection:
        queued = datetime.now(UTC) - timedelta(hours=49)  # the default alert: 48 h
        connection.execute(
            update(deliveries).where(deliveries.c.result_id == old).values(updated_at=queued, state="sent")
        )
    dashboard = coordinator.get("/dashboard").text
    assert old[:8] in dashboard and "not acknowledged by the device in 49 h" in dashboard
    assert recent[:8] not in dashboard


def test_a_coordinator_limited_to_a_site_sees_and_handles_only_that_sites_undelivered_verdicts(engine: Engine) -> None:
    [ours] = add_results(engine, "cam-01", "site-a", [0.9])
    [theirs] = add_results(engine, "cam-02", "site-b", [0.9])
    admin = signed_in_client(engine, station(), "root", "admin")
    read(admin, ours)
    read(admin, theirs)
    answer(engine, "site-a", "cam-01", ours, "unknown_result")
    answer(engine, "site-b", "cam-02", theirs, "unknown_result")
    cleo = signed_in_client(engine, station(), "cleo", "coordinator", sites=frozenset({"site-a"}))
    dashboard = cleo.get("/dashboard").text
    assert ours[:8] in dashboard and theirs[:8] not in dashboard
    refused = cleo.post(f"/undelivered/{review_id_of(engine, theirs)}/handled", data={"csrf": csrf_of(cleo)})
    assert refused.status_code == 404
    assert theirs[:8] in admin.get("/dashboard").text


def test_a_retired_device_is_sent_no_verdict_and_its_verdicts_are_listed(tmp_path, engine: Engine) -> None:
    """A lost or stolen device's broker session is no place for a patient's verdict."""
    with running_station(tmp_path, engine) as running:
        [retired] = add_results(engine, "cam-01", "site-a", [0.9])
        [active] = add_results(engine, "cam-02", "site-a", [0.9])
        devices.retire(engine, "cam-01", by="test")
        coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
        read(coordinator, retired)
        read(coordinator, active)
        tap = Tap(running.broker.port, "edgescreen/v1/site-a/+/review")
        running.at_the_end(tap.close)
        running.start_ingester()
        # Two retry periods, counted by the active device's verdict, sent again at each (it is never
        # acknowledged here): each round would have sent the retired device's first, read first.
        wait_until(lambda: len(tap.on("cam-02/review")) >= 3, 30, "the active device's verdict sent thrice")
        assert tap.on("cam-01/review") == []
        dashboard = coordinator.get("/dashboard").text
        assert (
            retired[:8] in dashboard
            and "the device is retired: nothing more is sent to it" in dashboard
            and active[:8] not in dashboard
        )


def test_a_french_page_shows_no_code_for_a_measure_an_operating_point_or_a_body_site(engine: Engine) -> None:
    """The French result page said "netteté"'s row as "sharpness" and its operating point "screening",
    and the dashboard's undelivered verdicts said the body site "upper limb": English codes."""
    card = read_card(MODELS_DIR / "melanoma" / "card.json")
    quality = {"verdict": "good", "reasons": [], "measures": {"sharpness": 0.9, "lesion_fraction": 0.3}}
    skin = {
        "modality": "dermoscopy",
        "eye": None,
        "body_site": "upper_limb",
        "quality": quality,
        "model": {"id": card.id, "version": card.version, "sha256": card.sha256},
        "threshold": card.operating_point("screening").threshold,
    }
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], payload=skin)
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
    read(coordinator, result_id, {"verdict": "refer", "urgency": "urgent", "diagnosis": "melanoma"})
    answer(engine, "site-a", "cam-01", result_id, "unknown_result")
    coordinator.cookies.set("review_language", "fr")
    page = coordinator.get(f"/results/{result_id}").text
    assert "netteté" in page and "dépistage (haute sensibilité)" in page and "membre supérieur" in page
    dashboard = coordinator.get("/dashboard").text
    assert 'data-test="photographed">membre supérieur<' in dashboard
    for shown in (page, dashboard):
        assert not re.search(r"\b(sharpness|lesion[ _]fraction|screening|upper[ _]limb)\b", shown)


def test_the_dashboard_says_where_each_photo_was_taken_in_the_worklists_words(engine: Engine) -> None:
    """The undelivered verdicts' eye or body site is the worklist's (``describe.photographed``, from the
    results' columns): a fundus photo without its eye said nothing there, and "not recorded" in the list."""
    skin = {"modality": "dermoscopy", "eye": None}
    [left, unsaid_eye] = add_results(engine, "cam-01", "site-a", [0.9, 0.8], payload={"eye": None})
    [arm, unsaid_site] = add_results(engine, "cam-02", "site-a", [0.9, 0.8], payload=skin | {"body_site": None})
    with engine.begin() as connection:  # the left eye and the arm as the columns hold them
        connection.execute(update(results).where(results.c.result_id == left).values(eye="L"))
        connection.execute(update(results).where(results.c.result_id == arm).values(body_site="upper_limb"))
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
    melanoma = {"verdict": "refer", "urgency": "urgent", "diagnosis": "melanoma"}
    for result_id, device, form in (
        (left, "cam-01", URGENT),
        (unsaid_eye, "cam-01", URGENT),
        (arm, "cam-02", melanoma),
        (unsaid_site, "cam-02", melanoma),
    ):
        read(coordinator, result_id, form)
        answer(engine, "site-a", device, result_id, "unknown_result")

    def said(page: str) -> dict[str, str]:
        rows = re.findall(r'href="/results/([0-9a-f]{32})".*?data-test="photographed">([^<]*)<', page, re.DOTALL)
        return dict(rows)

    english = said(coordinator.get("/dashboard").text)
    assert english == {left: "left eye", unsaid_eye: "not recorded", arm: "upper limb", unsaid_site: "not recorded"}
    coordinator.cookies.set("review_language", "fr")
    french = said(coordinator.get("/dashboard").text)
    assert french == {
        left: "œil gauche",
        unsaid_eye: "non renseigné",
        arm: "membre supérieur",
        unsaid_site: "non renseigné",
    }
