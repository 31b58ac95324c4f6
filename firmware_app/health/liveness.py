"""The checks the watchdog runs every few seconds: cheap, and red only when a restart would help."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from firmware_app.health.checks import Check, check_heartbeat, check_records_writable
from firmware_app.health.heartbeat import Heartbeat


def liveness(database: Path, heartbeats: Iterable[Heartbeat]) -> list[Check]:
    """Records writable and every loop on time (a full disk or an offline broker is not a hang)."""
    return [check_records_writable(database), *(check_heartbeat(heartbeat) for heartbeat in heartbeats)]
