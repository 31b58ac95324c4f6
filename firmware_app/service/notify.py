"""``sd_notify`` in a few lines: one datagram to ``$NOTIFY_SOCKET``, as sd_notify(3) specifies.

No package for this: the protocol is a Unix datagram of ``KEY=value`` lines, and outside systemd
(no ``NOTIFY_SOCKET``) every call is a no-op, so the same process runs on a laptop unchanged.
"""

from __future__ import annotations

import os
import socket

NOTIFY_SOCKET = "NOTIFY_SOCKET"


def sd_notify(*assignments: str) -> bool:
    """Send ``READY=1``, ``WATCHDOG=1``, ``STATUS=...``; ``False`` when not run by systemd."""
    address = os.environ.get(NOTIFY_SOCKET)
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall("\n".join(assignments).encode())
    return True


def watchdog_interval_s() -> float | None:
    """How long the watchdog waits between two checks (a quarter of ``WatchdogSec``), or ``None``
    without a watchdog.

    Not half, as sd_watchdog_enabled(3) suggests: each ping follows a check, and a check may wait up
    to a busy timeout (30 s) for the records' write lock (``check_records_writable``); at half, the
    ping after such a wait came 30 + 30 s after the last, at systemd's 60 s limit. A quarter leaves
    15 + 30 s, one interval to spare (``tests/service/test_notify_and_watchdog.py`` holds the units
    to it)."""
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 4e6
