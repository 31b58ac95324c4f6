"""Whether the records' folder is on an encrypted block device (dm-crypt: LUKS or plain).

The records key lies beside the records (records/sealing.py), so without full-disk encryption a
card taken from the device opens every patient reference, note and photo on it. Only the kernel's
view answers where a folder lives: its mount in ``/proc/self/mountinfo`` gives the block device's
number, and ``/sys/dev/block/MAJOR:MINOR`` that device, whose ``dm/uuid`` starts with ``CRYPT-`` when
dm-crypt made it; a device stacked on one (LVM on LUKS) lists it under ``slaves/``. Both files are
read from a root the tests replace with fixture trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# mountinfo escapes a space, a tab, a newline and a backslash in paths as three octal digits.
_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One line of mountinfo: where it is mounted, the device number, what it was mounted from, and
    whether this mount point is read-only (``ro`` among its own options, as systemd's
    ``ProtectSystem=strict`` makes the service's view of every path outside ``ReadWritePaths=``) and
    whether the file system itself is (``ro`` among its super options, as after the kernel stopped
    writing to a failing card)."""

    point: Path
    device: str
    fstype: str
    source: str
    point_read_only: bool
    file_system_read_only: bool


def _unescape(field: str) -> str:
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def _parse(line: str) -> Mount:
    """``36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw`` (proc(5)): the fields after
    the ``-`` separator follow a variable number of optional ones."""
    fields = line.split()
    after = fields.index("-")
    return Mount(
        Path(_unescape(fields[4])),
        fields[2],
        fields[after + 1],
        _unescape(fields[after + 2]),
        "ro" in fields[5].split(","),
        "ro" in fields[after + 3].split(",") if len(fields) > after + 3 else False,
    )


def mount_of(folder: Path, mountinfo: str) -> Mount | None:
    """The mount ``folder`` (resolved) is on: the last-mounted one whose point is its longest prefix."""
    resolved = folder.resolve()
    mounts = [_parse(line) for line in mountinfo.splitlines() if line.strip()]
    candidates = [mount for mount in mounts if resolved.is_relative_to(mount.point)]
    return max(reversed(candidates), key=lambda mount: len(mount.point.parts), default=None)


def _crypt_below(block: Path, seen: frozenset[Path] = frozenset()) -> bool:
    """Whether ``block`` (a /sys block device folder) or a device it is stacked on is dm-crypt's."""
    block = block.resolve()
    if block in seen:
        return False
    uuid = block / "dm" / "uuid"
    if uuid.is_file() and uuid.read_text().startswith("CRYPT-"):
        return True
    slaves = block / "slaves"
    below = sorted(slaves.iterdir()) if slaves.is_dir() else []
    return any(_crypt_below(slave, seen | {block}) for slave in below)


def encrypted(mount: Mount, sys_root: Path) -> bool | None:
    """Whether ``mount``'s block device is dm-crypt's or stacked on one; ``None`` when it has no
    block device to look at (major number 0: btrfs, overlay, tmpfs, NFS), which says nothing."""
    block = sys_root / "dev" / "block" / mount.device
    if mount.device.startswith("0:") or not block.exists():
        return None
    return _crypt_below(block)
