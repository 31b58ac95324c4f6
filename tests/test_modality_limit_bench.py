"""``bench/modality_limit.py`` prints the wrong-modality figures of ``docs/quality-gate.md`` and the
README (the gate's verdicts on every photo, the lowest blue-to-red of skin, the leave-one-source-out
table, and the same table for the rule not taken, blue over green): it calls the gate's analysis,
``quality.fit`` and ``quality.modality`` by name, so a rename breaks it without any other test
noticing. It is run here on the bundled samples, whatever ``../shared`` holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "modality_limit.py"


def _rows(block: str) -> dict[str, list[str]]:
    """A printed table's rows by their first column (15 characters wide), cells split."""
    return {line[:15].strip(): line[15:].split() for line in block.splitlines()[2:]}


def test_the_wrong_modality_figures_come_from_the_gate_on_the_bundled_samples():
    run = subprocess.run([sys.executable, str(BENCH), "--samples"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    verdicts, table, green = (_rows(block) for block in run.stdout.split("\n\n"))
    retina, naevus = verdicts["sample retina"], verdicts["sample naevus"]
    # The gate's verdicts: the rendered naevus passes and is not the wrong modality, and its lowest
    # blue-to-red is read as it is and with a round field drawn (its own field is not round: none).
    assert naevus[:6] == ["dermoscopy", "1", "0/1", "0.0%", "1/1", "100.0%"], naevus
    assert 0.25 < float(naevus[6]) < 1.0 and naevus[7:9] == ["-", "(0)"] and 0.25 < float(naevus[9]) < 1.0, naevus
    assert retina[:2] == ["fundus", "1"] and verdicts["all dermoscopy"][:4] == ["1", "0/1", "0.0%", naevus[6]]
    # Fitted on one photo, quality.fit's lower limit is that photo's own blue-to-red: the retina,
    # less blue than skin, reads under it, and the gate's rule catches it there.
    assert table["sample naevus"] == [naevus[6], "1/1", "100.0%", "(fit)"], table
    # The declared row is the gate's own verdicts.
    assert table["declared"] == ["0.250", *retina[2:4], *naevus[2:4]], table
    # Blue over green, by the same rule: skin's green is under its red, so the naevus's own limit is
    # over its blue-to-red, and the declared row is the rule's at 0.5.
    assert green["sample naevus"][1:] == ["1/1", "100.0%", "(fit)"], green
    assert float(green["sample naevus"][0]) > float(naevus[6]), (green, naevus)
    assert green["declared"][0] == "0.500" and len(green["declared"]) == 5, green
