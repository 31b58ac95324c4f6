"""A loop's promise to come round again within a deadline: how the watchdog tells slow from stuck.

Each long-running loop (the camera owner, the sync worker) beats with the longest it may take until
its next beat (a camera frame has its timeout, a reconnect its backoff), so a legitimately long wait
is never taken for a hang, and a hang is caught once that promise lapses.
"""

from __future__ import annotations

import time

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
