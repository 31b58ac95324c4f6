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
    """How often systemd wants ``WATCHDOG=1`` (half its ``WatchdogSec``), or ``None`` without a watchdog."""
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6
