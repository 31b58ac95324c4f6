"""All the readiness checks of this device, in the order the nurse reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from firmware_app.config import Config
from firmware_app.health.checks import (
    Check,
    check_audit,
    check_backlog,
    check_broker,
    check_calibration,
    check_camera,
    check_clock,
    check_disk,
    check_models,
    check_records,
)
from firmware_app.records.clock import FUTURE_TOLERANCE, ClockState
from firmware_app.records.store import RECORD_OVERHEAD_BYTES, WAL_HEADROOM_BYTES, Records
from firmware_app.records_cli import sync_status

# What one more screening may need on disk: its photo written twice (WAL, then the file) and the
# records' own headroom. A full-resolution still of a Pi HQ camera is about 8 MiB as JPEG.
SCREENING_BYTES = 2 * 8 * 2**20 + RECORD_OVERHEAD_BYTES + WAL_HEADROOM_BYTES


def disk_check(config: Config) -> Check:
    """The check a screening must pass before its photo is taken. Before the first one the records'
    folder may not exist yet: the nearest folder above it is on the file system it will be made on."""
    folder = config.records.database.parent
    existing = next(path for path in (folder, *folder.parents) if path.exists())
    return check_disk(existing, config.records.disk_reserve_mb * 2**20, SCREENING_BYTES)


def clock_check(records: Records, now: datetime) -> Check:
    """The clock against the records: the last screening dated by a synchronised clock (a time once
    known true), and how many are dated after ``now`` (the records keep UTC times: compared as text)."""
    latest, ahead = records.connection.execute(
        "SELECT max(recorded_at) FILTER (WHERE clock = ?), count(*) FILTER (WHERE recorded_at > ?) FROM screening",
        (ClockState.SYNCHRONISED, (now + FUTURE_TOLERANCE).isoformat()),
    ).fetchone()
    latest_synchronised = datetime.fromisoformat(latest) if latest else None
    return check_clock(now, records.synchronised(), latest_synchronised, ahead)


def readiness(
    config: Config,
    records: Records,
    load_models: Callable[[], list[str]],
    probe_camera: Callable[[], bool],
    now: datetime | None = None,
) -> list[Check]:
    """Every check, run now. ``load_models`` and ``probe_camera`` are the device's own (the app's
    camera owner knows whether another screen holds the camera)."""
    now = now or datetime.now(UTC)
    sync = sync_status(records)
    return [
        check_models(load_models),
        check_camera(probe_camera),
        check_calibration(config.calibration.profile, now),
        disk_check(config),
        check_records(records),
        check_audit(records),
        clock_check(records, now),
        check_broker(sync),
        check_backlog(sync, config.sync.outbox_max_rows, config.sync.overflow_policy == "refuse", now),
    ]
