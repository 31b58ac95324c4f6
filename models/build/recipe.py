"""What distinguishes one model from another: data, input size, how much of the network to train, and
the words that go into its card. Everything else is the shared pipeline in ``pipeline.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.build.augment import Augmentation
from models.build.data import Reader, Sample, read_rgb
from models.build.trunks import TRUNKS


@dataclass(frozen=True)
class TrainSettings:
    """How the top is trained (``train.fit_top``); here so a recipe names them without torch."""

    epochs: int = 12
    batch_size: int = 64
    lr_blocks: float = 3e-4
    lr_head: float = 1e-3
    weight_decay: float = 1e-4
    feature_flips: bool = False
    mixup_alpha: float = 0.0  # Beta(alpha, alpha) blend weight of feature mixup; 0 switches it off
    ema_decay: float = 0.0  # per-step decay of the weight average that is validated and kept; 0: raw weights
    seed: int = 0


@dataclass(frozen=True)
class DataSet:
    """A labelled image set and what its card entry must say (licence and attribution included)."""

    name: str
    load: Callable[[Path], list[Sample]]
    source: str
    licence: str
    attribution: str
    group_kind: str  # "patient", "lesion" or "image" (a set without patient/lesion ids)
    # Train on one image per group: several photos of one lesion teach little more than one, and each
    # trunk pass costs (validation and test keep every image).
    one_training_image_per_group: bool = False
    # Decodes a photo as the camera delivered it: a set stored altered could be restored here, before
    # the device's view, since the device never meets such photos. Restoring APTOS's squashed fields
    # (``field_aspect.read_round_field``) was tried and moved no left-out AUC by 0.01
    # (``aspect_transfer``, models/README.md), so every recipe reads photos as stored.
    read: Reader = read_rgb


@dataclass(frozen=True)
class Recipe:
    model_id: str
    # The card's and the bundle's version: a rebuild with new weights is a new version, so that a
    # device installing it records the change (``edgescreen models``) and reports say which one scored.
    version: str
    module: str  # python -m target that rebuilds it
    task: str
    modality: str
    crop: str
    labels: tuple[str, ...]
    meaning: str
    image_size: int
    split_block: int  # the trunk's blocks [split_block, TRUNKS[trunk].blocks) are trained
    development: tuple[DataSet, ...]  # each split by its own groups, then pooled
    split_fractions: tuple[float, float, float]
    screening_sensitivity: float  # validation sensitivity the screening threshold must reach
    train: TrainSettings
    augmentation: Augmentation
    # Augmented trunk passes per training image of each development source, besides the clean one:
    # more for a small source, whose images balanced sampling draws more often.
    augmented_views: tuple[int, ...]
    intended_use: str
    limitations: tuple[str, ...]
    anchors: str  # the commercial anchors, in words, for the comparison sentence
    anchor_check: Callable[[dict[str, Any]], str]  # the card's metrics.int8 sets -> the comparison sentence
    externals: tuple[DataSet, ...] = ()  # never trained or tuned on
    trunk: str = "lite0"  # which pretrained EfficientNet-Lite (``backbone.TRUNKS``)
    colour_constancy: str = "shades_of_gray_p6"
    # Flips of the input the int8 model also scores, its outputs averaged (``test_time``; the card's
    # ``input.test_time_flips``, so the device scores the same way).
    test_time_flips: tuple[str, ...] = ()
    calibration_images: int = 300
    seed: int = 20240601

    def __post_init__(self) -> None:
        """Refuse a split that leaves the trunk or the top without a block, or an unknown trunk."""
        blocks = TRUNKS[self.trunk].blocks  # an unknown trunk fails here, loudly
        if not 1 <= self.split_block < blocks:
            raise ValueError(f"split_block {self.split_block}: within 1-{blocks - 1} for {self.trunk}")
