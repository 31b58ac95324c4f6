"""Which process holds the records' write lock, as the kernel lists it (``/proc/locks``).

A write lock held past a busy timeout was taken for one of the device's own writers wedged, and the
watchdog restarted the app for it: every minute while the sync service, an erasure, a backup or a
root shell's ``sqlite3`` held it, which mended nothing and took the nurse's screen away. SQLite's
unix VFS locks with POSIX advisory locks (``fcntl``), which the kernel lists with their holder's pid
and the file's ``major:minor:inode``. In WAL mode (the records always are: ``records.database``)
the write lock is an exclusive lock on one byte of the ``-shm`` file; the other locks there (the
readers', held by the app itself) are shared ones on other bytes. A connection in exclusive locking
mode keeps the main file's lock exclusive instead, and is asked after.

The kernel names a file there by its file system's superblock (``lock_get_status`` prints
``inode->i_sb->s_dev``), which is not always what ``stat`` says of it: btrfs gives each subvolume
an anonymous device of its own, the top one included, and overlayfs on layers of two file systems
one per layer, so the holder was never found there and the watchdog restarted the app for it.
The superblock's device is the one ``/proc/self/mountinfo`` gives the file's mount. On btrfs two
subvolumes number their files alike under that one device: a holder is confirmed by the file
among its open ones (``/proc/PID/fd``), where /proc shows them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firmware_app.file_system import MOUNTINFO
from firmware_app.health.encryption import Mount, mount_of
from firmware_app.records.database import database_files

PROC_LOCKS = Path("/proc/locks")
# SQLite's unix VFS: the wal-index locks start at byte (22 + SQLITE_SHM_NLOCK) * 4 = 120 of -shm,
# and WAL_WRITE_LOCK is the first of them.
WAL_WRITE_LOCK_BYTE = 120
# SQLite's unix VFS: the main file's shared locks, from SHARED_FIRST = PENDING_BYTE + 2 on. Every
# connection holds them shared while it reads; one in exclusive locking mode holds them exclusive for as
# long as it has the records open (``alone_holder``), as does the last connection while it closes.
SHARED_FIRST_BYTE = 0x40000002


@dataclass(frozen=True)
class LockHolder:
    """A process holding the write lock: its pid, its name (``/proc/PID/comm``; ``None`` where /proc
    does not say, as ``ProtectProc=invisible`` hides another user's processes from the service), and
    the EdgeScreen service it runs in, if one."""

    pid: int
    program: str | None
    unit: str | None

    @property
    def named(self) -> str:
        """Who it is, in the log's English: its service, else its program, else its pid alone."""
        if self.unit is not None:
            return f"the {self.unit} service (process {self.pid})"
        return f"process {self.pid}" if self.program is None else f"{self.program} (process {self.pid})"


def _kernel_ids(info: os.stat_result, mount: Mount | None) -> set[str]:
    """The names /proc/locks may give the file ``info`` describes (``major:minor:inode``, the numbers
    in hex but the inode): by the device of its ``mount`` (the superblock's, which the kernel
    prints), and by ``stat``'s, the same on most file systems (ext4, f2fs, tmpfs) and the one a
    kernel that prints a btrfs subvolume's own device gives."""
    devices = {info.st_dev}
    if mount is not None:
        major, _, minor = mount.device.partition(":")
        devices.add(os.makedev(int(major), int(minor)))
    return {f"{os.major(device):02x}:{os.minor(device):02x}:{info.st_ino}" for device in devices}


def _writers(locks: str, names: set[str], first_byte: int | None) -> list[int]:
    """The pids of the exclusive POSIX locks granted on the file of those ``names`` (``_kernel_ids``)
    over ``first_byte``, if given: the kind SQLite takes. Another program's ``flock`` on the records
    file (``flock(1)`` around a backup script) keeps no SQLite writer out, and was named holding the
    write lock once it was given back. The kernel leaves out those of processes in a PID namespace
    this one does not see, and shows an open file description's lock (not SQLite's) with pid -1, left
    out here: no process can be named for them."""
    pids = []
    for line in locks.splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 8:  # a request waiting for the lock, not holding it
            continue
        kind, access, pid, where, start = fields[1], fields[3], fields[4], fields[5], fields[6]
        posix = kind == "POSIX" and access == "WRITE" and where in names
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


def _has_open(pid: int, target: Path, info: os.stat_result) -> bool:
    """Whether ``pid`` has the file ``target`` (``info``: what ``stat`` says of it) open, among its
    descriptors (``/proc/PID/fd``) whose link names a file of ``target``'s name, as ``stat`` knows
    them (the link opens on the file itself): a lock on a file of another btrfs subvolume is listed
    under the same device and inode as the records'. The link's text is the kernel's alone, and the
    others are not asked: ``stat`` asks a file's own file system, and a backup's log on a network
    share gone away failed it (``EIO`` killed the watchdog's thread, its pings with it) or never
    answered (the thread hung). Where /proc does not show that process's files (another user's,
    hidden from the service by ``ProtectProc=invisible``), or a file of that name cannot be asked,
    the kernel's list is taken as it is."""
    try:
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if Path(os.readlink(descriptor)).name != target.name:
                    continue
                seen = descriptor.stat()
            except FileNotFoundError:  # closed meanwhile
                continue
            if (seen.st_dev, seen.st_ino) == (info.st_dev, info.st_ino):
                return True
    except OSError:  # another user's, hidden, gone meanwhile, or its file system failing
        return True
    return False


def _holders(listed: str, path: Path, mountinfo: str | None, first_byte: int | None) -> list[int]:
    """The processes the kernel lists holding the write lock on ``path`` (``_writers``, over
    ``first_byte``) that have it open (``_has_open``); none when ``path`` is not there."""
    try:
        info = path.stat()
    except OSError:
        return []
    mount = mount_of(path, mountinfo) if mountinfo is not None else None
    return [pid for pid in _writers(listed, _kernel_ids(info, mount), first_byte) if _has_open(pid, path, info)]


def _lock_list(locks: Path | None) -> str | None:
    """The text of the kernel's list of ``locks`` (``PROC_LOCKS`` unless given, looked up when asked),
    ``None`` where it cannot be read."""
    return _read(PROC_LOCKS if locks is None else locks)


def locks_listed(locks: Path | None = None) -> bool:
    """Whether the kernel's list of locks can be read here: in a PID namespace or on a hardened kernel
    it cannot, and then no holder can be named, nor ruled out (``alone_holder``'s ``None`` says nothing)."""
    return _lock_list(locks) is not None


def _named(locks: Path | None, mountinfo: Path, held: Callable[[str, str | None], list[int]]) -> LockHolder | None:
    """The first process ``held`` finds in the kernel's list of ``locks`` (its text, and the mount
    table's), named; ``None`` when it finds none, or /proc/locks cannot be read."""
    listed = _lock_list(locks)
    pids = [] if listed is None else held(listed, _read(mountinfo))
    if not pids:
        return None
    pid = pids[0]
    return LockHolder(pid, _read(Path(f"/proc/{pid}/comm")), _unit(pid))


def write_lock_holder(database: Path, locks: Path | None = None, mountinfo: Path = MOUNTINFO) -> LockHolder | None:
    """The process the kernel lists holding the records' write lock, ``None`` when it lists none
    (the lock given back meanwhile, or /proc/locks unreadable: then nobody can be named). A few
    hundred lines of text, and the mount table, read only when a probe found the lock taken."""
    main, _, shm, _ = database_files(database.resolve())
    return _named(
        locks,
        mountinfo,
        lambda listed, mounts: (
            _holders(listed, shm, mounts, WAL_WRITE_LOCK_BYTE) or _holders(listed, main, mounts, None)
        ),
    )


def alone_holder(database: Path, locks: Path | None = None, mountinfo: Path = MOUNTINFO) -> LockHolder | None:
    """The process the kernel lists holding the records alone (exclusive locking mode: the sync worker
    on a full disk, ``records.database.open_database``, or a technician's ``sqlite3``), which keeps
    every other connection from even opening them; ``None`` when none does. A writer holding the
    write lock (``write_lock_holder``) keeps nobody from opening them."""
    main = database.resolve()
    return _named(locks, mountinfo, lambda listed, mounts: _holders(listed, main, mounts, SHARED_FIRST_BYTE))
