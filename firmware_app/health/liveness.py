"""The checks the watchdog runs every few seconds: cheap, and red only when a restart would help."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from firmware_app.health.checks import Check, Level, check_heartbeat, check_records_writable, held_by_another
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.health.lock_holder import write_lock_holder

# The one refusal of a write a restart may mend: a writer of this process's (or of nobody the kernel
# names), wedged holding the lock.
_WEDGED = "health.writable.locked"


def liveness(database: Path, heartbeats: Iterable[Heartbeat]) -> list[Check]:
    """Records writable and every loop on time (a full disk or an offline broker is not a hang).

    The loops are read first, all at the moment of the call: the records' probe may wait on another
    writer's lock, and a loop read after it would be judged at another moment than the one the
    watchdog asked about."""
    loops = [check_heartbeat(heartbeat) for heartbeat in heartbeats]
    return [_hang_or_not(check_records_writable(database)), *loops]


def _hang_or_not(records: Check) -> Check:
    """The records refusing a write for any other reason than a wedged lock of this process's (a
    file's owner or mode, a file system read-only, a failing card, records gone, the lock held by
    another process: the sync service, an erasure, a backup, a root shell's ``sqlite3``) is amber
    here: a restart mends none of them, and one every ``WatchdogSec`` took away, each minute, the
    nurse's screen that says why and blocks screening (the readiness list's ``writable`` line, red
    there: ``lock_held_still`` for the lock).

    Where the kernel's list of locks cannot be read (``locked_unlisted``), a writer of this process's
    wedged cannot be told from another program holding the lock: no restart for the lock alone, as
    one every minute while a backup or a technician's ``sqlite3`` held it mended nothing. A writer of
    ours wedged in a loop that beats (the sync loop, the photo uploader) still lapses its heartbeat
    (a write waits ``Heartbeat.waiting``'s bound, no longer), red here; one wedged elsewhere is left
    to the technician the refusal sends for, as a lock of another's is."""
    if records.level is Level.RED and records.message_key != _WEDGED:
        return replace(records, level=Level.AMBER)
    return records


def lock_held_still(found: list[Check], database: Path) -> Check | None:
    """The watchdog's last finding (``found``) of the write lock held past a busy timeout by another
    process, red, while the kernel lists that process holding it still; else ``None``. The readiness
    list's writable line asks the kernel alone and waits on no other program's write, so a lock held
    a moment (the sync service's every write) never blocks a patient; one held past a busy timeout
    fails every screening, and the nurse reads who holds it before a photo is taken, not after."""
    held = next((check for check in found if held_by_another(check)), None)
    if held is None:
        return None
    holder = write_lock_holder(database)
    if holder is None or holder.pid != held.values["pid"]:
        return None
    return replace(held, level=Level.RED)
