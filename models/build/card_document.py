"""Assemble ``card.json``: the fields the device parses, and the figures and provenance people read.

Operating-point sensitivity/specificity are the int8 model's, measured on the held-out test split at
thresholds chosen on validation, so the device shows a nurse figures it has not been tuned to.
"""

from __future__ import annotations

from typing import Any

from firmware_app.inference.card import CARD_SCHEMA, InputSpec
from models.build.backbone import WEIGHTS_SOURCE
from models.build.recipe import DataSet, Recipe

VERSION = "1.0.0"


def _data_entry(dataset: DataSet, part: str, counts: tuple[int, int, int]) -> dict[str, Any]:
    images, groups, positives = counts
    return {
        "name": f"{dataset.name} ({part})",
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


def card_document(
    recipe: Recipe,
    *,
    spec: InputSpec,
    tensors: dict[str, Any],
    sha256: str,
    thresholds: dict[str, float],
    metrics: dict[str, Any],
    split_counts: dict[str, tuple[int, int, int]],
    external_counts: tuple[int, int, int] | None,
    history: list[dict[str, float]],
    wall_minutes: float,
    model_bytes: int,
) -> dict[str, Any]:
    test = metrics["int8"]["test"]
    points = {
        name: {
            "threshold": round(thresholds[name], 6),
            "sensitivity": test["operating_points"][name]["sensitivity"],
            "specificity": test["operating_points"][name]["specificity"],
            "chosen_on": "validation split, int8 model"
            + (f" (sensitivity >= {recipe.screening_sensitivity:.0%})" if name == "screening" else " (Youden J)"),
            "measured_on": "held-out test split, int8 model",
        }
        for name in thresholds
    }
    int8_sets = {name: _headline(value) for name, value in metrics["int8"].items()}
    data_section = {
        part: _data_entry(recipe.development, part, split_counts[part]) for part in ("train", "validation", "test")
    }
    data_section["training"] = data_section.pop("train")
    if recipe.external is not None and external_counts is not None:
        data_section["external"] = _data_entry(recipe.external, "external test", external_counts)
    headline = {
        name: {k: v["value"] for k, v in p.items() if k in ("sensitivity", "specificity")} for name, p in points.items()
    }
    return {
        "schema": CARD_SCHEMA,
        "id": recipe.model_id,
        "version": VERSION,
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
            "normalisation": {"mean": list(spec.mean), "std": list(spec.std)},
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
            "int8": int8_sets,
            "float": {"test": {"auc": metrics["float"]["test"]["auc"]}},
            "float_int8_agreement": metrics["float_int8_agreement"],
            "bootstrap": f"2000 resamples of whole {recipe.development.group_kind}s, percentile 95% CI, fixed seed",
        },
        "data": data_section,
        "training": {
            "backbone": "EfficientNet-Lite0",
            "pretrained_weights": WEIGHTS_SOURCE,
            "input_size": [spec.height, spec.width],
            "trained_layers": f"EfficientNet-Lite0 blocks {recipe.split_block}-15, head conv and a new 1-logit"
            " classifier; stem and earlier blocks frozen at their ImageNet weights",
            "epochs": recipe.train.epochs,
            "selected_epoch": max(history, key=lambda h: h["val_auc"])["epoch"],
            "history": history,
            "augmented_views_per_training_image": recipe.augmented_views,
            "seed": recipe.seed,
            "split": {"fractions": list(recipe.split_fractions), "by": recipe.development.group_kind},
            "quantisation": "full-integer int8 (TFLite builtins int8), calibrated on "
            f"{recipe.calibration_images} training-split images through model_view",
            "model_bytes": model_bytes,
            "wall_time_minutes": round(wall_minutes, 1),
            "machine": "2 CPU cores, no GPU",
            "command": f"PYTHONPATH=. python -m {recipe.module}",
        },
        "limitations": list(recipe.limitations),
        "commercial_anchors_comparison": recipe.anchor_check(headline),
    }
