"""Another real process holding the records' write lock, under a program name of its own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# SQLite's own: the write lock taken and kept, as a wedged backup or a root shell's sqlite3 keeps it;
# then, given a uid, the process that user's (its files opened as root).
HOLD = (
    "import os, sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('BEGIN IMMEDIATE')\n"
    "if len(sys.argv) > 2: os.setresuid(*[int(sys.argv[2])] * 3)\n"
    "print('held', flush=True)\n"
    "time.sleep(120)\n"
)


@contextmanager
def holding_the_lock(
    database: Path, program: str = "backup-tool", uid: int | None = None
) -> Iterator[subprocess.Popen]:
    """A second process, its name (``/proc/PID/comm``) ``program``, holding the write lock of the
    records at ``database`` until the block ends (killed: the kernel then gives the lock back), as
    the user ``uid`` once it holds it."""
    named = database.parent / program
    named.symlink_to(sys.executable)  # the kernel names a process by the file it was started from
    user = [] if uid is None else [str(uid)]
    process = subprocess.Popen([str(named), "-c", HOLD, str(database), *user], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield process
    finally:
        process.kill()
        process.wait()
        named.unlink()
