"""The ablation's trained rows: a fresh top trained on some of the development sources, with or
without colour constancy and augmentation, on the cached trunk features (needs torch; the shipped
row, the committed int8 model, does not: ``ablation.committed_model_aucs``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from models.build.ablation import Aucs, Row
from models.build.backbone import Top, Trunk, build
from models.build.metrics import auc
from models.build.pipeline import Features, seed_everything, source_features, train_top
from models.build.recipe import Recipe
from models.build.sources import Source, input_spec, load_source
from models.build.train import logits


def cached_features(
    recipe: Recipe, colour_constancy: bool, trunk: Trunk, args: argparse.Namespace
) -> tuple[list[Source], list[Features]]:
    """The development sources and their trunk features, with the recipe's colour constancy or none.

    Augmented views exist only with colour constancy (the recipe's, shared with the build's cache);
    without it, only the clean views are computed.
    """
    variant = recipe if colour_constancy else replace(recipe, colour_constancy="none")
    spec = input_spec(variant)
    sources = [load_source(variant, ds, spec, args.data_dir, args.cache_dir) for ds in recipe.development]
    views = recipe.augmented_views if colour_constancy else (0,) * len(sources)
    pairs = zip(sources, views, strict=True)
    return sources, [source_features(variant, s, trunk, spec, args.cache_dir, v) for s, v in pairs]


def row_top(recipe: Recipe, row: Row, sources: list[Source], feats: list[Features], cache_dir: Path) -> Top:
    """A fresh top trained on the row's sources (from the cache when this row has run)."""
    if not row.augmentation:
        feats = [replace(f, augmented=[]) for f in feats]
    picked = [i for i, s in enumerate(sources) if s.name in row.trained_on]
    seed_everything(recipe.seed)
    return train_top(recipe, [sources[i] for i in picked], [feats[i] for i in picked], cache_dir).top


def unseen_scores(top: Top, source: Source, feats: Features) -> tuple[np.ndarray, np.ndarray]:
    """The indices into ``source.samples`` of its training and validation images, and ``top``'s
    logits on them: a source a row left out is scored on all it has besides its test part."""
    indices = np.concatenate([source.parts["train"], source.parts["validation"]])
    return indices, np.concatenate([logits(top, feats.train), logits(top, feats.validation)])


def trained_top_aucs(recipe: Recipe, row: Row, sources: list[Source], feats: list[Features], cache_dir: Path) -> Aucs:
    """Train a fresh top on the row's sources; its float AUC on every source's validation part, and
    on the training and validation parts of each source it left out."""
    top = row_top(recipe, row, sources, feats, cache_dir)
    pairs = list(zip(sources, feats, strict=True))
    left_out = {}
    for source, feat in pairs:
        if source.name not in row.trained_on:
            indices, scores = unseen_scores(top, source, feat)
            left_out[source.name] = auc(source.labels()[indices], scores)
    return {
        "validation_auc": {s.name: auc(s.labels("validation"), logits(top, f.validation)) for s, f in pairs},
        "left_out_auc": left_out,
    }


class TrainedRows:
    """The trained rows of one ablation run: one trunk, each colour constancy's features computed once."""

    def __init__(self, recipe: Recipe, args: argparse.Namespace) -> None:
        torch.set_num_threads(args.threads)
        self.recipe, self.args = recipe, args
        self.trunk, _ = build(recipe.trunk, recipe.image_size, recipe.split_block)
        self.features: dict[bool, tuple[list[Source], list[Features]]] = {}

    def aucs(self, row: Row) -> Aucs:
        """Train a fresh top for ``row`` (``trained_top_aucs``) on its colour constancy's features."""
        colour = row.colour_constancy
        if colour not in self.features:
            self.features[colour] = cached_features(self.recipe, colour, self.trunk, self.args)
        return trained_top_aucs(self.recipe, row, *self.features[colour], self.args.cache_dir)
