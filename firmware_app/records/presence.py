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

# The exit status of a device service stopped by its records being gone: systemd restarts it (it is
# never RestartPreventExitStatus=, unlike a configuration error's 2), so a records drive mounted late
# at boot is taken up without a technician.
RECORDS_GONE_EXIT = 9


class RecordsGone(RequestRefused):
    """Records made here and gone from their path (``records_gone``): refused as any command's request
    (exit status 2), while the device's services wait for them (``RECORDS_GONE_EXIT``)."""


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
        raise RecordsGone.saying("refused.records_missing", path=str(database), key_file=str(key_file))
    if not first_start:
        raise RequestRefused.saying("refused.no_records_yet", path=str(database))
