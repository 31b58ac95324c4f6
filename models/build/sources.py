"""A recipe's development sources as every build, ablation and re-measure sees them: each source
split by its own groups with the recipe's seed, its photos framed as the device frames them, and the
model input they make. Without torch, so the committed int8 model can be re-measured (``remeasure``)
where the training packages are not installed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from firmware_app.inference.card import InputSpec
from models.build import data
from models.build.recipe import DataSet, Recipe
from models.build.trunks import PIXEL_MEAN, PIXEL_STD

PARTS = ("train", "validation", "test")


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
