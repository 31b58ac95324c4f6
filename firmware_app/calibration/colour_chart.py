"""Colour: white balance and a colour-correction matrix from a photographed 24-patch colour chart.

Reference values: X-Rite's published CIELAB (D50, 2-degree observer) values for the ColorChecker
Classic made after November 2014 (X-Rite, 2016, "New color specifications for ColorChecker SG and
Classic charts"; the same numbers are in colour-science's ``CCS_COLOURCHECKERS['ColorChecker24 -
After November 2014']``). They are adapted to D65 (Bradford) and converted to sRGB: the values an
ideal sRGB camera would deliver, clipped to the sRGB gamut (only cyan falls outside).

The chart is found as the largest dark quadrilateral (the chart's black board) on a lighter
background, warped to the layout in ``LAYOUT``, and each patch is sampled in its central part, so
a modest perspective or a slightly different board margin does not matter. The residual colour
error is CIE76 delta E (Euclidean distance in CIELAB, D65), over the 24 patches, before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from firmware_app.calibration.colour_matrix import correct_linear
from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.profile import ColourCorrection
from firmware_app.colour import delta_e76, linear_to_srgb, srgb8_to_lab, srgb8_to_linear, srgb_to_linear

CHART_NAME = "ColorChecker Classic 24 (X-Rite, after Nov 2014), CIELAB D50 -> sRGB D65"
PATCH_NAMES = (
    "dark skin", "light skin", "blue sky", "foliage", "blue flower", "bluish green",
    "orange", "purplish blue", "moderate red", "purple", "yellow green", "orange yellow",
    "blue", "green", "red", "yellow", "magenta", "cyan",
    "white 9.5", "neutral 8", "neutral 6.5", "neutral 5", "neutral 3.5", "black 2",
)  # fmt: skip
REFERENCE_LAB_D50 = np.array([
    [37.54, 14.37, 14.92], [64.66, 19.27, 17.50], [49.32, -3.82, -22.54], [43.46, -12.74, 22.72],
    [54.94, 9.61, -24.79], [70.48, -32.26, -0.37], [62.73, 35.83, 56.50], [39.43, 10.75, -45.17],
    [50.57, 48.64, 16.67], [30.10, 22.54, -20.87], [71.77, -24.13, 58.19], [71.51, 18.24, 67.37],
    [28.37, 15.42, -49.80], [54.38, -39.72, 32.27], [42.43, 51.05, 28.62], [81.80, 2.67, 80.41],
    [50.63, 51.28, -14.12], [49.57, -29.71, -28.32], [95.19, -1.03, 2.93], [81.29, -0.57, 0.44],
    [66.89, -0.75, -0.06], [50.76, -0.13, 0.14], [35.63, -0.46, -0.48], [20.64, 0.07, -0.46],
])  # fmt: skip
# The greys used for white balance: not the white (it clips first) nor the black (noise, flare).
NEUTRAL_PATCHES = (19, 20, 21, 22)

_D50 = np.array([0.96422, 1.0, 0.82521])
_D65 = np.array([0.95047, 1.0, 1.08883])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_XYZ_D65_TO_LINEAR_SRGB = np.array(
    [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
)


def _lab_to_xyz(lab: np.ndarray, white: np.ndarray) -> np.ndarray:
    fy = (lab[:, 0] + 16) / 116
    f = np.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], axis=1)
    delta = 6 / 29
    return white * np.where(f > delta, f**3, 3 * delta**2 * (f - 4 / 29))


def _reference_srgb8() -> np.ndarray:
    adapt = np.linalg.inv(_BRADFORD) @ np.diag((_BRADFORD @ _D65) / (_BRADFORD @ _D50)) @ _BRADFORD
    xyz_d65 = _lab_to_xyz(REFERENCE_LAB_D50, _D50) @ adapt.T
    linear = np.clip(xyz_d65 @ _XYZ_D65_TO_LINEAR_SRGB.T, 0.0, 1.0)
    return np.round(linear_to_srgb(linear) * 255).astype(np.uint8)


REFERENCE_SRGB8 = _reference_srgb8()
REFERENCE_LAB = srgb8_to_lab(REFERENCE_SRGB8)


@dataclass(frozen=True)
class ChartLayout:
    """The chart's geometry in units of the patch pitch: 6 columns x 4 rows of square patches."""

    columns: int = 6
    rows: int = 4
    patch: float = 0.84  # side of a patch
    margin: float = 0.35  # black board from its edge to the first patch

    @property
    def width(self) -> float:
        return 2 * self.margin + (self.columns - 1) + self.patch

    @property
    def height(self) -> float:
        return 2 * self.margin + (self.rows - 1) + self.patch

    def patch_origin(self, index: int) -> tuple[float, float]:
        """Top-left corner (x, y) of patch ``index`` (row-major, dark skin first)."""
        return self.margin + index % self.columns, self.margin + index // self.columns


LAYOUT = ChartLayout()
_WARP_PIXELS_PER_PITCH = 60
_SAMPLED_FRACTION = 0.4  # of each patch's side, around its centre
_MIN_CHART_AREA = 0.05  # of the photo
_MIN_LUMINANCE_CORRELATION = 0.85
# A patch's sampled centre is one plain colour: sensor noise, averaged down to the warp's scale, spreads
# it by 1 to 2 levels (8-bit) on rendered charts. A finger, a shadow's edge or a reflection across
# it spreads it by tens (34 and 93 on rendered charts), and its mean then fits the colour matrix to
# a colour the patch is not: a chart with a glint on one patch was accepted with a delta E76 of 40
# after correction, and the matrix applied to every photo after it.
_MAX_PATCH_SPREAD = 12.0
_DETECT_LONG_SIDE = 1024


def _board_corners(rgb: np.ndarray) -> np.ndarray:
    """The chart board's four corners (float32, full-resolution pixels), clockwise from top-left."""
    scale = min(1.0, _DETECT_LONG_SIDE / max(rgb.shape[:2]))
    grey = cv2.cvtColor(cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (5, 5), 0)
    _, dark = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    kernel = np.ones((max(3, round(0.01 * max(grey.shape))),) * 2, np.uint8)
    dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
        if cv2.contourArea(contour) < _MIN_CHART_AREA * grey.size:
            break
        hull = cv2.convexHull(contour)
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(quad) == 4:
            return _clockwise(quad.reshape(4, 2).astype(np.float32) / scale)
    raise TargetNotFound("calibrate.target.no_chart", percent=round(100 * _MIN_CHART_AREA))


def _clockwise(corners: np.ndarray) -> np.ndarray:
    centre = corners.mean(axis=0)
    angles = np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0])
    ordered = corners[np.argsort(angles)]  # clockwise on screen (y down), starting anywhere
    start = int(np.argmin(ordered.sum(axis=1)))  # the top-left corner has the smallest x + y
    ordered = np.roll(ordered, -start, axis=0)
    top, side = np.linalg.norm(ordered[1] - ordered[0]), np.linalg.norm(ordered[3] - ordered[0])
    return ordered if top >= side else np.roll(ordered, -1, axis=0)  # a chart held upright: turn it


def _sample_patches(rgb: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean 8-bit RGB of the central part of each of the 24 patches, (24, 3) float, and how uneven
    each part is: its worst channel's standard deviation, in 8-bit levels, (24,)."""
    size = (round(LAYOUT.width * _WARP_PIXELS_PER_PITCH), round(LAYOUT.height * _WARP_PIXELS_PER_PITCH))
    target = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    warped = cv2.warpPerspective(rgb, cv2.getPerspectiveTransform(corners, target), size, flags=cv2.INTER_AREA)
    inset = (1 - _SAMPLED_FRACTION) / 2 * LAYOUT.patch
    side = _SAMPLED_FRACTION * LAYOUT.patch
    means, spreads = [], []
    for index in range(LAYOUT.columns * LAYOUT.rows):
        x, y = LAYOUT.patch_origin(index)
        left, top = round((x + inset) * _WARP_PIXELS_PER_PITCH), round((y + inset) * _WARP_PIXELS_PER_PITCH)
        span = max(1, round(side * _WARP_PIXELS_PER_PITCH))
        sampled = warped[top : top + span, left : left + span].reshape(-1, 3).astype(np.float64)
        means.append(sampled.mean(axis=0))
        spreads.append(sampled.std(axis=0).max())
    return np.array(means), np.array(spreads)


def read_chart(rgb: np.ndarray) -> np.ndarray:
    """The 24 patches' mean 8-bit RGB, in reference order; ``TargetNotFound`` with a reason if not a chart.

    The board is found as a quadrilateral, so the patches' order is known up to a half turn; the
    orientation whose luminances follow the reference's (neutral row from white to black) wins.
    """
    corners = _board_corners(rgb)
    reference_luminance = REFERENCE_LAB[:, 0]
    best, best_spreads, best_correlation = None, np.zeros(0), -1.0
    for turn in (0, 2):
        patches, spreads = _sample_patches(rgb, np.roll(corners, -turn, axis=0))
        luminance = srgb8_to_lab(patches)[:, 0]
        # A board with no patches on it is flat: no correlation to speak of (and none to compute).
        correlation = float(np.corrcoef(luminance, reference_luminance)[0, 1]) if luminance.std() > 1.0 else 0.0
        if correlation > best_correlation:
            best, best_spreads, best_correlation = patches, spreads, correlation
    if best is None or best_correlation < _MIN_LUMINANCE_CORRELATION:
        raise TargetNotFound(
            "calibrate.target.not_a_chart",
            correlation=f"{best_correlation:.2f}",
            minimum=f"{_MIN_LUMINANCE_CORRELATION}",
        )
    uneven = int(np.argmax(best_spreads))
    if best_spreads[uneven] > _MAX_PATCH_SPREAD:
        raise TargetNotFound(
            "calibrate.target.patch_uneven",
            patch=PATCH_NAMES[uneven],
            spread=round(best_spreads[uneven]),
            limit=round(_MAX_PATCH_SPREAD),
        )
    white = best[18]
    if white.max() >= 250:
        raise TargetNotFound("calibrate.target.white_clipped")
    if white.max() < 60:
        raise TargetNotFound("calibrate.target.chart_too_dark")
    return best


def _stats(delta_e: np.ndarray) -> dict[str, float]:
    return {"mean": round(float(delta_e.mean()), 3), "max": round(float(delta_e.max()), 3)}


def fit_colour_correction(patches_srgb8: np.ndarray) -> ColourCorrection:
    """Least-squares white balance (on the greys) and 3x3 matrix (on all 24) in linear light."""
    measured = srgb_to_linear(np.asarray(patches_srgb8, np.float64) / 255.0).astype(np.float64)
    reference = srgb8_to_linear(REFERENCE_SRGB8).astype(np.float64)
    greys = list(NEUTRAL_PATCHES)
    white_balance = (reference[greys] * measured[greys]).sum(axis=0) / (measured[greys] ** 2).sum(axis=0)
    solution, *_ = np.linalg.lstsq(measured * white_balance, reference, rcond=None)
    correction = ColourCorrection(white_balance, solution.T, CHART_NAME, {}, {})
    before = delta_e76(srgb8_to_lab(patches_srgb8), REFERENCE_LAB)
    corrected = np.round(linear_to_srgb(correct_linear(measured, correction)) * 255)
    after = delta_e76(srgb8_to_lab(corrected), REFERENCE_LAB)
    return ColourCorrection(white_balance, solution.T, CHART_NAME, _stats(before), _stats(after))
