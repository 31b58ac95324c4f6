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
from models.build.pipeline import input_spec, split_parts
from models.build.recipe import Recipe
from models.build.test_time import FLIP_SETS

RECIPES: dict[str, Recipe] = {"melanoma": melanoma.RECIPE, "dr-referable": dr_referable.RECIPE}
# Each model's shipped flips first, then its pre-registered candidates.
CANDIDATES = {"melanoma": ("flips", "dihedral"), "dr-referable": ("none", "flips", "dihedral")}


def _mean(per_source: dict[str, float]) -> float:
    """The mean over the sources (the pooled figure left out)."""
    values = [value for source, value in per_source.items() if source != "pooled"]
    return sum(values) / len(values)


def flip_set(name: str) -> tuple[str, ...]:
    return () if name == "none" else FLIP_SETS[name]


def validation_aucs(
    recipe: Recipe, candidates: tuple[str, ...], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Candidate -> source -> int8 validation AUC; "pooled" too, the sources' photos together, which
    for the shipped flips is the card's own validation figure (a check that these are its photos)."""
    spec = input_spec(recipe)
    tflite = data.REPO_ROOT / "models" / recipe.model_id / "model.tflite"
    models = {
        name: Int8Model(tflite, dataclasses.replace(spec, test_time_flips=flip_set(name)), args.threads)
        for name in candidates
    }
    aucs: dict[str, dict[str, float]] = {name: {} for name in candidates}
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {name: [] for name in candidates}
    for dataset in recipe.development:
        samples = dataset.load(args.data_dir)
        validation = [samples[i] for i in split_parts(recipe, dataset, samples)["validation"]]
        framed = data.framed_views(validation, spec, args.cache_dir, f"{dataset.name}-validation", dataset.read)
        views, labels = data.device_views(framed, spec), data.labels_of(validation)
        for name, model in models.items():
            logits = model.logits(views, f"{dataset.name} {name}")
            aucs[name][dataset.name] = auc(labels, logits)
            pooled[name].append((labels, logits))
    for name, parts in pooled.items():
        aucs[name]["pooled"] = auc(*(np.concatenate(part) for part in zip(*parts, strict=True)))
    return aucs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", choices=sorted(RECIPES))
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--cache-dir", type=Path, default=data.DEFAULT_CACHE_DIR, help="views cache")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for model_id in args.models:
        candidates = CANDIDATES[model_id]
        aucs = validation_aucs(RECIPES[model_id], candidates, args)
        card = json.loads((data.REPO_ROOT / "models" / model_id / "card.json").read_text(encoding="utf-8"))
        stated = card["metrics"]["int8"]["validation"]["auc"]["value"]
        shipped = aucs[candidates[0]]
        shipped_mean = _mean(shipped)
        print(
            f"{model_id}: int8 validation AUC per source, their mean, and pooled (shipped: {candidates[0]}; "
            f"its pooled figure on the card: {stated:.4f})"
        )
        for name, per_source in aucs.items():
            mean = _mean(per_source)
            cells = ", ".join(
                f"{source} {value:.4f} ({value - shipped[source]:+.4f})"
                for source, value in per_source.items()
                if source != "pooled"
            )
            runs = 1 + len(flip_set(name))
            print(
                f"  {name:<9} ({runs} runs)  {cells}; mean {mean:.4f} ({mean - shipped_mean:+.4f}); "
                f"pooled {per_source['pooled']:.4f}"
            )


if __name__ == "__main__":
    main()
