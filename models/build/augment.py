"""Moderate photometric and geometric augmentation applied to the device's view, not to the raw photo.

Augmenting ``model_view`` outputs keeps every training pixel inside what the device can produce
(same crop, same size); the transforms only mimic what varies between captures: orientation, a small
change of framing, exposure and white balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """How far each transform may go; ``black_border`` for fundus views (the mask outside the field)."""

    max_rotation_deg: float = 180.0
    max_scale: float = 0.10
    brightness: float = 0.15
    contrast: float = 0.15
    channel_gain: float = 0.06
    black_border: bool = False


def augment(view: np.ndarray, rng: np.random.Generator, how: Augmentation) -> np.ndarray:
    """One random variant of a uint8 HxWx3 view, same shape and dtype."""
    height, width = view.shape[:2]
    angle = rng.uniform(-how.max_rotation_deg, how.max_rotation_deg)
    scale = 1.0 + rng.uniform(-how.max_scale, how.max_scale)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    border = cv2.BORDER_CONSTANT if how.black_border else cv2.BORDER_REFLECT_101
    out = cv2.warpAffine(view, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=border)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    pixels = out.astype(np.float32)
    gain = (1.0 + rng.uniform(-how.contrast, how.contrast)) * (
        1.0 + rng.uniform(-how.channel_gain, how.channel_gain, size=3)
    )
    mean = pixels.mean(axis=(0, 1))
    pixels = (pixels - mean) * gain + mean * (1.0 + rng.uniform(-how.brightness, how.brightness))
    return np.clip(pixels, 0, 255).astype(np.uint8)
