"""``bench/backup_under_writes.py`` backs up real records while a second process commits to them,
so a renamed table, a changed recorder or backup breaks it without any other test noticing: it is
run here on a few screenings, one backup each way."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "backup_under_writes.py"


def test_the_backup_is_timed_idle_and_among_another_processs_commits():
    run = subprocess.run(
        [sys.executable, str(BENCH), "--screenings", "3", "--runs", "1", "--every-ms", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert re.search(r"^  idle records: \d+\.\d\d s$", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^  another process committing every 1 ms: \d+\.\d\d s$", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^  ratio: \d+\.\d\dx$", run.stdout, re.MULTILINE), run.stdout
