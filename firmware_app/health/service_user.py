"""Whether the device's services may write a file, judged for their user when the process asking is
root: ``sudo edgescreen doctor`` asked the kernel as root, which passes over file modes, and said the
records writable while the service's user would be refused (a log a root shell's ``sqlite3`` left,
say). The answer is read from the file's owner, group and mode and the user's groups, as the kernel
reads them for a process of that user's (a POSIX ACL, which the device's install sets on none of the
records' files, is not read)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

# The user the device's services run as (User= in systemd/edgescreen-app.service and
# edgescreen-sync.service; tests/service/test_units.py holds this to them).
SERVICE_USER = "edgescreen"
# CAP_DAC_OVERRIDE, the capability that passes over file modes, as a bit of /proc/self/status's CapEff.
_DAC_OVERRIDE = 1 << 1


def passes_over_file_modes(status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process writes whatever the file modes say (root, unless its capabilities were
    dropped): the kernel's ``access`` then answers for it alone, never for the services. Without
    /proc to ask, root is taken to."""
    try:
        lines = status.read_text().splitlines()
    except OSError:
        return os.geteuid() == 0
    for line in lines:
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & _DAC_OVERRIDE)
    return os.geteuid() == 0


def service_account() -> pwd.struct_passwd | None:
    """The services' user's account; ``None`` where there is none (a machine the device's install did
    not set up)."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None


def judged_for() -> pwd.struct_passwd | None:
    """The account a write is judged for: the services' when this process passes over file modes,
    else ``None``, this process itself (``access``: the truth for it, whatever its user)."""
    return service_account() if passes_over_file_modes() else None


# Where each class's bits sit in a file's mode: the owner's, the group's, the others'.
_CLASS_SHIFT = {"u": 6, "g": 3, "o": 0}


def permission_class(info: os.stat_result, account: pwd.struct_passwd) -> str:
    """The class (``u``, ``g`` or ``o``, as ``chmod`` names them) whose bits of ``info``'s mode the
    kernel reads for ``account``: the owner's for the owner, the group's for a member, the others'
    else, whatever another class would grant. A remedy that grants a bit names this class, so that
    it opens the file to that user and no wider."""
    if info.st_uid == account.pw_uid:
        return "u"
    return "g" if info.st_gid in os.getgrouplist(account.pw_name, account.pw_gid) else "o"


def may_write(path: Path, mode: int, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` may ``mode`` (``os.W_OK``, with ``os.X_OK`` for a folder; ``os.X_OK``
    alone to search a folder above the records) ``path`` by its mode bits (``permission_class``) and,
    for a write, the file system's read-only flag (a folder on a read-only root file system is
    still searched); a path that is not there refuses nothing."""
    try:
        info = path.stat()
        read_only = os.statvfs(path).f_flag & os.ST_RDONLY
    except FileNotFoundError:
        return True
    if read_only and mode & os.W_OK:
        return False
    bits = info.st_mode >> _CLASS_SHIFT[permission_class(info, account)]
    wanted = (2 if mode & os.W_OK else 0) | (1 if mode & os.X_OK else 0)
    return bits & wanted == wanted
