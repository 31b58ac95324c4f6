"""Bring a frame down to the working size the gates measure at.

Area averaging is what a camera's own downscaler does. OpenCV averages whole blocks of pixels
several times faster than fractional ones, so a large frame first loses a whole factor by block
averaging, and only the small remainder is resampled: a 12-megapixel capture sheds its pixels in a
few milliseconds. The remainder is the costly part: resampling a 1014-pixel square to 512 by a
fractional factor takes about 25 times as long as halving it to 507 (``bench/screen_path.py
--profile``). So the working copies the gate measures may come out up to ``SLACK`` smaller than
asked when a whole factor lands there: two percent of scale changes no measure's meaning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np

SLACK = 0.02


def block_average(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` reduced by a whole ``factor``, each output pixel the mean of a factor x factor block
    (the few edge pixels that do not fill a block are dropped)."""
    if factor < 2:
        return image
    height, width = image.shape[0] // factor, image.shape[1] // factor
    return cv2.resize(image[: height * factor, : width * factor], (width, height), interpolation=cv2.INTER_AREA)


def halving_factor(side: int, least: int) -> int:
    """The power of two a ``side`` can be halved by (``halved``) while it stays at ``least`` or more."""
    factor = 1
    while side // (2 * factor) >= least:
        factor *= 2
    return factor


def halved_by(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` reduced by a power of two ``factor``, one halving (a 2x2 block average) at a time.

    Halving is OpenCV's fastest reduction, several times faster than any other whole factor (a
    third of a 1280x857 frame costs six times its half), and a chain of halvings is the same from
    whichever of its levels it goes on: the copies a frame's analysis halves from one another are
    the ones halving the frame itself gives."""
    for _ in range(factor.bit_length() - 1):
        image = block_average(image, 2)
    return image


def halved(image: np.ndarray, side: int, of: Callable[[Sequence[int]], int] = min) -> tuple[np.ndarray, int]:
    """``image`` halved (``halved_by``) as often as the side ``of`` picks (the short one, or with
    ``max`` the long one) stays at ``side`` or more, and the factor it was reduced by."""
    factor = halving_factor(of(image.shape[:2]), side)
    return halved_by(image, factor), factor


def mask_at_size(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A mask resampled (nearest) to the height and width of ``shape``; itself when it has them."""
    if mask.shape == shape[:2]:
        return mask
    return cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0


def reduction(long_side: int, size: int, slack: float = 0.0) -> tuple[int, float]:
    """How ``shrink`` brings an image ``long_side`` pixels long to ``size``: the whole factor of its
    block average, and the ratio of the area resampling left after it (1: none). A part of a frame
    (``dermoscopy``'s focus box) brought to the same scale as the whole frame would be uses it."""
    factor = max(1, long_side // max(1, math.ceil(size * (1.0 - slack))))
    return factor, min(1.0, size / (long_side // factor))


def shrink(image: np.ndarray, long_side: int, slack: float = 0.0) -> np.ndarray:
    """``image`` scaled so its long side is at most ``long_side`` (area-averaged, never enlarged),
    or down to ``slack`` (a share) below it when a whole-factor block average gets there."""
    factor, ratio = reduction(max(image.shape[:2]), long_side, slack)
    image = block_average(image, factor)
    if ratio >= 1.0:
        return image
    size = (max(1, round(image.shape[1] * ratio)), max(1, round(image.shape[0] * ratio)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
