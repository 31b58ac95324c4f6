"""The checks the watchdog runs every few seconds: cheap, and red only when a restart would help."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from firmware_app.health.checks import Check, Level, check_heartbeat, check_records_writable
from firmware_app.health.heartbeat import Heartbeat

# The one refusal of a write a restart may mend: a writer of this process's, wedged holding the lock.
_WEDGED = "health.writable.locked"


def liveness(database: Path, heartbeats: Iterable[Heartbeat]) -> list[Check]:
    """Records writable and every loop on time (a full disk or an offline broker is not a hang).

    The loops are read first, all at the moment of the call: the records' probe may wait on another
    writer's lock, and a loop read after it would be judged at another moment than the one the
    watchdog asked about."""
    loops = [check_heartbeat(heartbeat) for heartbeat in heartbeats]
    return [_hang_or_not(check_records_writable(database)), *loops]


def _hang_or_not(records: Check) -> Check:
    """The records refusing a write for any other reason than a wedged lock (a file's owner or mode,
    a file system read-only, a failing card, records gone) is amber here: a restart mends none of
    them, and one every ``WatchdogSec`` took away, each minute, the nurse's screen that says why and
    blocks screening (the readiness list's ``writable`` line, red there)."""
    if records.level is Level.RED and records.message_key != _WEDGED:
        return replace(records, level=Level.AMBER)
    return records
