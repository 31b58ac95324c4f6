"""The sync worker on records a worn card damaged a page of: each result published once, what
cannot be marked sent logged once with its result id, and the status saying why sync is stuck."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

from edgescreen_wire.topics import REVIEW, device_topic
from firmware_app.config import load_config
from firmware_app.health.checks import check_broker
from firmware_app.messages import message
from firmware_app.records.outbox import DAMAGED, Outbox
from firmware_app.records_cli import sync_status
from firmware_app.sync.review import parse_review
from firmware_app.sync.worker import SyncWorker
from tests.mqtt_broker import Broker, Tap, free_port
from tests.records.kit import DEVICE, open_store, record_one, small_photo, write_config
from tests.sync.kit import drain
from tests.sync.test_worker import publish, review

RESULTS = 40


def damage_a_page(database: Path, name: str = "screening", leaves_needed: int = 3) -> None:
    """Zero one leaf page of the table or index ``name`` in the closed file (``dbstat`` says where),
    as a worn SD card loses one: the outbox's pages, and so every payload, stay whole. The screening
    table's must have rows on pages before and after the damaged one."""
    connection = sqlite3.connect(database)
    try:
        leaves = [
            page
            for (page,) in connection.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (name,))
        ]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    assert len(leaves) >= leaves_needed, leaves
    with database.open("r+b") as records:
        records.seek((leaves[len(leaves) // 2] - 1) * page_size)
        records.write(bytes(page_size))


def run_worker(directory: Path, config_path: Path, seconds: float) -> dict:
    """The worker on its own connection in a thread, for ``seconds``, its records' clock taken as
    synchronised (as on a device with NTP): its hourly purge then reads the screening table. Returns
    ``sync status`` as read while it runs."""
    config, stop = load_config(str(config_path)), threading.Event()

    def serve() -> None:
        store = open_store(directory, key_required=False)
        try:
            SyncWorker(Outbox(store.records), store, config.sync, config.device, timedelta(days=30), stop).run()
        finally:
            store.records.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    time.sleep(seconds)
    store = open_store(directory)
    try:
        status = sync_status(store.records)
    finally:
        store.records.close()
    stop.set()
    thread.join(15)
    assert not thread.is_alive()
    return status


def test_a_damaged_screening_page_publishes_each_result_once_and_says_sync_is_stuck(tmp_path, retina_rgb, caplog):
    """On main the hourly purge's scan met the damaged page at each connection's start and ended it
    before the broker's acknowledgements came: the same results were published again at each
    backoff (thousands of messages in seconds), and the status read "disconnected"."""
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb, 32)
    recorded = [record_one(store, photo).result_id for _ in range(RESULTS)]
    store.records.close()
    damage_a_page(tmp_path / "records.sqlite3")
    port = free_port()
    config = write_config(tmp_path, port)
    broker = Broker(tmp_path / "broker", port=port).start()
    try:
        tap = Tap(port)
        with caplog.at_level(logging.INFO):
            status = run_worker(tmp_path, config, 4.0)
            run_worker(tmp_path, config, 2.0)  # a restart: nothing is published again
        published = [json.loads(payload)["result_id"] for payload in tap.on("/result")]
        tap.close()
    finally:
        broker.stop()

    assert sorted(published) == sorted(recorded)  # every one, once
    unreadable = [r.getMessage() for r in caplog.records if "sync.screening_unreadable" in r.getMessage()]
    named = [result_id for result_id in recorded if any(result_id in line for line in unreadable)]
    assert named and len(named) == len(unreadable) < RESULTS  # each logged once, with its result id

    assert status["connection"] == DAMAGED and status["backlog"] == 0
    assert named[0] in status["connection_detail"]
    assert "restore the last backup onto a new card" in status["connection_detail"]


def test_a_verdict_the_damaged_records_cannot_store_ends_no_connection(tmp_path, retina_rgb, caplog):
    """On main a verdict refused by a damaged page was left unacknowledged and ended the connection,
    as a full disk's is: the broker delivered it again first thing on the next one, so the worker
    reconnected for ever (dozens of times a second), publishing its in-flight results each time."""
    port = free_port()
    config = write_config(tmp_path, port)
    broker = Broker(tmp_path / "broker", port=port).start()
    try:
        store = open_store(tmp_path)
        photo = small_photo(retina_rgb, 32)
        reviewed = record_one(store, photo).result_id
        store.add_review(parse_review(review(reviewed, review_id="rev-stored")))
        drain(config)  # the broker now keeps this device's session, where the next verdict waits
        recorded = [record_one(store, photo).result_id for _ in range(RESULTS)]
        store.records.close()
        damage_a_page(tmp_path / "records.sqlite3", "sqlite_autoindex_review_1", leaves_needed=1)
        publish(port, device_topic(DEVICE.site, DEVICE.id, REVIEW), [review(reviewed, review_id="rev-new")])
        tap = Tap(port)
        with caplog.at_level(logging.INFO):
            run_worker(tmp_path, config, 3.0)
            run_worker(tmp_path, config, 1.0)  # acknowledged: the broker does not deliver it again
        published = [json.loads(payload)["result_id"] for payload in tap.on("/result")]
        tap.close()
    finally:
        broker.stop()

    assert sorted(published) == sorted(recorded)  # every one, once
    logged = [r.getMessage() for r in caplog.records]
    assert sum("sync.connected" in line for line in logged) == 2  # one connection per run
    (refused,) = [line for line in logged if "sync.review_not_stored" in line]
    assert "the records file is damaged" in refused


def test_the_nurse_reads_that_sync_is_stuck_on_damaged_records():
    check = check_broker({"connection": DAMAGED})
    assert check.level == "amber"
    assert "damaged records" in message(check.message_key, "en")
    assert "dossiers endommagés" in message(check.message_key, "fr")
