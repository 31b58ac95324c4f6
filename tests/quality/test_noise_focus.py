"""Sensor noise does not hide a blur: a re-blur takes a noise step away as it takes away fine detail,
so focus read a defocused photo with noise on it as sharp, and the gate passed it to the model
(UDA-1 photos defocused at radius 8 per 1000 pixels with Gaussian noise of 8 levels: 29 of 30 passed,
dr-600's with 4 levels: 29 of 30). Focus is now read on a copy with the measured noise smoothed away
(``measures.without_noise``); a sharp photo under the same noise is still not called blurred."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.quality.verdict import Verdict
from tests.conftest import shared_data
from tests.degradations import defocus
from tests.quality.conftest import judge


def _with_noise(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian sensor noise of ``sigma`` levels at the photo's own size (``degradations.noise``'s,
    weaker: under the gate's noise limit once the photo is brought to its working size)."""
    rng = np.random.default_rng(7)
    return np.clip(rgb.astype(np.float32) + rng.normal(0, sigma, rgb.shape), 0, 255).astype(np.uint8)


_BUNDLED = [("fundus", "fundus-retina.jpg", 8), ("dermoscopy", "dermoscopy-synthetic-naevus.jpg", 8)]


@pytest.mark.parametrize(("modality", "name", "sigma"), _BUNDLED)
def test_a_bundled_photo_defocused_under_noise_is_blurred(gate, modality, name, sigma):
    rgb = read_frame(SAMPLES_DIR / name).pixels
    report = judge(gate, _with_noise(defocus(rgb, 3), sigma), modality)
    assert report.verdict is Verdict.REJECT and "blurred" in report.reasons, report


@pytest.mark.parametrize(("modality", "name", "sigma"), _BUNDLED)
def test_a_bundled_photo_in_focus_under_noise_is_not_blurred(gate, modality, name, sigma):
    rgb = read_frame(SAMPLES_DIR / name).pixels
    report = judge(gate, _with_noise(rgb, sigma), modality)
    assert "blurred" not in report.reasons, report


# Real photos each judged good with the noise alone, and passed (good) defocused under it before.
_REAL = [
    ("fundus", "fundus/dr-600/images/Patient065_L.jpg", 4),
    ("fundus", "fundus/dr-600/images/Patient069_L.jpg", 4),
    ("fundus", "fundus/dr-600/images/Patient091_R.jpg", 4),
    ("dermoscopy", "dermoscopy/isic-uda1-cc0/images/ISIC_0000000.jpg", 8),
    ("dermoscopy", "dermoscopy/isic-uda1-cc0/images/ISIC_0000056.jpg", 8),
    ("dermoscopy", "dermoscopy/isic-uda1-cc0/images/ISIC_0000130.jpg", 8),
]


@pytest.mark.parametrize(("modality", "path", "sigma"), _REAL, ids=[path.rsplit("/", 1)[1] for _, path, _ in _REAL])
def test_real_photos_defocused_under_noise_are_blurred_and_in_focus_are_not(gate, modality, path, sigma):
    rgb = read_frame(shared_data(path)).pixels
    sharp = judge(gate, _with_noise(rgb, sigma), modality)
    assert sharp.verdict is Verdict.GOOD, sharp
    blurred = judge(gate, _with_noise(defocus(rgb, 3), sigma), modality)
    assert blurred.verdict is Verdict.REJECT and blurred.reasons == ("blurred",), blurred


def test_the_bundled_retina_defocused_under_mild_noise_is_blurred(gate):
    """Noise of 4 levels on the 1411-pixel retina (good in focus under it) averages down at the
    working size to what a graded retina's own detail reads as noise there, and was left in place:
    the defocused retina under it passed as good. Read at the photo's own size it stands out."""
    rgb = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    assert judge(gate, _with_noise(rgb, 4), "fundus").verdict is Verdict.GOOD
    report = judge(gate, _with_noise(defocus(rgb, 3), 4), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("blurred",), report


# Real photos judged good under noise of 2 levels, and passed (good, or usable for blur) defocused
# under it before focus was read with the noise measured at the photo's own size.
_MILD = [
    ("fundus", "fundus/dr-600/images/Patient017_L.jpg"),
    ("fundus", "fundus/dr-600/images/Patient069_L.jpg"),
    ("fundus", "fundus/dr-600/images/Patient227_R.jpg"),
    ("dermoscopy", "dermoscopy/isic-uda1-cc0/images/ISIC_0000222.jpg"),
    ("dermoscopy", "dermoscopy/isic-uda1-cc0/images/ISIC_0000279.jpg"),
    ("dermoscopy", "dermoscopy/isic-uda1-cc0/images/ISIC_0000484.jpg"),
]


@pytest.mark.parametrize(("modality", "path"), _MILD, ids=[path.rsplit("/", 1)[1] for _, path in _MILD])
def test_real_photos_defocused_under_mild_noise_are_refused_blurred(gate, modality, path):
    rgb = read_frame(shared_data(path)).pixels
    sharp = judge(gate, _with_noise(rgb, 2), modality)
    assert sharp.verdict is Verdict.GOOD, sharp
    blurred = judge(gate, _with_noise(defocus(rgb, 3), 2), modality)
    assert blurred.verdict is Verdict.REJECT and blurred.reasons == ("blurred",), blurred


def _dark_centre(rgb: np.ndarray, radius: int) -> np.ndarray:
    """``rgb`` with a soft black disc of ``radius`` pixels over its centre (a dark lesion, a shadow
    over a fundus): the central tile the sensor's noise was read on is black."""
    height, width = rgb.shape[:2]
    disc = np.zeros((height, width), np.float32)
    cv2.circle(disc, (width // 2, height // 2), radius, 1.0, -1)
    disc = cv2.GaussianBlur(disc, (0, 0), 3)[:, :, np.newaxis]
    return (rgb * (1 - disc) + 4 * disc).astype(np.uint8)


def test_a_retina_with_a_black_centre_defocused_under_noise_is_blurred(gate):
    """The central tile black, the noise was read as none and left in place: the defocused retina
    under 8 levels of noise passed as good. The noise is read on a tile around the centre instead."""
    rgb = _dark_centre(read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels, 300)
    sharp = judge(gate, _with_noise(rgb, 8), "fundus")
    assert "blurred" not in sharp.reasons, sharp
    blurred = judge(gate, _with_noise(defocus(rgb, 3), 8), "fundus")
    assert blurred.verdict is Verdict.REJECT and blurred.reasons == ("blurred",), blurred
