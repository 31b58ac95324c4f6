"""The checks the watchdog runs every few seconds: cheap, and red only when a restart would help."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from firmware_app.health.checks import Check, check_heartbeat, check_records_writable
from firmware_app.health.heartbeat import Heartbeat


def liveness(database: Path, heartbeats: Iterable[Heartbeat]) -> list[Check]:
    """Records writable and every loop on time (a full disk or an offline broker is not a hang).

    The loops are read first, all at the moment of the call: the records' probe writes to the disk,
    which a busy card can take a while over, and a loop read after it would be judged at another
    moment than the one the watchdog asked about."""
    loops = [check_heartbeat(heartbeat) for heartbeat in heartbeats]
    return [check_records_writable(database), *loops]
