"""``bench/outbox_backlog.py`` records through the real recorder and fills the outbox by SQL on the
records' own tables, so a renamed table or column, or a changed recorder, breaks it without any
other test noticing: it is run here on a small backlog, two recordings each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "outbox_backlog.py"


def test_recording_is_timed_against_each_backlog_asked_for():
    run = subprocess.run(
        [sys.executable, str(BENCH), "--backlog", "0", "50", "--recordings", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    rows = re.findall(
        r"^\s*(\d+) unsent: recording median (\d+\.\d\d), slowest \d+\.\d; age cap question (\d+\.\d\d)$",
        run.stdout,
        re.MULTILINE,
    )
    assert [int(backlog) for backlog, _, _ in rows] == [0, 50], run.stdout
    assert all(float(median) > 0 for _, median, _ in rows), run.stdout
