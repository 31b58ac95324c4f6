"""Apply a device's calibration profile to a frame: the one function the pipeline calls.

Flat field and colour are per-pixel gains and a matrix in linear light, so the frame is decoded to
linear light once, corrected, and encoded once; lens undistortion then moves pixels. A device with
no profile passes frames through unchanged, and every result says ``uncalibrated``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from firmware_app.calibration.colour_matrix import correct_linear
from firmware_app.calibration.flat_field import flat_field_gains
from firmware_app.calibration.geometry import undistort
from firmware_app.calibration.profile import UNCALIBRATED, CalibrationProfile
from firmware_app.calibration.scale import mm_per_pixel_at
from firmware_app.capture.frame import Frame
from firmware_app.colour import linear_to_srgb8, srgb8_to_linear


def correct_pixels(profile: CalibrationProfile, rgb: np.ndarray) -> np.ndarray:
    pixels = rgb
    if profile.flat_field is not None or profile.colour is not None:
        linear = srgb8_to_linear(pixels)
        if profile.flat_field is not None:
            linear = linear * flat_field_gains(profile.flat_field, pixels.shape[1], pixels.shape[0])
        if profile.colour is not None:
            linear = correct_linear(linear, profile.colour)
        pixels = linear_to_srgb8(linear)
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
