"""Calibration targets as a camera with known faults would photograph them.

Each function renders a target through a known imperfection (vignetting, a colour cast, a lens
distortion, a known scale), so a test can check that calibration recovers exactly that truth.
"""

from __future__ import annotations

import cv2
import numpy as np

from firmware_app.calibration.colour_chart import LAYOUT, REFERENCE_SRGB8
from firmware_app.colour import linear_to_srgb8, srgb8_to_linear


def add_noise(rgb: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, rgb.shape)
    return np.clip(rgb + noise, 0, 255).round().astype(np.uint8)


# Vignetting: light falls off as 1 - a r^2 (r = 1 at the frame's corner), more in red than in blue,
# around a point off the centre (the illumination is not centred either).
VIGNETTING = np.array([0.50, 0.42, 0.35])
VIGNETTING_CENTRE = (0.54, 0.47)  # fractions of width and height


def vignetting(height: int, width: int) -> np.ndarray:
    """The fraction of light reaching each pixel, (height, width, 3)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = VIGNETTING_CENTRE[0] * width, VIGNETTING_CENTRE[1] * height
    r2 = ((x - cx) ** 2 + (y - cy) ** 2) / ((width / 2) ** 2 + (height / 2) ** 2)
    return (1 - VIGNETTING[None, None, :] * r2[..., None]).astype(np.float32)


def through_vignetting(rgb: np.ndarray) -> np.ndarray:
    return linear_to_srgb8(srgb8_to_linear(rgb) * vignetting(*rgb.shape[:2]))


def uniform_target_frames(height: int, width: int, count: int, level: int = 215) -> list[np.ndarray]:
    card = np.full((height, width, 3), level, np.uint8)
    return [add_noise(through_vignetting(card), 2.0, seed) for seed in range(count)]


# Colour cast: a camera whose channels leak into each other, under warm light, underexposed a little.
CAST = 0.8 * np.array([[0.95, 0.12, 0.02], [0.10, 0.80, 0.08], [0.02, 0.15, 0.55]]) * np.array([[1.0], [0.9], [0.7]])


def chart_image(pixels_per_pitch: int = 50) -> np.ndarray:
    """The 24-patch chart, flat and facing the camera, in its reference sRGB colours on a black board."""
    width, height = round(LAYOUT.width * pixels_per_pitch), round(LAYOUT.height * pixels_per_pitch)
    chart = np.full((height, width, 3), 22, np.uint8)
    side = round(LAYOUT.patch * pixels_per_pitch)
    for index, colour in enumerate(REFERENCE_SRGB8):
        x, y = LAYOUT.patch_origin(index)
        left, top = round(x * pixels_per_pitch), round(y * pixels_per_pitch)
        chart[top : top + side, left : left + side] = colour
    return chart


def photographed_chart(seed: int, cast: np.ndarray = CAST, turned: bool = False) -> np.ndarray:
    """The chart on a light table, in perspective, through a colour cast, with sensor noise."""
    chart = chart_image()
    if turned:
        chart = np.ascontiguousarray(chart[::-1, ::-1])
    rng = np.random.default_rng(seed)
    h, w = chart.shape[:2]
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = (np.float32([[150, 120], [810, 100], [830, 560], [130, 590]]) + rng.uniform(-25, 25, (4, 2))).astype(
        np.float32
    )
    scene = cv2.warpPerspective(
        chart, cv2.getPerspectiveTransform(source, target), (960, 720), borderValue=(205, 200, 190)
    )
    linear = srgb8_to_linear(scene) @ cast.T.astype(np.float32)
    return add_noise(linear_to_srgb8(linear), 1.5, seed)


def checkerboard_views(
    camera: np.ndarray, distortion: np.ndarray, size: tuple[int, int], board: tuple[int, int], square: float
) -> list[np.ndarray]:
    """Views of a flat checkerboard (white border one square wide) at poses spread over the frame.

    Each pixel is traced back through the lens (``undistortPoints``) to the board plane, with 2x2
    samples per pixel for anti-aliased edges.
    """
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    samples = []
    for dy in (0.25, 0.75):
        for dx in (0.25, 0.75):
            samples.append(np.stack([x + dx - 0.5, y + dy - 0.5], axis=-1).reshape(-1, 1, 2))
    rays = [cv2.undistortPoints(s, camera, distortion).reshape(-1, 2) for s in samples]
    columns, rows = board[0] + 1, board[1] + 1  # squares
    poses = [  # rotation vector (rad), board centre (mm) at a ~300 mm working distance
        ((0.0, 0.0, 0.05), (0, 0, 330)),
        ((0.3, 0.1, 0.0), (-70, -50, 320)),
        ((-0.3, 0.25, 0.1), (70, -50, 320)),
        ((0.25, -0.3, -0.1), (-70, 50, 310)),
        ((-0.2, -0.3, 0.2), (70, 50, 330)),
        ((0.0, 0.45, 0.0), (0, -45, 330)),
        ((0.45, 0.0, -0.2), (0, 50, 340)),
        ((-0.1, 0.2, 0.3), (-60, 0, 340)),
    ]
    views = []
    for rotation, centre in poses:
        matrix, _ = cv2.Rodrigues(np.array(rotation, np.float64))
        origin = np.array(centre, np.float64) - matrix @ np.array([columns * square / 2, rows * square / 2, 0])
        plane_to_ray = np.column_stack([matrix[:, 0], matrix[:, 1], origin])
        ray_to_plane = np.linalg.inv(plane_to_ray)
        value = np.zeros(width * height, np.float32)
        for ray in rays:
            board_xy = np.column_stack([ray, np.ones(len(ray))]) @ ray_to_plane.T
            u, v = board_xy[:, 0] / board_xy[:, 2] / square, board_xy[:, 1] / board_xy[:, 2] / square
            inside = (u >= 0) & (u < columns) & (v >= 0) & (v < rows)
            dark = inside & ((np.floor(u) + np.floor(v)) % 2 == 0)
            value += np.where(dark, 25.0, 230.0) / len(rays)
        grey = value.reshape(height, width)
        views.append(add_noise(np.dstack([grey] * 3), 1.5, len(views)))
    return views


def scale_target(mm_per_pixel: float, side_mm: float, size: tuple[int, int], angle_deg: float, seed: int) -> np.ndarray:
    """A black square of ``side_mm`` on white paper, photographed at ``mm_per_pixel``, a little blurred."""
    supersample = 4
    width, height = size
    side = side_mm / mm_per_pixel * supersample
    centre = np.array([width * 0.52, height * 0.47]) * supersample
    angle = np.deg2rad(angle_deg)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * side / 2
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    canvas = np.full((height * supersample, width * supersample), 235, np.uint8)
    cv2.fillConvexPoly(canvas, np.round((corners @ rotation.T + centre) * 16).astype(np.int32), 20, cv2.LINE_AA, 4)
    grey = cv2.resize(canvas, size, interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(grey, (0, 0), 1.2)
    return add_noise(np.dstack([grey] * 3).astype(np.float64), 2.0, seed)
