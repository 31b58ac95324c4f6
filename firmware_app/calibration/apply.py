"""Apply a device's calibration profile to a frame: the one function the pipeline calls.

Flat field and colour are per-pixel gains and a matrix in linear light, so each band of the frame's
rows is decoded to linear light, corrected and encoded again in turn (``_BAND_PIXELS``); lens
undistortion then moves pixels. A device with no profile passes frames through unchanged, and every
result says ``uncalibrated``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from firmware_app.calibration.colour_matrix import colour_corrector
from firmware_app.calibration.flat_field import band_gains
from firmware_app.calibration.geometry import undistort
from firmware_app.calibration.profile import UNCALIBRATED, CalibrationProfile
from firmware_app.calibration.scale import mm_per_pixel_at
from firmware_app.capture.frame import Frame
from firmware_app.colour import linear_to_srgb8, srgb8_to_linear

# Flat field and colour are applied to a band of this many pixels at a time: a band's working
# copies (its linear light, gains and index, about a megabyte) stay in the CPU's cache, where a
# whole frame's (12 bytes a pixel in float: 15 MB for a 1280x960 preview frame, 148 MB for a
# 4056x3040 still) went through memory once per step; no frame-sized float array is made (a still's
# gains are interpolated band by band too, ``flat_field.band_gains``). Both are per pixel, so the
# result is the same to the bit.
_BAND_PIXELS = 1 << 14


def _corrected_light(profile: CalibrationProfile, rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with the profile's flat field and colour correction applied in linear light."""
    height, width = rgb.shape[:2]
    gains = band_gains(profile.flat_field, width, height) if profile.flat_field is not None else None
    correct_colour = colour_corrector(profile.colour) if profile.colour is not None else None
    corrected = np.empty_like(rgb)
    rows = max(1, _BAND_PIXELS // width)
    for top in range(0, height, rows):
        band = slice(top, top + rows)
        linear = srgb8_to_linear(rgb[band])
        if gains is not None:
            np.multiply(linear, gains(band), out=linear)
        if correct_colour is not None:
            linear = correct_colour(linear)
        linear_to_srgb8(linear, out=corrected[band])
    return corrected


def correct_pixels(profile: CalibrationProfile, rgb: np.ndarray) -> np.ndarray:
    pixels = rgb
    if profile.flat_field is not None or profile.colour is not None:
        pixels = _corrected_light(profile, np.ascontiguousarray(pixels, np.uint8))
    if profile.geometry is not None:
        pixels = undistort(pixels, profile.geometry)
    return pixels


def apply(profile: CalibrationProfile | None, frame: Frame) -> Frame:
    """The frame as this device's calibrated camera sees it (unchanged without a profile)."""
    if profile is None:
        return frame
    return dataclasses.replace(frame, pixels=correct_pixels(profile, frame.pixels))


def calibration_id(profile: CalibrationProfile | None) -> str:
    return profile.id if profile is not None else UNCALIBRATED


def mm_per_pixel(profile: CalibrationProfile | None, frame: Frame) -> float | None:
    """Millimetres per pixel of a calibrated frame, or ``None`` when the device has no scale."""
    if profile is None or profile.scale is None:
        return None
    return mm_per_pixel_at(profile.scale, frame.width)
