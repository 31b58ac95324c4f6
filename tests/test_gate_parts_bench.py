"""``bench/gate_parts.py`` calls the gates' helpers by name, so a helper renamed in the code breaks it
without any other test noticing: it is run here on the bundled samples, one repeat each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "gate_parts.py"


@pytest.mark.parametrize("modality", ["fundus", "dermoscopy"])
def test_every_part_of_the_gate_is_timed_on_the_bundled_sample(modality):
    run = subprocess.run(
        [sys.executable, str(BENCH), "--modality", modality, "--samples", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    title = next(index for index, line in enumerate(lines) if line.startswith(f"{modality}, one thread"))
    assert "medians over 1 photos x 1" in lines[title] and "the bundled sample" in lines[title]
    parts = {line[:28].strip(): line[28:].split() for line in lines[title + 2 :]}
    assert {"analyse (all of it)", "assess (all of it)", "model view"} <= parts.keys()
    # Every part ran on the checkout's own code (none "absent"), and took some time.
    assert all(re.fullmatch(r"\d+\.\d\d", cells[0]) and cells[1].endswith("%") for cells in parts.values()), parts
