"""The sync worker against a real mosquitto: order, acknowledgement, reviews, last will, status."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import replace
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest

from edgescreen_wire.topics import REVIEW, device_topic
from firmware_app.config import load_config
from firmware_app.health.checks import Level, check_backlog
from firmware_app.records.clock import BUILD_DATE
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import Review, ScreeningContext
from firmware_app.records.store import OutboxLimits
from firmware_app.records.worklist import entries_of
from firmware_app.sync.worker import SyncWorker
from tests.mqtt_broker import Broker, Tap, free_port, stop_network_loop, wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.sync.kit import BackgroundWorker, drain, edgescreen_process, review_acks
from tests.test_cli import edgescreen


@pytest.fixture(scope="module")
def photo(retina_rgb):
    return small_photo(retina_rgb)


def result_ids(payloads: list[bytes]) -> list[str]:
    return [json.loads(p)["result_id"] for p in payloads]


def test_with_no_broker_nothing_is_marked_sent_then_all_arrive_in_order(tmp_path, photo, caplog):
    caplog.set_level(logging.INFO)
    port = free_port()
    config = write_config(tmp_path, port)
    store = open_store(tmp_path)
    recorded = [record_one(store, photo).result_id for _ in range(50)]
    worker = BackgroundWorker(config)

    def attempts() -> int:  # the worker tries, backs off, tries again: no broker (counted, not given a second)
        return sum(record.getMessage().startswith("sync.disconnected") for record in caplog.records)

    wait_until(lambda: attempts() >= 2, 30, "two connection attempts without a broker")
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert status["connection"] in ("disconnected", "connecting") and status["backlog"] == 50
    worker.stop()
    assert Outbox(store.records).backlog().unsent == 50

    broker = Broker(tmp_path / "broker", port=port).start()
    try:
        tap = Tap(port)
        drain(config)
        wait_until(lambda: len(tap.on("/result")) >= 50, 10, "50 results")
        assert result_ids(tap.on("/result")) == recorded
        # The worker said it went offline before it disconnected; the tap, another client, hears it
        # a moment after the drain returns.
        wait_until(lambda: tap.on("/status")[-1:] == [b"offline"], 10, "the device's offline status")
        tap.close()
    finally:
        broker.stop()
    backlog = Outbox(store.records).backlog()
    assert (backlog.unsent, backlog.sent) == (0, 50)
    assert store.records.connection.execute("SELECT count(*) FROM screening WHERE synced_at IS NULL").fetchone()[0] == 0
    assert store.records.verify_audit().intact
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert status["backlog"] == 0 and status["last_success"] and status["connection"] == "stopped"


def test_results_the_full_outbox_dropped_are_told_apart_from_sent_and_warned_of_before(tmp_path, photo):
    """A campaign offline for days with ``drop_oldest``: the nurse is told before the outbox starts
    deleting unsent results, and once the broker is back and the rest are sent, ``sync status``
    does not read as "all sent" (backlog 0) while the ones it deleted never left."""
    port = free_port()
    config = write_config(tmp_path, port, 'outbox_max_rows = 4\noverflow_policy = "drop_oldest"\n')
    store = open_store(tmp_path, limits=OutboxLimits(max_rows=4, policy="drop_oldest"))
    first = [record_one(store, photo).result_id for _ in range(4)]
    full = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    warning = check_backlog(full, 4, False)
    assert warning.level is Level.AMBER and warning.message_key == "health.backlog.dropping"
    kept = [record_one(store, photo).result_id for _ in range(2)]  # each deletes the oldest unsent one

    broker = Broker(tmp_path / "broker", port=port).start()
    try:
        tap = Tap(port)
        drain(config)
        wait_until(lambda: len(tap.on("/result")) >= 4, 10, "4 results")
        assert result_ids(tap.on("/result"))[-2:] == kept
        tap.close()
    finally:
        broker.stop()
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert (status["backlog"], status["sent"], status["dropped"]) == (0, 4, 2)
    assert "dropped" in edgescreen("sync", "status", config=config).stdout
    # Today tells the two it deleted from the sent ones, by the same record sync status counts.
    states = {entry.result_id: entry.sync for entry in entries_of(store.records, first + kept)}
    assert [states[result_id] for result_id in first + kept] == ["dropped"] * 2 + ["acknowledged"] * 4


def test_drop_oldest_passes_over_a_result_in_flight_whose_acknowledgement_is_on_its_way(tmp_path, photo):
    """``drop_oldest`` deleted the oldest unsent row although the worker had handed it to the broker:
    the broker acknowledged it to a row that was gone, and Today and ``sync status`` counted "never
    sent" a result the specialists had. A frozen broker holds the first result in flight (a window of
    one keeps the next one queued); the full outbox drops that next one instead."""
    port = free_port()
    config = write_config(tmp_path, port, "inflight_window = 1\n")
    store = open_store(tmp_path, limits=OutboxLimits(max_rows=2, policy="drop_oldest"))

    def states(*result_ids: str) -> list[str]:
        found = {entry.result_id: entry.sync for entry in entries_of(store.records, list(result_ids))}
        return [found[result_id] for result_id in result_ids]

    broker = Broker(tmp_path / "broker", port=port).start()
    tap = Tap(port, "edgescreen/v1/+/+/result")
    worker = BackgroundWorker(config)
    try:
        connected = lambda: Outbox(store.records).state().get("connection") == "connected"  # noqa: E731
        wait_until(connected, 20, "the worker connected")
        broker.pause()
        in_flight = record_one(store, photo).result_id
        wait_until(lambda: states(in_flight) == ["sent"], 20, "the first result published, not acknowledged")
        queued = record_one(store, photo).result_id
        newest = record_one(store, photo).result_id  # two unsent at the cap of two: one is dropped
        assert states(in_flight, queued, newest) == ["sent", "dropped", "queued"]
        broker.resume()
        wait_until(lambda: states(in_flight, newest) == ["acknowledged"] * 2, 20, "both acknowledged")
    finally:
        broker.resume()
        worker.stop()
        tap.close()
        broker.stop()
    assert result_ids(tap.on("/result")) == [in_flight, newest]
    backlog = Outbox(store.records).backlog()
    assert (backlog.unsent, backlog.sent, backlog.dropped) == (0, 2, 1)
    assert store.records.verify_audit().intact


def test_photos_past_their_retention_are_deleted_while_the_site_server_is_out_of_reach(tmp_path, photo):
    """The hourly purge ran only inside a connection to the broker: a device whose site server was
    out of reach for days (its clock kept right by NTP elsewhere) kept every photo it was free to
    delete, and its card filled with them."""
    sent_at = BUILD_DATE + timedelta(days=1)
    store = open_store(tmp_path, clock=lambda: sent_at)
    answered = record_one(store, photo, sample_record(score=0.05))  # cleared: the "no referral" asks nothing
    outbox = Outbox(store.records)
    assert outbox.mark_sent([row.seq for row in outbox.claim(0, 10)]) == 1
    assert store.add_review(Review("rev-1", answered.result_id, "no_refer", sent_at, "dr-lopez", None)) == "stored"
    store.records.close()

    config = load_config(str(write_config(tmp_path, free_port())))  # no broker on that port
    stop = threading.Event()

    def offline_worker() -> None:
        later = open_store(tmp_path, clock=lambda: sent_at + timedelta(days=31))
        try:
            SyncWorker(Outbox(later.records), later, config.sync, config.device, timedelta(days=30), stop).run()
        finally:
            later.records.close()

    running = threading.Thread(target=offline_worker)
    running.start()
    images = open_store(tmp_path)
    try:
        count = "SELECT count(*) FROM image"
        wait_until(lambda: images.records.connection.execute(count).fetchone()[0] == 0, 10, "the photo purged")
    finally:
        images.records.close()
        stop.set()
        running.join(15)


def review(result_id: str, review_id: str = "rev-1", **changes) -> bytes:
    document = {
        "schema": "edgescreen.review/1",
        "review_id": review_id,
        "result_id": result_id,
        "verdict": "refer",
        "reviewed_at": "2025-06-01T10:00:00Z",
        "reviewer": "dr-ophtalmo-3",
        "comment": "Microaneurysms in the temporal arcade; agree with referral.",
    }
    return json.dumps(document | changes).encode()


def publish(port: int, topic: str, payloads: list[bytes], retain: bool = False) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for payload in payloads:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    stop_network_loop(client)
    client.disconnect()


def test_reviews_are_validated_stored_and_acknowledged_and_bad_ones_dropped(tmp_path, photo, broker, caplog):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    result_id = record_one(store, photo).result_id
    drain(config)  # connects once: the broker now keeps this device's session
    review_topic = device_topic(DEVICE.site, DEVICE.id, REVIEW)
    # Sent while the device is offline: the persistent session holds them for it.
    publish(
        broker.port,
        review_topic,
        [
            b"\xff not json",
            review(result_id, verdict="maybe"),
            review(result_id, extra_field="x"),
            review(result_id, review_id="rev-name", reviewer="Dr Martin for Jeanne DUPONT"),
            review("0" * 32, review_id="rev-unknown"),
            review(result_id),
            review(result_id),  # the same review again
        ],
    )
    acks = review_acks(config, broker.port, 3)
    assert [(a["review_id"], a["status"]) for a in acks] == [
        ("rev-unknown", "unknown_result"),
        ("rev-1", "stored"),
        ("rev-1", "duplicate"),
    ]
    rows = store.records.connection.execute("SELECT review_id, result_id, verdict FROM review").fetchall()
    assert [tuple(r) for r in rows] == [("rev-1", result_id, "refer")]
    rejected = [r.getMessage() for r in caplog.records if "sync.review_rejected" in r.getMessage()]
    assert len(rejected) == 4
    # The field each refusal names, never the value refused (a name put where an id belongs).
    assert "DUPONT" not in caplog.text and any("field=reviewer" in line for line in rejected)
    # The review id, when the document has a well-formed one, so the station's delivery can be found.
    assert any("review_id=rev-name" in line and "field=reviewer" in line for line in rejected)
    assert sum("review_id=" in line for line in rejected) == 3  # the fourth is not JSON: no id to name


def test_a_verdicts_findings_of_the_other_modality_are_refused_as_a_malformed_verdict(tmp_path, photo, broker, caplog):
    """Each read's findings passed the wire check on any result: a dermoscopy diagnosis on an eye, an
    ICDR grade and maculopathy on a lesion, stored and shown on the nurse's record as findings nobody
    made of that photo. Now refused as a malformed verdict is (logged by field and id, never stored
    nor answered), and the right read of each is stored."""
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    eye = record_one(store, photo).result_id
    lesion = replace(sample_record(ScreeningContext(body_site="trunk")), modality="dermoscopy")
    lesion_id = record_one(store, photo, lesion).result_id
    drain(config)  # connects once: the broker now keeps this device's session
    fundus_read = {"icdr_grade": "moderate", "maculopathy": "absent"}
    v2 = {"schema": "edgescreen.review/2", "urgency": "routine"}
    publish(
        broker.port,
        device_topic(DEVICE.site, DEVICE.id, REVIEW),
        [
            review(eye, "rev-diagnosed-eye", **v2, findings={"diagnosis": "melanoma"}),
            review(lesion_id, "rev-graded-lesion", **v2, findings=fundus_read),
            review(eye, "rev-eye", **v2, findings=fundus_read),
            review(lesion_id, "rev-lesion", **v2, findings={"diagnosis": "naevus"}),
        ],
    )
    acks = [(ack["review_id"], ack["status"]) for ack in review_acks(config, broker.port, 2)]
    assert acks == [("rev-eye", "stored"), ("rev-lesion", "stored")]
    rows = store.records.connection.execute("SELECT review_id, icdr_grade, diagnosis FROM review ORDER BY rowid")
    assert [tuple(row) for row in rows] == [("rev-eye", "moderate", None), ("rev-lesion", None, "naevus")]
    rejected = [r.getMessage() for r in caplog.records if "sync.review_rejected" in r.getMessage()]
    for review_id in ("rev-diagnosed-eye", "rev-graded-lesion"):
        assert [line for line in rejected if f"review_id={review_id}" in line and "field=findings" in line], rejected
    assert not [r.getMessage() for r in caplog.records if "sync.review_failed" in r.getMessage()]


def test_a_killed_worker_leaves_its_last_will_offline(tmp_path, photo, broker):
    config = write_config(tmp_path, broker.port)
    record_one(open_store(tmp_path), photo)
    tap = Tap(broker.port, "edgescreen/v1/+/+/status")
    worker = edgescreen_process(config, "sync", "run")
    wait_until(lambda: tap.on("/status")[-1:] == [b"online"], 15, "status online")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    wait_until(lambda: tap.on("/status")[-1:] == [b"offline"], 15, "the last will")
    tap.close()


def test_sigterm_stops_the_worker_cleanly(tmp_path, photo, broker):
    config = write_config(tmp_path, broker.port)
    record_one(open_store(tmp_path), photo)
    worker = edgescreen_process(config, "sync", "run")
    wait_until(
        lambda: json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 0, 15, "drain"
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0
    assert json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["connection"] == "stopped"


def test_a_result_the_broker_has_not_acknowledged_is_sent_then_acknowledged(tmp_path, photo):
    """The worklist's three states from the records the worker keeps: queued with no broker, sent
    once published to a broker that does not acknowledge (frozen), acknowledged once it does."""
    port = free_port()
    config = write_config(tmp_path, port)
    store = open_store(tmp_path)
    first = record_one(store, photo).result_id

    def states(*result_ids: str) -> list[str]:
        return [entry.sync for entry in sorted(entries_of(store.records, list(result_ids)), key=lambda e: e.result_id)]

    broker = Broker(tmp_path / "broker", port=port).start()
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: states(first) == ["acknowledged"], 20, "the first result acknowledged")
        broker.pause()
        second = record_one(store, photo).result_id
        assert states(second) == ["queued"]
        wait_until(lambda: states(second) == ["sent"], 20, "the second result published, not acknowledged")
        broker.resume()
        wait_until(lambda: set(states(first, second)) == {"acknowledged"}, 20, "both acknowledged")
    finally:
        broker.resume()
        worker.stop()
        broker.stop()
    assert store.records.verify_audit().intact


def test_a_silent_broker_with_results_in_flight_is_waited_for_not_polled(tmp_path, photo, broker):
    """Mid-drain the site's Wi-Fi drops without a word (the broker frozen here): until the keepalive
    gives the connection up (90 s by default) the worker polled its socket without waiting, a whole
    core busy on the Pi beside the nurse's app, at each such drop."""
    config = write_config(tmp_path, broker.port, "inflight_window = 4\n")
    store = open_store(tmp_path)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: Outbox(store.records).state().get("connection") == "connected", 20, "the worker connected")
        broker.pause()
        in_flight = record_one(store, photo).result_id
        wait_until(lambda: [e.sync for e in entries_of(store.records, [in_flight])] == ["sent"], 20, "published")
        before, started = time.process_time(), time.monotonic()
        time.sleep(2.0)
        busy = (time.process_time() - before) / (time.monotonic() - started)
    finally:
        broker.resume()
        worker.stop()
    assert busy < 0.2, f"the worker kept {busy:.0%} of a core busy waiting for the broker"


def test_until_drained_ends_once_the_station_has_the_acknowledgement_of_each_verdict_it_stored(tmp_path, photo, broker):
    """``sync run --until-drained`` with nothing of its own to send ended as soon as it connected: the
    verdicts the broker held for it, stored as they came, went unanswered on ``review_ack`` when the
    command disconnected first, and the station sent them again at the next connection as duplicates.
    The command now ends once each verdict it stored has its acknowledgement taken by the broker."""
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    result_id = record_one(store, photo).result_id
    drain(config)  # connects once: the broker now keeps this device's session
    verdicts = [review(result_id, review_id=f"rev-{number}") for number in range(40)]
    publish(broker.port, device_topic(DEVICE.site, DEVICE.id, REVIEW), verdicts)
    station = Tap(broker.port, "edgescreen/v1/+/+/review_ack")
    try:
        run = edgescreen("sync", "run", "--until-drained", config=config)
        assert run.returncode == 0, run.stderr
        stored = {row[0] for row in store.records.connection.execute("SELECT review_id FROM review")}
        # The broker has taken each acknowledgement before the command ended: the station, subscribed,
        # has it a moment later, whatever became of the device.
        wait_until(lambda: len(station.on("/review_ack")) >= len(stored), 10, "the acknowledgements")
        answered = {json.loads(payload)["review_id"] for payload in station.on("/review_ack")}
    finally:
        station.close()
    assert stored and answered == stored
