"""Whether the device's services may write a file, judged for their user when the process asking is
root: ``sudo edgescreen doctor`` asked the kernel as root, which passes over file modes, and said the
records writable while the service's user would be refused (a log a root shell's ``sqlite3`` left,
say). The answer is the kernel's, asked by a process of that user's and its groups (``may_write``)."""

from __future__ import annotations

import os
import pwd
import subprocess
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


def permission_class(info: os.stat_result, account: pwd.struct_passwd) -> str:
    """The class (``u``, ``g`` or ``o``, as ``chmod`` names them) whose bits of ``info``'s mode the
    kernel reads for ``account``: the owner's for the owner, the group's for a member, the others'
    else, whatever another class would grant. A remedy that grants a bit names this class, so that
    it opens the file to that user and no wider."""
    if info.st_uid == account.pw_uid:
        return "u"
    return "g" if info.st_gid in os.getgrouplist(account.pw_name, account.pw_gid) else "o"


def has_access_acl(path: Path) -> bool:
    """Whether ``path`` carries a POSIX ACL (``setfacl``'s), whose entries the kernel reads before the
    others' bits: a ``chmod`` of a class's bits is then no sure remedy."""
    try:
        return "system.posix_acl_access" in os.listxattr(path)
    except OSError:  # a file system that keeps no extended attributes keeps no ACL
        return False


# ``test``'s operator for each ``access`` mode asked.
_TEST_OPERATOR = {os.W_OK: "-w", os.X_OK: "-x"}


def may_write(path: Path, mode: int, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` may ``mode`` (``os.W_OK``, with ``os.X_OK`` for a folder; ``os.X_OK``
    alone to search a folder above the records) ``path``, as the kernel answers a process of that
    user's and its groups (``test``, which asks ``access``): by the mode bits, a POSIX ACL and, for a
    write, the file system's read-only flag (a folder on a read-only root file system is still
    searched). Read from the mode bits alone, an ACL was judged wrong both ways: a technician's
    ``setfacl -m u:edgescreen:x`` on a folder of root's said red, with a ``chmod`` opening it to
    every user, while the services wrote the records; an entry shutting that user out of a folder
    open to all said green while they could not. A path that is not there refuses nothing."""
    if not path.exists():
        return True
    where = str(path.absolute())
    expression: list[str] = []
    for wanted, operator in _TEST_OPERATOR.items():
        if mode & wanted:
            expression += [*(["-a"] if expression else []), operator, where]
    answer = subprocess.run(
        ["test", *expression],
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=os.getgrouplist(account.pw_name, account.pw_gid),
        check=False,
    )
    return answer.returncode == 0
