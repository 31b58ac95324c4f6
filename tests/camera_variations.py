"""What differs between good cameras, applied to a photo: none of it hides what a grader needs.

Another camera photographs the same eye or lesion with its own tone curve, white balance, colour
saturation, JPEG quality, sensor noise and in-camera sharpening; a fundus camera may mask its
frame's top and bottom, a dermatoscope have a round field or a stronger fall-off of its light, and
a dermoscopy photo come framed in black (a scanned slide, an exporter's border or bars). A
gate that holds across cameras passes a graded photo under each of these (``tests/degradations.py``
holds the defects it must refuse). ``bench/camera_variation.py`` measures this on every source,
the quality tests on the bundled samples. Every function is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from tests.degradations import jpeg_at

Variation = Callable[[np.ndarray], np.ndarray]


def _clipped(levels: np.ndarray) -> np.ndarray:
    return np.clip(levels, 0, 255).astype(np.uint8)


def _tone_curve(gamma: float) -> Variation:
    """Another camera's tone curve: mid-tones lifted (gamma under 1) or lowered, black and white kept."""
    table = _clipped(255.0 * (np.arange(256) / 255.0) ** gamma)
    return lambda rgb: cv2.LUT(rgb, table)


def _white_balance(red: float, blue: float) -> Variation:
    """Another camera's white balance: red and blue gains against green."""
    return lambda rgb: _clipped(rgb * np.array([red, 1.0, blue], np.float32))


def _saturation(factor: float) -> Variation:
    """Another camera's colour rendering: saturation scaled, hue and lightness kept."""

    def vary(rgb: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 1] *= factor
        return cv2.cvtColor(_clipped(hsv), cv2.COLOR_HSV2RGB)

    return vary


def _sensor_noise(sigma: float) -> Variation:
    """A smaller sensor's noise at its base gain (a fixed seed per photo), saved as a camera saves it."""

    def vary(rgb: np.ndarray) -> np.ndarray:
        noise = np.random.default_rng(rgb.size).normal(0.0, sigma, rgb.shape)
        return jpeg_at(_clipped(rgb + noise), 92)

    return vary


def _sharpened(amount: float) -> Variation:
    """In-camera sharpening: an unsharp mask of radius 1.5 per 1000 pixels (at least half a pixel)."""

    def vary(rgb: np.ndarray) -> np.ndarray:
        blurred = cv2.GaussianBlur(rgb, (0, 0), max(0.5, 1.5 * max(rgb.shape[:2]) / 1000))
        return cv2.addWeighted(rgb, 1 + amount, blurred, -amount, 0)

    return vary


def _radius(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's distance from the frame's centre, in half the frame's height."""
    height, width = rgb.shape[:2]
    rows, cols = np.ogrid[0:height, 0:width]
    return np.hypot(rows - height / 2, cols - width / 2) / (height / 2)


def round_field(rgb: np.ndarray) -> np.ndarray:
    """A dermatoscope's round field: black beyond a circle 1.15 times the frame's height, which
    takes the corners and leaves every side's middle."""
    return rgb * (_radius(rgb) <= 1.15)[..., np.newaxis].astype(np.uint8)


def _fall_off(rgb: np.ndarray) -> np.ndarray:
    """A dermatoscope whose light falls off towards the corners: to 70% there."""
    corner = float(np.hypot(*rgb.shape[:2])) / rgb.shape[0]
    return _clipped(rgb * (1.0 - 0.3 * (_radius(rgb) / corner) ** 2)[..., np.newaxis])


def _masked_top_and_bottom(rgb: np.ndarray) -> np.ndarray:
    """A fundus camera's mask: the frame's top and bottom eighth black (the issue: normal)."""
    masked = rgb.copy()
    band = rgb.shape[0] // 8
    masked[:band], masked[rgb.shape[0] - band :] = 0, 0
    return masked


def black_border(rgb: np.ndarray) -> np.ndarray:
    """A scanned slide's or an exporter's black frame: 15 pixels per 1000 on every side."""
    framed = rgb.copy()
    width = max(2, round(15 * max(rgb.shape[:2]) / 1000))
    framed[:width], framed[-width:], framed[:, :width], framed[:, -width:] = 0, 0, 0, 0
    return framed


def _pillarboxed(rgb: np.ndarray) -> np.ndarray:
    """The photo in a wider frame, black bars left and right (a tenth of its width each)."""
    bar = rgb.shape[1] // 10
    return cv2.copyMakeBorder(rgb, 0, 0, bar, bar, cv2.BORDER_CONSTANT, value=(0, 0, 0))


COMMON: dict[str, Variation] = {
    "tone 0.8": _tone_curve(0.8),
    "tone 1.25": _tone_curve(1.25),
    "warmer": _white_balance(1.1, 0.85),
    "cooler": _white_balance(0.9, 1.15),
    "saturation 0.7": _saturation(0.7),
    "saturation 1.3": _saturation(1.3),
    "jpeg 70": lambda rgb: jpeg_at(rgb, 70),
    "sensor noise 3": _sensor_noise(3.0),
    "sharpened": _sharpened(0.8),
    "upside down": lambda rgb: cv2.rotate(rgb, cv2.ROTATE_180),
}
VARIATIONS: dict[str, dict[str, Variation]] = {
    "fundus": {**COMMON, "masked top and bottom": _masked_top_and_bottom},
    "dermoscopy": {
        **COMMON,
        "round field": round_field,
        "light fall-off": _fall_off,
        "black border": black_border,
        "pillarboxed": _pillarboxed,
    },
}
