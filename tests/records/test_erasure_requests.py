"""The erasure queues the station's request in its own transaction: the ids of the patient's results
the sync worker handed to the broker (acknowledged or in flight), under the device they were sent as;
the unsent ones are withdrawn and named nowhere."""

from __future__ import annotations

import sqlite3

import pytest

from edgescreen_wire.erasure import ERASURE_SCHEMA, erasure_documents, parse_erasure
from firmware_app.health.checks import Level, check_backlog
from firmware_app.messages import message
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records_cli import sync_status
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo


@pytest.fixture(scope="module")
def photo(retina_rgb):
    return small_photo(retina_rgb)


def patient_screenings(store, photo, reference: str, count: int) -> list[str]:
    return [
        record_one(store, photo, sample_record(ScreeningContext(patient_ref=reference))).result_id for _ in range(count)
    ]


def queued(store) -> list[bytes]:
    rows = store.records.connection.execute("SELECT payload FROM erasure_outbox ORDER BY seq")
    return [bytes(payload) for (payload,) in rows]


def test_the_erasure_queues_a_request_naming_only_the_results_handed_to_the_broker(tmp_path, photo):
    store = open_store(tmp_path)
    acknowledged, in_flight, unsent = patient_screenings(store, photo, "MRN-5", 3)
    outbox = Outbox(store.records)
    claimed = {row.result_id: row.seq for row in outbox.claim(0, 10)}
    outbox.mark_sent([claimed[acknowledged]])
    outbox.release([claimed[unsent]])  # in_flight stays claimed, as the worker holds it while publishing

    erasure = store.erase_patient("MRN-5")
    assert erasure.unsent_withdrawn == 1 and erasure.at_the_station == tuple(sorted([acknowledged, in_flight]))
    [document] = queued(store)
    request = parse_erasure(document)
    assert (request.device_id, sorted(request.result_ids)) == (DEVICE.id, sorted([acknowledged, in_flight]))
    assert document.startswith(b'{"schema":"' + ERASURE_SCHEMA.encode())
    assert unsent.encode() not in document
    assert [row.seq for row in Outbox(store.records).pending_erasures(0, 10)] == [1]


def test_a_patient_whose_results_never_left_asks_nothing_of_the_station(tmp_path, photo):
    store = open_store(tmp_path)
    patient_screenings(store, photo, "MRN-6", 2)
    erasure = store.erase_patient("MRN-6")
    assert erasure.unsent_withdrawn == 2 and queued(store) == []


def test_the_request_and_the_erasure_are_one_transaction(tmp_path, photo):
    """A request that cannot be queued leaves the patient's records whole: never an erasure the station
    is not asked to follow, which nobody could redo (the audit names no patient)."""
    store = open_store(tmp_path)
    patient_screenings(store, photo, "MRN-7", 2)
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    db = store.records.connection
    db.execute("CREATE TEMP TRIGGER no_request BEFORE INSERT ON erasure_outbox BEGIN SELECT RAISE(ABORT, 'full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        store.erase_patient("MRN-7")
    assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 2
    db.execute("DROP TRIGGER no_request")
    store.erase_patient("MRN-7")
    assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0 and len(queued(store)) == 1


def test_sync_status_and_doctor_count_the_requests_the_broker_has_not_taken(tmp_path, photo):
    """A device whose results all left says backlog 0 while its erasure request waits for the broker:
    the decommissioning check ("backlog 0", then ``wipe``) would delete the request, and the station
    would keep the erased patient's results. ``doctor`` names the wipe that writes it out for the
    station's administrator, for a device that can never reach its station again."""
    store = open_store(tmp_path)
    patient_screenings(store, photo, "MRN-8", 2)
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    assert sync_status(store.records)["erasure_requests"] == 0
    store.erase_patient("MRN-8")

    status = sync_status(store.records)
    assert (status["backlog"], status["erasure_requests"]) == (0, 1)
    check = check_backlog(status, 100, True)
    assert (check.level, check.message_key) == (Level.AMBER, "health.backlog.erasures")
    for language in ("en", "fr"):
        said = message(check.message_key, language).format(**check.values)
        assert "1" in said and "edgescreen wipe --unsent-erasures" in said
    [row] = outbox.pending_erasures(0, 10)
    outbox.erasure_delivered(row.seq)
    status = sync_status(store.records)
    assert status["erasure_requests"] == 0 and check_backlog(status, 100, True).level is Level.GREEN


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_request_withheld_as_altered_is_counted_apart_and_sends_for_the_technician(tmp_path, photo, language):
    """A request edited on the card to name another result is never sent (the worker withholds it): it
    waits for no network, so ``doctor`` no longer says to check it; it says it was withheld, amber as
    every line that sends for the technician (the station keeps the patient's results until its
    administrator erases them), and ``sync status`` counts it apart from those waiting to be sent."""
    store = open_store(tmp_path)
    patient_screenings(store, photo, "MRN-9", 1)
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-9")
    [row] = outbox.pending_erasures(0, 10)
    altered = parse_erasure(row.payload).device_id, ("0" * 32,)
    store.records.connection.execute(
        "UPDATE erasure_outbox SET payload = ? WHERE seq = ?", (erasure_documents(*altered)[0], row.seq)
    )

    status = sync_status(store.records)
    assert (status["erasure_requests"], status["erasures_withheld"]) == (0, 1)
    check = check_backlog(status, 100, True)
    assert (check.level, check.message_key) == (Level.AMBER, "health.backlog.erasures_withheld")
    said = message(check.message_key, language).format(**check.values)
    assert ": 1" in said.replace("\u00a0", " ") and "audit list --kind erasure" in said


def backlog_steps(records) -> int:
    """What reading the backlog costs, in the steps of SQLite's virtual machine it takes."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # go on

    records.connection.set_progress_handler(count, 1)
    try:
        Outbox(records).backlog()
    finally:
        records.connection.set_progress_handler(None, 0)
    return steps[0]


def test_reading_the_backlog_with_a_request_queued_does_not_read_the_whole_audit(tmp_path, photo):
    """A request queued is checked against the erasures' audit events (``Outbox.erased_at_the_station``),
    and the audit holds every event of the device's life: each read of the backlog (the nurse's session,
    the hourly log line, ``sync status``, ``doctor``) went through all of it while a request waited."""
    store = open_store(tmp_path)
    patient_screenings(store, photo, "MRN-10", 1)
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-10")
    short = backlog_steps(store.records)
    with store.records.connection as db:  # years of screenings' events (copies of the erasure's kind apart)
        db.execute(
            """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
            INSERT INTO audit (at, kind, details, prev_hash, hash)
            SELECT at, kind, details, prev_hash, hash FROM n, (SELECT * FROM audit WHERE kind = 'screening' LIMIT 1)"""
        )
    assert Outbox(store.records).backlog().erasure_requests == 1
    assert backlog_steps(store.records) < 2 * short, short  # before: 15,073 steps against 73
