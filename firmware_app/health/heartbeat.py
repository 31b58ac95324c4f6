"""A loop's promise to come round again within a deadline: how the watchdog tells slow from stuck.

Each long-running loop (the camera owner, the sync worker) beats with the longest it may take until
its next beat (a camera frame has its timeout, a reconnect its backoff), so a legitimately long wait
is never taken for a hang, and a hang is caught once that promise lapses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# Room for what a loop cannot bound itself: a slow SQLite commit, a garbage collection, a busy CPU.
GRACE_S = 30.0


class Heartbeat:
    def __init__(self, name: str) -> None:
        self.name = name
        self._due: float | None = None

    def beat(self, next_within_s: float) -> None:
        self._due = time.monotonic() + next_within_s + GRACE_S

    def overdue_s(self) -> float:
        """How long past its promise the loop is (0 while on time, or before its first beat)."""
        return 0.0 if self._due is None else max(0.0, time.monotonic() - self._due)

    @contextmanager
    def waiting(self, up_to_s: float) -> Iterator[None]:
        """A wait that is not the loop's own work and bounds itself, such as a records write waiting
        up to a busy timeout for another connection's write lock: its time, up to ``up_to_s``, is not
        counted against the promise. A loop cannot know how many of its writes another connection's
        lock will hold up, and its promise, made for its own work, was lapsed by two writes waiting in
        turn. Past ``up_to_s`` (and what was left of the promise) the wait is a hang like any other."""
        if self._due is None:
            yield
            return
        kept, started = self._due, time.monotonic()
        self._due = kept + up_to_s
        try:
            yield
        finally:
            self._due = kept + min(time.monotonic() - started, up_to_s)
