"""Whether the records are at their configured path, and whether a command may make them there.

The records and their key are made together, when a device first starts screening (its first
screening, the app's or the sync service's first start). Records absent while their key is there
were made, and are gone from their path: a records drive not mounted (its empty mount point), a
card replaced before its backup was restored. New records made there would hide the loss (once
the drive is back, the screenings recorded meanwhile are out of view), and a backup of them would
be an empty file that passes for a backup; ``doctor`` reports that case red
(``health.checks.no_records_yet``), by the same test (``records_gone``).
"""

from __future__ import annotations

from pathlib import Path

from firmware_app.records.database import RequestRefused, present


def records_gone(database: Path, key_file: Path) -> bool:
    """Whether records were made here and are gone: no records file, yet the key made with it."""
    return not present(database) and key_file.exists()


def require_records(database: Path, key_file: Path, first_start: bool) -> None:
    """Refuse, before anything is made (file, key, folder), records that are not at ``database``:
    always when they are gone (``records_gone``), and when none were ever made unless this is the
    device's ``first_start`` (any command but those that only read or act on records already made:
    ``Records``), which makes them."""
    if present(database):
        return
    if records_gone(database, key_file):
        raise RequestRefused.saying("refused.records_missing", path=str(database), key_file=str(key_file))
    if not first_start:
        raise RequestRefused.saying("refused.no_records_yet", path=str(database))
