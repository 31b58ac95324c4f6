"""Scale: millimetres per pixel at the working distance, from a printed black square of known side.

A contact dermatoscope holds the skin at a fixed distance, so one number converts a lesion's size
in pixels to millimetres (the D of ABCDE: more than 6 mm matters). It is measured on undistorted
frames, and refers to the resolution it was measured at (``mm_per_pixel_at`` rescales it).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.profile import Scale

_MIN_AREA_FRACTION = 0.005
_MAX_SIDE_MISMATCH = 0.08  # relative difference between the square's sides: more is a tilted target
_BORDER_PX = 2
# Photos of the one target at the one working distance agree to a fraction of a percent (rendered:
# 0.002%); more apart than this, one was taken nearer or farther, or of another square, and their
# median would put every lesion's diameter off by part of the difference (two photos 50% apart
# gave a scale 25% off the first).
_MAX_DISAGREEMENT = 0.05


def square_side_px(rgb: np.ndarray) -> float:
    """The mean side, in pixels, of the largest dark square in the photo; ``TargetNotFound`` if none."""
    grey = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    _, dark = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    height, width = grey.shape
    reason = "calibrate.target.no_square"
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        if cv2.contourArea(contour) < _MIN_AREA_FRACTION * grey.size:
            break
        x, y, w, h = cv2.boundingRect(contour)
        if x < _BORDER_PX or y < _BORDER_PX or x + w > width - _BORDER_PX or y + h > height - _BORDER_PX:
            reason = "calibrate.target.square_at_edge"
            continue
        quad = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True).reshape(-1, 2)
        if len(quad) != 4 or not cv2.isContourConvex(quad):
            reason = "calibrate.target.not_square"
            continue
        sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
        if sides.max() / sides.min() - 1 > _MAX_SIDE_MISMATCH:
            reason = "calibrate.target.square_tilted"
            continue
        # The side from the square's pixel count: thresholding an edge at mid-grey gains about as many
        # pixels as it loses, so this is unbiased to a fraction of a pixel, unlike the corner points.
        filled = np.zeros_like(dark)
        cv2.drawContours(filled, [contour], -1, 255, thickness=cv2.FILLED)
        return float(np.sqrt(np.count_nonzero(filled & dark)))
    raise TargetNotFound(reason)


def measure_scale(sides_px: Sequence[float], target_mm: float, image_size: tuple[int, int]) -> Scale:
    sides = np.asarray(sides_px, np.float64)
    if sides.size == 0:
        raise TargetNotFound("calibrate.target.no_scale_photo")
    mm_per_pixel = target_mm / sides
    apart = float(np.max(np.abs(mm_per_pixel / np.median(mm_per_pixel) - 1)))
    if apart > _MAX_DISAGREEMENT:
        raise TargetNotFound(
            "calibrate.target.scales_disagree", percent=round(100 * apart), limit=round(100 * _MAX_DISAGREEMENT)
        )
    return Scale(
        image_size=image_size,
        mm_per_pixel=float(np.median(mm_per_pixel)),
        relative_spread=float(mm_per_pixel.std() / mm_per_pixel.mean()),
        target_mm=target_mm,
        images=int(sides.size),
    )


def mm_per_pixel_at(scale: Scale, width: int) -> float:
    """The scale for a frame ``width`` pixels wide (same field of view, other resolution)."""
    return scale.mm_per_pixel * scale.image_size[0] / width
