"""Tell systemd the service is ready, then keep it alive only while the liveness checks pass.

The pings come from a thread of their own, so a ping proves nothing by itself: each one is sent only
after every liveness check (``firmware_app.health``) came back not red. A hung camera loop, a stuck
sync loop or records that cannot be written stop the pings, and systemd restarts the process after
``WatchdogSec``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from firmware_app.events import log_event
from firmware_app.health.checks import Check, Level
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.health.liveness import liveness
from firmware_app.messages import message
from firmware_app.service.notify import sd_notify, watchdog_interval_s


def _status(checks: list[Check]) -> str:
    red = [check for check in checks if check.level is Level.RED]
    if not red:
        return "healthy"
    return "; ".join(message(check.message_key, "en").format(**check.values) for check in red)


class Watchdog:
    def __init__(self, liveness: Callable[[], list[Check]], interval_s: float | None = None) -> None:
        self._liveness = liveness
        self._interval = interval_s if interval_s is not None else watchdog_interval_s()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self.healthy = True

    def ready(self, status: str) -> None:
        """``READY=1``: call once the service can do its work (models verified, records open)."""
        sd_notify("READY=1", f"STATUS={status}")
        log_event("service.ready", status=status, watchdog_s=self._interval)
        if self._interval:
            self._thread.start()

    def check_once(self) -> bool:
        """Run the liveness checks; ping systemd only if none is red."""
        checks = self._liveness()
        healthy = all(check.level is not Level.RED for check in checks)
        if healthy:
            sd_notify("WATCHDOG=1", "STATUS=healthy")
        else:
            sd_notify(f"STATUS=unhealthy: {_status(checks)}")
        if healthy != self.healthy:
            level = logging.INFO if healthy else logging.ERROR
            log_event("service.healthy" if healthy else "service.unhealthy", level, status=_status(checks))
        self.healthy = healthy
        return healthy

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check_once()

    def stop(self) -> None:
        sd_notify("STOPPING=1")
        self._stop.set()


def supervise(database: Path, heartbeats: Sequence[Heartbeat], status: str) -> Watchdog:
    """Announce readiness and watch ``heartbeats`` (read at each check: a loop may join later)."""
    watchdog = Watchdog(lambda: liveness(database, heartbeats))
    watchdog.ready(status)
    return watchdog
