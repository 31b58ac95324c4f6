"""Test-time flips: a view scored with its mirror images, their logits averaged.

A photo's orientation carries no diagnosis (both models were trained on every rotation and flip),
so what orientation alone moves in a score is noise that the mean over flips averages out. Each
flip is a view's pixels reversed along the image's own axes, after the device's crop, resize and
colour constancy, which it commutes with; pre-registered as a candidate in models/README.md
("Test-time flips"), measured on validation photos only.
"""

from __future__ import annotations

import numpy as np

# The flips besides the view itself, per set a candidate may name.
FLIP_SETS: dict[str, tuple[str, ...]] = {
    "mirror": ("left_right",),
    "flips": ("left_right", "up_down", "both"),
}
# Axes of a stack of views (count, height, width, channels), or of one view, counted from the end.
_AXES = {"left_right": (-2,), "up_down": (-3,), "both": (-3, -2)}


def flipped(views: np.ndarray, flip: str) -> np.ndarray:
    """``views`` (..., height, width, channels) flipped, contiguous: the trunk's feature cache keys
    on the bytes."""
    return np.ascontiguousarray(np.flip(views, _AXES[flip]))
