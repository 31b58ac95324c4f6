"""SIGTERM (systemd stopping a service, ``kill``), Ctrl-C and a closed terminal as a request to stop, not a kill.

Python's default SIGTERM and SIGHUP end the process where it stands: no ``finally`` runs, so the
camera and the records are never closed and the records' last witness (``records/witness.py``) never
written. A long command asks the event this gives between two pieces of work instead (``screen``
and ``run`` between two photos, ``capture`` between two preview frames, ``sync run`` between two
steps of its loop, ``doctor`` before and after each probe of the models and the camera, ``calibrate
still`` after its still), finishes the one in hand, and returns through its ``with`` blocks. It is the one
such mechanism: the nurse's app stops through uvicorn's handlers and ``Device.stop`` instead.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


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


class StopRequested(BaseException):
    """Raised at a command's stop point (``stop_point``) once it was asked to stop. A ``BaseException``,
    as ``KeyboardInterrupt`` is, so no ``except Exception`` on its way takes it for a failure of its own
    (``doctor``'s checks turn any failure of a camera or a model into a red line): the command catches
    it where it says what was not done."""


def stop_point(stop: threading.Event) -> None:
    """Between two pieces of work that a ``with`` block closes after (the camera, the records): end the
    command here if it was asked to stop."""
    if stop.is_set():
        raise StopRequested


def between_stop_points(work: Callable[[], T], stop: threading.Event) -> Callable[[], T]:
    """``work`` (a probe of the models or the camera, a still taken: a long step) with a stop point
    before and after it: asked to stop meanwhile, the command ends there, the camera closed first,
    whatever the work found (a camera read that timed out, say)."""

    def between() -> T:
        stop_point(stop)
        try:
            return work()
        finally:
            stop_point(stop)

    return between


def _set_aside(stop: threading.Event) -> None:
    """Set ``stop`` from a thread of its own. A handler runs in the main thread, between two of its
    steps, and may land while that thread holds the event's lock in ``stop.wait`` (the sync worker's
    backoff under ``sync run``): setting it there waits on that lock forever, the process deaf to
    every later SIGTERM, until systemd kills it with its records open. The thread waits for the lock
    instead, and the main thread's wait ends as it is set."""
    threading.Thread(target=stop.set, name="stop", daemon=True).start()
