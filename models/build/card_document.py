"""Assemble ``card.json``: the fields the device parses, and the figures and provenance people read.

Operating-point sensitivity/specificity are the int8 model's, measured on the held-out test splits
(pooled over the development sources) at thresholds chosen on the pooled validation splits, so the
device shows a nurse figures it has not been tuned to. ``metrics.int8`` adds each source's own test
split (``test_<source>``) and each external set (``external_<set>``), because a pooled figure hides
a source the model does not carry to.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

from firmware_app.inference.card import CARD_SCHEMA, InputSpec
from models.build.recipe import DataSet, Recipe
from models.build.trunks import TRUNKS


def _data_entry(dataset: DataSet, part: str, counts: tuple[int, int, int]) -> dict[str, Any]:
    images, groups, positives = counts
    return {
        "name": dataset.name,
        "part": part,
        "source": dataset.source,
        "licence": dataset.licence,
        "attribution": dataset.attribution,
        "images": images,
        f"{dataset.group_kind}s": groups,
        "positives": positives,
    }


def _headline(measured: dict[str, Any]) -> dict[str, Any]:
    """The compact per-set figures the app shows: n, positives, AUC and each point's sens/spec."""
    return {
        "n": measured["n"],
        "positives": measured["positives"],
        "auc": measured["auc"],
        "operating_points": {
            name: {"sensitivity": point["sensitivity"], "specificity": point["specificity"]}
            for name, point in measured["operating_points"].items()
        },
        "groups": measured["groups"],
    }


@dataclass(frozen=True)
class MeasuredFields:
    """The card's fields measured on the int8 model: a build writes them with the rest of the card,
    a re-measure of the committed model (``remeasure``) rewrites them alone (``with_measured``)."""

    points: dict[str, dict[str, Any]]  # each operating point's pooled test sensitivity and specificity
    int8: dict[str, Any]  # metrics.int8: each set's headline figures
    anchors: str  # commercial_anchors_comparison, built on metrics.int8


def measured_fields(recipe: Recipe, int8_metrics: dict[str, Any]) -> MeasuredFields:
    test = int8_metrics["test"]["operating_points"]
    int8 = {name: _headline(value) for name, value in int8_metrics.items()}
    points = {name: {"sensitivity": p["sensitivity"], "specificity": p["specificity"]} for name, p in test.items()}
    return MeasuredFields(points, int8, recipe.anchor_check(int8))


def with_measured(card: dict[str, Any], measured: MeasuredFields) -> dict[str, Any]:
    """``card`` with its measured fields replaced, everything else (thresholds included) as it was."""
    card = copy.deepcopy(card)
    for name, point in measured.points.items():
        card["operating_points"][name].update(point)
    card["metrics"]["int8"] = measured.int8
    card["commercial_anchors_comparison"] = measured.anchors
    return card


def _group_kinds(recipe: Recipe) -> str:
    """How each source was split, e.g. "dr-600 by patient, aptos2019 by image (no patient ids)"."""
    return ", ".join(
        f"{ds.name} by {ds.group_kind}" + (" (no patient or lesion ids)" if ds.group_kind == "image" else "")
        for ds in recipe.development
    )


def card_document(
    recipe: Recipe,
    *,
    spec: InputSpec,
    tensors: dict[str, Any],
    sha256: str,
    thresholds: dict[str, float],
    metrics: dict[str, Any],
    split_counts: dict[str, dict[str, tuple[int, int, int]]],
    external_counts: dict[str, tuple[int, int, int]],
    history: list[dict[str, float]],
    wall_minutes: float,
    model_bytes: int,
) -> dict[str, Any]:
    measured = measured_fields(recipe, metrics["int8"])
    points = {
        name: {
            "threshold": round(thresholds[name], 6),
            **measured.points[name],
            "chosen_on": "pooled validation splits of all development sources, int8 model"
            + (f" (sensitivity >= {recipe.screening_sensitivity:.0%})" if name == "screening" else " (Youden J)"),
            "measured_on": "held-out test splits of all development sources, pooled, int8 model "
            "(per source: metrics.int8.test_<source>)",
        }
        for name in thresholds
    }
    data_section: dict[str, list[dict[str, Any]]] = {
        card_part: [_data_entry(ds, part, split_counts[ds.name][part]) for ds in recipe.development]
        for card_part, part in (("training", "train"), ("validation", "validation"), ("test", "test"))
    }
    data_section["external"] = [_data_entry(ds, "external test", external_counts[ds.name]) for ds in recipe.externals]
    trunk = TRUNKS[recipe.trunk]
    return {
        "schema": CARD_SCHEMA,
        "id": recipe.model_id,
        "version": recipe.version,
        "task": recipe.task,
        "modality": recipe.modality,
        "labels": list(recipe.labels),
        "file": "model.tflite",
        "sha256": sha256,
        "input": {
            "shape": list(spec.shape),
            "dtype": tensors["input_dtype"],
            "colour_order": spec.colour_order,
            "crop": spec.crop,
            "colour_constancy": spec.colour_constancy,
            "normalisation": {"mean": list(spec.mean), "std": list(spec.std)},
            # Only when there are any: the cards of models scored once stay as they were.
            **({"test_time_flips": list(spec.test_time_flips)} if spec.test_time_flips else {}),
        },
        "output": {
            "shape": tensors["output_shape"],
            "dtype": tensors["output_dtype"],
            "activation": "sigmoid",
            "positive_index": 0,
            "meaning": recipe.meaning,
        },
        "operating_points": points,
        "default_operating_point": "screening",
        "intended_use": recipe.intended_use,
        "metrics": {
            "int8": measured.int8,
            "float": {"validation": {"auc": metrics["float"]["validation"]["auc"]}},
            "float_int8_agreement": metrics["float_int8_agreement"],
            "bootstrap": "2000 resamples of whole groups (" + _group_kinds(recipe) + "), percentile 95% CI, fixed seed",
        },
        "data": data_section,
        "training": {
            "backbone": trunk.title,
            "pretrained_weights": trunk.weights_source,
            "input_size": [spec.height, spec.width],
            "trained_layers": f"{trunk.trained_blocks(recipe.split_block)}, head conv and a new 1-logit classifier;"
            " stem and earlier blocks frozen at their ImageNet weights",
            "epochs": recipe.train.epochs,
            "selected_epoch": max(history, key=lambda h: h["val_auc"])["epoch"],
            "history": history,
            "augmented_views_per_training_image": {
                ds.name: views for ds, views in zip(recipe.development, recipe.augmented_views, strict=True)
            },
            "augmentation": {"applied_to": "framed view, before colour constancy", **vars(recipe.augmentation)},
            "sampling": "each source weighs the same per epoch (sampling with replacement); positives weighted in "
            "the loss by the sampled class ratio",
            "selection": "epoch with the best mean of the per-source validation AUCs"
            + (" of the weights' moving average (the average is what is kept)" if recipe.train.ema_decay else ""),
            "settings": asdict(recipe.train),
            "seed": recipe.seed,
            "split": {"fractions": list(recipe.split_fractions), "by": _group_kinds(recipe)},
            "quantisation": "full-integer int8 (TFLite builtins int8), calibrated on "
            f"{recipe.calibration_images} training-split images (pooled sources) through model_view",
            "model_bytes": model_bytes,
            "wall_time_minutes": round(wall_minutes, 1),
            "machine": "2 CPU cores, no GPU",
            "command": f"PYTHONPATH=. python -m {recipe.module}",
        },
        "limitations": list(recipe.limitations),
        "commercial_anchors_comparison": measured.anchors,
    }
