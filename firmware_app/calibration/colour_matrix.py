"""Apply a colour correction (white balance, then a 3x3 matrix) to linear light.

Apart from ``colour_chart``, which fits the correction from a photographed chart: applying it is on
every calibrated frame's path, while the chart's reference colours are converted to CIELAB when
that module is imported, which makes OpenCV build its CIELAB tables (about 170 ms and 9 MB) that a
fundus device never needs.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from firmware_app.calibration.profile import ColourCorrection


def colour_corrector(correction: ColourCorrection) -> Callable[[np.ndarray], np.ndarray]:
    """White balance then the matrix, as one matrix made once, applied to linear RGB (any shape
    ending in 3) each time it is called: a frame corrected a band at a time combines them once."""
    combined = (correction.matrix @ np.diag(correction.white_balance)).astype(np.float32)

    def correct(linear: np.ndarray) -> np.ndarray:
        return cv2.transform(np.asarray(linear, np.float32).reshape(-1, 1, 3), combined).reshape(np.shape(linear))

    return correct


def correct_linear(linear: np.ndarray, correction: ColourCorrection) -> np.ndarray:
    """Apply white balance then the matrix to linear RGB (any shape ending in 3)."""
    return colour_corrector(correction)(linear)
