"""A really full disk: a 16 MiB tmpfs (``tiny_filesystem``, tests/conftest.py) is filled with
screenings (or a filler file) until the file system says no; and the same tmpfs remounted read-only."""

from __future__ import annotations

import json
import math
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from edgescreen_wire.topics import REVIEW, device_topic
from firmware_app.app import UploadThread
from firmware_app.bundles.install import active_manifest
from firmware_app.bundles.manifest import read_manifest
from firmware_app.config import load_config
from firmware_app.health.checks import Level, records_unusable
from firmware_app.health.liveness import liveness
from firmware_app.messages import message as message_text
from firmware_app.messages import sentence
from firmware_app.records import database
from firmware_app.records.database import (
    BUSY_TIMEOUT_S,
    HELD_ALONE_WAIT_S,
    SCHEMA_VERSION,
    DiskFull,
    RecordsError,
    RecordsLocked,
    open_database,
    records_problem,
    transaction,
)
from firmware_app.records.erased_pages import OWED
from firmware_app.records.store import Records, StorageFull
from firmware_app.wording import check_sentence, seconds
from tests.bundles.test_install import model_changes
from tests.conftest import MODELS_DIR, filled
from tests.health.lock_holding import WAITED, holding_the_lock
from tests.mqtt_broker import Broker, Tap, free_port, wait_until
from tests.records.kit import (
    DEVICE,
    ROOM_FOR_AN_ERASURE,
    closed_when_the_test_ends,
    in_language,
    open_store,
    record_one,
    screenings_left_in_the_log,
    small_photo,
    write_config,
)
from tests.sync.kit import BackgroundWorker, ProcessLog, edgescreen_process
from tests.sync.test_worker import publish, review
from tests.test_cli import edgescreen, said_lines


def fill_until_refused(store, photo) -> list[str]:
    recorded = []
    with pytest.raises(StorageFull) as refusal:
        for _ in range(1000):
            recorded.append(record_one(store, photo).result_id)
    assert recorded, refusal.value
    return recorded


def check_nothing_lost(directory, recorded: list[str]) -> None:
    store = open_store(directory)
    db = store.records.connection
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in db.execute("SELECT result_id FROM screening ORDER BY rowid")] == recorded
    assert [r[0] for r in db.execute("SELECT result_id FROM outbox ORDER BY seq")] == recorded
    for result_id, sealed in db.execute("SELECT result_id, sealed FROM image"):
        assert store.records.sealer.open(sealed, f"image:{result_id}:0").startswith(b"\xff\xd8")
    assert store.records.verify_audit().intact
    store.records.close()


def test_the_reserve_refuses_screenings_before_the_disk_is_full(tiny_filesystem, retina_rgb):
    store = open_store(tiny_filesystem, reserve_bytes=2**20)
    recorded = fill_until_refused(store, small_photo(retina_rgb, 512))
    store.records.close()
    assert shutil.disk_usage(tiny_filesystem).free >= 2**20  # the reserve was kept
    check_nothing_lost(tiny_filesystem, recorded)


def test_the_refusal_states_the_real_threshold_and_advice_that_frees_space(tiny_filesystem, retina_rgb):
    """With no reserve a screening is still refused while the log's headroom is missing: the message
    must say what was needed, not "the reserve is 0 MiB", and never to sync (which frees nothing)."""
    store, photo = open_store(tiny_filesystem, reserve_bytes=0), small_photo(retina_rgb, 512)
    fill_until_refused(store, photo)
    with pytest.raises(StorageFull) as refusal:
        record_one(store, photo)
    store.records.close()
    message = str(refusal.value)
    free, needed = map(float, re.search(r"([\d.]+) MiB free, a screening needs ([\d.]+) MiB", message).groups())
    assert free < needed and needed >= 4.2  # the write-ahead log's headroom and the pages, at least
    assert "the 0.0 MiB reserve" in message and "journalctl --vacuum-size" in message and "Sync" not in message
    for key in ("records.storage_full", "health.disk.red", "health.disk.amber"):  # the nurse's words
        assert "Sync" not in message_text(key, "en") and "free" in message_text(key, "en")


def test_when_the_file_system_itself_is_full_nothing_is_half_written(tiny_filesystem, retina_rgb):
    # A reserve of minus 1 GiB takes the device's own check out of the way: SQLite meets ENOSPC.
    store = open_store(tiny_filesystem, reserve_bytes=-(2**30))
    recorded = fill_until_refused(store, small_photo(retina_rgb, 512))
    store.records.close()
    check_nothing_lost(tiny_filesystem, recorded)


def five_results_and_a_session_waiting_for_them(directory, retina_rgb) -> tuple[int, Path, list[str], Broker]:
    """Five results recorded in ``directory``, and a stopped broker that holds a persistent session
    subscribed to them: the subscription exists before the worker first reaches the broker, or a
    worker that connects before a fresh tap subscribes (and records its sends after all in the
    database's spare pages) would deliver to nobody. The port, the config, the result ids, the broker."""
    port = free_port()
    config = write_config(directory, port)
    store = open_store(directory)
    recorded = [record_one(store, small_photo(retina_rgb, 64)).result_id for _ in range(5)]
    store.records.close()
    broker = Broker(directory.parent / "broker", port=port).start()
    Tap(port, client_id="disk-full-tap").close()
    broker.stop()
    return port, config, recorded, broker


def test_a_disk_that_fills_while_the_worker_waits_for_its_broker(tiny_filesystem, retina_rgb):
    port, config, recorded, broker = five_results_and_a_session_waiting_for_them(tiny_filesystem, retina_rgb)
    worker = edgescreen_process(config, "sync", "run")
    log = ProcessLog(worker)
    try:
        wait_until(lambda: "disconnected" in edgescreen("sync", "status", config=config).stdout, 20, "no broker")
        filled(tiny_filesystem)
        # Two reconnection attempts on the full disk, each refused both states it records.
        log.wait_for("sync.state_not_recorded", 4)  # on main: dead, with a traceback
        assert worker.poll() is None, log.text()
        status = edgescreen("sync", "status", "--json", config=config)
        assert status.returncode == 0 and "disk I/O error" not in status.stderr, status.stderr
        assert json.loads(status.stdout)["backlog"] == 5
        broker.start()
        try:
            tap = Tap(port, client_id="disk-full-tap")
            wait_until(lambda: len(tap.on("/result")) >= 5, 20, "the results sent from a full disk")
            assert {json.loads(p)["result_id"] for p in tap.on("/result")} == set(recorded)
            (tiny_filesystem / "filler").unlink()
            wait_until(
                lambda: json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 0,
                20,
                "the sends recorded once there is room",
            )
            tap.close()
        finally:
            broker.stop()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)


def test_a_worker_started_on_a_full_disk_sends_and_marks_once_there_is_room(tiny_filesystem, retina_rgb, retina_jpeg):
    """The device switched off with its card full: the worker, the records' first process at the next
    start, could not make SQLite's shared memory there ("disk I/O error"), exited 5, and sent nothing
    again, so nothing it would have let free space ever did. It now opens the records on its own."""
    port, config, recorded, broker = five_results_and_a_session_waiting_for_them(tiny_filesystem, retina_rgb)
    filled(tiny_filesystem)
    broker.start()
    worker = edgescreen_process(config, "sync", "run")
    log = ProcessLog(worker)
    try:
        tap = Tap(port, client_id="disk-full-tap")
        # On main: exit status 5, "The records cannot be opened: the disk is full", nothing published.
        wait_until(lambda: len(tap.on("/result")) >= 5 or worker.poll() is not None, 20, "the results sent")
        assert worker.poll() is None, log.text()
        assert sorted(json.loads(p)["result_id"] for p in tap.on("/result")) == sorted(recorded)
        # Meanwhile the others are told the disk is full (and who holds the records: the next test).
        with ThreadPoolExecutor(2) as pool:
            status, screen = pool.map(
                lambda command: edgescreen(*command, config=config),
                [("sync", "status", "--json"), ("screen", str(retina_jpeg))],
            )
        assert status.returncode == 0 and json.loads(status.stdout)["backlog"] == 5, status.stderr
        assert screen.returncode == 5 and "the disk is full" in screen.stderr, screen.stderr
        (tiny_filesystem / "filler").unlink()
        log.wait_for("sync.records_shared", 1)  # the app may open them again
        wait_until(
            lambda: json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["sent"] == 5,
            20,
            "the sends recorded once there is room",
        )
        assert len(tap.on("/result")) == 5
        tap.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
        broker.stop()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_command_is_told_at_once_that_the_worker_holds_the_records_alone_on_a_full_disk(
    tiny_filesystem, retina_rgb, retina_jpeg, language
):
    """While the sync worker held the records alone on a full disk, a command waited out the whole busy
    timeout (30 s) for their lock before saying the disk was full. It now says within a few seconds, in
    the device's language, that the disk is full and the worker's process (no service here: its
    program, by name) holds the records, nothing lost; ``sync status`` reads them as promptly."""
    config = in_language(write_config(tiny_filesystem, free_port()), language)
    store = open_store(tiny_filesystem)
    record_one(store, small_photo(retina_rgb, 64))
    store.records.close()
    filled(tiny_filesystem)
    worker = edgescreen_process(config, "sync", "run")
    log = ProcessLog(worker)
    try:
        log.wait_for("sync.records_alone")
        named = {"program": Path(f"/proc/{worker.pid}/comm").read_text().strip(), "pid": worker.pid}
        status, status_took = timed_edgescreen("sync", "status", "--json", config=config)
        screen, screen_took = timed_edgescreen("screen", str(retina_jpeg), config=config)
        assert worker.poll() is None, log.text()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    # Each below the busy timeout it waited out on main; not the two below a sum of seconds, which a
    # loaded machine's Python starts alone can take (about 5 s each under two CPU hogs).
    assert status_took < BUSY_TIMEOUT_S and screen_took < BUSY_TIMEOUT_S, (status_took, screen_took)
    assert status.returncode == 0 and json.loads(status.stdout)["backlog"] == 1, status.stderr
    held = sentence("health.records.held_alone_by", language, **named)
    assert screen.returncode == 5 and held in screen.stderr, screen.stderr


def timed_edgescreen(*args: str, config: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """``edgescreen *args`` (``tests.test_cli.edgescreen``) and the seconds it took, start to end."""
    started = time.monotonic()
    done = edgescreen(*args, config=config)
    return done, time.monotonic() - started


def held_alone(directory: Path, retina_rgb) -> Records:
    """The records of ``directory`` (a result in them) opened as the sync worker opens them on a full disk."""
    store = open_store(directory)
    record_one(store, small_photo(retina_rgb, 64))
    store.records.close()
    filled(directory)
    records = Records(directory / "records.sqlite3", directory / "records.key", key_required=False, alone=True)
    closed_when_the_test_ends(records.close)
    assert records.alone
    return records


def test_the_watchdog_of_a_worker_holding_the_records_alone_sees_no_hang(tiny_filesystem, retina_rgb, monkeypatch):
    """The sync service's watchdog probed the write lock on a second connection of its own process: the
    records held alone refused it, the lock named the process itself, "wedged", and systemd restarted the
    worker every minute, the acknowledgements it kept in memory lost each time."""
    monkeypatch.setattr("firmware_app.health.checks.BUSY_TIMEOUT_S", 0.2)
    records = held_alone(tiny_filesystem, retina_rgb)
    [found] = liveness(records.path, [])
    assert (found.level, found.message_key) == (Level.AMBER, "health.writable.held_alone"), found
    records.share_when_room()  # no room yet: still held, still amber
    assert liveness(records.path, [])[0].message_key == "health.writable.held_alone"
    (tiny_filesystem / "filler").unlink()
    assert records.share_when_room()
    assert liveness(records.path, [])[0].level is Level.GREEN


def test_the_photo_uploader_waits_while_its_sync_worker_holds_the_records_alone(
    tiny_filesystem, retina_rgb, monkeypatch, caplog
):
    """The uploader, beside the worker in its process, opened the records all the same: a busy timeout, then
    "the disk is full", logged as a crash at each retry."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.2)
    config = load_config(write_config(tiny_filesystem, 1, extra='station_url = "https://127.0.0.1:1"\n'))
    records = held_alone(tiny_filesystem, retina_rgb)
    uploads = UploadThread(config, until_drained=False)
    try:
        time.sleep(1.5)
        assert logged(caplog, "sync.uploads_crashed") == 0
        assert uploads.heartbeat.overdue_s() == 0
    finally:
        uploads.finish(threading.Event(), wait=False)
    assert records.alone


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("leaving", [512 * 1024, None], ids=["little room", "room"])
def test_a_write_refused_by_another_programs_lock_names_that_program_whatever_the_room(
    tiny_filesystem, monkeypatch, language, leaving
):
    """A backup, an erasure or a technician's ``sqlite3`` holding the write lock: on a nearly full card
    the refused write said "the disk is full, and the sync worker holds the records alone", of a worker
    that held nothing, and sent the technician to free space that would not have freed the lock; on a
    card with room, "the records cannot be opened", a folder, a disk or a card at fault. Both now name
    the process that holds them, and what to do, in the device's language."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.2)
    store = open_store(tiny_filesystem)
    if leaving is not None:
        filled(tiny_filesystem, leaving=leaving)
    with holding_the_lock(store.records.path) as holder:
        with pytest.raises(sqlite3.OperationalError) as refused, transaction(store.records.connection):
            pass
        problem = records_problem(store.records.path, refused.value)
        said = records_unusable(problem)
    store.records.close()
    assert not isinstance(problem, DiskFull) and "sync worker" not in str(problem), problem
    assert (said.message_key, said.values["pid"]) == ("health.writable.locked_by", holder.pid), said
    named = {"program": "backup-tool", "pid": holder.pid, "seconds": WAITED[language]}
    assert check_sentence(said, language) == sentence("health.writable.locked_by", language, **named)


def test_a_refused_write_states_the_wait_it_used_not_the_one_an_opening_would_use_when_described(tmp_path, monkeypatch):
    """A write waits the busy timeout for another's lock; the refusal stated the wait an opening would
    pick when it was described (``HELD_ALONE_WAIT_S`` once another process held the records alone by
    then), not the wait used: "more than 0.1 s" of a write that waited 0.3. It carries the wait used."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.3)
    monkeypatch.setattr("firmware_app.records.database.HELD_ALONE_WAIT_S", 0.1)
    store = open_store(tmp_path)
    with holding_the_lock(store.records.path):
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError) as refused, transaction(store.records.connection):
            pass
        took = time.monotonic() - started
    store.records.close()
    with holding_the_lock(store.records.path, alone=True):
        problem = records_problem(store.records.path, refused.value)
        said = records_unusable(problem)
    assert took >= 0.3 and isinstance(problem, RecordsLocked), (took, problem)
    assert problem.waited_s == 0.3 and "for more than 0.3 s" in str(problem), problem
    assert said.values["seconds"] == 0.3, said


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_screening_refused_by_another_programs_lock_is_said_as_that_lock(tmp_path, retina_rgb, monkeypatch, language):
    """The screening's write, refused by a backup's lock, came out of the store as a bare ``RecordsError``
    ("the screening was not recorded: ..."), its cause's kind lost: the nurse's app and ``screen`` said
    "the records cannot be opened", a folder, a disk or a card at fault. The refusal keeps its kind."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.2)
    store = open_store(tmp_path)
    with holding_the_lock(store.records.path) as holder:
        with pytest.raises(RecordsError) as refused:
            record_one(store, small_photo(retina_rgb, 64))
        said = records_unusable(refused.value)
    store.records.close()
    assert (said.message_key, said.values["pid"]) == ("health.writable.locked_by", holder.pid), said
    named = {"program": "backup-tool", "pid": holder.pid, "seconds": WAITED[language]}
    assert check_sentence(said, language) == sentence("health.writable.locked_by", language, **named)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_command_is_told_at_once_who_holds_the_records_alone_on_a_disk_with_room(
    tiny_filesystem, retina_rgb, retina_jpeg, language
):
    """A process holding the records alone (exclusive locking mode: a technician's ``sqlite3``, or the
    sync worker not yet sharing them again) on a disk with room: a command, the nurse's app as it
    started, waited the whole busy timeout (30 s) to open them, then said "the records cannot be
    opened", a folder, a disk or a card at fault. It now says within a few seconds who holds them."""
    config = in_language(write_config(tiny_filesystem, port=1), language)
    store = open_store(tiny_filesystem)
    record_one(store, small_photo(retina_rgb, 64))
    store.records.close()
    with holding_the_lock(tiny_filesystem / "records.sqlite3", alone=True) as holder:
        screen, took = timed_edgescreen("screen", str(retina_jpeg), config=config)
    assert took < BUSY_TIMEOUT_S, f"the command took {took:.0f} s"  # on main: the busy timeout, and a start
    named = {"program": "backup-tool", "pid": holder.pid, "seconds": seconds(HELD_ALONE_WAIT_S, language)}
    assert screen.returncode == 5, screen.stderr
    assert f"edgescreen: {sentence('health.writable.locked_by', language, **named)}" in screen.stderr, screen.stderr


@pytest.mark.parametrize("language", ["en", "fr"])
def test_records_held_alone_where_the_kernels_lock_list_cannot_be_read_say_the_holder_is_not_known(
    tiny_filesystem, monkeypatch, language
):
    """Where /proc/locks cannot be read (a PID namespace, a hardened kernel), whoever holds the records
    alone cannot be told: the opening waits the busy timeout, as the shorter wait is not known to be
    safe, and the refusal said "`edgescreen doctor` names it", and the nurse "restart the device", of a
    holder nobody could name. Both now say it could not be told, and what may hold them on a full disk."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.4)
    monkeypatch.setattr("firmware_app.records.database.HELD_ALONE_WAIT_S", 0.1)
    monkeypatch.setattr("firmware_app.health.lock_holder.PROC_LOCKS", tiny_filesystem / "no-such-list")
    path = tiny_filesystem / "records.sqlite3"
    open_database(path).close()
    with holding_the_lock(path, alone=True):
        filled(tiny_filesystem)
        started = time.monotonic()
        with pytest.raises(RecordsLocked) as refused:
            open_database(path)
        took = time.monotonic() - started
        said = records_unusable(refused.value)
    assert took >= 0.4 and refused.value.waited_s == 0.4, took
    assert "cannot be read" in str(refused.value) and "doctor" not in str(refused.value), refused.value
    assert said.message_key == "health.writable.locked_unlisted", said
    expected = sentence("health.writable.locked_unlisted", language, seconds=seconds(0.4, language))
    assert check_sentence(said, language) == expected


@pytest.mark.parametrize("language", ["en", "fr"])
def test_records_held_alone_on_a_full_disk_by_another_program_name_it_not_the_sync_service(
    tiny_filesystem, monkeypatch, language
):
    """Whoever held the records alone on a disk with little room was "the sync service ... sending the
    results", a technician's ``sqlite3`` in exclusive mode too. The refusal names the process the
    kernel lists holding them, by its name and pid, in the device's language."""
    monkeypatch.setattr("firmware_app.records.database.HELD_ALONE_WAIT_S", 0.1)
    path = tiny_filesystem / "records.sqlite3"
    open_database(path).close()
    with holding_the_lock(path, alone=True) as holder:
        filled(tiny_filesystem)
        with pytest.raises(DiskFull) as refused:
            open_database(path)
        said = records_unusable(refused.value)
    assert f"backup-tool (process {holder.pid}) holds" in str(refused.value), refused.value
    assert "sync worker" not in str(refused.value), refused.value
    assert said.message_key == "health.records.held_alone_by", said
    named = {"program": "backup-tool", "pid": holder.pid}
    assert check_sentence(said, language) == sentence("health.records.held_alone_by", language, **named)


def test_a_worker_started_beside_a_long_write_on_a_nearly_full_disk_leaves_the_records_shared(
    tiny_filesystem, monkeypatch
):
    """A lock held past the busy timeout on a card with little room was taken for the shared memory a
    full disk refuses: the worker, after an update, waited out the nurse's app migrating the records
    and then held them alone, the app shut out of records that had room to share.

    The write ends once the worker's first try has waited out the busy timeout, as it falls back to
    holding them alone (``_open`` exclusive): then, not at a set time, which a loaded machine reached
    before the worker had even waited (the worker opened them shared and the test failed)."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.3)
    path = tiny_filesystem / "records.sqlite3"
    open_database(path).close()
    migrating = sqlite3.connect(path, isolation_level=None)
    migrating.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    migrating.execute("BEGIN IMMEDIATE")
    migrating.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    filled(tiny_filesystem, leaving=512 * 1024)
    opening = database._open

    def the_write_ends_as_the_worker_falls_back(
        opened: Path, wait: float, exclusive: bool = False
    ) -> sqlite3.Connection:
        if exclusive:
            migrating.execute("COMMIT")
            migrating.close()
        return opening(opened, wait, exclusive)

    monkeypatch.setattr(database, "_open", the_write_ends_as_the_worker_falls_back)
    try:
        with pytest.raises(RecordsError):
            open_database(path, alone=True).close()
    finally:
        migrating.close()
    assert not database.held_alone_here(path)


def test_commands_that_need_no_space_work_on_a_full_disk(tiny_filesystem, retina_rgb, retina_jpeg):
    config = write_config(tiny_filesystem, port=1)
    store = open_store(tiny_filesystem)
    record_one(store, small_photo(retina_rgb, 64))
    store.records.close()
    filled(tiny_filesystem)
    assert edgescreen("sync", "status", config=config).returncode == 0
    assert edgescreen("audit", "verify", config=config).returncode == 0
    screen = edgescreen("screen", str(retina_jpeg), config=config)
    assert screen.returncode == 5 and "Traceback" not in screen.stderr
    assert "disk is full" in screen.stderr or "Storage is full" in screen.stderr, screen.stderr


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_erasure_on_a_nearly_full_disk_says_the_disk_keeps_the_erased_data_not_a_reader(
    tiny_filesystem, retina_rgb, language
):
    """The erasure's own pages fit in the room left, but the checkpoint that takes them out of the
    write-ahead log must grow the records file by all the log holds, and fails. The command said
    another process was reading, and sent the technician to wait for a backup that was not running,
    where space must be freed."""
    config = in_language(write_config(tiny_filesystem, port=1), language)
    store = open_store(tiny_filesystem)  # the app's connection stays open: what it recorded stays in the log
    screenings_left_in_the_log(store, retina_rgb, "NIP-1")
    filled(tiny_filesystem, leaving=ROOM_FOR_AN_ERASURE)
    erased = edgescreen("erase", "--patient", "NIP-1", config=config)
    assert erased.returncode == 0, erased.stderr
    said = erased.stdout.splitlines()
    assert message_text("erase.left_on_disk.full", language) in said
    assert message_text("erase.left_on_disk.reader", language) not in said
    assert store.records.meta(OWED) is not None  # what it says is so: the erased pages are still in the log
    (tiny_filesystem / "filler").unlink()  # space freed: the next screening takes them out, as it says
    record_one(store, small_photo(retina_rgb, 64))
    assert store.records.meta(OWED) is None
    store.records.close()


def test_a_screening_refused_for_space_is_said_in_the_devices_language_its_detail_logged(tmp_path, retina_jpeg):
    """`screen` put the refusal's English detail (free space, the reserve, what to delete) in parentheses
    after the French sentence. The photo and the sentence alone now, the detail in the `screen.refused`
    log line; no photo was left unscreened besides it, so no stop is said."""
    config = write_config(tmp_path, port=1)
    config.write_text(config.read_text().replace("disk_reserve_mb = 0", "disk_reserve_mb = 1000000"))
    open_store(tmp_path).records.close()
    screen = edgescreen("screen", str(retina_jpeg), config=in_language(config, "fr"))
    assert screen.returncode == 5, screen.stderr
    (said,) = said_lines(screen.stderr)
    assert said == f"edgescreen: {retina_jpeg}: {message_text('records.storage_full', 'fr')}"
    (logged,) = [line for line in screen.stderr.splitlines() if "screen.refused" in line]
    assert "MiB free" in logged and "disk_reserve_mb" in logged


def test_a_read_only_database_gives_clean_errors_and_still_reads(tiny_filesystem, retina_rgb, retina_jpeg):
    config = write_config(tiny_filesystem, port=1)
    store = open_store(tiny_filesystem)
    record_one(store, small_photo(retina_rgb, 64))
    store.records.close()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    for command in (["screen", str(retina_jpeg)], ["sync", "run", "--until-drained"]):
        run = edgescreen(*command, config=config)
        assert run.returncode == 5 and "Traceback" not in run.stderr, run.stderr  # on main: tracebacks
        assert "records cannot be written" in run.stderr, run.stderr
    status = edgescreen("sync", "status", "--json", config=config)
    assert status.returncode == 0 and json.loads(status.stdout)["backlog"] == 1, status.stderr
    assert edgescreen("audit", "verify", config=config).returncode == 0


def logged(caplog, event: str) -> int:
    return sum(event in record.getMessage() for record in caplog.records)


def test_acknowledged_results_are_not_sent_again_while_the_disk_is_full(tiny_filesystem, retina_rgb, caplog):
    # A verdict that cannot be stored on a full disk makes the worker reconnect to have it again,
    # several times a second; results the broker acknowledged, which cannot be marked sent yet, must
    # not go out again on each of those connections (nor pile up again for the marking).
    port, config, recorded, broker = five_results_and_a_session_waiting_for_them(tiny_filesystem, retina_rgb)
    worker = BackgroundWorker(config)  # started while it can still record its start
    try:
        wait_until(lambda: "disconnected" in edgescreen("sync", "status", config=config).stdout, 20, "no broker")
        filled(tiny_filesystem)
        broker.start()
        tap = Tap(port, client_id="disk-full-tap")
        wait_until(lambda: len(tap.on("/result")) >= 5, 20, "the results sent from a full disk")
        publish(port, device_topic(DEVICE.site, DEVICE.id, REVIEW), [review(recorded[0])])
        wait_until(lambda: logged(caplog, "sync.review_not_stored") >= 5, 20, "the worker reconnecting for it")
        # On main: each result once per connection (dozens of times here).
        assert sorted(json.loads(p)["result_id"] for p in tap.on("/result")) == sorted(recorded)
        (tiny_filesystem / "filler").unlink()
        wait_until(lambda: len(tap.on("/review_ack")) == 1, 20, "the verdict stored once there is room")
        wait_until(
            lambda: json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["sent"] == 5,
            20,
            "the sends recorded once there is room",
        )
        assert len(tap.on("/result")) == 5
        tap.close()
    finally:
        worker.stop()
        broker.stop()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_model_install_onto_a_full_disk_is_refused_and_leaves_nothing_behind(tmp_path, tiny_filesystem, language):
    """The copy used to fail with a traceback and leave its half-copied bundle, one more per retry, on
    the disk the records' reserve is kept on; the active model stays whole either way. Then it said
    "cannot be copied into" followed by 2 KB of copytree's list of errors, in English: now one sentence
    in the device's language, the disk full and what the bundle needs there."""
    installed, bundle = tiny_filesystem / "installed", MODELS_DIR / "dr-referable"
    trusted = MODELS_DIR / "trusted-keys"
    config = write_config(tmp_path, 1, f'[models]\ndirectory = "{installed}"\ntrusted_keys = "{trusted}"\n')
    in_language(config, language)
    assert edgescreen("models", "install", str(MODELS_DIR / "melanoma"), config=config).returncode == 0
    filled(tiny_filesystem)
    run = edgescreen("models", "install", str(bundle), config=config)
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr
    assert "Errno" not in run.stderr, run.stderr  # on main: copytree's list of each file's error
    needed = math.ceil(sum(path.stat().st_size for path in bundle.rglob("*") if path.is_file()) / 2**20)
    said = sentence("models.no_room", language, bundle=str(bundle), needed=needed, folder=str(installed))
    assert run.stderr.splitlines()[-1] == f"edgescreen: {said}", run.stderr
    assert not list((installed / ".bundles").glob(".tmp-*"))
    assert active_manifest(installed, "dr-referable") is None
    assert active_manifest(installed, "melanoma").version == read_manifest(MODELS_DIR / "melanoma").version


@pytest.mark.parametrize("language", ["en", "fr"])
def test_models_clean_damaged_frees_a_full_disk_the_records_are_on_then_audits_it(tmp_path, tiny_filesystem, language):
    """``models --clean-damaged`` is how a technician frees the megabytes a repair kept, and a full card is
    when they are wanted: it opened the records to audit the cleaning before removing anything, and on a
    card too full for the records to open it stopped there (exit 5, the disk full), the damaged copy
    kept. It removes first, then audits in the room it made."""
    installed, bundle = tiny_filesystem / "installed", MODELS_DIR / "melanoma"
    trusted = MODELS_DIR / "trusted-keys"
    config = write_config(tiny_filesystem, 1, f'[models]\ndirectory = "{installed}"\ntrusted_keys = "{trusted}"\n')
    in_language(config, language)
    store = open_store(tiny_filesystem)
    store.records.close()
    assert edgescreen("models", "install", str(bundle), config=config).returncode == 0
    (installed / "melanoma" / "manifest.json").unlink()
    assert edgescreen("models", "install", str(bundle), config=config).returncode == 0  # a repair keeps the copy
    (damaged,) = (installed / ".bundles").glob(".damaged-*")
    filled(tiny_filesystem)

    run = edgescreen("models", "--clean-damaged", config=config)
    assert run.returncode == 0, run.stderr  # on main: 5, the records on a full disk
    assert not damaged.exists()
    (cleaning,) = [change for change in model_changes(tiny_filesystem) if change["action"] == "clean_damaged"]
    assert cleaning["removed"] == [damaged.name]
