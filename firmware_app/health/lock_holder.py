"""Which process holds the records' write lock, as the kernel lists it (``/proc/locks``).

A write lock held past a busy timeout was taken for one of the device's own writers wedged, and the
watchdog restarted the app for it: every minute while the sync service, an erasure, a backup or a
root shell's ``sqlite3`` held it, which mended nothing and took the nurse's screen away. SQLite's
unix VFS locks with POSIX advisory locks (``fcntl``), which the kernel lists with their holder's pid
and the file's ``major:minor:inode``. In WAL mode (the records always are: ``records.database``)
the write lock is an exclusive lock on one byte of the ``-shm`` file; the other locks there (the
readers', held by the app itself) are shared ones on other bytes. A connection in exclusive locking
mode keeps the main file's lock exclusive instead, and is asked after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from firmware_app.records.database import database_files

PROC_LOCKS = Path("/proc/locks")
# SQLite's unix VFS: the wal-index locks start at byte (22 + SQLITE_SHM_NLOCK) * 4 = 120 of -shm,
# and WAL_WRITE_LOCK is the first of them.
WAL_WRITE_LOCK_BYTE = 120


@dataclass(frozen=True)
class LockHolder:
    """A process holding the write lock: its pid, its name (``/proc/PID/comm``; ``None`` where /proc
    does not say, as ``ProtectProc=invisible`` hides another user's processes from the service), and
    the EdgeScreen service it runs in, if one."""

    pid: int
    program: str | None
    unit: str | None


def _kernel_id(path: Path) -> str | None:
    """``path``'s file as /proc/locks names it (``major:minor:inode``, the numbers in hex but the
    inode); ``None`` when it is not there."""
    try:
        info = path.stat()
    except OSError:
        return None
    return f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"


def _writers(locks: str, file: str, first_byte: int | None) -> list[int]:
    """The pids of the exclusive POSIX locks granted on ``file`` (over ``first_byte``, if given), the
    kind SQLite takes. Another program's ``flock`` on the records file (``flock(1)`` around a backup
    script) keeps no SQLite writer out, and was named holding the write lock once it was given back.
    The kernel leaves out those of processes in a PID namespace this one does not see, and shows an
    open file description's lock (not SQLite's) with pid -1, left out here: no process can be named
    for them."""
    pids = []
    for line in locks.splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 8:  # a request waiting for the lock, not holding it
            continue
        kind, access, pid, where, start = fields[1], fields[3], fields[4], fields[5], fields[6]
        posix = kind == "POSIX" and access == "WRITE" and where == file
        if posix and (first_byte is None or int(start) == first_byte) and int(pid) > 0:
            pids.append(int(pid))
    return pids


def _read(path: Path) -> str | None:
    """``path``'s text, ``None`` when it cannot be read. Undecodable bytes are replaced, not raised on:
    the kernel cuts a program's name (``comm``) to 15 bytes, through a UTF-8 character if need be
    (``backup_数据库`` is ``backup_数据`` and two of the three bytes of 库), and the ``UnicodeDecodeError`` killed the
    watchdog's thread, its pings with it."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _unit(pid: int) -> str | None:
    """The EdgeScreen service ``pid`` runs in, by its control group (``/system.slice/NAME.service``)."""
    group = _read(Path(f"/proc/{pid}/cgroup")) or ""
    name = group.splitlines()[-1].rpartition("/")[2] if group else ""
    return name.removesuffix(".service") if name.startswith("edgescreen") and name.endswith(".service") else None


def write_lock_holder(database: Path, locks: Path = PROC_LOCKS) -> LockHolder | None:
    """The process the kernel lists holding the records' write lock, ``None`` when it lists none
    (the lock given back meanwhile, or /proc/locks unreadable: then nobody can be named). A few
    hundred lines of text, read only when a probe found the lock taken."""
    listed = _read(locks)
    if listed is None:
        return None
    main, _, shm, _ = (_kernel_id(path) for path in database_files(database.resolve()))
    pids = (_writers(listed, shm, WAL_WRITE_LOCK_BYTE) if shm else []) or (_writers(listed, main, None) if main else [])
    if not pids:
        return None
    pid = pids[0]
    return LockHolder(pid, _read(Path(f"/proc/{pid}/comm")), _unit(pid))
