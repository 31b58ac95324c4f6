"""Re-measure a committed model's card through the device's current preprocessing, without a rebuild.

    PYTHONPATH=. python -m models.build.remeasure dr-referable [--data-dir ../shared/data] [--threads 2]

A card's figures describe what the device computes only while the device frames photos as it did
when the model was built. When the preprocessing changes after a build (the fundus field of view
did, twice), this scores the committed int8 ``model.tflite`` again (nothing is trained, quantised or
rebuilt, and torch is not needed) on the recipe's own splits (same seed and groups), through the
build's own scoring (``int8_evaluation``), at the thresholds the card already holds: nothing is
chosen again. The test parts and the external sets are measurements of the shipped device, not
tuning; no figure here feeds back into the model or its operating points.

It rewrites the card's measured fields (each operating point's pooled test sensitivity and
specificity, every set's AUC and sensitivity/specificity with 95% CIs in ``metrics.int8``, and the
anchor sentence built on them: ``card_document.with_measured``) and ``roc.png`` and
``calibration.png``. The float model's validation AUC and its agreement with the int8 model stay as
the build measured them: the float model is not committed. The files are in the model's signed
bundle: sign it again afterwards (``edgescreen models sign``).

It also prints, without applying it, the thresholds the build's own rule would choose now on the
validation parts (``int8_evaluation.validation_thresholds``), so a reader can tell whether a rebuild
would move the operating points.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path

from firmware_app.inference.card import read_card
from models.build import data, dr_referable, melanoma
from models.build.card_document import measured_fields, with_measured
from models.build.int8_evaluation import (
    draw_plots,
    held_out_scores,
    int8_metrics,
    validation_scores,
    validation_thresholds,
)
from models.build.litert import Int8Model
from models.build.recipe import Recipe
from models.build.sources import input_spec, load_source

log = logging.getLogger("models.build.remeasure")
RECIPES = {r.model_id: r for r in (dr_referable.RECIPE, melanoma.RECIPE)}


def card_thresholds(card: dict) -> dict[str, float]:
    """The operating points' thresholds the card holds, as the build chose them."""
    return {name: float(point["threshold"]) for name, point in card["operating_points"].items()}


def remeasure(recipe: Recipe, model_dir: Path, data_dir: Path, cache_dir: Path, threads: int) -> dict[str, float]:
    """Rewrite ``model_dir``'s measured card fields and plots; return the thresholds the build's
    rule would choose now (printed by ``main``, never written)."""
    card_path = model_dir / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    spec = input_spec(recipe)
    if read_card(card_path).input != spec:
        raise SystemExit(f"{card_path}: the card's input is not the recipe's: re-measuring would score another model")
    tflite = model_dir / card["file"]
    if hashlib.sha256(tflite.read_bytes()).hexdigest() != card["sha256"]:
        raise SystemExit(f"{tflite}: not the model the card describes (sha256)")
    thresholds = card_thresholds(card)

    sources = [load_source(recipe, ds, spec, data_dir, cache_dir) for ds in recipe.development]
    views = [data.device_views(s.framed, spec) for s in sources]
    int8 = Int8Model(tflite, spec, threads)
    validation = validation_scores(sources, views, int8)
    held_out = held_out_scores(recipe, sources, views, int8, spec, data_dir, cache_dir)
    metrics = int8_metrics(recipe, sources, validation, held_out, thresholds)

    updated = with_measured(card, measured_fields(recipe, metrics))
    if updated == card:  # the same scores: the plots too; the signed bundle is left as it was
        log.info("%s: the committed figures hold, nothing rewritten", model_dir)
        return validation_thresholds(recipe, sources, validation)
    card_path.write_text(json.dumps(updated, indent=2) + "\n", encoding="utf-8")
    read_card(card_path)  # the device's own validation must accept it
    draw_plots(held_out, thresholds["screening"], model_dir, recipe.model_id)
    return validation_thresholds(recipe, sources, validation)


def _summary(card: dict) -> str:
    """Each set's AUC and the screening point's sensitivity/specificity, one line per set."""
    lines = []
    for name, figures in card["metrics"]["int8"].items():
        point = figures["operating_points"]["screening"]
        lines.append(
            f"  {name}: AUC {figures['auc']['value']:.4f} {figures['auc']['ci95']}, screening sensitivity "
            f"{point['sensitivity']['value']:.4f} {point['sensitivity']['ci95']}, specificity "
            f"{point['specificity']['value']:.4f} {point['specificity']['ci95']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_id", choices=sorted(RECIPES))
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR, help="the shared data folder")
    parser.add_argument("--cache-dir", type=Path, default=data.DEFAULT_CACHE_DIR, help="framed views cache")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the interpreter")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    recipe = RECIPES[args.model_id]
    model_dir = data.REPO_ROOT / "models" / recipe.model_id
    before = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    rule_now = remeasure(recipe, model_dir, args.data_dir, args.cache_dir, args.threads)
    after = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    print(f"{recipe.model_id} at the card's thresholds {card_thresholds(after)}")
    print(f"before (card as committed):\n{_summary(before)}\nafter (re-measured):\n{_summary(after)}")
    print(f"the build's rule on validation would choose now (not applied): {rule_now}")
    if after != before and (model_dir / "manifest.sig").exists():
        print(f"{model_dir}: card changed inside a signed bundle: sign it again (edgescreen models sign)")


if __name__ == "__main__":
    main()
