"""The one build pipeline both models share: split, cache device views and trunk features, train the top,
quantise to int8, evaluate the int8 model with the real interpreter, and write ``card.json``.

Order matters for honesty: thresholds and model selection use the validation split only; the test
split (and the external set) is scored once, at the end, by the int8 ``.tflite``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import time
from pathlib import Path

import numpy as np
import torch

from firmware_app.inference.card import InputSpec, read_card
from models.build import data
from models.build.augment import augment
from models.build.backbone import PIXEL_MEAN, PIXEL_STD, Classifier, build
from models.build.card_document import card_document
from models.build.evaluation import agreement, choose_operating_points, measure
from models.build.export import to_int8_tflite
from models.build.features import cached_trunk_features
from models.build.litert import Int8Model, sigmoid
from models.build.recipe import Recipe
from models.build.train import fit_top, logits

log = logging.getLogger("models.build")


def parse_args(recipe: Recipe, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {recipe.module}", description=f"Build models/{recipe.model_id}")
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR, help="the shared data folder")
    parser.add_argument("--cache-dir", type=Path, default=data.DEFAULT_CACHE_DIR, help="views/features cache")
    parser.add_argument("--out-dir", type=Path, default=data.REPO_ROOT / "models" / recipe.model_id)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch and the interpreter")
    return parser.parse_args(argv)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def input_spec(recipe: Recipe) -> InputSpec:
    return InputSpec(recipe.image_size, recipe.image_size, "int8", "RGB", recipe.crop, PIXEL_MEAN, PIXEL_STD)


def run(recipe: Recipe, argv: list[str] | None = None) -> None:
    args = parse_args(recipe, argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.monotonic()
    torch.set_num_threads(args.threads)
    seed_everything(recipe.seed)
    spec = input_spec(recipe)

    samples = recipe.development.load(args.data_dir)
    split = data.split_by_group(samples, recipe.split_fractions, recipe.seed)
    views = data.device_views(samples, spec, args.cache_dir, recipe.development.name)
    position = {s.path: i for i, s in enumerate(samples)}
    index = {name: np.array([position[s.path] for s in part]) for name, part in vars(split).items()}
    labels = {name: data.labels_of(part) for name, part in vars(split).items()}
    groups = {name: data.groups_of(part) for name, part in vars(split).items()}
    log.info("split %s", {k: (len(v), int(labels[k].sum())) for k, v in index.items()})

    trunk, top = build(recipe.image_size, recipe.split_block)
    key = f"lite0-{recipe.image_size}-split{recipe.split_block}"
    clean = cached_trunk_features(trunk, views, args.cache_dir, f"{recipe.model_id}-clean", key)
    train_features, train_labels = [clean[index["train"]]], [labels["train"]]
    for k in range(recipe.augmented_views):

        def transform(view: np.ndarray, i: int, k: int = k) -> np.ndarray:
            return augment(view, np.random.default_rng([recipe.seed, k, i]), recipe.augmentation)

        name, aug_key = f"{recipe.model_id}-aug{k}", f"{key}-{recipe.augmentation}-{k}"
        train_features.append(
            cached_trunk_features(trunk, views[index["train"]], args.cache_dir, name, aug_key, transform)
        )
        train_labels.append(labels["train"])
    top, history = fit_top(
        top,
        np.concatenate(train_features),
        np.concatenate(train_labels),
        clean[index["validation"]],
        labels["validation"],
        recipe.train,
    )
    classifier = Classifier(trunk, top).eval()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    tflite_path = args.out_dir / "model.tflite"
    rng = np.random.default_rng(recipe.seed)
    chosen = rng.choice(index["train"], size=min(recipe.calibration_images, len(index["train"])), replace=False)
    calibration = views[chosen]
    parity = to_int8_tflite(classifier, recipe.image_size, calibration, tflite_path)
    int8 = Int8Model(tflite_path, spec, args.threads)
    tensors = int8.describe()
    log.info("int8 model %s bytes=%d keras_parity=%.2e", tensors, tflite_path.stat().st_size, parity)

    # Validation only: choose the thresholds on the int8 model's scores, as the device will compute them.
    val_scores = sigmoid(int8.logits(views[index["validation"]], "validation"))
    thresholds = choose_operating_points(labels["validation"], val_scores, recipe.screening_sensitivity)
    log.info("thresholds %s", thresholds)

    # The held-out test split, read once.
    test_int8 = sigmoid(int8.logits(views[index["test"]], "test"))
    test_float = sigmoid(logits(top, clean[index["test"]]))
    metrics: dict[str, object] = {
        "int8": {
            "validation": measure(labels["validation"], val_scores, groups["validation"], thresholds, recipe.seed),
            "test": measure(labels["test"], test_int8, groups["test"], thresholds, recipe.seed),
        },
        "float": {"test": measure(labels["test"], test_float, groups["test"], thresholds, recipe.seed)},
        "float_int8_agreement": {"test": agreement(test_float, test_int8, thresholds["screening"])},
    }
    external_counts = None
    if recipe.external is not None:
        ext_samples = recipe.external.load(args.data_dir)
        ext_views = data.device_views(ext_samples, spec, args.cache_dir, recipe.external.name)
        ext_labels, ext_groups = data.labels_of(ext_samples), data.groups_of(ext_samples)
        ext_int8 = sigmoid(int8.logits(ext_views, recipe.external.name))
        metrics["int8"][f"external_{recipe.external.name}"] = measure(  # type: ignore[index]
            ext_labels, ext_int8, ext_groups, thresholds, recipe.seed
        )
        external_counts = (len(ext_samples), len(np.unique(ext_groups)), int(ext_labels.sum()))

    flatbuffer = tflite_path.read_bytes()
    document = card_document(
        recipe,
        spec=spec,
        tensors=tensors,
        sha256=hashlib.sha256(flatbuffer).hexdigest(),
        thresholds=thresholds,
        metrics=metrics,
        split_counts={k: (len(v), len(np.unique(groups[k])), int(labels[k].sum())) for k, v in index.items()},
        external_counts=external_counts,
        history=history,
        wall_minutes=(time.monotonic() - started) / 60,
        model_bytes=len(flatbuffer),
    )
    card_path = args.out_dir / "card.json"
    card_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    read_card(card_path)  # the device's own validation must accept it
    log.info("wrote %s and %s in %.1f min", tflite_path, card_path, (time.monotonic() - started) / 60)
    log.info("int8 test: %s", json.dumps(metrics["int8"]))  # type: ignore[index]
