"""A device service whose records are gone (a records drive not mounted yet) waits for them inside.

Exiting for systemd to restart it (``Restart=always``, ``RestartSec=5``) said the same warning every
5 s for as long as the drive stayed unmounted: hours of it filled the journal. systemd's growing
restart delays (``RestartSteps=``, ``RestartMaxDelaySec=``) need systemd 254; Debian 12 and Raspberry
Pi OS bookworm ship 252, which ignores them. So the service, having said why once, tells systemd it
is ready with a status naming the wait (else ``TimeoutStartSec=`` would kill it, and a ``systemctl
start`` would hang on it), pings the watchdog at each look, and looks for its records every
``RECHECK_S``: once they are there it ends, to be started again on them. Outside systemd nobody
restarts it, so it does not wait. The app's out-of-service page for them is ready and pings the same
way (``records_back``): withheld, ``TimeoutStartSec=`` killed it every 3 minutes, to be restarted and
say it all again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from firmware_app.records.database import present
from firmware_app.service.notify import NOTIFY_SOCKET, sd_notify

# How often the records are looked for: a drive mounted is taken up within seconds, for one stat().
RECHECK_S = 3.0


def records_back(database: Path, status: str) -> Callable[[], bool]:
    """Ready now with ``status`` (the English: ``systemctl status`` shows it); then, at each look
    (every ``RECHECK_S``, by a loop of the caller's: the app's out-of-service page has its own), the
    watchdog pinged and whether the records are back at ``database``."""
    sd_notify("READY=1", f"STATUS={status}")

    def back() -> bool:
        sd_notify("WATCHDOG=1")
        return present(database)

    return back


def wait_for_records(database: Path, stop: threading.Event, status: str) -> bool:
    """Under systemd, wait ready (``records_back``) until the records are at ``database`` (``True``)
    or ``stop`` is set; ``False`` at once outside systemd."""
    if not os.environ.get(NOTIFY_SOCKET):
        return False
    back = records_back(database, status)
    while not stop.wait(RECHECK_S):
        if back():
            return True
    return False
