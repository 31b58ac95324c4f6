"""An erasure (or a retention purge) is complete only once the WAL no longer holds the pages it removed.

SQLite writes every change to the WAL first: the pages an erasure zeroed (``secure_delete``) keep
their old contents in earlier WAL frames, and in the main file, until a checkpoint copies the zeroed
pages over and the WAL is emptied. A reader holding one snapshot (a backup, ``audit verify`` of a long
chain) makes that checkpoint give up, and nothing in SQLite empties the WAL later on its own. So the
deletion writes the debt in its own transaction (a crash or a command that exits cannot lose it), and
whatever comes next pays it, by any process: the next erasure, purge or screening recorded, a backup
once its read is over, the sync worker's hourly maintenance, ``doctor`` (its ``erased`` check).

The checkpoint waits for readers holding SQLite's write lock, so every other writer waits as long:
an erasure waiting its busy timeout (30 s) for a backup's read kept the nurse's screening waiting
30 s, and erasures back to back made it fail ("database is locked"). So it waits a moment for a
reader, never a busy timeout: a read the app makes ends within it, and a longer one leaves the debt.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware_app.events import log_event
from firmware_app.records.database import DiskFull, RecordsDamaged, RecordsError, records_problem, transaction

if TYPE_CHECKING:
    from firmware_app.records.store import Records

OWED = "erased_pages_in_wal"

# How long a checkpoint that may wait does, for a reader to finish: any writer waits as long behind it.
READER_WAIT_S = 0.5


def owe_checkpoint(records: Records, deletion: int | str) -> None:
    """Inside the deletion's transaction: its audit event (or the meta key deleted) names the debt,
    which only a checkpoint made after it pays."""
    records.set_meta(OWED, str(deletion))


@dataclass(frozen=True)
class Unpaid:
    """Why erased pages are still on the disk: another process was reading the records (``failure``
    is ``None``: the next checkpoint after its read pays), or the checkpoint failed, as
    ``records_problem`` names it (a full disk, a file system that cannot be written, damaged
    records): waiting for the next one will not help until that is mended, so the technician is told which."""

    failure: RecordsError | None = None

    @property
    def cause(self) -> str:
        """The one word every sentence about the pages left is chosen by (``doctor``'s erased check,
        the erase command's line, the records screen's), so none names a reader where the disk is
        full: ``reader``, ``full``, ``damaged``, or ``failed`` (anything else that stopped the write)."""
        if self.failure is None:
            return "reader"
        if isinstance(self.failure, DiskFull):
            return "full"
        return "damaged" if isinstance(self.failure, RecordsDamaged) else "failed"


def pay_checkpoint(records: Records, wait: bool) -> Unpaid | None:
    """Fold the WAL into the main file and empty it if an erasure is owed that; ``None`` once nothing
    is owed any more, else why erased pages are still on the disk, until a later checkpoint. With
    ``wait``, a reader is given ``READER_WAIT_S`` to finish; without, a busy database is left for the
    next opportunity at once: a screening must not stall behind a long reader. Never raises: the
    erasure or screening before it is committed whatever happens."""
    owed = records.meta(OWED)
    if owed is None:
        return None
    connection = records.connection
    try:
        with _busy_timeout(connection, round(READER_WAIT_S * 1000) if wait else 0):
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log_event("records.checkpoint_busy", level=logging.WARNING, reason="another process is reading")
            return Unpaid()
        with transaction(connection):
            # Only the debt this checkpoint paid: an erasure committed since then owes its own.
            connection.execute("DELETE FROM meta WHERE key = ? AND value = ?", (OWED, owed))
    except sqlite3.Error as error:
        log_event("records.checkpoint_failed", level=logging.WARNING, error=error)
        return Unpaid(records_problem(records.path, error))
    # Still owed: another process erased since the checkpoint, and pays its own once this one is done.
    return None if records.meta(OWED) is None else Unpaid()


@contextmanager
def _busy_timeout(connection: sqlite3.Connection, milliseconds: int) -> Iterator[None]:
    """The connection's busy timeout set to ``milliseconds`` for a while."""
    kept = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
    try:
        yield
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(kept)}")
