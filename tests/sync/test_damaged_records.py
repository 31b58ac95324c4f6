"""The sync worker on records a worn card damaged a page of: each result published once, what
cannot be marked sent logged once with its result id, and the status saying why sync is stuck."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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


@contextmanager
def worker_running(directory: Path, config_path: Path) -> Iterator[None]:
    """The worker on its own connection in a thread while the block runs, its records' clock taken as
    synchronised (as on a device with NTP): its hourly purge then reads the screening table."""
    config, stop = load_config(str(config_path)), threading.Event()

    def serve() -> None:
        store = open_store(directory, key_required=False)
        try:
            SyncWorker(Outbox(store.records), store, config.sync, config.device, timedelta(days=30), stop).run()
        finally:
            store.records.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def run_worker(directory: Path, config_path: Path, seconds: float) -> dict:
    """The worker (``worker_running``) for ``seconds``. Returns ``sync status`` as read while it runs."""
    with worker_running(directory, config_path):
        time.sleep(seconds)
        store = open_store(directory)
        try:
            return sync_status(store.records)
        finally:
            store.records.close()


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
        caplog.clear()  # the set-up's drain connected too, logged when an earlier test set INFO
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


class LockAfterSetApart:
    """Another writer (a backup, the app) taking the records' lock just after the worker set a row
    apart on the damaged page: the worker's next row-by-row transaction then fails as SQLite fails it,
    "database is locked". Watched through the worker connection's own SQLite trace: a transaction that
    marks a row sent without touching its screening is the setting apart."""

    def __init__(self, database: Path) -> None:
        self.holder = sqlite3.connect(database, isolation_level=None)
        self.marked = self.screened = self.armed = self.holding = False

    def __call__(self, statement: str) -> None:
        if statement.startswith("BEGIN"):
            if self.armed:
                self.holder.execute("BEGIN IMMEDIATE")
                self.armed, self.holding = False, True
            self.marked = self.screened = False
        elif statement.startswith("UPDATE outbox SET sent_at"):
            self.marked = True
        elif statement.startswith("UPDATE screening SET synced_at"):
            self.screened = True
        elif statement == "COMMIT" and self.marked and not self.screened and not self.holding:
            self.armed = True

    def release(self) -> None:
        self.holder.execute("ROLLBACK")
        self.holder.close()


def test_rows_marked_apart_before_another_trouble_are_not_marked_again_at_the_retry(tmp_path, retina_rgb, caplog):
    """A batch a damaged page refused is marked row by row; a lock met part way ended the pass with
    every row still in the batch: the retry marked the rows done again (their sent time moved) as a
    whole batch, and the status never named the result set apart. Each row is now marked once, none
    is left unsent or published again, and the status names the damaged result."""
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb, 32)
    recorded = [record_one(store, photo).result_id for _ in range(RESULTS)]
    store.records.close()
    database = tmp_path / "records.sqlite3"
    damage_a_page(database)
    probe = sqlite3.connect(database)
    unreadable = []
    for result_id in recorded:
        try:
            probe.execute("SELECT synced_at FROM screening WHERE result_id = ?", (result_id,)).fetchall()
        except sqlite3.DatabaseError:
            unreadable.append(result_id)
    probe.close()
    readable = [result_id for result_id in recorded if result_id not in unreadable]
    batch = [readable[0], unreadable[0], *readable[1:4]]  # the lock falls on the third row

    now = [datetime(2026, 12, 3, 12, 0, tzinfo=UTC)]
    store = open_store(tmp_path, key_required=False, clock=lambda: now[0])
    connection = store.records.connection
    seq_of = dict(connection.execute("SELECT result_id, seq FROM outbox").fetchall())
    config = load_config(str(write_config(tmp_path, free_port())))
    worker = SyncWorker(Outbox(store.records), store, config.sync, config.device, timedelta(days=30))
    worker._acked = [seq_of[result_id] for result_id in batch]
    worker._published = list(worker._acked)
    worker._result_of = {seq_of[result_id]: result_id for result_id in batch}
    lock = LockAfterSetApart(database)
    connection.execute("PRAGMA busy_timeout = 100")
    connection.set_trace_callback(lock)

    def sent_at() -> dict[str, str | None]:
        marks = ",".join("?" * len(batch))
        rows = connection.execute(f"SELECT result_id, sent_at FROM outbox WHERE result_id IN ({marks})", batch)
        return dict(rows.fetchall())

    try:
        with caplog.at_level(logging.INFO):
            worker._commit_acks(force=True)
            assert lock.holding  # the lock fell part way
            first = sent_at()
            lock.release()
            now[0] += timedelta(minutes=5)
            worker._commit_retry_at = 0.0
            worker._commit_acks(force=True)
        after = sent_at()
        state = Outbox(store.records).state()
        sync_events = [
            json.loads(detail)
            for (detail,) in connection.execute("SELECT details FROM audit WHERE kind = 'sync' ORDER BY seq")
        ]
    finally:
        connection.set_trace_callback(None)
        store.records.close()

    assert first[batch[0]] and first[batch[1]]  # marked before the lock: the first row, the one set apart
    assert all(first[result_id] is None for result_id in batch[2:])
    assert all(after[result_id] for result_id in batch)  # none lost
    assert {result_id: after[result_id] for result_id in batch[:2]} == {r: first[r] for r in batch[:2]}  # once
    assert sum(event["acknowledged"] for event in sync_events) == len(batch)  # none counted twice
    assert worker._acked == [] and worker._published == []  # nothing left to publish or mark again
    logged = [r.getMessage() for r in caplog.records if "sync.screening_unreadable" in r.getMessage()]
    assert len(logged) == 1 and unreadable[0] in logged[0]
    assert state["connection"] == DAMAGED and state["connection_detail"].count(unreadable[0]) == 1


@pytest.mark.parametrize("reachable", [True, False], ids=["broker", "offline"])
def test_damaged_records_are_logged_once_a_connection_round_not_at_each_check_of_the_queue(
    tmp_path, retina_rgb, caplog, reachable
):
    """Between connections the worker checks the queue a batch a second (``_sweep``); on an outbox a
    damaged page makes unreadable, each check logged ``sync.records_trouble`` again, every second for
    as long as the card stays so (some 43,000 lines a day). Damaged records are a technician's to
    mend: found so, the queue is not checked again until the next connection round."""
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb, 32)
    for _ in range(RESULTS):
        record_one(store, photo)
    store.records.close()
    damage_a_page(tmp_path / "records.sqlite3", "outbox")
    port = free_port()
    config = write_config(tmp_path, port, backoff_max_s=4.0)  # rounds seconds apart, as a device's are
    broker = Broker(tmp_path / "broker", port=port).start() if reachable else None
    try:
        with caplog.at_level(logging.INFO), worker_running(tmp_path, config):
            time.sleep(10.0)
    finally:
        if broker:
            broker.stop()
    said = [r.getMessage().split()[0] for r in caplog.records]
    trouble = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sync.records_trouble")]
    assert trouble and all("the records file is damaged" in line for line in trouble)
    # Each round, from one connection attempt to the next (``sync.disconnected``), says it once.
    rounds = "".join({"sync.records_trouble": "T", "sync.disconnected": "|"}.get(event, "") for event in said)
    assert "TT" not in rounds, rounds  # before: a T a second between the connections
