"""A re-measure of a committed model rewrites only the card's measured fields, and needs no torch."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

from models.build.card_document import measured_fields, with_measured
from models.build.dr_referable import RECIPE
from tests.conftest import MODELS_DIR, PROJECT_ROOT


def _card() -> dict:
    return json.loads((MODELS_DIR / "dr-referable" / "card.json").read_text())


def test_the_committed_cards_measured_fields_are_its_own_figures():
    """Re-measured to the same scores, the card comes out unchanged (nothing rewritten, the bundle
    stays as signed): its operating points and anchor sentence are built from its metrics.int8."""
    card = _card()
    assert with_measured(card, measured_fields(RECIPE, card["metrics"]["int8"])) == card


def test_new_figures_replace_the_measured_fields_and_keep_the_thresholds():
    card = _card()
    metrics = copy.deepcopy(card["metrics"]["int8"])
    metrics["test"]["operating_points"]["screening"]["specificity"]["value"] = 0.5
    metrics["test_dr-600"]["operating_points"]["screening"]["specificity"]["value"] = 0.25
    updated = with_measured(card, measured_fields(RECIPE, metrics))
    assert updated["operating_points"]["screening"]["specificity"]["value"] == 0.5
    assert updated["operating_points"]["screening"]["threshold"] == card["operating_points"]["screening"]["threshold"]
    assert "81% at 25% on the DR-600 test split" in updated["commercial_anchors_comparison"]
    assert card == _card()  # the card given is left as it was


def test_the_remeasure_and_the_ablations_shipped_row_import_no_torch():
    """They score the committed int8 model where the training packages are not installed."""
    code = "import sys, models.build.remeasure, models.build.ablation; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert done.stdout.strip() == "False"
