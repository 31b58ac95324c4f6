"""The profile's flat field and colour correction, applied a band of rows at a time, give the frame
corrected whole, to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_app.calibration import flat_field
from firmware_app.calibration.apply import correct_pixels
from firmware_app.calibration.colour_matrix import correct_linear
from firmware_app.calibration.flat_field import flat_field_gains
from firmware_app.calibration.profile import CalibrationProfile, ColourCorrection, FlatField
from firmware_app.colour import linear_to_srgb8, srgb8_to_linear


def _profile() -> CalibrationProfile:
    rows, columns = np.mgrid[-1:1:6j, -1:1:8j]
    gains = np.repeat((1 / (1 - 0.4 * (rows**2 + columns**2) / 2))[..., None], 3, axis=2)
    colour = ColourCorrection(np.array([1.2, 1.0, 1.5]), np.eye(3) * 1.1 - 0.033, "test", {}, {})
    return CalibrationProfile("test", "test", "test", "", "", flat_field=FlatField(gains, 4, 0.01), colour=colour)


# A frame of whole bands (of ``apply._BAND_PIXELS``) and a remainder, a tiny one, one row wider than a band.
@pytest.mark.parametrize("shape", [(157, 301, 3), (5, 7, 3), (3, 20000, 3)])
def test_a_frame_corrected_band_by_band_is_the_frame_corrected_whole(shape):
    profile = _profile()
    rgb = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    whole = srgb8_to_linear(rgb) * flat_field_gains(profile.flat_field, shape[1], shape[0])
    expected = linear_to_srgb8(correct_linear(whole, profile.colour))
    np.testing.assert_array_equal(correct_pixels(profile, rgb), expected)


def test_a_stills_gains_are_interpolated_band_by_band_the_same_and_not_kept(monkeypatch):
    """A frame whose gain map would be too large to keep (a 12-megapixel still's: 148 MB held for
    good) has its gains interpolated band by band: the same pixels as from the kept map, none kept."""
    profile = _profile()
    rgb = np.random.default_rng(4).integers(0, 256, (157, 301, 3), dtype=np.uint8)
    from_kept_map = correct_pixels(profile, rgb)
    flat_field._gain_map.cache_clear()
    monkeypatch.setattr(flat_field, "KEPT_MAPS_MAX_PIXELS", 301 * 157 - 1)
    np.testing.assert_array_equal(correct_pixels(profile, rgb), from_kept_map)
    assert flat_field._gain_map.cache_info().currsize == 0
