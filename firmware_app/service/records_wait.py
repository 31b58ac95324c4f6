"""A device service whose records are gone (a records drive not mounted yet) waits for them inside.

Exiting for systemd to restart it (``Restart=always``, ``RestartSec=5``) said the same warning every
5 s for as long as the drive stayed unmounted: hours of it filled the journal. systemd's growing
restart delays (``RestartSteps=``, ``RestartMaxDelaySec=``) need systemd 254; Debian 12 and Raspberry
Pi OS bookworm ship 252, which ignores them. So the service, having said why once, tells systemd it
is ready with a status naming the wait (else ``TimeoutStartSec=`` would kill it, and a ``systemctl
start`` would hang on it), pings the watchdog at each look, and looks for its records every
``RECHECK_S``: once they are there it ends, to be started again on them. Outside systemd nobody
restarts it, so it does not wait.
"""

from __future__ import annotations

import threading
from pathlib import Path

from firmware_app.records.database import present
from firmware_app.service.notify import sd_notify

# How often the records are looked for: a drive mounted is taken up within seconds, for one stat().
RECHECK_S = 3.0


def wait_for_records(database: Path, stop: threading.Event, status: str) -> bool:
    """Under systemd, ready with ``status`` (the English, ``systemctl status`` shows it) and its
    watchdog pinged, until the records are at ``database`` (``True``) or ``stop`` is set; ``False``
    at once outside systemd."""
    if not sd_notify("READY=1", f"STATUS={status}"):
        return False
    while not stop.wait(RECHECK_S):
        if present(database):
            return True
        sd_notify("WATCHDOG=1")
    return False
