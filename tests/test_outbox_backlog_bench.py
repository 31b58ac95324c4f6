"""``bench/outbox_backlog.py`` records through the real recorder and fills the outbox by SQL on the
records' own tables, so a renamed table or column, or a changed recorder, breaks it without any
other test noticing: it is run here on a small backlog, two recordings each. So are the erasure
requests it queues and the audit it fills, for the backlog's reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "outbox_backlog.py"


def bench(*arguments: str) -> str:
    run = subprocess.run([sys.executable, str(BENCH), *arguments], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_recording_is_timed_against_each_backlog_asked_for():
    out = bench("--backlog", "0", "50", "--recordings", "2", "--erasures", "0", "--audit", "0", "--reads", "1")
    rows = re.findall(
        r"^\s*(\d+) unsent: recording median (\d+\.\d\d), slowest \d+\.\d; age cap question (\d+\.\d\d)$",
        out,
        re.MULTILINE,
    )
    assert [int(backlog) for backlog, _, _ in rows] == [0, 50], out
    assert all(float(median) > 0 for _, median, _ in rows), out


def test_the_backlog_is_read_against_each_number_of_erasure_requests_asked_for():
    out = bench("--backlog", "0", "--recordings", "1", "--erasures", "0", "20", "--audit", "50", "--reads", "2")
    rows = re.findall(
        r"^\s*(\d+) erasure requests \((\d+) withheld\): backlog median (\d+\.\d\d)(?:, x\d+\.\d the row before)?; "
        r"the erasures' audit events read once \d+\.\d\d$",
        out,
        re.MULTILINE,
    )
    assert [(int(requests), int(withheld)) for requests, withheld, _ in rows] == [(0, 0), (20, 2)], out
    assert float(rows[1][2]) > 0, out
