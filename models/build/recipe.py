"""What distinguishes one model from another: data, input size, how much of the network to train, and
the words that go into its card. Everything else is the shared pipeline in ``pipeline.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from models.build.augment import Augmentation
from models.build.data import Sample
from models.build.train import TrainSettings


@dataclass(frozen=True)
class DataSet:
    """A labelled image set and what its card entry must say (licence and attribution included)."""

    name: str
    load: Callable[[Path], list[Sample]]
    source: str
    licence: str
    attribution: str
    group_kind: str  # "patient" or "lesion"


@dataclass(frozen=True)
class Recipe:
    model_id: str
    module: str  # python -m target that rebuilds it
    task: str
    modality: str
    crop: str
    labels: tuple[str, ...]
    meaning: str
    image_size: int
    split_block: int  # EfficientNet-Lite0 blocks [split_block, 16) are trained
    development: DataSet
    split_fractions: tuple[float, float, float]
    screening_sensitivity: float  # validation sensitivity the screening threshold must reach
    train: TrainSettings
    augmentation: Augmentation
    augmented_views: int  # augmented trunk passes per training image, besides the clean one
    intended_use: str
    limitations: tuple[str, ...]
    anchors: str  # the commercial anchors, in words, for the comparison sentence
    anchor_check: Callable[[dict[str, dict[str, float]]], str]
    external: DataSet | None = None
    calibration_images: int = 300
    seed: int = 20240601
    notes: tuple[str, ...] = field(default_factory=tuple)
