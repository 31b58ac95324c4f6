"""SIGTERM (systemd stopping a service, ``kill``), Ctrl-C and a closed terminal as a request to stop, not a kill.

Python's default SIGTERM and SIGHUP end the process where it stands: no ``finally`` runs, so the
camera and the records are never closed and the records' last witness (``records/witness.py``) never
written. A long command asks the event this gives between two pieces of work instead (``screen``
and ``run`` between two photos, ``capture`` between two preview frames, ``sync run`` between two
steps of its loop), finishes the one in hand, and returns through its ``with`` blocks. It is the one
such mechanism: the nurse's app stops through uvicorn's handlers and ``Device.stop`` instead.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stop_on_termination() -> Iterator[threading.Event]:
    """An event that SIGTERM, SIGINT and SIGHUP set while the ``with`` block runs (enter it from the
    main thread, the one place Python lets a handler be installed); the command stops when it sees it
    set. The handlers it replaced are put back as the block ends: left in place, a process that ran
    the command in its own (the tests' ``cli.main``) heard Ctrl-C and SIGTERM only as an event nobody
    read any more. A SIGHUP that is ignored stays ignored: ``nohup`` asked the command to outlive its
    terminal."""
    stop = threading.Event()
    signums = [signal.SIGTERM, signal.SIGINT]
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signums.append(signal.SIGHUP)
    replaced = {signum: signal.signal(signum, lambda *_: _set_aside(stop)) for signum in signums}
    try:
        yield stop
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)


def _set_aside(stop: threading.Event) -> None:
    """Set ``stop`` from a thread of its own. A handler runs in the main thread, between two of its
    steps, and may land while that thread holds the event's lock in ``stop.wait`` (the sync worker's
    backoff under ``sync run``): setting it there waits on that lock forever, the process deaf to
    every later SIGTERM, until systemd kills it with its records open. The thread waits for the lock
    instead, and the main thread's wait ends as it is set."""
    threading.Thread(target=stop.set, name="stop", daemon=True).start()
