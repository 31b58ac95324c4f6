"""Score a recipe's sources with the int8 ``.tflite`` and turn the scores into the card's figures
and plots: the part of a build that needs no torch, shared by the build (``pipeline.run``) and by a
re-measure of the committed model (``remeasure``), so both measure the same way.

Thresholds are chosen on the validation parts only; the test parts and the external sets are
scored by the int8 model once, and measured at the thresholds given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firmware_app.inference.card import InputSpec
from models.build import data
from models.build.evaluation import choose_operating_points, measure
from models.build.litert import Int8Model, sigmoid
from models.build.plots import draw_calibration, draw_roc
from models.build.recipe import Recipe
from models.build.sources import Source


@dataclass(frozen=True)
class ScoredSet:
    """One held-out set's labels, groups and int8 scores."""

    labels: np.ndarray
    groups: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class HeldOut:
    """The int8 scores of each source's test part (``test_<source>``) and of each external set
    (``external_<set>``), in the card's order, and each external set's (images, groups, positives)."""

    sets: dict[str, ScoredSet]
    external_counts: dict[str, tuple[int, int, int]]


def validation_scores(sources: list[Source], views: list[np.ndarray], int8: Int8Model) -> list[np.ndarray]:
    """The int8 score of each source's validation photos (``views``: each source's device views)."""
    return [
        sigmoid(int8.logits(v[s.parts["validation"]], f"validation {s.name}"))
        for s, v in zip(sources, views, strict=True)
    ]


def validation_thresholds(recipe: Recipe, sources: list[Source], scores: list[np.ndarray]) -> dict[str, float]:
    """The build's rule for the operating points, on the pooled validation scores only."""
    labels = np.concatenate([s.labels("validation") for s in sources])
    return choose_operating_points(labels, np.concatenate(scores), recipe.screening_sensitivity)


def held_out_scores(
    recipe: Recipe,
    sources: list[Source],
    views: list[np.ndarray],
    int8: Int8Model,
    spec: InputSpec,
    data_dir: Path,
    cache_dir: Path,
) -> HeldOut:
    """The test parts and the external sets, read once and scored by the int8 model."""
    sets: dict[str, ScoredSet] = {}
    for source, v in zip(sources, views, strict=True):
        scores = sigmoid(int8.logits(v[source.parts["test"]], f"test {source.name}"))
        sets[f"test_{source.name}"] = ScoredSet(source.labels("test"), source.groups("test"), scores)
    counts = {}
    for dataset in recipe.externals:
        samples = dataset.load(data_dir)
        framed = data.framed_views(samples, spec, cache_dir, dataset.name, dataset.read)
        labels, groups = data.labels_of(samples), data.groups_of(samples)
        scores = sigmoid(int8.logits(data.device_views(framed, spec), dataset.name))
        sets[f"external_{dataset.name}"] = ScoredSet(labels, groups, scores)
        counts[dataset.name] = (len(samples), len(set(groups)), int(labels.sum()))
    return HeldOut(sets, counts)


def pooled_measure(
    recipe: Recipe, sources: list[Source], part: str, scores: list[np.ndarray], thresholds: dict[str, float]
) -> dict[str, object]:
    """``measure`` of one part of every source pooled (groups kept apart by source)."""
    labels = np.concatenate([s.labels(part) for s in sources])
    groups = np.concatenate([[f"{s.name}/{g}" for g in s.groups(part)] for s in sources])
    return measure(labels, np.concatenate(scores), groups, thresholds, recipe.seed)


def int8_metrics(
    recipe: Recipe,
    sources: list[Source],
    validation: list[np.ndarray],
    held_out: HeldOut,
    thresholds: dict[str, float],
) -> dict[str, object]:
    """The card's ``metrics.int8``: pooled validation, pooled test, then each test part and external set."""
    test = [held_out.sets[f"test_{s.name}"].scores for s in sources]
    metrics: dict[str, object] = {
        "validation": pooled_measure(recipe, sources, "validation", validation, thresholds),
        "test": pooled_measure(recipe, sources, "test", test, thresholds),
    }
    for name, scored in held_out.sets.items():
        metrics[name] = measure(scored.labels, scored.scores, scored.groups, thresholds, recipe.seed)
    return metrics


def draw_plots(held_out: HeldOut, screening_threshold: float, out_dir: Path, title: str) -> None:
    """The card's ``roc.png`` and ``calibration.png``, one line per held-out set."""
    plot_sets = {name: (scored.labels, scored.scores) for name, scored in held_out.sets.items()}
    draw_roc(plot_sets, screening_threshold, out_dir / "roc.png", title)
    draw_calibration(plot_sets, out_dir / "calibration.png", title)
