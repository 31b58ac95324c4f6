"""An erasure while another connection reads (a backup): its checkpoint must not keep the nurse out.

A TRUNCATE checkpoint holds SQLite's write lock for as long as it waits for readers, and it waited its
whole busy timeout (30 s on the device) for a backup's read: a screening recorded meanwhile waited as
long, and back-to-back erasures outlasted its own busy timeout ("database is locked"). The erased
pages must still leave the write-ahead log once the reader is gone, and until then nobody is told
they have.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest

from firmware_app.backup import backup
from firmware_app.config import load_config
from firmware_app.messages import message
from firmware_app.records import database
from firmware_app.records.database import RequestRefused
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.store import ScreeningStore
from firmware_app.sync.worker import SyncWorker
from tests.records.kit import (
    in_language,
    open_store,
    read_held,
    reading,
    record_one,
    sample_record,
    small_photo,
    write_config,
)
from tests.records.test_store import pieces, raw_bytes
from tests.test_cli import edgescreen


@pytest.fixture(scope="module")
def photo(retina_rgb):
    return small_photo(retina_rgb)


def erased_values(store: ScreeningStore, result_id: str) -> list[bytes]:
    """What an erasure of ``result_id`` must take off the disk: its sealed photo and patient reference."""
    db, where = store.records.connection, (result_id,)
    sealed = [bytes(r[0]) for r in db.execute("SELECT sealed FROM image WHERE result_id = ?", where)]
    return sealed + [bytes(r[0]) for r in db.execute("SELECT patient_sealed FROM screening WHERE result_id = ?", where)]


def write_lock_held(probe: sqlite3.Connection) -> bool:
    """Whether another connection holds SQLite's write lock: ``probe`` (a busy timeout of 0) is refused a
    write transaction at once. Taken, it is given back at once: a writer it delayed waits a millisecond."""
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # database is locked
        return True
    probe.execute("ROLLBACK")
    return False


def test_a_screening_during_an_erasure_under_a_backups_read_ends_with_the_erasure_while_it_reads(
    tmp_path, monkeypatch, photo
):
    """The screening starts once the erasure's checkpoint holds the write lock, seen through SQLite: a
    checkpoint waiting a busy timeout for the reader keeps it waiting that long however slow the
    machine (a fixed pause before it let a slow erasure start after the screening, which then waited
    for nothing). Every busy timeout here outlasts the read's hang guard (``read_held``), so a
    checkpoint that waited its busy timeout for the reader would end, and the screening after it,
    only once the read had: both end while it still reads."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 120.0)  # the device's 30 s, longer than the guard
    store = open_store(tmp_path)
    erased = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-9", eye="L")))
    sealed = erased_values(store, erased.result_id)
    probe = sqlite3.connect(store.records.path, isolation_level=None, timeout=0)
    checkpointing, over = threading.Event(), threading.Event()
    erasures: list[bool] = []

    def on_statement(statement: str) -> None:  # the erasure is committed once its checkpoint starts
        if statement.startswith("PRAGMA wal_checkpoint"):
            checkpointing.set()

    def erase() -> None:  # the technician's `edgescreen erase`, in its own process (its own connection)
        try:
            eraser = open_store(tmp_path)
            eraser.records.connection.set_trace_callback(on_statement)
            erasures.append(eraser.erase_patient("MRN-9").left_on_disk is not None)
            eraser.records.close()
        finally:
            over.set()

    with read_held(store.records.path) as read_ended:  # the backup's one read
        erasing = threading.Thread(target=erase)
        erasing.start()
        # Until the checkpoint has the lock, or the erasure is over (the fix gives the lock back within
        # READER_WAIT_S, which a descheduled test may miss; a checkpoint waiting a busy timeout cannot be missed).
        while not (checkpointing.is_set() and write_lock_held(probe)) and not over.wait(0.001):
            pass
        record_one(store, photo)  # the nurse's screening
        erasing.join()
        probe.close()
        assert not read_ended.is_set()  # the screening and the erasure ended while the backup read
        assert erasures == [True]  # said to whoever erased: the pages are still in the WAL
        assert any(piece in raw_bytes(tmp_path) for piece in pieces(sealed))
    backup(store, tmp_path / "backup.sqlite3")  # the backup, done reading, folds the erased pages out
    assert store.records.meta("erased_pages_in_wal") is None
    assert not any(piece in raw_bytes(tmp_path) for piece in pieces(sealed))


def test_pages_an_erasure_left_under_a_reader_leave_the_disk_at_the_sync_workers_maintenance(tmp_path, photo):
    """A device nobody screens with after the erasure (the end of a campaign day) still gets them out."""
    store = open_store(tmp_path)
    erased = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-9", eye="L")))
    sealed = erased_values(store, erased.result_id)
    reader = reading(store.records.path)
    assert store.erase_patient("MRN-9").left_on_disk
    reader.execute("COMMIT")
    reader.close()
    config = load_config(str(write_config(tmp_path, port=1)))
    worker = SyncWorker(Outbox(store.records), store, config.sync, config.device, timedelta(days=30), threading.Event())
    worker.maintain()
    assert store.records.meta("erased_pages_in_wal") is None
    assert not any(piece in raw_bytes(tmp_path) for piece in pieces(sealed))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_technician_is_told_what_takes_the_erased_pages_off_the_disk(tmp_path, photo, language):
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-9", eye="L")))
    reader = reading(store.records.path)
    try:  # not waiting out the checkpoint's busy timeout: the test of a screening during an erasure's
        erased = edgescreen("erase", "--patient", "MRN-9", config=config)
    finally:
        reader.close()
    assert erased.returncode == 0, erased.stderr
    assert message("erase.left_on_disk.reader", language) in erased.stdout.splitlines()


def test_a_backup_whose_copy_fails_still_takes_the_erased_pages_off_the_disk(tmp_path, photo):
    """The backup pays an erasure's debt once its read is over: it did only when the copy succeeded, so a
    backup to a stick that was not mounted left the erased patient in the write-ahead log."""
    store = open_store(tmp_path)
    erased = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-9", eye="L")))
    sealed = erased_values(store, erased.result_id)
    reader = reading(store.records.path)
    assert store.erase_patient("MRN-9").left_on_disk
    reader.close()
    with pytest.raises(RequestRefused):
        backup(store, tmp_path / "usb-not-mounted" / "backup.sqlite3")
    assert store.records.meta("erased_pages_in_wal") is None  # on main: still owed
    assert not any(piece in raw_bytes(tmp_path) for piece in pieces(sealed))
