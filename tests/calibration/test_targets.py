"""The printable targets in calibration/targets are what the script makes, at the stated sizes."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ElementTree

from tests.conftest import PROJECT_ROOT

TARGETS_DIR = PROJECT_ROOT / "calibration" / "targets"


def test_committed_targets_are_up_to_date(tmp_path):
    spec = importlib.util.spec_from_file_location("make_targets", TARGETS_DIR / "make_targets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in module.TARGETS:
        assert (tmp_path / name).read_text() == (TARGETS_DIR / name).read_text(), f"run make_targets.py: {name}"


def test_targets_are_svg_at_physical_sizes():
    board = ElementTree.parse(TARGETS_DIR / "checkerboard-9x6-2.5mm.svg").getroot()
    assert board.get("width") == "35mm" and board.get("height") == "35.5mm"
    squares = [e for e in board.iter() if e.tag.endswith("rect") and e.get("width") == "2.5"]
    assert len(squares) == 35  # half of the 10 x 7 squares are black
    scale = ElementTree.parse(TARGETS_DIR / "scale-target-10mm.svg").getroot()
    assert any(e.get("width") == "10" and e.get("fill") == "#000" for e in scale.iter())
    chart = ElementTree.parse(TARGETS_DIR / "colour-chart-layout.svg").getroot()
    assert len([e for e in chart.iter() if e.tag.endswith("title")]) == 25  # the document and 24 patches
