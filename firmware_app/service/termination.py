"""SIGTERM (systemd stopping a service, ``kill``), Ctrl-C and a closed terminal as a request to stop, not a kill.

Python's default SIGTERM and SIGHUP end the process where it stands: no ``finally`` runs, so the
camera and the records are never closed and the records' last witness (``records/witness.py``) never
written. A long command asks the event this gives between two pieces of work instead (``screen``
and ``run`` between two photos, ``capture`` between two preview frames, ``sync run`` between two
steps of its loop, ``doctor`` before and after each probe of the models and the camera, ``calibrate
still`` after its still), finishes the one in hand, and returns through its ``with`` blocks; a second
signal ends it at once. It is the one such mechanism: the nurse's app stops through uvicorn's
handlers and ``Device.stop`` instead (SIGHUP taken for SIGTERM there: ``hang_up.py``).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TypeVar

from firmware_app.events import log_event
from firmware_app.messages import message

T = TypeVar("T")


@contextmanager
def stop_on_termination(language: str) -> Iterator[threading.Event]:
    """An event that SIGTERM, SIGINT and SIGHUP set while the ``with`` block runs (enter it from the
    main thread, the one place Python lets a handler be installed); the command stops when it sees it
    set. The handlers it replaced are put back as the block ends: left in place, a process that ran
    the command in its own (the tests' ``cli.main``) heard Ctrl-C and SIGTERM only as an event nobody
    read any more. A SIGHUP that is ignored stays ignored: ``nohup`` asked the command to outlive its
    terminal.

    A second SIGTERM or SIGINT ends the process at once (``_end_at_once``), saying so in ``language``:
    the command may be stuck where it cannot see the event (a camera read that hangs), and a second
    Ctrl-C did nothing. A second SIGHUP does not: a closed terminal sends one to the command and its
    shell sends it another, which is no one insisting; it is not logged either, the stop having been
    requested (and logged) once."""
    stop = threading.Event()
    said = f"edgescreen: {message('stop.at_once', language)}\n".encode()
    heard: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if heard and signum != signal.SIGHUP:
            _end_at_once(signum, said)
        if not heard:
            heard.append(signum)
            _set_aside(stop, signum)

    signums = [signal.SIGTERM, signal.SIGINT]
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signums.append(signal.SIGHUP)
    replaced = {signum: signal.signal(signum, on_signal) for signum in signums}
    try:
        yield stop
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)


def _end_at_once(signum: int, said: bytes) -> None:
    """End the process as ``signum`` would by default (status 128 + its number to a shell, and to
    systemd the signal it sent), after one line on stderr. No ``finally`` runs, by design: the
    command is stuck in one. The records allow it: each write is one transaction, ``synchronous=FULL``
    in WAL mode, so what was committed is kept and what was under way is not (a photo in hand is not
    recorded); the next opening of the records recovers their WAL, the witness is at worst one
    screening behind (``records/witness.py``: never a false alarm), the next sync worker counts this
    stop as unclean and publishes again what was claimed (receivers de-duplicate). Deadlock-free, as a handler must
    be (``_set_aside``): ``os.write``, not ``print``, which would re-enter the lock of a print to
    stderr the main thread may be in; nothing here takes a lock."""
    with suppress(OSError):  # no stderr to say it on: end all the same
        os.write(2, said)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


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


def _set_aside(stop: threading.Event, signum: int) -> None:
    """Log the request (``service.stop_requested``, the signal's name: the journal says why the command
    stopped, and which signal, before what it then says of the work it left) and set ``stop``, from a
    thread of its own. A handler runs in the main thread, between two of its steps, and may land while
    that thread holds a lock: the event's in ``stop.wait`` (the sync worker's backoff under ``sync
    run``), or the log's, mid-line. Taking it there waits forever, the process deaf to every later
    SIGTERM, until systemd kills it with its records open. The thread waits for the locks instead,
    and the main thread's wait ends as the event is set."""

    def request() -> None:
        log_event("service.stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    threading.Thread(target=request, name="stop", daemon=True).start()
