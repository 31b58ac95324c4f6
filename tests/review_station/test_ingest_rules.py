"""What the ingester stores, refuses and notes, message by message (one batch, real databases)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, event, insert, select

from edgescreen_wire.erasure import erasure_documents
from edgescreen_wire.result import RESULT_V2
from edgescreen_wire.topics import ERASURE, STATUS, device_topic
from review_station import audit, devices
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import deliveries, quarantine, results
from review_station.storage.tables import devices as device_table
from tests.review_station.kit import batch_auditing_then_noting_its_device, counts, result_bytes, result_topic

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def ingest(engine: Engine, *messages: tuple[str, bytes]):
    with engine.begin() as connection:
        registry = devices.active_sites(connection)
        return store_batch(connection, [Incoming(topic, payload, NOW) for topic, payload in messages], registry)


def enrolled(engine: Engine) -> Engine:
    devices.enrol(engine, "cam-01", "site-a", by="test")
    devices.enrol(engine, "cam-02", "site-b", by="test")
    return engine


def reasons(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(quarantine.c.topic, quarantine.c.reason))]


def test_a_valid_result_is_stored_once_however_often_it_comes(engine: Engine) -> None:
    enrolled(engine)
    result_id, payload = result_bytes("cam-01", "site-a")
    topic = result_topic("site-a", "cam-01")
    first = ingest(engine, (topic, payload), (topic, payload))
    again = ingest(engine, (topic, payload))
    assert (first.stored, first.duplicates, again.stored, again.duplicates) == (1, 1, 0, 1)
    assert counts(engine) == (1, 1, 0)
    with engine.connect() as connection:
        row = connection.execute(select(results).where(results.c.result_id == result_id)).one()
    assert (row.device_id, row.site_id, row.triage, row.state) == ("cam-01", "site-a", "refer", "awaiting_review")
    assert row.payload == json.loads(payload) and row.received_at == NOW


def test_both_result_versions_are_stored_and_v2_fills_its_columns(engine: Engine) -> None:
    enrolled(engine)
    topic = result_topic("site-a", "cam-01")
    v1_id, v1 = result_bytes("cam-01", "site-a")
    lesion = {"modality": "dermoscopy", "eye": None, "body_site": "trunk", "lesion_diameter_mm": 7.5}
    v2_id, v2 = result_bytes("cam-01", "site-a", schema=RESULT_V2, payload=lesion | {"skin_tone": "brown"})
    assert (ingest(engine, (topic, v1), (topic, v2)).stored, counts(engine)) == (2, (2, 2, 0))
    columns = (results.c.schema, results.c.lesion_diameter_mm, results.c.skin_tone, results.c.operating_point)
    with engine.connect() as connection:
        stored = {row[0]: tuple(row[1:]) for row in connection.execute(select(results.c.result_id, *columns))}
    assert stored[v1_id] == ("edgescreen.result/1", None, None, None)
    assert stored[v2_id] == ("edgescreen.result/2", 7.5, "brown", "screening")


def test_malformed_payloads_go_to_quarantine_with_reason_and_topic(engine: Engine) -> None:
    enrolled(engine)
    topic = result_topic("site-a", "cam-01")
    _, good = result_bytes("cam-01", "site-a")
    with_name = json.loads(good) | {"patient": "Jane Doe"}
    # A number of 400 digits (JSON allows it) overflowed math.isfinite and stopped the ingester.
    huge_score = json.dumps(json.loads(good) | {"score": int("9" * 400)}).encode()
    outcome = ingest(
        engine,
        (topic, b"\xff\xfe not json"),
        (topic, b"[" * 100_000),
        (topic, json.dumps(with_name).encode()),
        (topic, b"x" * 70_000),
        (topic, huge_score),
        (topic, good),
    )
    assert (outcome.stored, outcome.quarantined) == (1, 5)
    found = reasons(engine)
    assert {t for t, _ in found} == {topic}
    text = " | ".join(r for _, r in found)
    assert "not UTF-8 JSON" in text and "'patient' is not allowed" in text and "more than 65536" in text
    with engine.connect() as connection:
        heads = [len(h) for (h,) in connection.execute(select(quarantine.c.payload))]
    assert max(heads) <= 1024


def test_a_result_with_the_other_modality_s_context_is_quarantined(engine: Engine) -> None:
    """A fundus result of a body site, or a dermoscopy result of an eye, was stored as a photo of both."""
    enrolled(engine)
    topic = result_topic("site-a", "cam-01")
    fundus = json.loads(result_bytes("cam-01", "site-a")[1]) | {"eye": None, "body_site": "trunk"}
    lesion = {"modality": "dermoscopy", "eye": None, "body_site": "trunk"}
    skin = json.loads(result_bytes("cam-01", "site-a", schema=RESULT_V2, payload=lesion)[1]) | {"eye": "L"}
    outcome = ingest(engine, *((topic, json.dumps(document).encode()) for document in (fundus, skin)))
    assert (outcome.stored, outcome.quarantined, counts(engine)[0]) == (0, 2, 0)
    text = " | ".join(r for _, r in reasons(engine))
    assert "body_site: only a dermoscopy result" in text and "eye: only a fundus result" in text


def test_a_device_cannot_file_as_another_nor_from_a_site_it_is_not_enrolled_at(engine: Engine) -> None:
    enrolled(engine)
    _, as_cam01 = result_bytes("cam-01", "site-a")
    _, cam02_at_a = result_bytes("cam-02", "site-a")
    _, unknown = result_bytes("cam-99", "site-a")
    outcome = ingest(
        engine,
        (result_topic("site-b", "cam-02"), as_cam01),  # cam-02's topic, cam-01's payload
        (result_topic("site-a", "cam-02"), cam02_at_a),  # cam-02 enrolled at site-b (the case)
        (result_topic("site-a", "cam-99"), unknown),
    )
    assert (outcome.stored, outcome.quarantined) == (0, 3)
    text = " | ".join(r for _, r in reasons(engine))
    assert "a device may only file its own results" in text
    assert "cam-02 is enrolled at site-b, not site-a" in text
    assert "cam-99 is not enrolled" in text


def test_a_retired_device_is_refused_but_its_earlier_results_stay(engine: Engine) -> None:
    enrolled(engine)
    topic = result_topic("site-a", "cam-01")
    ingest(engine, (topic, result_bytes("cam-01", "site-a")[1]))
    devices.retire(engine, "cam-01", by="test")
    outcome = ingest(engine, (topic, result_bytes("cam-01", "site-a")[1]))
    assert outcome.quarantined == 1 and counts(engine)[:2] == (1, 1)


def test_a_retirement_does_not_deadlock_with_an_ingest_batch_that_audits_then_notes_its_device(engine: Engine) -> None:
    """An ingest batch holding the device's erasure request audits it (the audit's lock), then notes
    the device's last message (its row). A retirement that updated the device's row, then waited for
    the audit's lock to audit itself, closed a cycle: PostgreSQL broke it by failing one of the two
    (DeadlockDetected: the administrator's retirement, or the batch rolled back). The retirement waits
    for the batch instead, then retires the device."""
    enrolled(engine)
    with batch_auditing_then_noting_its_device(engine) as committed:
        devices.retire(engine, "cam-01", by="test")
    with engine.connect() as connection:
        retired = connection.execute(select(device_table.c.retired_at).where(device_table.c.device_id == "cam-01"))
        assert (committed.is_set(), retired.scalar_one() is not None) == (True, True)


def test_a_retirement_does_not_deadlock_with_an_ingest_batch_that_notes_a_status_then_erases(engine: Engine) -> None:
    """A batch noting its device's status, then carrying out its erasure request (audited), took the
    device's row before the audit's lock; a retirement takes them the other way round (the batch's
    order for its last messages). Held back as it reaches the audit's lock, the batch lets the
    retirement run: both commit, neither fails with DeadlockDetected. SQLite: the one writer."""
    enrolled(engine)
    result_id, payload = result_bytes("cam-01", "site-a")
    ingest(engine, (result_topic("site-a", "cam-01"), payload))
    [erasure] = erasure_documents("cam-01", [result_id])
    messages = [
        (device_topic("site-a", "cam-01", STATUS), b"online"),
        (device_topic("site-a", "cam-01", ERASURE), erasure),
    ]
    batch_thread, retirement = (
        threading.get_ident(),
        threading.Thread(target=devices.retire, args=(engine, "cam-01", "test")),
    )

    def hold_back(connection, cursor, statement, parameters, context, executemany):
        reaching = statement.startswith("INSERT INTO audit") or (
            isinstance(parameters, dict) and audit.AUDIT_LOCK in parameters.values()
        )
        if threading.get_ident() == batch_thread and reaching and retirement.ident is None:
            retirement.start()
            retirement.join(2)

    event.listen(engine, "before_cursor_execute", hold_back)
    try:
        outcome = ingest(engine, *messages)
    finally:
        event.remove(engine, "before_cursor_execute", hold_back)
    retirement.join(20)
    with engine.connect() as connection:
        row = connection.execute(select(device_table).where(device_table.c.device_id == "cam-01")).one()
    assert (outcome.erasures, outcome.statuses, row.status, row.retired_at is not None) == (1, 1, "online", True)


def test_status_and_last_seen_come_from_the_retained_status_topic(engine: Engine) -> None:
    enrolled(engine)
    ingest(engine, ("edgescreen/v1/site-a/cam-01/status", b"online"), ("edgescreen/v1/site-a/cam-02/status", b"x"))
    with engine.connect() as connection:
        rows = {r.device_id: r for r in connection.execute(select(device_table))}
    assert (rows["cam-01"].status, rows["cam-01"].last_seen_at) == ("online", NOW)
    assert rows["cam-02"].status is None  # cam-02 is at site-b: a status under site-a is not its own


def test_a_result_id_sent_again_with_other_content_is_quarantined_and_a_mere_copy_is_a_duplicate(
    engine: Engine,
) -> None:
    enrolled(engine)
    result_id, payload = result_bytes("cam-01", "site-a")
    topic = result_topic("site-a", "cam-01")
    document = json.loads(payload)
    other = json.dumps(document | {"eye": "R"}).encode()  # valid, the same id, another eye
    same = json.dumps(document, indent=2, sort_keys=True).encode()  # other bytes, the same document
    first = ingest(engine, (topic, payload), (topic, other), (topic, same))  # within one batch
    later = ingest(engine, (topic, other), (topic, same))  # and against the stored result
    assert (first.stored, first.duplicates, first.quarantined) == (1, 1, 1)
    assert (later.stored, later.duplicates, later.quarantined) == (0, 1, 1)
    assert counts(engine) == (1, 1, 1)  # the other content twice is one message, kept once
    expected = f"result {result_id} from device cam-01 was received before with another content: the first is kept"
    assert reasons(engine) == [(topic, expected)]
    with engine.connect() as connection:
        assert connection.execute(select(results.c.payload)).scalar_one() == document
        assert connection.execute(select(quarantine.c.payload)).scalars().all() == [other]


def test_a_review_ack_settles_only_the_delivery_of_that_device(engine: Engine) -> None:
    enrolled(engine)
    result_id, payload = result_bytes("cam-01", "site-a")
    ingest(engine, (result_topic("site-a", "cam-01"), payload))
    with engine.begin() as connection:
        connection.execute(
            insert(deliveries).values(
                review_id="rev-1",
                result_id=result_id,
                topic="edgescreen/v1/site-a/cam-01/review",
                payload=b"{}",
                state="sent",
                attempts=1,
                updated_at=NOW,
                reviewed_at=NOW,
            )
        )
    ack = {"schema": "edgescreen.review-ack/1", "review_id": "rev-1", "result_id": result_id, "status": "stored"}
    ingest(engine, ("edgescreen/v1/site-b/cam-02/review_ack", json.dumps(ack).encode()))
    with engine.connect() as connection:
        assert connection.execute(select(deliveries.c.state)).scalar_one() == "sent"
    ingest(engine, ("edgescreen/v1/site-a/cam-01/review_ack", json.dumps(ack).encode()))
    with engine.connect() as connection:
        assert connection.execute(select(deliveries.c.state)).scalar_one() == "stored"
    # Settled once: a repeated ack does not move it (nor make an older verdict look like the last one sent).
    repeat = ack | {"status": "duplicate"}
    ingest(engine, ("edgescreen/v1/site-a/cam-01/review_ack", json.dumps(repeat).encode()))
    with engine.connect() as connection:
        assert connection.execute(select(deliveries.c.state, deliveries.c.updated_at)).one() == ("stored", NOW)
