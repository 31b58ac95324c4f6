"""Issue 8, points 1, 4 and 18: review messages built to crash the worker, a crash loop made visible,
a review id reused for another verdict, and a worker that has waited for its broker for days."""

from __future__ import annotations

import json
import logging
import random
import re
import signal

import pytest

from edgescreen_wire.checks import WireError
from edgescreen_wire.topics import REVIEW, device_topic
from firmware_app.sync.retry import backoff_delay
from firmware_app.sync.review import parse_review
from tests.mqtt_broker import Tap, wait_until
from tests.records.kit import DEVICE, open_store, record_one, small_photo, write_config
from tests.sync.kit import BackgroundWorker, drain, edgescreen_process, review_acks
from tests.sync.test_worker import publish, review
from tests.test_cli import edgescreen

DEEP_NESTING = b"[" * 5000
HUGE_INTEGER = b'{"review_id": ' + b"9" * 5000 + b"}"


def lone_surrogate(result_id: str) -> bytes:
    return review(result_id, review_id="rev-surrogate").replace(b"Microaneurysms", b"\\ud800 Microaneurysms")


@pytest.mark.parametrize(
    "payload", [DEEP_NESTING, HUGE_INTEGER, lone_surrogate("a" * 32)], ids=["nesting", "integer", "surrogate"]
)
def test_each_poison_review_is_refused_as_a_wire_error(payload):
    assert len(payload) <= 5100
    with pytest.raises(WireError):
        parse_review(payload)


def test_poison_reviews_retained_or_queued_never_stop_delivery(tmp_path, retina_rgb, broker, caplog):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    first = record_one(store, photo).result_id
    drain(config)  # the broker now keeps this device's session
    topic = device_topic(DEVICE.site, DEVICE.id, REVIEW)
    # A retained copy reaches every fresh session; the others wait in the persistent one.
    publish(broker.port, topic, [DEEP_NESTING], retain=True)
    publish(broker.port, topic, [HUGE_INTEGER, lone_surrogate(first), review(first, review_id="rev-good")])
    later = [record_one(store, photo).result_id for _ in range(20)]
    tap = Tap(broker.port)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: len(tap.on("/review_ack")) >= 1 and len(tap.on("/result")) >= 20, 20, "ack and results")
        worker.check_alive()
    finally:
        worker.stop()
    assert {json.loads(p)["result_id"] for p in tap.on("/result")} == set(later)
    assert [json.loads(p)["status"] for p in tap.on("/review_ack")] == ["stored"]
    assert [r[0] for r in store.records.connection.execute("SELECT review_id FROM review")] == ["rev-good"]
    assert sum("sync.review_rejected" in r.getMessage() for r in caplog.records) >= 3
    # Acknowledged: a second session gets only the retained copy again, and survives it too.
    tap.messages.clear()
    drain(config)
    assert edgescreen("sync", "status", "--json", config=config).returncode == 0
    tap.close()


def test_a_review_id_reused_for_another_verdict_is_a_conflict(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    one, other = record_one(store, photo).result_id, record_one(store, photo).result_id
    drain(config)
    publish(
        broker.port,
        device_topic(DEVICE.site, DEVICE.id, REVIEW),
        [
            review(one),
            review(one),  # the same review again: a duplicate
            review(one, verdict="no_refer"),  # same id, another verdict
            review(other),  # same id, another result
        ],
    )
    statuses = [ack["status"] for ack in review_acks(config, broker.port, 4)]
    assert statuses == ["stored", "duplicate", "conflict", "conflict"]
    rows = store.records.connection.execute("SELECT result_id, verdict FROM review").fetchall()
    assert [tuple(r) for r in rows] == [(one, "refer")]


def sync_status(config) -> dict:
    return json.loads(edgescreen("sync", "status", "--json", config=config).stdout)


def test_a_crash_looping_worker_is_shown_as_such(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    record_one(open_store(tmp_path), small_photo(retina_rgb))
    tap = Tap(broker.port, "edgescreen/v1/+/+/status")
    for _ in range(3):  # the service manager restarts a worker that dies, again and again
        online = len([p for p in tap.on("/status") if p == b"online"])
        worker = edgescreen_process(config, "sync", "run")
        wait_until(lambda: tap.on("/status").count(b"online") > online, 15, "the worker online")  # noqa: B023
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    status = sync_status(config)
    assert status["crashes"] == 2  # counted by the second and third start
    assert status["connection"].startswith("crash-looping (2 unclean restarts"), status
    # when and why, not the broker's address the killed worker was connected to
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\S+: ended without a clean stop .* while connected", status["last_crash"])
    worker = edgescreen_process(config, "sync", "run")
    try:
        wait_until(lambda: sync_status(config)["crashes"] == 3, 15, "the third crash counted")
        assert sync_status(config)["connection"].startswith("crash-looping (3 unclean restarts")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0
    status = sync_status(config)
    assert status["connection"] == "stopped" and status["crashes"] == 0  # a clean stop ends the loop
    assert status["last_crash"] is None
    tap.close()


@pytest.mark.parametrize("attempt", [1023, 1024, 5000, 10**9])
def test_backoff_never_overflows_however_long_the_broker_is_away(attempt):
    rng = random.Random(3)
    delays = [backoff_delay(attempt, 1.0, 300.0, rng) for _ in range(200)]
    assert all(0.0 <= d <= 300.0 for d in delays) and max(delays) > 200.0  # still full jitter up to the cap


def test_an_oversized_message_on_the_review_topic_never_reaches_the_device(tmp_path, retina_rgb, broker, caplog):
    """The device's CONNECT sets MQTT 5's Maximum Packet Size: the broker drops a 1 MB message for it
    instead of handing it over (paho would read it whole), and the next verdict still arrives."""
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    drain(config)
    topic = device_topic(DEVICE.site, DEVICE.id, REVIEW)
    publish(broker.port, topic, [b"x" * 2**20, review(result_id, review_id="rev-after")])
    assert [ack["review_id"] for ack in review_acks(config, broker.port, 1)] == ["rev-after"]
    assert "sync.review_rejected" not in caplog.text  # the oversized one never arrived to be refused


def test_a_verdict_whose_comment_holds_controls_is_stored_without_them_and_logged(tmp_path, caplog):
    """A station from before its read form refused them may send a NUL or a bidirectional override in a
    comment: the verdict is kept (it may be a referral), the controls taken out, the cleaning logged
    without the comment's words."""
    store = open_store(tmp_path)
    record = record_one(store, small_photo())
    payload = review(record.result_id, comment="Refer \u202eevig ton od\x00\u2066")
    with caplog.at_level(logging.WARNING, logger="edgescreen"):
        store.add_review(parse_review(payload))
    [line] = [r.getMessage() for r in caplog.records if "sync.review_comment_cleaned" in r.getMessage()]
    assert f"result_id={record.result_id}" in line and "review_id=rev-1" in line and "removed=3" in line
    assert "evig" not in line
    [stored] = store.view(record.result_id)["reviews"]
    assert stored["verdict"] == "refer" and stored["comment"] == "Refer evig ton od"
    only_controls = parse_review(review(record.result_id, review_id="rev-2", comment="\u202e\x00"))
    assert only_controls.comment is None
