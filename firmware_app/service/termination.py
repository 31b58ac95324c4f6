"""SIGTERM (systemd stopping a service, ``kill``) and Ctrl-C as a request to stop, not a kill.

Python's default SIGTERM ends the process where it stands: no ``finally`` runs, so the records are
never closed and their last witness (``records/witness.py``) never written. A long command asks the
event this returns between two pieces of work instead, finishes the one in hand, and returns
through its ``with`` blocks.
"""

from __future__ import annotations

import signal
import threading


def stop_on_termination() -> threading.Event:
    """An event that SIGTERM and SIGINT set from now on (call from the main thread, the one place
    Python lets a handler be installed); the command stops when it sees it set."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop
