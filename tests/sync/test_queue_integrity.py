"""Issue 8, points 6 and 7 against a real broker: an altered payload is never published, and an
erasure while the worker drains reports only what it really withdrew."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import firmware_app.health.heartbeat as heartbeat_module
import firmware_app.sync.worker as worker_module
from firmware_app.config import load_config
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.records import database
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.worklist import entries_of
from firmware_app.sync.worker import CLAIM_ROWS, SyncWorker
from tests.mqtt_broker import Tap, free_port, wait_until
from tests.records.kit import open_store, record_one, sample_record, small_photo, write_config
from tests.sync.kit import BackgroundWorker, drain, most_overdue_while_locked
from tests.test_cli import edgescreen

# The withholding's write refused in SQLite's words for a card with no room (a trigger stands in for the card).
FULL = "SELECT RAISE(ABORT, 'database or disk is full')"


def altered(directory: Path, result_ids: list[str]) -> None:
    """The payloads of ``result_ids`` altered on the card: a flipped byte that still parses (score 0.1 -> 0.9)."""
    with sqlite3.connect(directory / "records.sqlite3") as db:
        for result_id in result_ids:
            db.execute("UPDATE outbox SET payload = replace(payload, '0.1', '0.9') WHERE result_id = ?", (result_id,))
    db.close()


def altered_on_a_full_card(directory: Path, result_ids: list[str]) -> None:
    """The payloads of ``result_ids`` altered, and the card left with no room for their withholding."""
    altered(directory, result_ids)
    with sqlite3.connect(directory / "records.sqlite3") as db:
        db.execute(f"CREATE TRIGGER full BEFORE UPDATE OF withheld ON outbox BEGIN {FULL}; END")
    db.close()


def withheld_once_there_is_room(directory: Path, store, rows: int = 1) -> None:
    """Room on the card again: the ``rows`` altered rows left are withheld at the next maintenance."""
    with sqlite3.connect(directory / "records.sqlite3") as db:
        db.execute("DROP TRIGGER full")
    db.close()
    wait_until(lambda: Outbox(store.records).backlog().withheld == rows, 10, "withheld at the maintenance")


def test_altered_payloads_are_withheld_and_the_rest_delivered(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    ids = [record_one(store, small_photo(retina_rgb), sample_record(score=0.1)).result_id for _ in range(4)]
    db = sqlite3.connect(tmp_path / "records.sqlite3", isolation_level=None)
    # A flipped byte that still parses (score 0.1 -> 0.9, verdict unchanged), and an invalid verdict.
    db.execute("UPDATE outbox SET payload = replace(payload, '0.1', '0.9') WHERE result_id = ?", (ids[1],))
    db.execute("UPDATE outbox SET payload = replace(payload, 'no_refer', 'xo_refer') WHERE result_id = ?", (ids[2],))
    db.close()
    tap = Tap(broker.port)
    drain(config)
    wait_until(lambda: len(tap.on("/result")) >= 2, 10, "the two intact results")
    published = [json.loads(p) for p in tap.on("/result")]
    assert [p["result_id"] for p in published] == [ids[0], ids[3]]  # on main: all four
    assert all(p["triage"] == "no_refer" for p in published)
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert status["withheld"] == 2 and status["backlog"] == 0
    events = [json.loads(r[0]) for r in store.records.connection.execute("SELECT details FROM audit WHERE kind='sync'")]
    assert {e["withheld"] for e in events if "withheld" in e} == {ids[1], ids[2]}
    # Today reads the worker's mark that sync status counts: the two never to be sent, not "queued".
    states = {entry.result_id: entry.sync for entry in entries_of(store.records, ids)}
    assert [states[result_id] for result_id in ids] == ["acknowledged", "withheld", "withheld", "acknowledged"]
    tap.close()


def test_a_payload_altered_while_the_broker_is_out_of_reach_is_counted_as_never_sent(tmp_path, retina_rgb):
    """Offline, the worker never came to publish a payload altered on the card: ``sync status`` and the
    nurse's top bar (the same ``sync_status``) counted it as waiting to send, for days on a campaign,
    while Today said it never would be. The worker checks the queue while it waits for the broker."""
    config = write_config(tmp_path, free_port())  # no broker on that port
    store = open_store(tmp_path)
    ids = [record_one(store, small_photo(retina_rgb), sample_record(score=0.1)).result_id for _ in range(3)]

    def status() -> dict:
        return json.loads(edgescreen("sync", "status", "--json", config=config).stdout)

    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: Outbox(store.records).state().get("connection") == "disconnected", 10, "a failed try")
        altered(tmp_path, [ids[1]])  # an SQL edit on the card, offline
        wait_until(lambda: Outbox(store.records).backlog().withheld == 1, 10, "the altered payload withheld")
        report = status()
        worker.check_alive()
    finally:
        worker.stop()
    assert (report["backlog"], report["withheld"], report["connection"]) == (2, 1, "disconnected")  # on main: 3, 0
    states = {entry.result_id: entry.sync for entry in entries_of(store.records, ids)}
    assert [states[result_id] for result_id in ids] == ["queued", "withheld", "queued"]


def test_a_payload_the_full_card_refuses_to_withhold_is_logged_once_and_withheld_at_the_maintenance(
    tmp_path, retina_rgb, caplog, monkeypatch
):
    """Offline, the queue is checked round and round as the worker waits; on a full disk the altered
    row's withholding fails, and it was checked and logged again at each round: the same
    ``sync.payload_withheld`` error every two seconds, written to that full disk. It is logged once
    and its withholding tried again with the hourly maintenance (made a few seconds here).

    The rounds that come to the row again are seen by the rows around it, altered after it was found:
    the row before it is found by a round begun since (the queue is checked in order), and then the
    row after it by that round or a later one, which came past the row in between."""
    monkeypatch.setattr(worker_module, "MAINTENANCE_SECONDS", 4.0)
    config = write_config(tmp_path, free_port())  # no broker on that port
    store = open_store(tmp_path)
    ids = [record_one(store, small_photo(retina_rgb), sample_record(score=0.1)).result_id for _ in range(3)]
    altered_on_a_full_card(tmp_path, [ids[1]])

    def found() -> list[str]:
        """The result of each ``sync.payload_withheld`` line, in the order logged."""
        lines = [r.getMessage() for r in caplog.records if "sync.payload_withheld" in r.getMessage()]
        return [next(result_id for result_id in ids if result_id in line) for line in lines]

    caplog.set_level(logging.INFO)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: found(), 10, "the altered payload found")
        for neighbour in (ids[0], ids[2]):
            altered(tmp_path, [neighbour])
            wait_until(lambda: neighbour in found(), 20, "a round of the queue past the row")  # noqa: B023
        assert found().count(ids[1]) == 1 and Outbox(store.records).backlog().withheld == 0  # before: 1 a round
        withheld_once_there_is_room(tmp_path, store, rows=3)
        worker.check_alive()
    finally:
        worker.stop()
    assert found() == [ids[1], ids[0], ids[2]]  # each altered row logged once


def test_a_sweep_waiting_on_another_connections_write_lock_keeps_its_heartbeat_promise(
    tmp_path, retina_rgb, caplog, monkeypatch
):
    """Offline, the worker promises its heartbeat the backoff's wait, and sweeps the queue meanwhile;
    each altered row's withholding waits for the write lock, up to SQLite's busy timeout. Another
    connection holding the lock, a batch of them ran one busy timeout each past the promise (on the
    device 30 s each, against 30 s of grace: the watchdog restarted the app). Timeouts scaled down here
    to half a second of busy wait and as much grace; the lock held by a second real SQLite connection."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.5)
    monkeypatch.setattr(heartbeat_module, "GRACE_S", 0.5)
    config = write_config(tmp_path, free_port())  # no broker on that port; backoffs of at most 0.5 s
    store = open_store(tmp_path)
    ids = [record_one(store, small_photo(retina_rgb), sample_record(score=0.1)).result_id for _ in range(4)]

    def logged() -> int:
        return sum("sync.payload_withheld" in r.getMessage() for r in caplog.records)

    caplog.set_level(logging.INFO)
    loops: list[Heartbeat] = []
    worker = BackgroundWorker(config, loops)
    try:
        wait_until(lambda: Outbox(store.records).state().get("connection") == "disconnected", 10, "a failed try")
        all_four_altered = "UPDATE outbox SET payload = replace(payload, '0.1', '0.9')"
        overdue = most_overdue_while_locked(tmp_path / "records.sqlite3", 6.0, loops[0], first=all_four_altered)
        wait_until(lambda: logged() == len(ids), 10, "every altered row found")
        worker.check_alive()
    finally:
        worker.stop()
    assert Outbox(store.records).backlog().withheld < len(ids)  # some withholdings waited, and were refused
    assert overdue == 0.0  # before: about 1.8 s past the promise


def test_a_row_erased_while_its_withholding_waits_for_room_is_not_audited_as_withheld(
    tmp_path, retina_rgb, caplog, monkeypatch
):
    """A withholding the full card refused waits for the hourly maintenance (made a few seconds here);
    the patient erased meanwhile, the retry still wrote a ``withheld`` event naming the erased result,
    as if the worker had kept it back after the erasure. Only the other altered row, still in the
    queue, is withheld and audited so; the erasure keeps its own event."""
    monkeypatch.setattr(worker_module, "MAINTENANCE_SECONDS", 4.0)
    config = write_config(tmp_path, free_port())  # no broker on that port
    store = open_store(tmp_path)
    patients = ["MRN-1", "MRN-2", "MRN-3"]
    ids = [
        record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref=p), score=0.1)).result_id
        for p in patients
    ]
    altered_on_a_full_card(tmp_path, ids[:2])

    def logged() -> int:
        return sum("sync.payload_withheld" in r.getMessage() for r in caplog.records)

    caplog.set_level(logging.INFO)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: logged() == 2, 10, "both altered payloads found")
        erasure = store.erase_patient(patients[0])
        withheld_once_there_is_room(tmp_path, store)
        worker.check_alive()
    finally:
        worker.stop()
    assert erasure.results == 1 and erasure.unsent_withdrawn == 1
    audit = store.records.connection.execute("SELECT kind, details FROM audit WHERE kind IN ('sync', 'erasure')")
    events = [(kind, json.loads(details)) for kind, details in audit]
    assert [e["withheld"] for kind, e in events if "withheld" in e] == [ids[1]]  # before: ids[0] too
    assert [e["result_ids"] for kind, e in events if kind == "erasure"] == [[ids[0]]]


def test_erasure_while_the_worker_drains_reports_what_it_withdrew(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port, "inflight_window = 4\n")
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb, 32)
    ids = [
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-77", eye="L"))).result_id
        for _ in range(1500)
    ]
    tap = Tap(broker.port)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: len(tap.on("/result")) >= 20, 20, "the drain under way")
        erasure = store.erase_patient("MRN-77")
        drain_done = lambda: Outbox(store.records).backlog().unsent == 0  # noqa: E731
        wait_until(drain_done, 30, "the worker to finish what it had")
    finally:
        worker.stop()
    # Its goodbye ("offline") is the last thing the worker publishes: the broker hands the tap the
    # results before it, so what the broker took has all arrived once the goodbye has.
    wait_until(lambda: tap.on("/status")[-1:] == [b"offline"], 10, "the worker's goodbye, after its results")
    arrived = {json.loads(p)["result_id"] for p in tap.on("/result")}
    assert erasure.results == 1500 and erasure.unsent_withdrawn > 0
    # What was not withdrawn had already been sent, or handed to the broker: nothing more arrives.
    assert len(arrived) <= erasure.results - erasure.unsent_withdrawn  # on main: 182 more than reported
    assert arrived <= set(ids)
    tap.close()


def test_an_erasure_request_edited_to_name_another_patients_result_is_withheld(tmp_path, retina_rgb, broker, caplog):
    """The station erases what a request names on the device's word. A request row edited on the card
    to name another patient's result (sent, so held at the station) would have that patient erased
    there; it no longer matches what the erasure's audit event recorded, and is never published."""
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    ids = {
        reference: record_one(store, photo, sample_record(ScreeningContext(patient_ref=reference))).result_id
        for reference in ("MRN-1", "MRN-2", "MRN-3")
    }
    tap = Tap(broker.port)
    drain(config)
    wait_until(lambda: len(tap.on("/result")) == 3, 10, "the three results at the station")
    store.erase_patient("MRN-1")
    store.erase_patient("MRN-2")
    with sqlite3.connect(tmp_path / "records.sqlite3") as db:
        edited = "UPDATE erasure_outbox SET payload = replace(CAST(payload AS TEXT), ?, ?) WHERE instr(payload, ?)"
        assert db.execute(edited, (ids["MRN-2"], ids["MRN-3"], ids["MRN-2"])).rowcount == 1
    db.close()
    caplog.set_level(logging.ERROR, logger="edgescreen")
    drain(config)
    wait_until(lambda: len(tap.on("/erasure")) == 1, 10, "the honest request alone (before: the edited one too)")
    assert [json.loads(p)["result_ids"] for p in tap.on("/erasure")] == [[ids["MRN-1"]]]  # before: MRN-3's too
    assert "sync.erasure_withheld" in caplog.text and "field=result_ids" in caplog.text
    assert ids["MRN-3"] not in caplog.text
    tap.close()


def test_a_request_queued_after_a_batch_of_withheld_ones_is_sent_before_the_drain_ends(tmp_path, broker, retina_rgb):
    """``--until-drained`` read the first ``CLAIM_ROWS`` queued requests (and the queue's count apart):
    those all withheld as altered, it ended before the patient's request queued after them was sent."""
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-88")))
    config = write_config(tmp_path, broker.port)
    drain(config)
    db = store.records.connection
    db.executemany("INSERT INTO erasure_outbox (payload, queued_at) VALUES (?, '')", [(b"altered",)] * CLAIM_ROWS)
    store.erase_patient("MRN-88")
    station = Tap(broker.port, "edgescreen/v1/+/+/erasure")
    drain(config)
    wait_until(lambda: len(station.on("/erasure")) == 1, 5, "the patient's request at the broker")
    backlog = Outbox(store.records).backlog()
    assert (backlog.erasure_requests, backlog.erasures_withheld) == (0, CLAIM_ROWS)


def test_the_worker_reads_the_erasures_audit_events_once_a_batch_not_once_a_request(tmp_path, broker, retina_rgb):
    """The worker checked each queued request (``outbox.erasure_fault``) against the erasures' audit
    events read again for it, and the audit holds every event of the device's life, read whole for
    them: a batch of requests queued while offline read it a batch's number of times in one sweep."""
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-88")))
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    db = store.records.connection
    db.executemany("INSERT INTO erasure_outbox (payload, queued_at) VALUES (?, '')", [(b"altered",)] * 20)
    store.erase_patient("MRN-88")
    config = load_config(str(write_config(tmp_path, broker.port)))
    worker = SyncWorker(outbox, store, config.sync, config.device, timedelta(days=30))
    station = Tap(broker.port, "edgescreen/v1/+/+/erasure")
    reads: list[str] = []
    db.set_trace_callback(lambda statement: reads.append(statement) if "FROM audit" in statement else None)
    worker._send_erasures(station.client)  # the sweep: the 21 requests are one batch
    db.set_trace_callback(None)
    wait_until(lambda: len(station.on("/erasure")) == 1, 5, "the patient's request at the broker")
    station.close()
    assert len(reads) == 1, reads  # before: 21, one a request
    backlog = outbox.backlog()
    assert (backlog.erasure_requests, backlog.erasures_withheld) == (1, 20)
