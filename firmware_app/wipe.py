"""``edgescreen wipe``: make what a device kept about patients unreadable before it leaves a clinic
(decommissioned, sold, sent for repair, or re-assigned to another site).

The key goes first (crypto-erase): its file is overwritten in place with random bytes, flushed,
then removed. Every sealed value (patient references, notes, photos), wherever a copy of it lies
(the records' freed pages, an old WAL, a backup on a USB drive), is then unreadable for good, even
if the steps after it are cut short. ``rm`` alone frees the key's blocks with the key still in them:
a copy of the card found it in 0.4 s. Then every file in the records' folder (the records, their
WAL and shared memory, a restore's staged copy, backups and old records a technician put there)
is overwritten with zeros in place, flushed and removed; the installed models, which identify
nobody, stay, so a re-assigned device still starts.

What no program can promise on flash: an SD card or an SSD maps each write to fresh cells
(wear-levelling) and keeps the old ones until it reuses them, and a copy-on-write or log-structured
file system (btrfs, f2fs) writes an overwrite elsewhere too. The overwrite defeats a copy of the
card taken through its block device (``dd``, what the review's carving read); only full-disk
encryption with a key not on the card, or destroying the card, defeats reading the chips
themselves. ``scripts/install-device --purge`` runs this, then ``fstrim`` (README, "A lost or
stolen device").
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware_app.config import PROJECT_ROOT
from firmware_app.durable import fsync_directory
from firmware_app.events import log_event
from firmware_app.records.database import RecordsError, RequestRefused, present
from firmware_app.records.outbox import Outbox
from firmware_app.records.presence import RecordsGone, marked
from firmware_app.records.store import Records
from firmware_app.sync.lock import WorkerLock

CHUNK = 1 << 20


@dataclass(frozen=True)
class Wiped:
    """What a wipe did: whether the key was crypto-erased, the files overwritten and removed, the ones
    it could not erase (with why), and the folder left in place (the installed models)."""

    key_erased: bool
    files: int
    failed: tuple[str, ...]
    kept: Path | None
    # The records could not be read (``_queued_erasures``): any erasure request they held is gone unsent.
    erasures_unread: bool = False


def _overwrite(path: Path, fill: Callable[[int], bytes]) -> None:
    """Write over ``path``'s bytes in place (no truncation: the same blocks), flush, then remove it."""
    size = path.stat().st_size
    with path.open("r+b", buffering=0) as file:
        for start in range(0, size, CHUNK):
            file.write(fill(min(CHUNK, size - start)))
        os.fsync(file.fileno())
    path.unlink()


def _erase(path: Path, fill: Callable[[int], bytes], failed: list[str]) -> bool:
    """Overwrite and remove one file (a link is removed, never followed); ``False`` and why, in
    ``failed``, when it cannot be."""
    try:
        if path.is_symlink() or not path.is_file():
            path.unlink()
        else:
            _overwrite(path, fill)
    except FileNotFoundError:
        return False
    except OSError as error:
        failed.append(f"{path}: {error.strerror or error}")
        return False
    return True


def _files(folder: Path, keep: Path | None) -> Iterator[Path]:
    """Every file under ``folder`` but those under ``keep``; links are listed, never followed."""
    for directory, subfolders, names in os.walk(folder, topdown=True):
        subfolders[:] = [name for name in subfolders if keep is None or Path(directory, name) != keep]
        yield from (Path(directory, name) for name in names)


def _remove_empty_folders(folder: Path, keep: Path | None) -> None:
    for directory, _, _ in sorted(os.walk(folder), key=lambda entry: -len(entry[0])):
        path = Path(directory)
        if path != folder and (keep is None or not keep.is_relative_to(path)):
            try:
                path.rmdir()
            except OSError:
                continue  # holds what could not be erased: named in ``failed`` already


def _refuse_shared_folder(folder: Path) -> None:
    """The records' folder is wiped whole, so it must be theirs alone: never the code's or a home."""
    resolved = folder.resolve()
    if PROJECT_ROOT.resolve().is_relative_to(resolved) or resolved == Path.home().resolve():
        raise RequestRefused.saying("refused.wipe_shared_folder", folder=str(folder))


def _queued_erasures(database: Path, key_file: Path) -> int | None:
    """The patients' erasure requests the broker has not taken yet (``records/erasure_outbox.py``): the
    records are their one copy, so a wipe would leave the station those patients' results for good.
    ``None`` for records that cannot be read (damaged; a missing key does not stop this read, which opens
    no sealed value): a device must still be wiped before it leaves, and the wipe says what that loses
    (``Wiped.erasures_unread``)."""
    if not present(database):
        return 0
    try:
        records = Records(database, key_file, read_only=True, must_exist=True)
        try:
            return Outbox(records).backlog().erasure_requests
        finally:
            records.close()
    except (RecordsError, sqlite3.Error) as error:  # opening them, or reading the requests
        log_event("wipe.erasures_unread", logging.WARNING, error=error)
        return None


def wipe(database: Path, key_file: Path, models: Path | None, marker: Path | None = None) -> Wiped:
    """Crypto-erase ``key_file``, then overwrite and remove every file in ``database``'s folder but
    the ``models`` folder, and last the ``marker`` naming the records, wherever it is kept (left, a
    re-assigned device's first start would be refused as records gone); refused while this device's
    sync worker runs (it would write on), while patients' erasures wait to be sent to the review
    station (``_queued_erasures``), and while the marker names records gone with their key (a
    records drive not mounted): the wipe erased nothing of them then, yet removed the marker and said
    it was done, and the device's next start made new records over the drive's mount point."""
    folder = database.parent
    _refuse_shared_folder(folder)
    if not present(database) and not key_file.exists() and marked(marker, database):
        raise RecordsGone.saying("refused.wipe_records_gone", path=str(database), marker=str(marker))
    lock = WorkerLock(database)
    if folder.is_dir() and not lock.acquire():
        raise RequestRefused.saying("refused.wipe_worker_running")
    try:
        queued = _queued_erasures(database, key_file)
        if queued:
            raise RequestRefused.saying("refused.wipe_erasures_queued", count=queued)
        failed: list[str] = []
        key_copies = [key_file, *key_file.parent.glob(f".{key_file.name}.*.tmp")]  # a key being created
        key_erased = sum(_erase(path, os.urandom, failed) for path in key_copies) > 0
        if key_file.parent.is_dir():
            fsync_directory(key_file.parent)
        keep = models.resolve() if models is not None and models.resolve().is_relative_to(folder.resolve()) else None
        files = 0
        if folder.is_dir():
            files = sum(_erase(path, bytes, failed) for path in _files(folder.resolve(), keep))
            _remove_empty_folders(folder.resolve(), keep)
            fsync_directory(folder)
        if marker is not None and marker.exists():
            _erase(marker, bytes, failed)
    finally:
        lock.release()
    return Wiped(key_erased, files, tuple(failed), keep, erasures_unread=queued is None)
