"""Whether the records are at their configured path, and whether a command may make them there.

The records and their key are made together, when a device first starts screening (its first
screening, the app's or the sync service's first start). Records absent while their key is there
were made, and are gone from their path: a records drive not mounted (its empty mount point), a
card replaced before its backup was restored. New records made there would hide the loss (once
the drive is back, the screenings recorded meanwhile are out of view), and a backup of them would
be an empty file that passes for a backup; ``doctor`` reports that case red
(``health.checks.no_records_yet``), by the same test (``records_gone``).

A key kept on the records' drive goes with them: a drive not mounted then looks like a device's
first start (neither records nor key). So the device also keeps, off that drive (``[records]
marker``, on its own card), a small file naming the records it made (``keep_marker``): records
absent where it names them are gone too. ``edgescreen wipe`` removes it with the records.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from firmware_app.durable import replace_durably
from firmware_app.events import log_event
from firmware_app.records.database import RequestRefused, present

# The exit status of a device service stopped by its records being gone: systemd restarts it (it is
# never RestartPreventExitStatus=, unlike a configuration error's 2), so a records drive mounted late
# at boot is taken up without a technician.
RECORDS_GONE_EXIT = 9


class RecordsGone(RequestRefused):
    """Records made here and gone from their path (``records_gone``): refused as any command's request
    (exit status 2), while the device's services wait for them (``RECORDS_GONE_EXIT``)."""


def _named(database: Path) -> str:
    """``database`` as the marker names it: absolute, its ``.`` and ``..`` folded, whatever the config
    that spelled it. A config's relative paths follow the path it was given by (``--config config.toml``
    from its folder, the service's ``/etc/edgescreen/config.toml``): compared as spelled, each writer
    that spelled the records otherwise rewrote the marker, and the next command that spelled them the
    other way took records gone with their drive for a first start. Symlinks are not followed: one on
    the records' drive names another folder once the drive is gone."""
    return os.path.abspath(database)


def _named_by(marker: Path | None) -> str | None:
    """The records ``marker`` names, or ``None``: none yet (a first start), or not this user's to read.
    White space around the path is not part of it: a marker restored by hand (``echo /path > marker``)
    ends with a newline, and was taken for records made elsewhere at the very path it names. Inside the
    path it is kept (a folder named with a space)."""
    try:
        return (marker.read_text(encoding="utf-8").strip() or None) if marker is not None else None
    except (OSError, UnicodeDecodeError):
        return None


def marked(marker: Path | None, database: Path) -> bool:
    """Whether ``marker`` names ``database``: records were made there on this device."""
    return _named_by(marker) == _named(database)


def made_elsewhere(marker: Path | None, database: Path) -> str | None:
    """The records this device made, when ``marker`` names others than ``database``: ``[records]
    database`` changed (a typo, a copy of the config for a trial, a path changed before the records
    were moved), where a first start made new records and moved the marker to them, the ones made
    out of view and no longer named."""
    named = _named_by(marker)
    return named if named is not None and named != _named(database) else None


def keep_marker(marker: Path | None, database: Path) -> None:
    """Note, off the records' drive, that records were made at ``database`` (once: an open of records
    it names already writes nothing). Records that cannot be noted still open, as before the marker:
    the warning says why (a config that leaves ``[records] marker`` where the service may not write)."""
    if marker is None or marked(marker, database):
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        replace_durably(marker, _named(database).encode("utf-8"))
    except OSError as error:
        log_event("records.marker_not_kept", logging.WARNING, path=marker, error=error)


def records_gone(database: Path, key_file: Path, marker: Path | None = None) -> bool:
    """Whether records were made here and are gone: no records file, yet the key made with it, or the
    marker that names them (a key kept on the records' drive is gone with them)."""
    return not present(database) and (key_file.exists() or marked(marker, database))


def require_records(database: Path, key_file: Path, first_start: bool, marker: Path | None = None) -> None:
    """Refuse, before anything is made (file, key, folder), records that are not at ``database``:
    always when they are gone (``records_gone``), and when none were ever made unless this is the
    device's ``first_start`` (any command but those that only read or act on records already made:
    ``Records``), which makes them, unless the marker names records made elsewhere (``made_elsewhere``)."""
    if present(database):
        return
    if key_file.exists():
        raise RecordsGone.saying("refused.records_missing", path=str(database), key_file=str(key_file))
    if marked(marker, database):
        raise RecordsGone.saying("refused.records_made_there", path=str(database), marker=str(marker))
    if not first_start:
        raise RequestRefused.saying("refused.no_records_yet", path=str(database))
    if elsewhere := made_elsewhere(marker, database):
        raise RequestRefused.saying(
            "refused.records_elsewhere", path=str(database), named=elsewhere, marker=str(marker)
        )
