"""Which file system a folder is on, read from the kernel's mount table.

A campaign's USB stick is usually FAT32 as sold, and FAT32 holds no file of 4 GiB or more: the kernel
then refuses the write with ``EFBIG``, which SQLite reports as a bare "disk I/O error", and a technician
told that looks for a failing stick or a missing folder. Knowing the file system lets the backup say
the real cause before it copies anything.
"""

from __future__ import annotations

import re
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")
# The kernel's names for FAT (vfat is what a USB stick mounts as; msdos is FAT without long names).
FAT_TYPES = frozenset({"vfat", "msdos", "fat"})
# The largest file FAT can hold: its size field is 32 bits.
FAT_LARGEST_FILE = 2**32 - 1


def _unescape(field: str) -> str:
    """A mountinfo path with the kernel's octal escapes undone ("/media/pi/NO\\040NAME", a FAT stick's label)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def file_system_type(folder: Path, mountinfo: Path = MOUNTINFO) -> str | None:
    """The type of the file system ``folder`` is on (the deepest mount point that holds it), or
    ``None`` when the mount table cannot be read (not Linux): then nothing is assumed."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return None
    where = folder.resolve()
    best: tuple[int, str] | None = None
    for line in lines:
        fields, _, after = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not after:
            continue
        mount_point = Path(_unescape(parts[4]))
        if (where == mount_point or mount_point in where.parents) and (
            best is None or len(mount_point.parts) >= best[0]
        ):
            best = (len(mount_point.parts), after.split()[0])
    return best[1] if best else None


def largest_file(folder: Path, mountinfo: Path = MOUNTINFO) -> int | None:
    """The largest file the file system of ``folder`` can hold when it is one that limits it (FAT);
    ``None`` otherwise."""
    return FAT_LARGEST_FILE if file_system_type(folder, mountinfo) in FAT_TYPES else None
