"""``bench/camera_variation.py`` imports the variations, the gate and the model's metrics by name:
a rename breaks it without any other test noticing. It is run here on two photos of one source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.camera_variations import VARIATIONS
from tests.conftest import shared_data

BENCH = Path(__file__).resolve().parent.parent / "bench" / "camera_variation.py"


def test_every_variation_is_judged_and_scored_on_real_photos():
    shared_data("dermoscopy/ham10000-200x150")
    run = subprocess.run(
        [sys.executable, str(BENCH), "--limit", "4", "--source", "ham10000"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ham10000: 4 graded photos") and "model AUC" in lines[0]
    rows = {line[2:24].strip(): line[24:].split() for line in lines[2:]}
    assert rows.keys() == VARIATIONS["dermoscopy"].keys()
    # Each row: the share rejected, new rejects, lifted, the AUC.
    assert all(cells[0].endswith("%") and cells[1].isdigit() and cells[2].isdigit() for cells in rows.values())
    assert all(0.0 <= float(cells[3]) <= 1.0 for cells in rows.values()), rows
