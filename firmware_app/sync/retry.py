"""How the device's loops wait and retry: the sync worker, the photo uploader and the station's
ingester share one backoff. Kept apart from the worker so that what only needs the timing (the
uploader, the screening process) does not import the MQTT client with it."""

from __future__ import annotations

import random
import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from firmware_app.records import database
from firmware_app.records.database import RecordsError

if TYPE_CHECKING:
    from firmware_app.health.heartbeat import Heartbeat

RECORDS_RETRY_SECONDS = 5.0
LOOP_SECONDS = 0.05
# 2**30 times any configured initial delay exceeds any configured cap; a larger exponent would
# only overflow a float (after 1,023 failed attempts: about 40 hours without a broker).
MAX_BACKOFF_EXPONENT = 30
# Trouble with the device's own records (a full disk, a locked or broken database): retried, never fatal.
RECORDS_TROUBLE = (RecordsError, sqlite3.Error, OSError)


def backoff_delay(attempt: int, initial: float, cap: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: devices that lost the broker together do not
    all come back in the same second."""
    return rng.uniform(0.0, min(cap, initial * 2.0 ** min(attempt, MAX_BACKOFF_EXPONENT)))


def writing_records(heartbeat: Heartbeat, waits: int = 1) -> AbstractContextManager[None]:
    """Around a loop's records write: each of its ``waits`` may wait a busy timeout for another
    connection's write lock (a long write of another process: a large erasure, a migration), time
    ``heartbeat`` does not count against the loop's promise (``Heartbeat.waiting``)."""
    return heartbeat.waiting(waits * database.BUSY_TIMEOUT_S)
