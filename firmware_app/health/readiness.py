"""All the readiness checks of this device, in the order the nurse reads them.

Two of them cost what was ever recorded: ``PRAGMA quick_check`` reads the whole file, images
included, and the audit check walks every event and every result. A full run does both (``doctor``,
the app's "Ready to screen?" at sign-in and at each "Check again", the app's first run after it
starts). Starting a patient runs on the last full run's ``Scans`` instead: its quick_check verdict,
and the audit events recorded since the verified mark (``records.audit``), so that its cost stays
flat however long the device has been screening. The first patient start after the full scans are
``FULL_SCAN_EVERY_S`` old has the app repeat them in the background (``web.device``); the starts
after it read their verdicts.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from firmware_app.backup import last_backup
from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.health.checks import (
    Check,
    Level,
    check_audit,
    check_backlog,
    check_backup,
    check_broker,
    check_calibration,
    check_camera,
    check_clock,
    check_committed,
    check_disk,
    check_identity,
    check_models,
    check_records,
    check_records_files_writable,
    nearest_existing,
)
from firmware_app.records.clock import FUTURE_TOLERANCE, ClockState
from firmware_app.records.database import snapshot
from firmware_app.records.identity import Identity, recorded_identity
from firmware_app.records.store import (
    RECORD_OVERHEAD_BYTES,
    WAL_HEADROOM_BYTES,
    Records,
    oldest_past_age,
)
from firmware_app.records.witness import current, find_loss, note_loss, read_witness, witnesses
from firmware_app.records_cli import sync_status

# What one more screening may need on disk: its photo written twice (WAL, then the file) and the
# records' own headroom. A full-resolution still of a Pi HQ camera is about 8 MiB as JPEG.
SCREENING_BYTES = 2 * 8 * 2**20 + RECORD_OVERHEAD_BYTES + WAL_HEADROOM_BYTES
# How old the last full scans may grow before the next patient start has the app repeat them in the
# background (read by the starts after it; a device left idle scans at its next start). Between full
# runs they stand for what they cannot see cheaply: the file damaged under the app (an SD card that
# wears out; a power cut's damage is seen at the next start), and an edit to an event already
# verified that leaves its hash alone (a new event is walked at each start). Neither can happen by
# the app's own writes, and nurses sign in (a full run) every shift; an hour bounds a damaged file
# or an edited old event to the few screenings of an hour before screening is blocked, while the
# scans of a year's records (seconds on a Pi, on a connection and thread of their own) take well
# under 1% of one core.
FULL_SCAN_EVERY_S = 3600.0


@dataclass(frozen=True)
class Scans:
    """The quick_check and full audit verdicts of one full run, and when it ran (``time.monotonic``)."""

    records: Check
    audit: Check
    at: float

    @classmethod
    def of(cls, checks: list[Check], at: float) -> Scans:
        named = {check.name: check for check in checks}
        return cls(named["records"], named["audit"], at)

    def due(self, now: float) -> bool:
        return now - self.at > FULL_SCAN_EVERY_S

    def newer(self, held: Scans | None) -> Scans:
        """These scans, or ``held`` when it started later: a background scan started before a
        "Check again" may end after it, and its older verdict (a file not yet damaged) must not
        replace the newer one."""
        return self if held is None or self.at >= held.at else held


def full_scans(records: Records) -> Scans:
    """The two checks that read everything ever recorded, in full, dated when they started: what
    they saw is the records as they were then."""
    started = time.monotonic()
    return Scans(check_records(records), check_audit(records), started)


def _scanned(records: Records, scans: Scans | None) -> tuple[Check, Check]:
    """quick_check and the audit, in full without ``scans``; else the scans' quick_check, and their
    broken chain or, while it held, the events since the verified mark."""
    if scans is None:
        return check_records(records), check_audit(records)
    audit = scans.audit if scans.audit.level is Level.RED else check_audit(records, since_verified=True)
    return scans.records, audit


def disk_check(config: Config) -> Check:
    """The check a screening must pass before its photo is taken. Before the first one the records'
    folder may not exist yet: the nearest folder above it is on the file system it will be made on."""
    existing = nearest_existing(config.records.database.parent)
    return check_disk(existing, config.records.disk_reserve_mb * 2**20, SCREENING_BYTES)


def backlog_check(config: Config, records: Records, sync: dict[str, Any]) -> Check:
    """The outbox against its caps, the age cap asked as a recording asks it (``oldest_past_age``)."""
    past = oldest_past_age(records, timedelta(days=config.sync.outbox_max_age_days))
    cap = None if past is None else config.sync.outbox_max_age_days
    return check_backlog(sync, config.sync.outbox_max_rows, config.sync.overflow_policy == "refuse", cap)


def backup_check(config: Config, records: Records, now: datetime) -> Check:
    """The last backup's age, or, never backed up, the first screening's (the oldest row: rowids only grow)."""
    first = records.connection.execute("SELECT recorded_at FROM screening ORDER BY rowid LIMIT 1").fetchone()
    first_screening = datetime.fromisoformat(first[0]) if first else None
    return check_backup(last_backup(records), first_screening, config.records.backup_warning_days, now)


def clock_check(records: Records, now: datetime) -> Check:
    """The clock against the records: the last screening dated by a synchronised clock (a time once
    known true), and how many are dated after ``now`` (the records keep UTC times: compared as text)."""
    latest, ahead = records.connection.execute(
        "SELECT max(recorded_at) FILTER (WHERE clock = ?), count(*) FILTER (WHERE recorded_at > ?) FROM screening",
        (ClockState.SYNCHRONISED, (now + FUTURE_TOLERANCE).isoformat()),
    ).fetchone()
    latest_synchronised = datetime.fromisoformat(latest) if latest else None
    return check_clock(now, records.synchronised(), latest_synchronised, ahead)


def committed_check(records: Records) -> Check:
    """The records against their witness (``records/witness.py``): a few rows and a small file, so it
    runs in full at every start of a patient. A loss is entered in the audit log the first time it is
    seen. Records without a witness yet (a fresh device, one upgraded from a release without it) have
    nothing to be held to: they get one now, and are green; so do records started afresh beside the
    witness of records moved away."""
    witness = read_witness(records.witness.path)
    with snapshot(records.connection):
        loss = find_loss(records.connection, witness)
        now = current(records.connection) if witness is None or not witnesses(records.connection, witness) else None
    if now is not None and not records.read_only:
        records.witness.keep(records.connection, now)
    if loss is not None and not records.read_only:
        try:
            note_loss(records.connection, loss, records.clock())
        except sqlite3.Error as error:  # a full disk or a lock held too long: seen again at the next check
            log_event("records.loss_not_noted", level=logging.ERROR, error=error)
    return check_committed(loss)


def readiness(
    config: Config,
    records: Records,
    load_models: Callable[[], list[str]],
    probe_camera: Callable[[], bool],
    now: datetime | None = None,
    scans: Scans | None = None,
    calibration_in_use: str | None = None,
    writable: Callable[[Path], Check] = check_records_files_writable,
) -> list[Check]:
    """Every check, run now; with ``scans`` (starting a patient), the records' quick_check and the
    audit chain up to the verified mark are theirs (``_scanned``). ``load_models`` and
    ``probe_camera`` are the device's own (the app's camera owner knows whether another screen holds
    the camera), as is ``calibration_in_use``, the profile id its results carry. ``writable`` answers
    the writable line: the app's adds its watchdog's finding of a lock held past a busy timeout,
    ``doctor``'s waits for the lock itself."""
    now = now or datetime.now(UTC)
    sync = sync_status(records)
    records_check, audit_check = _scanned(records, scans)
    return [
        check_models(load_models),
        check_camera(probe_camera),
        check_calibration(config.calibration.profile, config.device.id, now, calibration_in_use),
        disk_check(config),
        records_check,
        # Whole records may still refuse every write (a file another user's, a card remounted
        # read-only, a lock another program holds past a busy timeout): the app asks the kernel at
        # each run, as it costs a few system calls and waits on no other program's write.
        writable(config.records.database),
        audit_check,
        committed_check(records),
        clock_check(records, now),
        check_broker(sync),
        backlog_check(config, records, sync),
        backup_check(config, records, now),
        # Red blocks screening: under ids not the records' own (a device moved to another site by an
        # edit, another device's backup restored here) results go where no specialist reads them,
        # and the old clinic's patients are shown to the new one's nurses, until a technician acts.
        check_identity(Identity(config.device.id, config.device.site), recorded_identity(records.connection)),
    ]
