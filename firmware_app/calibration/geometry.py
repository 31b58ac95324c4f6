"""Lens distortion from photos of a printed checkerboard (OpenCV's camera calibration).

A short-focus dermatoscope or fundus lens bends straight lines (barrel distortion), which stretches
sizes differently at the centre and at the edge: a lesion's diameter in mm is only right after the
frame is undistorted. The residual is the reprojection error (RMS, pixels) of the fitted model.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.profile import KEPT_MAPS_MAX_PIXELS, LensDistortion, ProfileMisfit

MIN_VIEWS = 3
_SUBPIXEL = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 0.001)


def find_board(rgb: np.ndarray, board: tuple[int, int]) -> np.ndarray:
    """The board's inner corners to sub-pixel accuracy, (N, 1, 2) float32; ``TargetNotFound`` if absent."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH + cv2.CALIB_CB_NORMALIZE_IMAGE
    found, corners = cv2.findChessboardCorners(grey, board, flags=flags)
    if not found:
        raise TargetNotFound("calibrate.target.no_board", columns=board[0], rows=board[1])
    return cv2.cornerSubPix(grey, corners, (5, 5), (-1, -1), _SUBPIXEL)


def board_points(board: tuple[int, int], square_mm: float) -> np.ndarray:
    """The inner corners' positions on the flat board, in mm, in OpenCV's detection order."""
    columns, rows = board
    grid = np.mgrid[0:columns, 0:rows].T.reshape(-1, 2) * square_mm
    return np.hstack([grid, np.zeros((len(grid), 1))]).astype(np.float32)


def measure_distortion(
    views: Sequence[np.ndarray], board: tuple[int, int], square_mm: float, image_size: tuple[int, int]
) -> LensDistortion:
    """Fit the camera matrix and distortion (k1, k2, p1, p2, k3) to the corners found in ``views``."""
    if len(views) < MIN_VIEWS:
        raise TargetNotFound("calibrate.target.few_boards", count=len(views), needed=MIN_VIEWS)
    objects = [board_points(board, square_mm)] * len(views)
    rms, matrix, distortion, _, _ = cv2.calibrateCamera(objects, list(views), image_size, None, None)
    return LensDistortion(
        image_size=image_size,
        camera_matrix=matrix,
        distortion=distortion.reshape(-1)[:5],
        reprojection_rms_px=float(rms),
        views=len(views),
        board=board,
        square_mm=square_mm,
    )


# A full-resolution still is undistorted a band of this many rows at a time, each band's maps made
# for it (``profile.KEPT_MAPS_MAX_PIXELS``: a preview's maps are kept whole).
_BAND_ROWS = 256


def _band_maps(camera: np.ndarray, coefficients: np.ndarray, width: int, top: int, rows: int) -> tuple[np.ndarray, ...]:
    """The undistortion maps of the frame's ``rows`` rows from ``top``: the maps of a frame ``rows``
    high seen through a camera matrix whose centre is moved up by ``top``. Each output pixel's
    source hangs on its coordinates alone, so these are the whole frame's maps, those rows, up to
    floating-point rounding: OpenCV's fixed-point maps (1/32 pixel) are the same to the bit on every
    band tried (``tests/calibration/test_geometry.py``: 20 random cameras), and where a rounding
    does fall the other way the source moves by one such step."""
    moved = camera.copy()
    moved[1, 2] -= top
    return cv2.initUndistortRectifyMap(camera, coefficients, None, moved, (width, rows), cv2.CV_16SC2)


@lru_cache(maxsize=4)
def _maps(matrix: bytes, distortion: bytes, size: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """A whole frame's undistortion maps; cached."""
    width, height = size
    camera = np.frombuffer(matrix, np.float64).reshape(3, 3)
    return _band_maps(camera, np.frombuffer(distortion, np.float64), width, 0, height)


def undistort(rgb: np.ndarray, lens: LensDistortion) -> np.ndarray:
    """The frame as an ideal pinhole camera with the same camera matrix would have taken it.

    A frame of another resolution with the same proportions (preview vs still) uses the camera
    matrix scaled to it; the distortion coefficients do not depend on resolution.
    """
    height, width = rgb.shape[:2]
    ratio = width / lens.image_size[0]
    if abs(height / lens.image_size[1] - ratio) > 0.01:
        raise ProfileMisfit((width, height), lens.image_size)
    camera = lens.camera_matrix * np.array([[ratio], [ratio], [1.0]])
    coefficients = lens.distortion.astype(np.float64)
    if width * height <= KEPT_MAPS_MAX_PIXELS:
        map_xy, map_table = _maps(camera.tobytes(), coefficients.tobytes(), (width, height))
        return cv2.remap(rgb, map_xy, map_table, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    undistorted = np.empty(rgb.shape, rgb.dtype)  # C order whatever the input's: each band is contiguous
    for top in range(0, height, _BAND_ROWS):
        rows = min(_BAND_ROWS, height - top)
        map_xy, map_table = _band_maps(camera, coefficients, width, top, rows)
        band = undistorted[top : top + rows]
        cv2.remap(rgb, map_xy, map_table, cv2.INTER_LINEAR, dst=band, borderMode=cv2.BORDER_CONSTANT)
    return undistorted
