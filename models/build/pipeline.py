"""The one build pipeline both models share: split each source, cache framed views and trunk features,
train the top on the pooled sources, quantise to int8, evaluate the int8 model with the real
interpreter per source, draw the plots and write ``card.json``.

Order matters for honesty: thresholds and model selection use the validation splits only; the test
splits (and the external sets) are scored once, at the end, by the int8 ``.tflite``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from firmware_app.inference.card import InputSpec, read_card
from firmware_app.inference.preprocess import colour_constant
from firmware_app.inference.test_time import flipped
from models.build import data
from models.build.augment import augment
from models.build.backbone import Classifier, Top, Trunk, build
from models.build.card_document import card_document
from models.build.evaluation import agreement
from models.build.export import to_int8_tflite
from models.build.features import cached_trunk_features
from models.build.int8_evaluation import (
    draw_plots,
    held_out_scores,
    int8_metrics,
    pooled_measure,
    validation_scores,
    validation_thresholds,
)
from models.build.litert import Int8Model, sigmoid
from models.build.metrics import auc
from models.build.recipe import Recipe
from models.build.run_options import TRIED_OPTIONS, add_training_arguments, run_settings, with_run_options
from models.build.sources import PARTS, Source, input_spec, load_source
from models.build.surround import surround_split
from models.build.test_time import FLIP_SETS
from models.build.train import fit_top, logits
from tests.camera_variations import round_field

log = logging.getLogger("models.build")


def parse_args(recipe: Recipe, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {recipe.module}", description=f"Build models/{recipe.model_id}")
    add_training_arguments(parser)
    parser.add_argument("--out-dir", type=Path, default=data.REPO_ROOT / "models" / recipe.model_id)
    parser.add_argument(
        "--validation-only",
        action="store_true",
        help="train (or load the cached top), report the validation AUCs and stop: no export, test or external set",
    )
    parser.add_argument(
        "--round-field",
        action="store_true",
        help="with --validation-only: also score the validation parts with the bench's round field drawn on each photo",
    )
    parser.add_argument(
        "--surround-split",
        action="store_true",
        help="with --validation-only: also score the validation photos with and without a dark surround apart",
    )
    parser.add_argument(
        "--test-time-flips",
        choices=sorted(FLIP_SETS),
        help="with --validation-only: also score the validation parts with logits averaged over the views' flips",
    )
    args = parser.parse_args(argv)
    for measuring in ("round_field", "surround_split", "test_time_flips"):
        if getattr(args, measuring) and not args.validation_only:
            option = "--" + measuring.replace("_", "-")
            parser.error(f"{option} only with --validation-only: it measures, it builds nothing")
    if args.surround_split and recipe.modality != "dermoscopy":
        parser.error("--surround-split looks for a dermatoscope's dark surround: dermoscopy models only")
    if args.train_setting and not args.validation_only:
        parser.error("--train-setting only with --validation-only: a built model's recipe is the committed one")
    for name in TRIED_OPTIONS:
        if getattr(args, name) is not None and not args.validation_only:
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} only with --validation-only: a built model's recipe is the committed one")
    return args


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def feature_key(recipe: Recipe, spec: InputSpec) -> str:
    """What the cached trunk features of a clean view depend on besides the view itself: the trunk,
    its input size, the split and the colour constancy (a Lite2 feature is never read for Lite0)."""
    return f"{recipe.trunk}-{recipe.image_size}-split{recipe.split_block}-{spec.colour_constancy}"


@dataclass(frozen=True)
class Features:
    """Trunk features of one source's training and validation images (clean device views), and of
    augmented passes over its training images. Test images never pass through the float trunk: the
    int8 model scores them, once."""

    train: np.ndarray
    validation: np.ndarray
    augmented: list[np.ndarray]


def source_features(
    recipe: Recipe, source: Source, trunk: Trunk, spec: InputSpec, cache_dir: Path, augmented_views: int
) -> Features:
    """Clean features of the training and validation images, and ``augmented_views`` augmented passes
    over the training images.

    Augmentation acts on the framed view and colour constancy follows it, the order the device sees
    a different camera's light in; the clean view is exactly ``model_view``.
    """
    key, tag = feature_key(recipe, spec), _feature_tag(recipe, source, spec)
    train, validation = source.parts["train"], source.parts["validation"]
    views = data.device_views(source.framed[np.concatenate([train, validation])], spec)
    clean = cached_trunk_features(trunk, views, cache_dir, f"{tag}-clean", key)
    augmented = []
    for k in range(augmented_views):

        def transform(view: np.ndarray, i: int, k: int = k) -> np.ndarray:
            rng = np.random.default_rng([recipe.seed, k, i])
            return colour_constant(augment(view, rng, recipe.augmentation), spec)

        aug_key = f"{key}-{recipe.augmentation}-{k}"
        train_views = source.framed[train]
        augmented.append(cached_trunk_features(trunk, train_views, cache_dir, f"{tag}-aug{k}", aug_key, transform))
    return Features(clean[: len(train)], clean[len(train) :], augmented)


def _feature_tag(recipe: Recipe, source: Source, spec: InputSpec) -> str:
    """The readable start of a source's cached feature files' names."""
    return f"{recipe.model_id}-{source.name}-{spec.colour_constancy}"


def round_field_views(sources: list[Source], spec: InputSpec, cache_dir: Path) -> list[np.ndarray]:
    """Framed views of each source's validation photos with the bench's round field drawn on each
    (``tests.camera_variations.round_field``: black beyond a circle, as many dermatoscopes deliver)
    before the device segments and frames it. Validation photos only: a candidate meant to survive
    a round field is chosen on these, and the test parts and external sets stay unread."""
    return [
        data.framed_views(
            [s.samples[i] for i in s.parts["validation"]],
            spec,
            cache_dir,
            f"{s.name}-round-field",
            s.dataset.read,
            vary=round_field,
        )
        for s in sources
    ]


def round_field_aucs(
    recipe: Recipe,
    sources: list[Source],
    framed_round: list[np.ndarray],
    trunk: Trunk,
    top: Top,
    spec: InputSpec,
    cache_dir: Path,
) -> dict[str, float]:
    """The float model's validation AUC per source on the photos in a round field (``round_field_views``)."""
    scores, key = {}, feature_key(recipe, spec)
    for source, framed in zip(sources, framed_round, strict=True):
        name = f"{_feature_tag(recipe, source, spec)}-round-field"
        features = cached_trunk_features(trunk, data.device_views(framed, spec), cache_dir, name, key)
        scores[source.name] = round(auc(source.labels("validation"), logits(top, features)), 4)
    return scores


def validation_logits(
    recipe: Recipe,
    source: Source,
    validation_features: np.ndarray,
    trunk: Trunk,
    top: Top,
    spec: InputSpec,
    cache_dir: Path,
    flips: tuple[str, ...],
) -> np.ndarray:
    """The float model's logit for each of the source's validation photos, averaged over its view
    and the view's ``flips`` (``test_time``) as the int8 model's are on the device."""
    total = logits(top, validation_features)
    if flips:
        views, key = data.device_views(source.framed[source.parts["validation"]], spec), feature_key(recipe, spec)
        for flip in flips:
            name = f"{_feature_tag(recipe, source, spec)}-validation-{flip}"
            total += logits(top, cached_trunk_features(trunk, flipped(views, flip), cache_dir, name, key))
    return total / (1 + len(flips))


def flipped_aucs(
    recipe: Recipe,
    sources: list[Source],
    features: list[Features],
    trunk: Trunk,
    top: Top,
    spec: InputSpec,
    cache_dir: Path,
    flip_set: str,
) -> dict[str, float]:
    """The float model's validation AUC per source with each photo's logit averaged over its view
    and the view's flips (``test_time.FLIP_SETS[flip_set]``)."""
    flips, scores = FLIP_SETS[flip_set], {}
    for source, feats in zip(sources, features, strict=True):
        averaged = validation_logits(recipe, source, feats.validation, trunk, top, spec, cache_dir, flips)
        scores[source.name] = round(auc(source.labels("validation"), averaged), 4)
    return scores


@dataclass(frozen=True)
class TrainingSet:
    features: np.ndarray
    labels: np.ndarray
    sources: np.ndarray


def training_set(sources: list[Source], features: list[Features]) -> TrainingSet:
    """Clean and augmented training features of the given sources, pooled, with each row's source."""
    rows, labels, names = [], [], []
    for source, feats in zip(sources, features, strict=True):
        train = source.parts["train"]
        for block in [feats.train, *feats.augmented]:
            rows.append(block)
            labels.append(source.labels("train"))
            names.append(np.full(len(train), source.name))
    return TrainingSet(np.concatenate(rows), np.concatenate(labels), np.concatenate(names))


def validation_set(sources: list[Source], features: list[Features]) -> TrainingSet:
    """Clean validation features of the given sources, pooled."""
    rows = [f.validation for f in features]
    labels = [s.labels("validation") for s in sources]
    names = [np.full(len(s.parts["validation"]), s.name) for s in sources]
    return TrainingSet(np.concatenate(rows), np.concatenate(labels), np.concatenate(names))


@dataclass(frozen=True)
class TrainedTop:
    top: Top
    history: list[dict[str, float]]
    minutes: float  # training wall time, also when the top comes from the cache
    cached: bool  # trained by an earlier run: its minutes are not in this run's wall time


def train_top(recipe: Recipe, sources: list[Source], features: list[Features], cache_dir: Path) -> TrainedTop:
    """A fresh top trained on the sources' training parts, selected on their validation parts.

    Memoised on disk, keyed on the settings and on every feature the training and selection saw, so
    a build after a ``--validation-only`` run of the same recipe exports the very top that was
    validated, without training it again.
    """
    _, top = build(recipe.trunk, recipe.image_size, recipe.split_block)
    train, val = training_set(sources, features), validation_set(sources, features)
    digest = hashlib.sha256(repr((recipe.train, recipe.image_size, recipe.split_block)).encode())
    for array in (train.features, train.labels, train.sources, val.features, val.labels, val.sources):
        digest.update(np.ascontiguousarray(array).tobytes())
    path = cache_dir / f"top-{recipe.model_id}-{digest.hexdigest()[:16]}.pt"
    if path.exists():
        saved = torch.load(path, weights_only=True)
        top.load_state_dict(saved["state"])
        log.info("trained top from the cache: %s", path)
        return TrainedTop(top.eval(), saved["history"], saved["minutes"], cached=True)
    started = time.monotonic()
    top, history = fit_top(
        top, train.features, train.labels, train.sources, val.features, val.labels, val.sources, recipe.train
    )
    minutes = (time.monotonic() - started) / 60
    torch.save({"state": top.state_dict(), "history": history, "minutes": minutes}, path)
    return TrainedTop(top, history, minutes, cached=False)


def report_validation(
    recipe: Recipe,
    sources: list[Source],
    validation_scores: list[np.ndarray],
    trained: TrainedTop,
    measures: dict[str, dict[str, float]],
) -> None:
    """What a ``--validation-only`` run prints: the settings, each epoch, the kept top's per-source
    AUCs, and its per-source AUCs under each further measure asked for (``--round-field``: on the
    validation photos in a round field; ``--surround-split``: on those without and with a dark
    surround, ``models/build/surround.py``; ``--test-time-flips``: averaged over the views' flips)."""
    best = max(trained.history, key=lambda h: h["val_auc"])
    per_source = {
        s.name: round(auc(s.labels("validation"), scores), 4)
        for s, scores in zip(sources, validation_scores, strict=True)
    }
    print(run_settings(recipe))
    for entry in trained.history:
        print(f"epoch {entry['epoch']}: train loss {entry['train_loss']:.4f}, validation AUC {entry['val_auc']:.4f}")
    print(f"kept epoch {best['epoch']}: mean {best['val_auc']:.4f}, per source {per_source}")
    for label, aucs in measures.items():
        print(f"{label}: mean {np.nanmean(list(aucs.values())):.4f}, per source {aucs}")
    print(f"trained in {trained.minutes:.1f} min")


def pooled(sources: list[Source], part: str, per_source: list[np.ndarray]) -> np.ndarray:
    """Concatenate a per-source array restricted to ``part``, in source order."""
    return np.concatenate([values[s.parts[part]] for s, values in zip(sources, per_source, strict=True)])


def run(recipe: Recipe, argv: list[str] | None = None) -> None:
    args = parse_args(recipe, argv)
    recipe = with_run_options(recipe, args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.monotonic()
    torch.set_num_threads(args.threads)
    seed_everything(recipe.seed)
    spec = input_spec(recipe)

    sources = [load_source(recipe, ds, spec, args.data_dir, args.cache_dir) for ds in recipe.development]
    for source in sources:
        log.info("split %s %s", source.name, {p: source.counts(p) for p in PARTS})
    framed_round = round_field_views(sources, spec, args.cache_dir) if args.round_field else None
    trunk, _ = build(recipe.trunk, recipe.image_size, recipe.split_block)
    features = [
        source_features(recipe, s, trunk, spec, args.cache_dir, views)
        for s, views in zip(sources, recipe.augmented_views, strict=True)
    ]
    trained = train_top(recipe, sources, features, args.cache_dir)
    if args.validation_only:
        top_scores = [logits(trained.top, f.validation) for f in features]
        measures = {}
        if framed_round is not None:
            measures["round field"] = round_field_aucs(
                recipe, sources, framed_round, trunk, trained.top, spec, args.cache_dir
            )
        if args.surround_split:
            measures.update(surround_split(sources, top_scores))
        if args.test_time_flips:
            measures[f"test-time flips ({args.test_time_flips})"] = flipped_aucs(
                recipe, sources, features, trunk, trained.top, spec, args.cache_dir, args.test_time_flips
            )
        report_validation(recipe, sources, top_scores, trained, measures)
        return
    top, history = trained.top, trained.history
    classifier = Classifier(trunk, top).eval()

    views = [data.device_views(s.framed, spec) for s in sources]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    tflite_path = args.out_dir / "model.tflite"
    train_views = pooled(sources, "train", views)
    chosen = np.random.default_rng(recipe.seed).choice(
        len(train_views), size=min(recipe.calibration_images, len(train_views)), replace=False
    )
    parity = to_int8_tflite(classifier, recipe.image_size, train_views[np.sort(chosen)], tflite_path)
    int8 = Int8Model(tflite_path, spec, args.threads)
    tensors = int8.describe()
    log.info("int8 model %s bytes=%d keras_parity=%.2e", tensors, tflite_path.stat().st_size, parity)

    # Validation only: thresholds on the int8 model's scores over the pooled validation parts.
    val_scores = validation_scores(sources, views, int8)
    thresholds = validation_thresholds(recipe, sources, val_scores)
    log.info("thresholds %s", thresholds)
    # The held-out test parts and the external sets, read once.
    held_out = held_out_scores(recipe, sources, views, int8, spec, args.data_dir, args.cache_dir)
    # The float model is scored on validation only (its features are cached; the test stays int8-only).
    float_val = [
        sigmoid(validation_logits(recipe, s, f.validation, trunk, top, spec, args.cache_dir, spec.test_time_flips))
        for s, f in zip(sources, features, strict=True)
    ]
    metrics: dict[str, object] = {
        "int8": int8_metrics(recipe, sources, val_scores, held_out, thresholds),
        "float": {"validation": pooled_measure(recipe, sources, "validation", float_val, thresholds)},
        "float_int8_agreement": {
            "validation": agreement(np.concatenate(float_val), np.concatenate(val_scores), thresholds["screening"])
        },
    }
    draw_plots(held_out, thresholds["screening"], args.out_dir, recipe.model_id)

    flatbuffer = tflite_path.read_bytes()
    document = card_document(
        recipe,
        spec=spec,
        tensors=tensors,
        sha256=hashlib.sha256(flatbuffer).hexdigest(),
        thresholds=thresholds,
        metrics=metrics,
        split_counts={s.name: {p: s.counts(p) for p in PARTS} for s in sources},
        external_counts=held_out.external_counts,
        history=history,
        wall_minutes=(time.monotonic() - started) / 60 + (trained.minutes if trained.cached else 0.0),
        model_bytes=len(flatbuffer),
    )
    card_path = args.out_dir / "card.json"
    card_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    read_card(card_path)  # the device's own validation must accept it
    log.info("wrote %s and %s in %.1f min", tflite_path, card_path, (time.monotonic() - started) / 60)
    log.info("int8: %s", json.dumps({k: v["auc"] for k, v in metrics["int8"].items()}))  # type: ignore[attr-defined]
