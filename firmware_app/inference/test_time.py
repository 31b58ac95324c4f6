"""Test-time flips: a model's input scored with its mirror images, their outputs averaged.

A photo's orientation carries no diagnosis (the models were trained on every rotation and flip), so
what orientation alone moves in a score is noise that the mean over flips averages out. A card
names the flips its figures were measured with (``input.test_time_flips``); the device and the
build's int8 scoring both go through ``mean_output``, so the card's figures are the device's. Each
flip reverses the input along the image's own axes after the crop, resize, colour constancy and
quantisation, which it commutes with: the view is made once, only the interpreter runs again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Axes of an input (1, height, width, channels), of a stack of views or of one view, from the end.
_AXES = {"left_right": (-2,), "up_down": (-3,), "both": (-3, -2)}
FLIPS = tuple(_AXES)


def flipped(views: np.ndarray, flip: str) -> np.ndarray:
    """``views`` (..., height, width, channels) flipped, contiguous (an interpreter's input and the
    build's feature cache read the bytes)."""
    return np.ascontiguousarray(np.flip(views, _AXES[flip]))


def mean_output(
    output_of: Callable[[np.ndarray], np.ndarray], tensor: np.ndarray, flips: tuple[str, ...]
) -> np.ndarray:
    """The mean of ``output_of`` (a dequantised output, logits for a sigmoid) over ``tensor`` and
    its ``flips``."""
    outputs = [output_of(tensor)] + [output_of(flipped(tensor, flip)) for flip in flips]
    return np.mean(outputs, axis=0)
