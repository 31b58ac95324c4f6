"""``bench/wrong_modality.py`` gives the wrong-modality figures of the README and
``docs/quality-gate.md`` (each source screened as the other modality through the device's pipeline,
then the blue-to-red the fundus gate reads): it calls the pipeline, the gates' reasons and the colour
check by name, so a rename breaks it without any other test noticing. It is run here on the bundled
samples, whatever ``../shared`` holds, and on a few real photos of two sources where they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR, QualityConfig
from firmware_app.quality.colour import colour_measures
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.modality import blue_over_red
from tests.conftest import shared_data

BENCH = Path(__file__).resolve().parent.parent / "bench" / "wrong_modality.py"


def _run(*arguments: str) -> tuple[dict[str, list[str]], dict[str, str], dict[str, list[str]]]:
    """The bench's table (cells by source), each source's refusal reasons, and its colour lines
    (cells by source), from a real run."""
    run = subprocess.run([sys.executable, str(BENCH), *arguments], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    screened, colour = run.stdout.split("\n\n")
    lines = screened.splitlines()[1:]
    table = {line[:14].strip(): line[14:].split() for line in lines[0::2]}
    reasons = {name: line.strip() for name, line in zip(table, lines[1::2], strict=True)}
    return table, reasons, {line[:14].strip(): line[14:].split() for line in colour.splitlines()[1:]}


def test_each_bundled_sample_is_refused_by_the_other_modalitys_gate():
    table, reasons, colour = _run("--samples")
    retina, naevus = table["sample retina"], table["sample naevus"]
    # Neither reaches the other model: both refused, neither scored no_refer.
    assert retina == ["dermoscopy", "1", "100.0%", retina[3], "0.0%", "0.0%"], retina
    assert naevus == ["fundus", "1", "100.0%", "100.0%", "0.0%", "0.0%"], naevus
    # The naevus lights the frame's corners, which no fundus camera's aperture does: no retina in view.
    assert reasons["sample naevus"] == "refused for: no_field_of_view 1"
    # The retina counts as the wrong kind exactly when the dermoscopy gate gave wrong_modality.
    assert (retina[3] == "100.0%") == ("wrong_modality" in reasons["sample retina"]), (retina, reasons)
    # The retina's blue-to-red is the fundus gate's reading of it, not the dermoscopy gate's it was
    # screened by; the naevus, refused, leaves no skin let through to compare with it.
    analysis = QualityGate(QualityConfig()).analyse(read_frame(SAMPLES_DIR / "fundus-retina.jpg"), "fundus")
    measures = colour_measures(analysis.thumbnail)
    assert measures is not None
    highest = f"{blue_over_red(measures):.3f}"
    assert colour["sample retina"] == ["highest", highest], colour
    assert colour["sample naevus"] == ["over", f"{highest}:", "0/0", "let", "through,", "-"], colour


def test_the_skin_let_through_is_set_against_the_highest_retina_on_real_photos():
    shared_data("fundus/dr-600")
    shared_data("dermoscopy/isic-uda1-cc0")
    table, _, colour = _run("--limit", "20", "--source", "dr-600", "--source", "isic-uda1")
    assert [cells[:2] for cells in table.values()] == [["dermoscopy", "20"], ["fundus", "20"]], table
    for cells in table.values():
        refused, wrong_kind, through = (float(cell.rstrip("%")) for cell in cells[2:5])
        assert refused + through == 100.0 and wrong_kind <= refused, cells
    # The skin's line counts the photos the table lets through, against dr-600's highest retina.
    over, limit, counted, *_ = colour["isic-uda1"]
    bluer, let_through = (int(count) for count in counted.split("/"))
    assert over == "over" and limit == colour["dr-600"][1] + ":", colour
    assert let_through == round(20 * float(table["isic-uda1"][4].rstrip("%")) / 100) > 0, (table, colour)
    assert 0 <= bluer <= let_through, colour
