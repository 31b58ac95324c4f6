"""``bench/review_ingest.py`` times the worklist on both databases, a coordinator's with its
disagreement count against the same page without it: run here on a small worklist, no ingest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "review_ingest.py"


def test_the_disagreement_count_is_timed_against_the_page_without_it_on_both_databases():
    run = subprocess.run(
        [sys.executable, str(BENCH), "--results", "0", "--worklist", "200"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    rows = re.findall(
        r"^worklist, (\w+) +200 results, coordinator's disagreement count: (\d+\.\d) ms, "
        r"without it (\d+\.\d) ms, ratio (\d+\.\d\d)$",
        run.stdout,
        re.MULTILINE,
    )
    assert [database for database, *_ in rows] == ["sqlite", "postgresql"], run.stdout
    assert all(float(counted) > 0 and float(without) > 0 and float(ratio) > 0 for _, counted, without, ratio in rows)
