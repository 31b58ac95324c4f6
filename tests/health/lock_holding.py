"""Another real process holding the records' write lock, under a program name of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# SQLite's own: the write lock taken and kept, as a wedged backup or a root shell's sqlite3 keeps it;
# then, given a uid, the process that user's (its files opened as root). Given $HOLDER_LOG, that file
# is opened first, as a backup's log. Given $HOLDER_ALONE, in exclusive locking mode: the records held
# alone, as the sync worker holds them on a full disk, no other process can even open them.
HOLD = (
    "import os, sqlite3, sys, time\n"
    "log = open(os.environ['HOLDER_LOG'], 'a') if 'HOLDER_LOG' in os.environ else None\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "if 'HOLDER_ALONE' in os.environ: c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
    "c.execute('BEGIN IMMEDIATE')\n"
    "if len(sys.argv) > 2: os.setresuid(*[int(sys.argv[2])] * 3)\n"
    "print('held', flush=True)\n"
    "time.sleep(120)\n"
)

# The 0.2 s busy timeout these tests wait, as the holder's sentence writes it in each language: French
# writes "0,2 s", and the sentence said "0.2 s" in French.
WAITED = {"en": "0.2", "fr": "0,2"}


@contextmanager
def holding_the_lock(
    database: Path, program: str = "backup-tool", uid: int | None = None, log: Path | None = None, alone: bool = False
) -> Iterator[subprocess.Popen]:
    """A second process, its name (``/proc/PID/comm``) ``program``, holding the write lock of the
    records at ``database`` until the block ends (killed: the kernel then gives the lock back), as
    the user ``uid`` once it holds it, with ``log`` open (before the records) if given, holding the
    records ``alone`` (exclusive locking mode) if asked."""
    named = database.parent / program
    named.symlink_to(sys.executable)  # the kernel names a process by the file it was started from
    user = [] if uid is None else [str(uid)]
    how = ({"HOLDER_LOG": str(log)} if log is not None else {}) | ({"HOLDER_ALONE": "1"} if alone else {})
    process = subprocess.Popen(
        [str(named), "-c", HOLD, str(database), *user], stdout=subprocess.PIPE, text=True, env=os.environ | how
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield process
    finally:
        process.kill()
        process.wait()
        named.unlink()


@contextmanager
def killed_after_a_minute(holder: subprocess.Popen) -> Iterator[None]:
    """A hang guard on a check made while ``holder`` holds the lock: killed (the lock given back) if the
    block has not ended within a minute, so that a check waiting on the lock ends, and is seen to have
    (``holder.poll()`` is not ``None``), however slow the machine."""
    guard = threading.Timer(60, holder.kill)
    guard.start()
    try:
        yield
    finally:
        guard.cancel()
