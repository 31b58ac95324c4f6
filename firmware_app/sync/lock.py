"""One sync worker per device: two with the same client id would take the broker session from each
other again and again, each restart republishing the same results.

The lock is an ``flock`` on a file beside the records: the kernel releases it when its holder dies,
however it dies, so a killed worker never leaves a stale lock behind. ``edgescreen sync run`` (the
service) waits for it; ``edgescreen run`` hands over to whichever worker holds it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from firmware_app.records.database import records_problem

RETRY_SECONDS = 0.5


class WorkerLock:
    def __init__(self, database: Path) -> None:
        self._database = database
        self.path = database.with_name(f"{database.name}.sync-lock")
        self._descriptor: int | None = None

    def acquire(self) -> bool:
        """Take the lock if no other worker holds it; never waits. A lock file that cannot be
        created (a read-only or full file system) is the records' trouble: said as such."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as error:
            raise records_problem(self._database, error) from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._descriptor = descriptor
        return True

    def wait(self, stop: threading.Event) -> bool:
        """Take the lock once the worker holding it ends; ``False`` if ``stop`` is set first."""
        while not self.acquire():
            if stop.wait(RETRY_SECONDS):
                return False
        return True

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the last descriptor releases the flock
            self._descriptor = None
