"""Test-time flips: a model's input scored with its mirror images, their outputs averaged.

A photo's orientation carries no diagnosis (the models were trained on every rotation and flip), so
what orientation alone moves in a score is noise that the mean over flips averages out. A card
names the flips its figures were measured with (``input.test_time_flips``); the device and the
build's int8 scoring both go through ``mean_output``, so the card's figures are the device's. Each
flip reverses the input along the image's own axes after the crop, resize, colour constancy and
quantisation, which it commutes with: the view is made once, only the interpreter runs again.

The flips are the symmetries of a square: the three mirror images along the axes (``left_right``,
``up_down``, ``both``: a half turn), and the transpose (a mirror image along the diagonal) with its
three (``transpose_left_right`` and ``transpose_up_down`` are the quarter turns). A transposed view
has its height and width swapped, so only a square input can be transposed (``transposes``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Each flip: whether the view is transposed first, then its axes reversed, of an input
# (1, height, width, channels), a stack of views or one view, counted from the end.
_FLIPS: dict[str, tuple[bool, tuple[int, ...]]] = {
    "left_right": (False, (-2,)),
    "up_down": (False, (-3,)),
    "both": (False, (-3, -2)),
    "transpose": (True, ()),
    "transpose_left_right": (True, (-2,)),
    "transpose_up_down": (True, (-3,)),
    "transpose_both": (True, (-3, -2)),
}
FLIPS = tuple(_FLIPS)


def transposes(flips: tuple[str, ...]) -> bool:
    """Whether any of ``flips`` transposes the view (which needs a square input)."""
    return any(_FLIPS[flip][0] for flip in flips)


def flipped(views: np.ndarray, flip: str) -> np.ndarray:
    """``views`` (..., height, width, channels) flipped, contiguous (an interpreter's input and the
    build's feature cache read the bytes)."""
    transposed, axes = _FLIPS[flip]
    moved = np.swapaxes(views, -3, -2) if transposed else views
    return np.ascontiguousarray(np.flip(moved, axes) if axes else moved)


def mean_output(
    output_of: Callable[[np.ndarray], np.ndarray], tensor: np.ndarray, flips: tuple[str, ...]
) -> np.ndarray:
    """The mean of ``output_of`` (a dequantised output, logits for a sigmoid) over ``tensor`` and
    its ``flips``."""
    outputs = [output_of(tensor)] + [output_of(flipped(tensor, flip)) for flip in flips]
    return np.mean(outputs, axis=0)
