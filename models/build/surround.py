"""Does the melanoma model read a dermatoscope's dark surround as melanoma?

Some dermatoscopes leave a dark surround around their lit field (a round field's corners, a
vignette, a contact plate's rim). In a development source where photos with one are more often
melanomas than the others (one clinic's dermatoscope, used more for the lesions it follows), a model
can learn the surround as a sign of melanoma: its AUC on that source's validation part then rewards
reading it, and a camera whose every photo has one (``bench/camera_variation.py``'s round field)
scrambles its ranking.

``--surround-split`` (with ``--validation-only``) prints, per development source, how many of its
training and validation photos have a surround and how often those are melanomas, beside the others;
then the float model's validation AUC on the photos without one (what carries to a camera with no
surround) and on those with one. A photo has a surround when the dermatoscope's lit field
(``quality.lesion.lit_field``, the device's own first step, on the segmentation's working copy)
covers less than ``SURROUND_FIELD_SHARE`` of it: a round field's corners, a contact plate's dark
rim, and also a black border or bars (which the ``lit_field`` crop cuts from the model's view); a
vignette counts only where it falls below the lit field's level, a gentle fall-off of the light
does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from firmware_app.quality.lesion import WORK_SIZE, lit_field
from firmware_app.quality.resample import shrink
from models.build.metrics import auc

if TYPE_CHECKING:
    from models.build.sources import Source

# A surround covering 3% of the photo is a dark band a few pixels wide along a side, or a round
# field's four corners just clipped: plainly there, yet well clear of a lit field's ragged edge,
# which leaves a fully lit photo at 99% or more.
SURROUND_FIELD_SHARE = 0.97
# Fewer photos than this in a group (with or without a surround) and its AUC says nothing: it is
# reported as NaN.
MIN_GROUP = 20


def has_surround(rgb: np.ndarray) -> bool:
    """Whether the dermatoscope's lit field covers less than ``SURROUND_FIELD_SHARE`` of the photo."""
    return float(lit_field(shrink(rgb, WORK_SIZE)).mean()) < SURROUND_FIELD_SHARE


def surround_flags(source: Source, part: str) -> np.ndarray:
    """``has_surround`` of each photo of one split part of a source, in the part's order."""
    return np.array([has_surround(source.dataset.read(source.samples[i].path)) for i in source.parts[part]], bool)


def surround_split(sources: list[Source], validation_scores: list[np.ndarray]) -> dict[str, dict[str, float]]:
    """Print each source's surround counts (training and validation parts) and return the AUC of a
    model's ``validation_scores`` (one array per source) on the photos without a surround and on
    those with one."""
    split: dict[str, dict[str, float]] = {"no surround": {}, "surround": {}}
    for source, scores in zip(sources, validation_scores, strict=True):
        flags = {part: surround_flags(source, part) for part in ("train", "validation")}
        print(f"{source.name}: " + "; ".join(_counts(part, flag, source.labels(part)) for part, flag in flags.items()))
        labels = source.labels("validation")
        for label, chosen in (("no surround", ~flags["validation"]), ("surround", flags["validation"])):
            split[label][source.name] = group_auc(labels[chosen], scores[chosen])
    return split


def group_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The AUC of one group, NaN when it holds fewer than ``MIN_GROUP`` photos or one class only."""
    return round(auc(labels, scores), 4) if len(labels) >= MIN_GROUP else float("nan")


def _counts(part: str, flags: np.ndarray, labels: np.ndarray) -> str:
    """How many of a split part's photos have a surround, and the melanoma rate with and without one."""

    def rate(chosen: np.ndarray) -> str:
        return f"{labels[chosen].mean():.3f}" if chosen.any() else "-"

    return f"{part}: {flags.sum()} of {len(flags)} with a surround, melanoma {rate(flags)} with, {rate(~flags)} without"
