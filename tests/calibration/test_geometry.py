"""Lens distortion: a checkerboard seen through a known barrel distortion gives that distortion back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.calibration import geometry
from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.geometry import board_points, find_board, measure_distortion, undistort
from firmware_app.calibration.profile import CalibrationProfile, LensDistortion, new_profile, write_profile
from tests.calibration.render import checkerboard_views
from tests.records.kit import DEVICE

SIZE = (640, 480)
BOARD = (9, 6)
SQUARE_MM = 18.0
CAMERA = np.array([[560.0, 0, 322.0], [0, 560.0, 238.0], [0, 0, 1]])
DISTORTION = np.array([-0.28, 0.09, 0.0, 0.0, 0.0])  # barrel, like a short dermatoscope lens


def write_lens_profile(path: Path, size: tuple[int, int] = SIZE) -> CalibrationProfile:
    """A profile whose lens step is this camera's, made on its photos of ``size`` (640x480, 4:3)."""
    lens = LensDistortion(size, CAMERA, DISTORTION, 0.1, 8, BOARD, SQUARE_MM)
    return write_profile(dataclasses.replace(new_profile("imx708", "SN-1", "tech", DEVICE.id), geometry=lens), path)


@pytest.fixture(scope="module")
def views():
    return checkerboard_views(CAMERA, DISTORTION, SIZE, BOARD, SQUARE_MM)


@pytest.fixture(scope="module")
def lens(views):
    return measure_distortion([find_board(v, BOARD) for v in views], BOARD, SQUARE_MM, SIZE)


def test_the_known_distortion_is_recovered(views, lens):
    print(f"k1 {lens.distortion[0]:.4f} k2 {lens.distortion[1]:.4f} rms {lens.reprojection_rms_px:.3f} px")
    assert lens.reprojection_rms_px < 0.25
    assert lens.distortion[0] == pytest.approx(DISTORTION[0], abs=0.02)
    # k1, k2 and k3 trade off against each other; what matters is the radial displacement they add
    # up to, over the radii the boards covered (beyond them the fit is an extrapolation).
    corners = np.vstack([find_board(v, BOARD).reshape(-1, 2) for v in views])
    normalised = cv2.undistortPoints(corners.reshape(-1, 1, 2), CAMERA, DISTORTION).reshape(-1, 2)
    radii = np.linspace(0, np.linalg.norm(normalised, axis=1).max(), 50)

    def displacement_px(k, focal):
        return focal * radii * (k[0] * radii**2 + k[1] * radii**4 + k[4] * radii**6)

    worst = np.abs(
        displacement_px(DISTORTION, CAMERA[0, 0]) - displacement_px(lens.distortion, lens.camera_matrix[0, 0])
    )
    print(f"radial displacement error up to r={radii[-1]:.2f}: worst {worst.max():.2f} px")
    assert worst.max() < 0.5
    assert lens.camera_matrix[0, 0] == pytest.approx(CAMERA[0, 0], rel=0.01)
    assert lens.camera_matrix[:2, 2] == pytest.approx(CAMERA[:2, 2], abs=3)
    assert lens.views == 8


def _line_error(corners: np.ndarray) -> float:
    """How far the corners are from a flat board seen by a pinhole camera: homography residual, px."""
    flat = board_points(BOARD, SQUARE_MM)[:, :2]
    homography, _ = cv2.findHomography(flat, corners.reshape(-1, 2))
    projected = cv2.perspectiveTransform(flat.reshape(-1, 1, 2), homography).reshape(-1, 2)
    return float(np.sqrt(np.mean(np.sum((projected - corners.reshape(-1, 2)) ** 2, axis=1))))


def test_undistorted_frames_have_straight_lines(views, lens):
    before = max(_line_error(find_board(view, BOARD)) for view in views)
    after = max(_line_error(find_board(undistort(view, lens), BOARD)) for view in views)
    print(f"worst straightness residual {before:.2f} px -> {after:.2f} px")
    assert before > 0.5 and after < 0.25 and before > 3 * after


def test_a_frame_of_another_resolution_uses_a_scaled_camera(views, lens):
    half = cv2.resize(views[3], (320, 240), interpolation=cv2.INTER_AREA)
    assert _line_error(find_board(undistort(half, lens), BOARD)) < 0.3
    with pytest.raises(ValueError, match="proportions"):
        undistort(np.zeros((100, 300, 3), np.uint8), lens)


def test_no_board_or_too_few_views_is_refused(retina_rgb, views):
    with pytest.raises(TargetNotFound, match="no 9x6 checkerboard"):
        find_board(retina_rgb, BOARD)
    with pytest.raises(TargetNotFound, match="at least 3 are needed"):
        measure_distortion([find_board(views[0], BOARD)], BOARD, SQUARE_MM, SIZE)


def test_a_stills_maps_are_made_band_by_band_the_same_and_not_kept(views, lens, monkeypatch):
    """A frame whose undistortion maps would be too large to keep (a 12-megapixel still's: 74 MB
    held for good) is undistorted a band of rows at a time, each band's maps made for it: the same
    pixels as through the kept whole-frame maps, none kept."""
    from_kept_maps = undistort(views[3], lens)
    geometry._maps.cache_clear()
    monkeypatch.setattr(geometry, "KEPT_MAPS_MAX_PIXELS", 0)
    monkeypatch.setattr(geometry, "_BAND_ROWS", 37)  # 480 rows: twelve whole bands and a remainder
    np.testing.assert_array_equal(undistort(views[3], lens), from_kept_maps)
    # A frame whose rows are not contiguous in memory (a view of a rotated or transposed buffer).
    np.testing.assert_array_equal(undistort(np.asfortranarray(views[3]), lens), from_kept_maps)
    assert geometry._maps.cache_info().currsize == 0


def test_a_bands_maps_are_the_whole_frames_rows_for_any_camera():
    """A band's undistortion maps, made through a camera matrix moved up by the band's top, are the
    whole frame's maps on those rows: OpenCV's fixed-point maps, on 20 random cameras (focal
    length, centre, barrel or pincushion distortion), every band of 37 rows."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        width, height = int(rng.integers(300, 900)), int(rng.integers(200, 700))
        camera = np.array(
            [
                [rng.uniform(0.6, 1.5) * width, 0, width / 2 + rng.uniform(-20, 20)],
                [0, rng.uniform(0.6, 1.5) * width, height / 2 + rng.uniform(-20, 20)],
                [0, 0, 1],
            ]
        )
        coefficients = rng.uniform(-0.3, 0.3, 5) * np.array([1, 0.3, 0.01, 0.01, 0.1])
        whole = geometry._band_maps(camera, coefficients, width, 0, height)
        for top in range(0, height, 37):
            rows = min(37, height - top)
            band = geometry._band_maps(camera, coefficients, width, top, rows)
            for band_map, whole_map in zip(band, whole, strict=True):
                np.testing.assert_array_equal(band_map, whole_map[top : top + rows])
