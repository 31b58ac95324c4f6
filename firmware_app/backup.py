"""Backup and restore of the records with SQLite's online backup API.

The backup API copies a consistent snapshot in one read of the records while the app and the sync
worker keep writing (WAL readers never block writers), so a backup needs no downtime; a snapshot a
patient's erasure overtook still holds that patient, so it is copied again (``COPIES``). The records key is never
in a backup: the images and the sealed fields in it stay unreadable without the key file, which is
kept apart (README, "Backup"). A restore refuses anything that would lose data or that could not be
read afterwards: an existing database, a damaged backup, a broken audit chain, another key; and
a backup of another device (or site) unless this device is told it replaces that one. A photo whose
sealed bytes changed on a worn card refuses nothing: the backup and the restore name it, and every
other screening comes back (refusing the whole backup for one photo would lose them all). A backup
holds the patients erased after it was taken: its restore erases them again, from the ledger of the
erasures this device made (records/erasure_ledger.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path

from firmware_app.durable import fsync_directory, rename_without_replacing
from firmware_app.events import log_event
from firmware_app.file_system import MOUNTINFO, largest_file
from firmware_app.records.audit import append_event, verify_chain
from firmware_app.records.database import (
    RecordsError,
    RequestRefused,
    database_files,
    output_problem,
    records_problem,
    refuse_a_folder,
    transaction,
)
from firmware_app.records.erased_pages import pay_checkpoint
from firmware_app.records.erasure_ledger import ErasureEntry, ledger_path, read_ledger
from firmware_app.records.identity import Identity, made_under
from firmware_app.records.open_visits import close_lost_visits
from firmware_app.records.outbox import Outbox
from firmware_app.records.sealed_values import photos_that_do_not_open
from firmware_app.records.sealing import Sealer
from firmware_app.records.store import (
    KEY_CHECK,
    LEGACY_KEY_FINGERPRINT,
    Erasure,
    OutboxLimits,
    Records,
    ScreeningStore,
)
from firmware_app.records.witness import (
    Witness,
    current,
    read_witness,
    screenings_recorded,
    witness_path,
    write_witness,
)
from firmware_app.records.worklist import RESTORED
from firmware_app.wording import gigabytes

# When the records were last backed up (meta; records/database.py's migration seeds it from the audit).
LAST_BACKUP = "last_backup"

# How old a partial copy of another boot's or another machine's must be to be taken for abandoned: its
# process number means nothing here, so only its age tells; a copy at work is written to all along.
ABANDONED_AFTER = 24 * 3600

# What says whose a partial copy is (``_whose``), and what its name holds for a part that cannot be read.
MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
PID_NAMESPACE = "/proc/self/ns/pid"
UNKNOWN = "unknown"

# How many copies a backup makes when patients are erased while it copies: each copy holds the records
# of the moment its read began, so one an erasure overtook still holds that patient and is thrown away.
COPIES = 3


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    screenings: int
    images: int
    audit_events: int
    # When the backup was taken (its newest audit event, the backup's own): a restore holds nothing later.
    taken_at: str | None = None
    # The device and site the restored records were made under (records/identity.py).
    identity: Identity | None = None
    # The results whose photo does not open with the key: damaged on the card (``photos_that_do_not_open``).
    damaged_photos: tuple[str, ...] = ()
    # Screenings the device's witness counted that the restored records do not hold (records/witness.py).
    not_restored: int = 0
    # The erasures made after the backup was taken that the restore made again (records/erasure_ledger.py).
    erased_again: tuple[Erasure, ...] = ()


def _counts(connection: sqlite3.Connection) -> tuple[int, int]:
    screenings = connection.execute("SELECT count(*) FROM screening").fetchone()[0]
    return screenings, connection.execute("SELECT count(*) FROM image").fetchone()[0]


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Snapshot ``source`` into a new file at ``target`` (``_partial_copy``), renamed there only when
    whole, never over a file there (``rename_without_replacing``): a copy not placed is removed."""
    partial = _partial_copy(source, target)
    try:
        rename_without_replacing(partial, target)
    except BaseException:
        _remove(partial)
        raise
    fsync_directory(target.parent)


def _partial_copy(source: sqlite3.Connection, target: Path) -> Path:
    """Snapshot ``source`` into a new private file beside ``target``, flushed, under a name of its own
    (``_partial_name``): under one name for every copy to ``target``, the second of two at once (two
    backups to one --out, two restores) removed the first's copy to make its own, and the first put
    that one, empty, in place. A copy cut short (a full drive) is removed: it holds the patients' data.
    The copies killed backups and restores left first go (``_remove_abandoned_copies``)."""
    here = _whose()
    _remove_abandoned_copies(target, here)
    partial = _partial_name(target, here, os.getpid())
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        _snapshot(source, partial)
    except BaseException:
        _remove(partial)
        raise
    return partial


def _fingerprint(read: Callable[[], str]) -> str:
    """8 hex digits of what ``read`` gives, or ``UNKNOWN`` when it cannot be read (a seccomp filter, a
    hardened /proc, no machine-id): the copy is then judged by its age alone, and the backup goes on."""
    try:
        return hashlib.sha256(read().strip().encode()).hexdigest()[:8]
    except OSError:
        return UNKNOWN


def _machine_id() -> str:
    """The machine's id: systemd's, else D-Bus's where an older system keeps it. An empty one (an
    image's, or a container's, not yet given its own) is the same on many machines: none."""
    for path in MACHINE_ID_FILES:
        with suppress(FileNotFoundError):
            if re.fullmatch("[0-9a-f]{32}", machine := path.read_text().strip()):
                return machine
    raise FileNotFoundError(f"no machine id in {' or '.join(map(str, MACHINE_ID_FILES))}")


def _whose() -> tuple[str, str, str]:
    """Whose copy one makes here: this machine, this boot of it, and the pid namespace its process
    numbers belong to (a container sharing the folder has its own); each ``_fingerprint``."""
    return (
        _fingerprint(_machine_id),
        _fingerprint(BOOT_ID.read_text),
        _fingerprint(partial(os.readlink, PID_NAMESPACE)),
    )


def _partial_name(target: Path, here: tuple[str, str, str], pid: int) -> Path:
    """``.NAME.MACHINE.BOOT.NAMESPACE.PID.RANDOM.partial``: whose copy it is, in the name itself, for the
    next backup or restore to tell an abandoned copy from one at work without a lock (network drives,
    where backups go, break SQLite's writes under one); no other copy has it (random, and O_EXCL)."""
    return target.with_name(f".{target.name}.{'.'.join(here)}.{pid}.{secrets.token_hex(4)}.partial")


def _remove_abandoned_copies(target: Path, here: tuple[str, str, str]) -> None:
    """Remove, with their journals, the partial copies beside ``target`` whose backup or restore surely
    died (``_abandoned``, judged against ``here``, ``_whose``): the patients' data under a name nobody
    looks at. This machine's are judged whatever backup they were for: a dated name is never given
    again, so a copy a power cut left under it would otherwise stay. Another machine's only under
    ``target``'s name, whose backups it shares. One that cannot be removed stops nothing; an older
    release's ``.NAME.partial`` goes too, as that release removed it."""
    part = f"(?:[0-9a-f]{{8}}|{UNKNOWN})"
    copy = re.compile(rf"\.(.+)\.({part})\.({part})\.({part})\.(\d+)\.[0-9a-f]{{8}}\.partial")
    for path in target.parent.glob(".*.partial"):
        if path.name == f".{target.name}.partial":  # an older release's
            abandoned = True
        elif name := copy.fullmatch(path.name):
            whose = (name[2], name[3], name[4])
            ours = UNKNOWN != here[0] == whose[0]
            abandoned = (name[1] == target.name or ours) and _abandoned(path, here, whose, int(name[5]))
        else:
            abandoned = False
        if abandoned:
            with suppress(OSError):  # not ours to remove (another user's): the copy is still made
                _remove(path)


def _abandoned(path: Path, here: tuple[str, str, str], whose: tuple[str, str, str], pid: int) -> bool:
    """Whether the copy at ``path`` made by process ``pid`` of ``whose`` (``_whose``) is surely no longer
    written. Made in this boot and pid namespace: its process is gone. Made on this machine in an
    earlier boot: always (a power cut, or a reboot, ended it). Otherwise (another machine, another
    container, or whose it is unknown), its process number means nothing here: it has not been written
    to for ``ABANDONED_AFTER``."""
    if UNKNOWN not in here and whose == here:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # another user's process: alive
        return False
    if UNKNOWN != here[0] == whose[0] and UNKNOWN not in (here[1], whose[1]) and whose[1] != here[1]:
        return True
    try:
        return time.time() - path.lstat().st_mtime > ABANDONED_AFTER
    except FileNotFoundError:
        return False  # removed since by another backup


def _snapshot(source: sqlite3.Connection, path: Path) -> None:
    """Copy ``source`` into the empty file ``path``, as one self-contained file, flushed.

    In one step: a copy made in steps starts over whenever another connection commits between two of
    them (the app recording, the sync worker marking a result sent), so the gigabytes of a campaign's
    records on a slow stick, copied from a device at work, might never finish. One step is one read
    of the records (WAL: the writers go on; the WAL waits for the copy to fold back, which
    ``erased_pages`` is made for, and ``backup`` pays)."""
    destination = sqlite3.connect(path)
    try:
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        destination.close()
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _check(path: Path, connection: sqlite3.Connection) -> tuple[int, int, int]:
    """Integrity, audit chain and counts of a backup file, or a ``RecordsError`` saying what is wrong."""
    try:
        answer = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if answer != "ok":
            raise RecordsError(f"{path}: the backup is damaged ({answer})")
        chain = verify_chain(connection)
        screenings, images = _counts(connection)
    except sqlite3.DatabaseError as error:
        raise RecordsError(f"{path}: not an EdgeScreen records backup ({error})") from error
    if not chain.intact:
        raise RecordsError(f"{path}: the backup's audit log is broken at event {chain.first_bad}: {chain.problem}")
    return screenings, images, chain.events


def backup(store: ScreeningStore, out: Path, mountinfo: Path = MOUNTINFO) -> BackupSummary:
    """Write a consistent copy of the records to ``out`` (never over an existing file, even one made there
    while it copies: ``rename_without_replacing``). Only a backup
    that was written and checked is audited; one that cannot be audited is removed, since every
    copy of the patients' data must be in the audit log. A copy the drive's file system cannot hold
    (FAT32, past 4 GiB) is refused before it starts, in the device's language: half an hour of copying would
    otherwise end in "disk I/O error" (README, "Backup"). A copy a patient's erasure overtook is made
    again, ``COPIES`` times at most, then the backup is refused: it never holds a patient erased before it."""
    refuse_a_folder(out, f"records-{date.today().isoformat()}.sqlite3")
    if out.exists():
        raise RequestRefused.saying("backup.out_exists", path=str(out))
    connection = store.records.connection
    largest, size = largest_file(out.parent, mountinfo), _size_of(connection)
    if largest is not None and size > largest:
        raise _too_large(out, size)
    try:
        for _ in range(COPIES):
            if summary := _copy_unless_overtaken(store, out):
                return summary
        raise RequestRefused.saying("backup.erasures_overtook", path=str(out), copies=COPIES)
    finally:
        # An erasure made during a copy left its pages in the WAL, waiting for the copy's read to end: now,
        # whether the backup was made or not.
        pay_checkpoint(store.records, wait=True)


def _copy_unless_overtaken(store: ScreeningStore, out: Path) -> BackupSummary | None:
    """A copy at ``out``, checked and audited; ``None``, and no copy left, when a patient was erased
    after the copy's newest event: the copy would give the technician a patient the device erased."""
    try:
        _copy(store.records.connection, out)
    except FileExistsError:  # made there since ``backup`` checked: another backup to that name, a copy
        raise RequestRefused.saying("backup.out_exists", path=str(out)) from None
    except (OSError, sqlite3.Error) as error:  # the backup's own drive: missing, read-only or full
        raise output_problem(out, error) from error
    try:
        summary = _summary_of(out, store.records.sealer)
        noted = _note_backup(store.records, summary.audit_events)
    except BaseException:
        out.unlink()
        raise
    if noted:
        return summary
    out.unlink()
    return None


def _size_of(connection: sqlite3.Connection) -> int:
    """The size of the backup file of the records ``connection`` opens: their pages, as the copy writes them."""
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    return pages * connection.execute("PRAGMA page_size").fetchone()[0]


def _too_large(out: Path, size: int) -> RequestRefused:
    return RequestRefused.saying("backup.too_large_for_fat", path=str(out), size=partial(gigabytes, size))


def _note_backup(records: Records, copied_events: int) -> bool:
    """The backup in the audit log and, in the same transaction, as the records' last backup; unless an
    erasure that removed screenings came after the copy's ``copied_events`` (its newest event's seq: the
    chain numbers them from 1; a mistyped reference's erasure removed none). Checked in the transaction
    that audits the backup, which holds the write lock: every erasure before the backup's event in the
    log is one the copy holds. Refused by the records (another process's lock, their full disk), it is
    raised by that kind (``records_problem``), as any command's write is: not the copy's fault."""
    try:
        with transaction(records.connection):
            overtaken = (
                "SELECT 1 FROM audit WHERE seq > ? AND kind = 'erasure' AND json_extract(details, '$.results') > 0"
            )
            if records.connection.execute(overtaken, (copied_events,)).fetchone():
                return False
            now = records.clock()
            append_event(records.connection, "export", {"scope": "backup"}, now)
            records.set_meta(LAST_BACKUP, now.isoformat())
    except sqlite3.Error as error:
        raise records_problem(records.path, error) from error
    return True


def last_backup(records: Records) -> datetime | None:
    """When the records were last backed up (by this device's clock); ``None`` if never."""
    value = records.meta(LAST_BACKUP)
    return datetime.fromisoformat(value) if value else None


def _summary_of(backup_file: Path, sealer: Sealer) -> BackupSummary:
    """What a backup file holds, once it proved whole (``_check``), and which of its photos do not open."""
    copy = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        screenings, images, events = _check(backup_file, copy)
        damaged = photos_that_do_not_open(copy, sealer)
    finally:
        copy.close()
    return BackupSummary(backup_file, screenings, images, events, damaged_photos=_results_of(damaged))


def _made_by(backup_file: Path, source: sqlite3.Connection) -> Identity | None:
    try:
        return made_under(source)
    except (sqlite3.DatabaseError, ValueError, KeyError) as error:
        raise RecordsError(f"{backup_file}: not an EdgeScreen records backup ({error!r})") from error


def _refuse_another_device(backup_file: Path, made_by: Identity | None, here: Identity, replacing: str | None) -> None:
    """A backup belongs to the device and site it was made under: restored on another, its queued
    results would name one device on another's topic (quarantined at the station for good), and its
    patients would be read at another site. Only a replacement of that very device takes it, told so."""
    if made_by is None or made_by == here or replacing == made_by.device:
        return
    told = f"--replacing {replacing} names another device; " if replacing else ""
    raise RequestRefused(
        f"{backup_file}: the backup was made by {made_by}, and this device's config says {here}. {told}If this "
        f"device replaces {made_by.device}, restore with --replacing {made_by.device} (it then takes that device's "
        f"ids); a device of another site must not hold {made_by.site}'s patients. Nothing was restored"
    )


def restore(
    backup_file: Path, database: Path, key_file: Path, here: Identity, replacing: str | None = None
) -> BackupSummary:
    """Restore a backup as ``database`` once it proved whole, was made under this device's ids
    ``here`` (or the device it is ``replacing``), and every image in it opened with ``key_file``'s
    key; until then it sits beside, under a name nothing opens. The erasures this device made after
    the backup was taken are made again in it (its ledger, records/erasure_ledger.py), whichever device
    made the backup: a result id names one screening, so an erasure of other records erases nothing. A
    mistyped path is said first: the technician told to put the key back would learn only then that the
    file was never there."""
    if not backup_file.is_file():
        raise RequestRefused.saying("refused.restore_no_backup", path=str(backup_file))
    if present := [path.name for path in database_files(database) if path.exists()]:
        raise RequestRefused.saying("refused.restore_records_exist", path=str(database), files=", ".join(present))
    if not key_file.is_file():
        raise RequestRefused.saying("refused.restore_no_key", file=str(key_file))
    ledger = _erasures_made_here(database)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        screenings, images, events = _check(backup_file, source)
        # Without a key check (records older than it) any key opens the records: the photos tell.
        unchecked = source.execute("SELECT 1 FROM meta WHERE key IN (?, ?)", (KEY_CHECK, LEGACY_KEY_FINGERPRINT))
        untested = images if unchecked.fetchone() is None else 0
        made_by = _made_by(backup_file, source)
        _refuse_another_device(backup_file, made_by, here, replacing)
        # This device's witness counts this device's screenings, not those of one it replaces.
        witnessed_before = read_witness(witness_path(database)) if made_by in (None, here) else None
        database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # An older release staged under one name: what one killed there left (its -wal above all) goes.
        for legacy in ("restoring", "restoring.partial"):
            _remove(database.with_name(f".{database.name}.{legacy}"))
        staged = _partial_copy(source, database)
    finally:
        source.close()
    try:
        records = Records(staged, key_file, identity=here)  # refuses a key the records were not sealed with
        try:
            damaged = _results_of(_photos_opened_with(records, untested))
            taken_at, not_restored, erased_again, witness = _record_the_restore(
                records, screenings, damaged, witnessed_before, ledger
            )
            close_lost_visits(records, RESTORED)  # after: the backup's newest event dates it
        finally:
            records.close()
    except RecordsError as error:
        _remove(staged)
        raise RecordsError(f"{backup_file}: does not open with the key {key_file} ({error})") from error
    _put_in_place(staged, database)
    _replace_witness(witness_path(database), witness)
    events += len(erased_again) + 1
    return BackupSummary(
        database, screenings, images, events, taken_at, made_by or here, damaged, not_restored, erased_again
    )


def _put_in_place(staged: Path, database: Path) -> None:
    """The restored records ``staged`` under their name ``database``, the rename flushed; refused as
    ``restore`` refuses records there, when some were made since it checked (the app, started by its
    unit): a rename over them replaced them, and nothing said."""
    try:
        rename_without_replacing(staged, database)
    except FileExistsError:
        _remove(staged)
        raise RequestRefused.saying("refused.restore_records_exist", path=str(database), files=database.name) from None
    fsync_directory(database.parent)


def _remove(staged: Path) -> None:
    """A copy not placed, or records staged and not restored, with its journal: the patients' data."""
    for leftover in database_files(staged):
        leftover.unlink(missing_ok=True)


def _erasures_made_here(database: Path) -> list[ErasureEntry]:
    """This device's ledger of its erasures, beside the ``database`` to restore. One that cannot be
    read refuses the restore: it would bring back, unsaid, every patient erased since the backup."""
    path = ledger_path(database)
    try:
        return read_ledger(path)
    except OSError as error:
        raise RecordsError(
            f"{path}: the erasures to make again in the restored records cannot be read ({error.strerror or error}); "
            "without them, the patients erased since the backup would come back. Nothing was restored"
        ) from error


def _record_the_restore(
    records: Records,
    screenings: int,
    damaged_photos: tuple[str, ...],
    witnessed_before: Witness | None,
    ledger: list[ErasureEntry],
) -> tuple[str, int, tuple[Erasure, ...], Witness]:
    """The erasures of ``ledger`` made after the backup made again, then the restore in the audit log
    (with when the backup was taken, the results whose photo came back damaged, how many screenings
    the device's witness counted that the backup does not hold, and the erasures made again and their
    results), and the backed-up device's sync state cleared. Returns when the backup was taken: the
    date of its newest audit event, by the old device's clock, which is only as true as that clock
    was (records/clock.py), read before the erasures add theirs; that count; those erasures; and the
    restored records' witness."""
    taken_at = records.connection.execute("SELECT max(at) FROM audit").fetchone()[0]
    erased_again = tuple(ScreeningStore(records, 0, OutboxLimits()).erase_again(ledger))
    Outbox(records).forget_connection(f"restored from a backup whose newest event is dated {taken_at}")
    with transaction(records.connection):
        details = {"backup_taken_at": taken_at, "screenings": screenings}
        if damaged_photos:
            details["damaged_photos"] = list(damaged_photos)
        if erased_again:
            details["erasures_applied"] = len(erased_again)
            details["erased_again"] = [result_id for erasure in erased_again for result_id in erasure.result_ids]
        before = witnessed_before.screenings if witnessed_before else 0
        not_restored = max(0, before - screenings_recorded(records.connection))
        if not_restored:
            details["screenings_not_restored"] = not_restored
        append_event(records.connection, "restore", details, records.clock())
        witness = current(records.connection)
    return taken_at, not_restored, erased_again, witness


def _replace_witness(path: Path, witness: Witness) -> None:
    """The restored records' witness in place of the old records': the restore is the technician's
    answer to a loss, and the old witness would hold the restored records to what they never had.
    One that cannot be written is removed (no witness: no alarm, and the next screening keeps one)."""
    try:
        write_witness(path, witness)
    except OSError as error:
        log_event("records.witness_not_kept", level=logging.WARNING, path=path, error=error)
        with suppress(OSError):
            path.unlink(missing_ok=True)


def _photos_opened_with(records: Records, untested: int) -> list[str]:
    """``photos_that_do_not_open`` in restored records. Records that kept no key check take any key:
    when not one of their ``untested`` photos opens, the key is another, and the restore is refused.
    Records that kept one have proved their key: a photo that does not open there is damaged."""
    damaged = photos_that_do_not_open(records.connection, records.sealer)
    if untested and len(damaged) == untested:
        raise RecordsError(f"not one of its {untested} photo(s) opens: another key")
    return damaged


def _results_of(damaged: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(damaged))
