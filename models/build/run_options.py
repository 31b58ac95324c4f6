"""The options a build, the ablation and their measuring runs share: where the data and the cache
are, the threads, and the training settings and split a ``--validation-only`` run tries instead of
the committed recipe's. Without torch, so the ablation's shipped row (the committed int8 model)
runs where the training packages are not installed.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from firmware_app.inference.card import COLOUR_CONSTANCY, CROPS
from models.build import data
from models.build.recipe import Recipe
from models.build.trunks import TRUNKS


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
TRIED_OPTIONS = ("trunk", "image_size", "split_block", "colour_constancy", "crop", "framing", "augmented_views")


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
    return bool(args.train_setting) or any(getattr(args, name) is not None for name in TRIED_OPTIONS)


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
