"""The sensor's noise as focus is read through it (``measures.sensor_noise``, ``measures.noise_after``):
read on the photo at its own size, where a sensor's noise stands above the photo's own detail, and
brought to the size focus is read at as the gates' reductions leave it."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.quality import measures
from firmware_app.quality.resample import SLACK, reduction, shrink


def _noisy(rgb: np.ndarray, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.clip(rgb.astype(np.float32) + rng.normal(0, sigma, rgb.shape), 0, 255).astype(np.uint8)


def _green(tile: np.ndarray) -> np.ndarray:
    return cv2.extractChannel(tile, 1)


def test_a_graded_retina_has_no_sensor_noise_and_added_noise_is_read_at_the_photos_own_size():
    rgb = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    assert measures.sensor_noise(rgb, _green) == 0.0
    # Noise of 4 levels, beyond the 1 level the photo's own detail may read (in quadrature).
    assert measures.sensor_noise(_noisy(rgb, 4), _green) == pytest.approx(math.sqrt(4**2 - 1), abs=0.3)


def test_noise_is_read_around_a_black_centre():
    """With the central tile black (a black disc of 300 pixels' radius over the retina's centre) the
    noise was read as none; it is read on the tile around the centre with the most retina in it."""
    rgb = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    height, width = rgb.shape[:2]
    cv2.circle(rgb, (width // 2, height // 2), 300, (0, 0, 0), -1)
    assert measures.sensor_noise(_noisy(rgb, 4), _green) == pytest.approx(math.sqrt(4**2 - 1), abs=0.3)


@pytest.mark.parametrize("side", [2048, 1411, 1014, 900, 600])
def test_noise_after_a_reduction_is_what_the_reduced_copy_reads(side):
    """White noise reduced as the gates reduce a frame to 512 pixels (a whole factor, then area
    resampling of the rest, which takes far more of the pixel-to-pixel noise than its ratio)."""
    white = np.random.default_rng(3).normal(128.0, 8.0, (side, side)).astype(np.float32)
    factor, ratio = reduction(side, 512, SLACK)
    reduced = shrink(white, 512, SLACK)
    read = measures.noise_sigma(reduced, np.ones(reduced.shape, bool))
    assert measures.noise_after(8.0, factor, ratio) == pytest.approx(read, rel=0.05)
