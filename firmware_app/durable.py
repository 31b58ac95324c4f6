"""Making a rename or a new file survive a power cut: the directory entry itself must reach the disk.

Records' key file, backups, model bundles and calibration profiles all rename a finished file into
place; without an fsync of the file and of the directory, a power cut right after can leave the old
name, none, or an empty file on disk.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import threading
from contextlib import suppress
from pathlib import Path

from firmware_app.records.clock import libc

# renameat2's: paths taken as they are (from the working directory), and no rename over a file there.
AT_FDCWD, RENAME_NOREPLACE = -100, 1


def fsync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries (a rename or a new file in it) to the disk."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def rename_without_replacing(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; a ``FileExistsError`` for a ``target`` that is there, a link
    included, and both left as they are. The kernel checks in the rename itself (renameat2's
    RENAME_NOREPLACE): a check before ``os.rename`` let a file made at ``target`` in between (a second
    backup to the same name, a technician's copy) be replaced, silently. Every file system Linux itself
    mounts takes the flag, the FAT and exFAT of USB drives, where backups and exports go, included; one
    that does not (NFS, FUSE ones such as ntfs-3g, the usual NTFS driver for a stick) says EINVAL, and
    the name is then linked (``_link_without_replacing``), which those have."""
    if libc().renameat2(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target), RENAME_NOREPLACE) == 0:
        return
    number = ctypes.get_errno()
    if number != errno.EINVAL:
        raise OSError(number, os.strerror(number), str(source), None, str(target))
    _link_without_replacing(source, target)


def _link_without_replacing(source: Path, target: Path) -> None:
    """``rename_without_replacing`` on a file system without renameat2's flag: ``target`` linked to
    ``source``, which the kernel refuses (``FileExistsError``) when ``target`` is there, then ``source``
    unlinked. Not the first choice: FAT has no links, and a power cut between the two leaves both names."""
    os.link(source, target)
    os.unlink(source)


def replace_durably(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` whole or not at all, and for good: written under a name of this
    process's and thread's own (two writers never share it: the records' witness is written by a
    thread of its own, ``records/witness.py``), flushed, renamed over ``path``, the rename flushed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    _write_file(temporary, data, os.O_TRUNC, 0o644)
    os.replace(temporary, path)
    fsync_directory(path.parent)


def create_durably(path: Path, data: bytes, permissions: int = 0o644) -> None:
    """Write ``data`` to ``path``, a file this call creates with ``permissions`` (a patient's exported
    photo: 0o600, no moment at 0o644), and for good (file and folder flushed); a ``FileExistsError``
    for a ``path`` that is there, a link included, never followed (O_EXCL), even made a moment ago by
    another process, and left as it is: a check before the write could not stop that one. Created in
    place, not linked from a temporary: the FAT file systems of USB drives, where a wipe's unsent
    erasures go, have no links; so a power cut during the write can leave part of it, which the next
    writer is refused as there."""
    _write_file(path, data, os.O_EXCL, permissions)
    fsync_directory(path.parent)


def create_whole_durably(path: Path, data: bytes, permissions: int = 0o644) -> None:
    """Write ``data`` to ``path``, a file this call makes with ``permissions``, whole or not at all, and
    for good; a ``FileExistsError`` for a ``path`` that is there, a link included, never followed, even
    made a moment ago by another process, and left as it is (``rename_without_replacing``). Written
    first beside it under a name of its own in plain sight (``NAME.incomplete-*``), then renamed: where
    ``create_durably`` leaves a kill or a power cut part of the file under the name asked for, which
    could pass for the whole (an export's rows cut short), this leaves only that other name, which it
    removes itself when stopped any other way before the rename (a full disk, Ctrl-C, a name taken)."""
    temporary = path.with_name(f"{path.name}.incomplete-{secrets.token_hex(8)}")
    try:
        _write_file(temporary, data, os.O_EXCL, permissions)
        rename_without_replacing(temporary, path)
    except BaseException:
        # A read-only mount refuses even the unlink of a name that is not there (EROFS, not ENOENT):
        # the error that stopped the write is the one to say.
        with suppress(OSError):
            temporary.unlink()
        raise
    fsync_directory(path.parent)


def _write_file(path: Path, data: bytes, mode: int, permissions: int) -> None:
    """Open ``path`` with ``mode`` added to creating it (with ``permissions``), write all of ``data``
    (``_write_all``), flush; the part written is removed when the disk cannot take it all."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | mode, permissions)
    try:
        _write_all(descriptor, data)
    except OSError:
        path.unlink()
        raise
    finally:
        os.close(descriptor)


def append_durably(path: Path, data: bytes, permissions: int = 0o600) -> None:
    """Add ``data`` at the end of ``path`` (created with ``permissions`` when missing), for good: the
    file flushed, and its folder when the file is new. What the disk cannot take whole is cut off
    again, so the bytes there before stay as they were, nothing half-added after them."""
    new = not path.exists()
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, permissions)
    try:
        size = os.fstat(descriptor).st_size
        try:
            _write_all(descriptor, data)
        except OSError:
            os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)
    if new:
        fsync_directory(path.parent)


def _write_all(descriptor: int, data: bytes) -> None:
    """Write all of ``data``, then flush: with less room than ``data`` the kernel writes what fits and
    returns the shorter count, and only the next write says the disk is full."""
    written = 0
    while written < len(data):
        written += os.write(descriptor, data[written:])
    os.fsync(descriptor)
