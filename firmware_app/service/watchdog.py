"""Tell systemd the service is ready, then keep it alive only while the liveness checks pass.

The pings come from a thread of their own, so a ping proves nothing by itself: each one is sent only
after every liveness check (``firmware_app.health``) came back not red. A hung camera loop, a stuck
sync loop or records whose write lock a writer of this process's keeps wedged stop the pings, and
systemd restarts the process after ``WatchdogSec``. An amber check (records refusing a write for a
reason a restart does not mend, another process holding their lock among them) keeps
them going, and is said in the journal as it comes and goes and on systemd's status line meanwhile:
else nothing but the nurse's screen said it until a screening failed.
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
from firmware_app.service.notify import sd_notify, watchdog_interval_s
from firmware_app.wording import check_sentence


def _said(checks: list[Check], level: Level) -> str:
    """The English sentences of the checks at ``level``, ``""`` for none: the journal's and systemd's
    status line's language, whatever the device's."""
    at_level = [check for check in checks if check.level is level]
    return "; ".join(check_sentence(check, "en") for check in at_level)


class Watchdog:
    def __init__(self, liveness: Callable[[], list[Check]], interval_s: float | None = None) -> None:
        self._liveness = liveness
        self._interval = interval_s if interval_s is not None else watchdog_interval_s()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self.healthy = True
        # The last check's findings, as judged here (a lock another process holds is amber): the
        # app's readiness list names that holder (``health.liveness.lock_held_still``).
        self.found: list[Check] = []
        self._amber = ""  # the amber checks' sentences at the last check, logged when they change

    def ready(self, status: str) -> None:
        """``READY=1``: call once the service can do its work (models verified, records open)."""
        sd_notify("READY=1", f"STATUS={status}")
        log_event("service.ready", status=status, watchdog_s=self._interval)
        if self._interval:
            self._thread.start()

    def check_once(self) -> bool:
        """Run the liveness checks; ping systemd only if none is red."""
        try:
            checks = self._liveness()
        except Exception as error:  # a check that fails is red: systemd restarts us unless the next passes
            log_event("service.liveness_failed", logging.ERROR, error=error)
            checks = [Check("liveness", Level.RED, "health.liveness.failed", {"error": str(error)})]
        healthy = all(check.level is not Level.RED for check in checks)
        red, amber = _said(checks, Level.RED), _said(checks, Level.AMBER)
        if healthy:
            sd_notify("WATCHDOG=1", f"STATUS=healthy; {amber}" if amber else "STATUS=healthy")
        else:
            sd_notify(f"STATUS=unhealthy: {red}")
        if healthy != self.healthy:
            level = logging.INFO if healthy else logging.ERROR
            log_event("service.healthy" if healthy else "service.unhealthy", level, status=red or "healthy")
        self._log_amber(amber)
        self.healthy = healthy
        self.found = checks
        return healthy

    def _log_amber(self, amber: str) -> None:
        """Log the amber checks once as they appear (or change) and once as they clear, not at every
        check: they keep the pings going, so without this the journal said nothing of them. Both at
        warning, so that ``journalctl -p warning`` does not show the trouble without its end."""
        if amber != self._amber:
            if amber:
                log_event("service.degraded", logging.WARNING, status=amber)
            else:
                log_event("service.degraded_cleared", logging.WARNING, was=self._amber)
        self._amber = amber

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
