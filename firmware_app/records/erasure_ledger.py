"""The erasures a restore makes again: kept beside the records, outside them, as their witness is.

A backup holds every patient erased after it was taken, and its restore brought them back without a
word: the patient's erasure, their right, undone by the technician. So each erasure that removed
results adds a line to ``<records>.erasures`` naming them by their random ids (as the audit log
does), whose erasure it was (the nurse's, or the review station's by its notice) and which of them
the station was asked to erase; and ``restore`` erases again those the restored records hold
(``ScreeningStore.erase_again``). Nothing in it names a patient: the ids are random, and the audit
log keeps them already. There is no patient row to erase beside the results: a patient is only the
sealed reference of their screenings.

The line is flushed inside the erasure's transaction, before its commit: that transaction holds the
records' write lock, so two writers (the app, ``edgescreen erase``, the sync worker) never interleave
lines, and a power cut never leaves an erasure committed that the ledger does not hold. One whose
commit then fails leaves its results named, and a later restore erases them: what the nurse asked
for. A ledger that cannot be written (a full or read-only disk) is logged and the erasure goes on: the
patient erased now matters more. Each line starts on a new line of its own, so a line a power cut
tore leaves the next one whole.

Entries are matched by result id, not by the records they were made in (the witness's
``RECORDS_KEY``): a result id names one screening of one records, so an entry of other records
(moved away, started afresh, another device's) matches nothing, and a backup from a release before
the records had an id, which its restore gives a new one, still finds its erasures. A device
restoring another's backup (``restore --replacing``) knows only its own erasures: the replaced
device's ledger is on its card (README, "Backup and restore"), as a card that fails takes the ledger
with it, like the witness. ``wipe`` erases the ledger with everything else in the records' folder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from firmware_app.durable import append_durably
from firmware_app.events import log_event


@dataclass(frozen=True)
class ErasureEntry:
    """One erasure's results (``result_ids``), those of them the station was asked to erase
    (``at_the_station``), and whether it was the station's own erasure, by its notice."""

    result_ids: tuple[str, ...]
    at_the_station: tuple[str, ...] = ()
    by_the_station: bool = False


def ledger_path(database: Path) -> Path:
    """Beside the records, in their folder (``wipe`` erases it with them), yet not one of the files
    SQLite keeps them in: a restore finds it where the lost records were."""
    return database.with_name(f"{database.name}.erasures")


def note_erasure(path: Path, entry: ErasureEntry) -> None:
    """Add ``entry`` to the ledger at ``path``, for good (``append_durably``); one that cannot be
    written is logged (module docstring)."""
    line = json.dumps(
        {"result_ids": entry.result_ids, "at_the_station": entry.at_the_station, "by_the_station": entry.by_the_station}
    )
    try:
        append_durably(path, f"\n{line}\n".encode())
    except OSError as error:
        log_event("records.erasure_not_in_ledger", level=logging.WARNING, path=path, error=error)


def read_ledger(path: Path) -> list[ErasureEntry]:
    """Every erasure in the ledger at ``path``, oldest first; none when there is no ledger (a device
    that never erased, or one of a release before it). A line that does not read (torn by a power
    cut) is logged and skipped; a ledger that cannot be read at all raises ``OSError``."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    return [entry for line in lines if line.strip() and (entry := _entry(path, line)) is not None]


def _entry(path: Path, line: bytes) -> ErasureEntry | None:
    try:
        document = json.loads(line)
        return ErasureEntry(
            _ids(document["result_ids"]), _ids(document["at_the_station"]), document["by_the_station"] is True
        )
    except (ValueError, KeyError, TypeError) as error:
        log_event("records.erasure_ledger_line_unreadable", level=logging.WARNING, path=path, error=error)
        return None


def _ids(values: Sequence[object]) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise TypeError(f"not a list of result ids: {values!r}")
    return tuple(values)
