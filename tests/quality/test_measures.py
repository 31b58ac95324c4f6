"""Each measure means what its docstring says, on controlled inputs."""

from __future__ import annotations

import cv2
import numpy as np

from firmware_app.quality import measures
from tests.degradations import defocus, jpeg, noise


def _everywhere(image: np.ndarray) -> np.ndarray:
    return np.ones(image.shape[:2], bool)


def test_sharpness_falls_as_the_blur_grows(retina_rgb):
    green = retina_rgb[::3, ::3, 1]
    values = [measures.sharpness(green, _everywhere(green))]
    for strength in (1, 2, 3):
        blurred = defocus(retina_rgb[::3, ::3], strength)[:, :, 1]
        values.append(measures.sharpness(blurred, _everywhere(blurred)))
    assert values == sorted(values, reverse=True)


def test_sharpness_does_not_depend_on_exposure(retina_rgb):
    green = retina_rgb[::3, ::3, 1]
    darker = (green * 0.6).astype(np.uint8)
    mask = _everywhere(green)
    assert abs(measures.sharpness(green, mask) - measures.sharpness(darker, mask)) < 0.05


def test_noise_sigma_recovers_added_noise_on_a_flat_image():
    flat = np.full((200, 200, 3), 120, np.uint8)
    noisy = noise(flat, 1)[:, :, 1]  # standard deviation 8
    assert 7.0 < measures.noise_sigma(noisy, _everywhere(noisy)) < 9.0


def test_blockiness_is_about_one_until_jpeg_compression_is_heavy(retina_rgb):
    assert measures.blockiness(retina_rgb[:, :, 1]) < 1.4
    assert measures.blockiness(jpeg(retina_rgb, 1)[:, :, 1]) > 2.0


def test_clipped_fractions_count_crushed_and_burnt_pixels():
    image = np.array([[0, 5, 100, 255]], np.uint8)
    dark, bright = measures.clipped_fractions(image, _everywhere(image))
    assert (dark, bright) == (0.5, 0.25)


def test_unevenness_of_a_ramp_and_of_flat_light():
    flat = np.full((100, 100), 150, np.uint8)
    ramp = np.tile(np.linspace(200, 50, 100).astype(np.uint8), (100, 1))
    assert measures.illumination_unevenness(flat, _everywhere(flat)) < 0.01
    assert measures.illumination_unevenness(ramp, _everywhere(ramp)) > 0.4


def test_specular_mask_finds_a_reflection_not_a_pale_frame():
    tissue = np.full((200, 200, 3), (190, 110, 80), np.uint8)
    cv2.circle(tissue, (100, 100), 8, (255, 255, 255), -1)
    assert 150 < measures.specular_mask(tissue).sum() < 260
    pale = np.full((200, 200, 3), 245, np.uint8)
    assert not measures.specular_mask(pale).any()


def test_measures_of_an_empty_region_do_not_fail():
    image = np.full((50, 50), 100, np.uint8)
    nothing = np.zeros((50, 50), bool)
    assert measures.brightness(image, nothing) == 0.0
    assert measures.sharpness(image, nothing) == 0.0
    assert measures.illumination_unevenness(image, nothing) == 1.0
