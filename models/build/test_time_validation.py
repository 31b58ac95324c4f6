"""The int8 validation AUC of a shipped model under each candidate set of test-time flips.

A set of flips changes nothing in the trained model, only how often the device runs it and what it
averages (``firmware_app.inference.test_time``), so a candidate is measured with the committed
``.tflite`` itself, as the device and the card score it (``litert.Int8Model``), on the device's views
of each development source's validation photos (the recipe's own ``split_parts``), never its test
photos. The candidates and the rule that adopts one are pre-registered in ``models/README.md``
("Quarter turns at test time"); adopting one ships through a full build of the recipe. Run it with
the training venv:

    PYTHONPATH=. ../venv-train/bin/python -m models.build.test_time_validation melanoma dr-referable
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from models.build import data, dr_referable, melanoma
from models.build.litert import Int8Model
from models.build.metrics import auc
from models.build.recipe import Recipe
from models.build.sources import input_spec, split_parts
from models.build.test_time import FLIP_SETS

RECIPES: dict[str, Recipe] = {"melanoma": melanoma.RECIPE, "dr-referable": dr_referable.RECIPE}
# Each model's shipped flips first, then its pre-registered candidates.
CANDIDATES = {"melanoma": ("flips", "dihedral"), "dr-referable": ("none", "flips", "dihedral")}


def flip_set(name: str) -> tuple[str, ...]:
    return () if name == "none" else FLIP_SETS[name]


def _mean(per_source: dict[str, float]) -> float:
    return sum(per_source.values()) / len(per_source)


def validation_aucs(
    recipe: Recipe, candidates: tuple[str, ...], args: argparse.Namespace
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Candidate -> source -> int8 validation AUC, and candidate -> AUC of the sources' photos
    pooled, which for the shipped flips is the card's own validation figure (a check that these
    are its photos)."""
    spec = input_spec(recipe)
    tflite = data.REPO_ROOT / "models" / recipe.model_id / "model.tflite"
    models = {
        name: Int8Model(tflite, dataclasses.replace(spec, test_time_flips=flip_set(name)), args.threads)
        for name in candidates
    }
    aucs: dict[str, dict[str, float]] = {name: {} for name in candidates}
    scored: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {name: [] for name in candidates}
    for dataset in recipe.development:
        samples = dataset.load(args.data_dir)
        validation = [samples[i] for i in split_parts(recipe, dataset, samples)["validation"]]
        framed = data.framed_views(validation, spec, args.cache_dir, f"{dataset.name}-validation", dataset.read)
        views, labels = data.device_views(framed, spec), data.labels_of(validation)
        for name, model in models.items():
            logits = model.logits(views, f"{dataset.name} {name}")
            aucs[name][dataset.name] = auc(labels, logits)
            scored[name].append((labels, logits))
    pooled = {name: auc(*(np.concatenate(part) for part in zip(*parts, strict=True))) for name, parts in scored.items()}
    return aucs, pooled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", choices=sorted(RECIPES))
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--cache-dir", type=Path, default=data.DEFAULT_CACHE_DIR, help="views cache")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for model_id in args.models:
        candidates = CANDIDATES[model_id]
        aucs, pooled = validation_aucs(RECIPES[model_id], candidates, args)
        card = json.loads((data.REPO_ROOT / "models" / model_id / "card.json").read_text(encoding="utf-8"))
        stated = card["metrics"]["int8"]["validation"]["auc"]["value"]
        shipped = aucs[candidates[0]]
        print(
            f"{model_id}: int8 validation AUC per source, their mean, and pooled (shipped: {candidates[0]}; "
            f"its pooled figure on the card: {stated:.4f})"
        )
        for name, per_source in aucs.items():
            mean = _mean(per_source)
            cells = ", ".join(
                f"{source} {value:.4f} ({value - shipped[source]:+.4f})" for source, value in per_source.items()
            )
            runs = 1 + len(flip_set(name))
            print(
                f"  {name:<9} ({runs} runs)  {cells}; mean {mean:.4f} ({mean - _mean(shipped):+.4f}); "
                f"pooled {pooled[name]:.4f}"
            )


if __name__ == "__main__":
    main()
