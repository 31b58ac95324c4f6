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
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from firmware_app.inference.card import COLOUR_CONSTANCY, CROPS, InputSpec, read_card
from firmware_app.inference.preprocess import colour_constant
from firmware_app.inference.test_time import flipped
from models.build import data
from models.build.augment import augment
from models.build.backbone import PIXEL_MEAN, PIXEL_STD, TRUNKS, Classifier, Top, Trunk, build
from models.build.card_document import card_document
from models.build.evaluation import agreement, choose_operating_points, measure
from models.build.export import to_int8_tflite
from models.build.features import cached_trunk_features
from models.build.litert import Int8Model, sigmoid
from models.build.metrics import auc
from models.build.plots import draw_calibration, draw_roc
from models.build.recipe import DataSet, Recipe
from models.build.surround import surround_split
from models.build.test_time import FLIP_SETS
from models.build.train import fit_top, logits
from tests.camera_variations import round_field

log = logging.getLogger("models.build")
PARTS = ("train", "validation", "test")


def _views_per_source(text: str) -> tuple[int, ...]:
    """``--augmented-views``' value: augmented passes per development source, comma-separated."""
    try:
        views = tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError("whole numbers, one per development source, e.g. 1,2") from error
    if min(views) < 0:
        raise argparse.ArgumentTypeError("no source gets fewer than no augmented views")
    return views


# The run options that try another recipe than the committed one (``with_run_options``), by their
# ``argparse`` names: validation only, printed, never written into a model's files.
_TRIED_OPTIONS = ("trunk", "image_size", "split_block", "colour_constancy", "crop", "framing", "augmented_views")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options a build and the ablation share: where the data and the cache are, the threads,
    and training settings and a split to try (``with_run_options``)."""
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR, help="the shared data folder")
    parser.add_argument("--cache-dir", type=Path, default=data.DEFAULT_CACHE_DIR, help="views/features cache")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch and the interpreter")
    parser.add_argument(
        "--train-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="try another training setting (e.g. epochs=10): validation figures only, never a model or a table row",
    )
    parser.add_argument(
        "--trunk",
        choices=sorted(TRUNKS),
        help="another pretrained EfficientNet-Lite than the recipe's (new trunk features): validation only",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        metavar="PX",
        help="another square input size than the recipe's (new framed views and trunk features): validation only",
    )
    parser.add_argument(
        "--split-block",
        type=int,
        metavar="N",
        help="train the trunk's blocks from N on instead of the recipe's (new trunk features): validation only",
    )
    parser.add_argument(
        "--colour-constancy",
        choices=COLOUR_CONSTANCY,
        help="another colour constancy than the recipe's (new views and trunk features): validation only",
    )
    parser.add_argument(
        "--crop",
        choices=CROPS,
        help="another crop than the recipe's (new framed views and trunk features): validation only",
    )
    parser.add_argument(
        "--framing",
        type=float,
        metavar="SHARE",
        help="give this share of augmented views another dermatoscope's framing (augment._framing): validation only",
    )
    parser.add_argument(
        "--augmented-views",
        type=_views_per_source,
        metavar="N,N",
        help="augmented passes per training image of each development source, in the recipe's order: validation only",
    )


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
    for name in _TRIED_OPTIONS:
        if getattr(args, name) is not None and not args.validation_only:
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} only with --validation-only: a built model's recipe is the committed one")
    return args


def with_run_options(recipe: Recipe, args: argparse.Namespace) -> Recipe:
    """The recipe as this run trains it: the committed one, or with the settings, trunk, input size,
    split, colour constancy, crop, framing augmentation and augmented passes a ``--validation-only``
    run tries. The trunk, the input size, the split and the colour constancy are in every trunk
    feature's cache key (and so, through the features, in the trained tops'), the crop and the size
    in the framed views' (and so in the features' and the tops'), the augmentation in the augmented
    features', the augmented passes in the tops' (through the features they train on), so features
    of another are never served for this one. Trunk, size and split change together: a split is
    checked against the trunk it splits (``Recipe.__post_init__``)."""
    recipe = with_train_settings(recipe, args.train_setting)
    if args.augmented_views is not None:
        if len(args.augmented_views) != len(recipe.development):
            names = ", ".join(d.name for d in recipe.development)
            raise ValueError(f"--augmented-views needs one number per development source ({names})")
        recipe = replace(recipe, augmented_views=args.augmented_views)
    network = {"trunk": args.trunk, "image_size": args.image_size, "split_block": args.split_block, "crop": args.crop}
    recipe = replace(recipe, **{name: value for name, value in network.items() if value is not None})
    if args.framing is not None:
        recipe = replace(recipe, augmentation=replace(recipe.augmentation, framing=args.framing))
    return recipe if args.colour_constancy is None else replace(recipe, colour_constancy=args.colour_constancy)


def tried_options(args: argparse.Namespace) -> bool:
    """Whether this run tries something besides the committed recipe (``with_run_options``): its
    figures are printed, never written into a model's files."""
    return bool(args.train_setting) or any(getattr(args, name) is not None for name in _TRIED_OPTIONS)


def run_settings(recipe: Recipe) -> str:
    """The settings a run trained with, as its printed figures are headed."""
    return (
        f"settings {recipe.train}, {trained_blocks(recipe)}, "
        f"colour constancy {recipe.colour_constancy}, crop {recipe.crop}, framing {recipe.augmentation.framing}, "
        f"augmented views {recipe.augmented_views}"
    )


def trained_blocks(recipe: Recipe) -> str:
    """Which of the trunk's blocks a run trains, at which input size, in words for its printed figures."""
    return f"{TRUNKS[recipe.trunk].trained_blocks(recipe.split_block)} trained at {recipe.image_size} px"


def with_train_settings(recipe: Recipe, assignments: list[str]) -> Recipe:
    """The recipe with some training settings replaced, each ``NAME=VALUE`` typed like the default."""
    changes: dict[str, object] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        current = getattr(recipe.train, name)  # an unknown name fails here, loudly
        changes[name] = value.lower() in ("1", "true", "yes") if isinstance(current, bool) else type(current)(value)
    return replace(recipe, train=replace(recipe.train, **changes))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def input_spec(recipe: Recipe, colour_constancy: str | None = None) -> InputSpec:
    return InputSpec(
        recipe.image_size,
        recipe.image_size,
        "int8",
        "RGB",
        recipe.crop,
        PIXEL_MEAN,
        PIXEL_STD,
        recipe.colour_constancy if colour_constancy is None else colour_constancy,
        recipe.test_time_flips,
    )


@dataclass(frozen=True)
class Source:
    """One development source: its samples, framed views and the indices of each split part."""

    dataset: DataSet
    samples: list[data.Sample]
    framed: np.ndarray
    parts: dict[str, np.ndarray]

    @property
    def name(self) -> str:
        return self.dataset.name

    def labels(self, part: str | None = None) -> np.ndarray:
        labels = data.labels_of(self.samples)
        return labels if part is None else labels[self.parts[part]]

    def groups(self, part: str | None = None) -> np.ndarray:
        groups = data.groups_of(self.samples)
        return groups if part is None else groups[self.parts[part]]

    def counts(self, part: str) -> tuple[int, int, int]:
        return len(self.parts[part]), len(np.unique(self.groups(part))), int(self.labels(part).sum())


def load_source(recipe: Recipe, dataset: DataSet, spec: InputSpec, data_dir: Path, cache_dir: Path) -> Source:
    """Split one source by its own groups (fixed seed) and cache its framed views."""
    samples = dataset.load(data_dir)
    framed = data.framed_views(samples, spec, cache_dir, dataset.name, dataset.read)
    return Source(dataset, samples, framed, split_parts(recipe, dataset, samples))


def split_parts(recipe: Recipe, dataset: DataSet, samples: list[data.Sample]) -> dict[str, np.ndarray]:
    """Indices into ``samples`` of each split part, as every build and report of this recipe sees them."""
    split = data.split_by_group(samples, recipe.split_fractions, recipe.seed)
    if dataset.one_training_image_per_group:
        split = replace(split, train=list({s.group: s for s in reversed(split.train)}.values()))
    position = {s.path: i for i, s in enumerate(samples)}
    return {name: np.array(sorted(position[s.path] for s in getattr(split, name))) for name in PARTS}


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
        validation_scores = [logits(trained.top, f.validation) for f in features]
        measures = {}
        if framed_round is not None:
            measures["round field"] = round_field_aucs(
                recipe, sources, framed_round, trunk, trained.top, spec, args.cache_dir
            )
        if args.surround_split:
            measures.update(surround_split(sources, validation_scores))
        if args.test_time_flips:
            measures[f"test-time flips ({args.test_time_flips})"] = flipped_aucs(
                recipe, sources, features, trunk, trained.top, spec, args.cache_dir, args.test_time_flips
            )
        report_validation(recipe, sources, validation_scores, trained, measures)
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
    val_scores = [
        sigmoid(int8.logits(v[s.parts["validation"]], f"validation {s.name}"))
        for s, v in zip(sources, views, strict=True)
    ]
    val_labels = np.concatenate([s.labels("validation") for s in sources])
    thresholds = choose_operating_points(val_labels, np.concatenate(val_scores), recipe.screening_sensitivity)
    log.info("thresholds %s", thresholds)

    # The held-out test parts and the external sets, read once.
    scored: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # name -> labels, groups, int8 scores
    int8_test = []
    for source, v in zip(sources, views, strict=True):
        scores = sigmoid(int8.logits(v[source.parts["test"]], f"test {source.name}"))
        scored[f"test_{source.name}"] = (source.labels("test"), source.groups("test"), scores)
        int8_test.append(scores)
    externals = []
    for dataset in recipe.externals:
        samples = dataset.load(args.data_dir)
        ext_framed = data.framed_views(samples, spec, args.cache_dir, dataset.name, dataset.read)
        ext_views = data.device_views(ext_framed, spec)
        labels, groups = data.labels_of(samples), data.groups_of(samples)
        scored[f"external_{dataset.name}"] = (labels, groups, sigmoid(int8.logits(ext_views, dataset.name)))
        externals.append((dataset, (len(samples), len(set(groups)), int(labels.sum()))))

    def pooled_measure(part: str, scores: list[np.ndarray]) -> dict[str, object]:
        labels = np.concatenate([s.labels(part) for s in sources])
        groups = np.concatenate([[f"{s.name}/{g}" for g in s.groups(part)] for s in sources])
        return measure(labels, np.concatenate(scores), groups, thresholds, recipe.seed)

    int8_metrics: dict[str, object] = {"validation": pooled_measure("validation", val_scores)}
    int8_metrics["test"] = pooled_measure("test", int8_test)
    for name, (labels, groups, scores) in scored.items():
        int8_metrics[name] = measure(labels, scores, groups, thresholds, recipe.seed)
    # The float model is scored on validation only (its features are cached; the test stays int8-only).
    float_val = [
        sigmoid(validation_logits(recipe, s, f.validation, trunk, top, spec, args.cache_dir, spec.test_time_flips))
        for s, f in zip(sources, features, strict=True)
    ]
    metrics: dict[str, object] = {
        "int8": int8_metrics,
        "float": {"validation": pooled_measure("validation", float_val)},
        "float_int8_agreement": {
            "validation": agreement(np.concatenate(float_val), np.concatenate(val_scores), thresholds["screening"])
        },
    }
    plot_sets = {name: (labels, scores) for name, (labels, _, scores) in scored.items()}
    draw_roc(plot_sets, thresholds["screening"], args.out_dir / "roc.png", recipe.model_id)
    draw_calibration(plot_sets, args.out_dir / "calibration.png", recipe.model_id)

    flatbuffer = tflite_path.read_bytes()
    document = card_document(
        recipe,
        spec=spec,
        tensors=tensors,
        sha256=hashlib.sha256(flatbuffer).hexdigest(),
        thresholds=thresholds,
        metrics=metrics,
        split_counts={s.name: {p: s.counts(p) for p in PARTS} for s in sources},
        external_counts={dataset.name: counts for dataset, counts in externals},
        history=history,
        wall_minutes=(time.monotonic() - started) / 60 + (trained.minutes if trained.cached else 0.0),
        model_bytes=len(flatbuffer),
    )
    card_path = args.out_dir / "card.json"
    card_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    read_card(card_path)  # the device's own validation must accept it
    log.info("wrote %s and %s in %.1f min", tflite_path, card_path, (time.monotonic() - started) / 60)
    log.info("int8: %s", json.dumps({k: v["auc"] for k, v in int8_metrics.items()}))  # type: ignore[index]
