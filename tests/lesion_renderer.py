"""Render a synthetic dermoscopy photo: textured skin, an irregular pigmented lesion, and optionally
hairs, air bubbles and specular glare. It also returns the lesion's true mask.

The real dermoscopy sets may not be copied into the repository, so the tests (and the demo sample,
``scripts/render-dermoscopy-sample``) use this. It is deliberately simple but has what the quality
gate looks at: skin with fine texture and uneven tone, a lesion with a fuzzy irregular border and
internal structure, and the usual artefacts drawn the way they appear under a dermatoscope.
Deterministic for a given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Typical light skin and brown naevus tones (R, G, B).
LIGHT_SKIN = (226, 178, 160)
NAEVUS_BROWN = (128, 78, 52)


@dataclass(frozen=True)
class RenderedLesion:
    rgb: np.ndarray
    mask: np.ndarray


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Noise with features about ``sigma`` pixels wide, scaled to [-1, 1]."""
    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    return field / max(1e-6, float(np.abs(field).max()))


def _lesion_mask(rng: np.random.Generator, shape: tuple[int, int], centre: tuple[float, float], radius: float):
    """An irregular blob: a circle whose radius wobbles with a few random harmonics."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - centre[0] * width, ys - centre[1] * height
    angle = np.arctan2(dy, dx)
    wobble = np.ones_like(angle)
    for harmonic in range(2, 7):
        wobble += rng.uniform(0.02, 0.12) / harmonic**0.5 * np.cos(harmonic * angle + rng.uniform(0, 2 * np.pi))
    return np.hypot(dx, dy) <= radius * min(height, width) * wobble


def _draw_hairs(rng: np.random.Generator, rgb: np.ndarray, count: int) -> None:
    height, width = rgb.shape[:2]
    for _ in range(count):
        start = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        direction = rng.uniform(0, 2 * np.pi)
        points = [start]
        for _ in range(30):
            direction += rng.normal(0, 0.08)
            points.append(points[-1] + 0.025 * max(height, width) * np.array([np.cos(direction), np.sin(direction)]))
        thickness = max(1, round(max(height, width) / rng.uniform(250, 400)))
        colour = tuple(int(c) for c in rng.integers(25, 60, 3))
        cv2.polylines(rgb, [np.round(points).astype(np.int32)], False, colour, thickness, cv2.LINE_AA)


def _draw_bubbles(rng: np.random.Generator, rgb: np.ndarray, count: int) -> None:
    """Air bubbles in the immersion fluid: a thin bright ring, a darker inner edge, a highlight."""
    height, width = rgb.shape[:2]
    for _ in range(count):
        radius = round(min(height, width) * rng.uniform(0.015, 0.04))
        centre = (int(rng.uniform(0.1, 0.9) * width), int(rng.uniform(0.1, 0.9) * height))
        cv2.circle(rgb, centre, radius, (245, 245, 245), max(1, radius // 6), cv2.LINE_AA)
        cv2.circle(rgb, centre, max(1, radius - radius // 4), (150, 120, 110), 1, cv2.LINE_AA)
        highlight = (centre[0] - radius // 3, centre[1] - radius // 3)
        cv2.circle(rgb, highlight, max(2, radius // 3), (255, 255, 255), -1, cv2.LINE_AA)


def _add_glare(rng: np.random.Generator, rgb: np.ndarray, count: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    light = np.zeros((height, width), np.float32)
    for _ in range(count):
        centre = (int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.2, 0.8) * height))
        axes = (round(width * rng.uniform(0.03, 0.07)), round(height * rng.uniform(0.02, 0.05)))
        cv2.ellipse(light, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
    light = cv2.GaussianBlur(light, (0, 0), max(1.0, width / 300))[..., np.newaxis]
    return (rgb * (1 - light) + 255 * light).astype(np.uint8)


def render_lesion(
    width: int = 640,
    height: int = 480,
    seed: int = 0,
    *,
    radius: float = 0.22,
    centre: tuple[float, float] = (0.5, 0.5),
    skin: tuple[int, int, int] = LIGHT_SKIN,
    pigment: tuple[int, int, int] = NAEVUS_BROWN,
    hairs: int = 0,
    bubbles: int = 0,
    glare_spots: int = 0,
) -> RenderedLesion:
    """A dermoscopy-like photo; ``radius`` is the lesion's mean radius as a fraction of the short side
    and ``centre`` its centre as fractions of the width and height."""
    rng = np.random.default_rng(seed)
    shape = (height, width)
    tone = 1.0 + 0.06 * _smooth_noise(rng, shape, min(shape) / 6) + 0.035 * _smooth_noise(rng, shape, 1.2)
    # Skin furrows: a faint criss-cross of fine lines.
    furrows = np.abs(_smooth_noise(rng, shape, min(shape) / 60)) < 0.04
    tone -= 0.05 * cv2.GaussianBlur(furrows.astype(np.float32), (0, 0), 0.8)
    rgb = np.asarray(skin, np.float32) * tone[..., np.newaxis]

    mask = _lesion_mask(rng, shape, centre, radius)
    # Pigment density: dense in the middle, fading over a soft border, with globules and a network.
    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    border = max(2.0, radius * min(shape) * 0.25)
    density = np.clip(distance / border, 0, 1) ** 0.7
    density = cv2.GaussianBlur(density, (0, 0), max(1.0, border / 5))
    network = 0.25 * (_smooth_noise(rng, shape, min(shape) / 120) > 0.2)
    globules = 0.35 * (_smooth_noise(rng, shape, min(shape) / 80) > 0.45)
    darkness = np.clip(density * (0.75 + network + globules), 0, 1.2)[..., np.newaxis]
    lesion_colour = np.asarray(pigment, np.float32) * (1.0 - 0.35 * np.clip(darkness - 0.75, 0, 1))
    rgb = rgb * (1 - np.minimum(darkness, 1.0)) + lesion_colour * np.minimum(darkness, 1.0)
    rgb = np.clip(rgb + rng.normal(0, 1.5, rgb.shape), 0, 255).astype(np.uint8)

    _draw_hairs(rng, rgb, hairs)
    _draw_bubbles(rng, rgb, bubbles)
    if glare_spots:
        rgb = _add_glare(rng, rgb, glare_spots)
    return RenderedLesion(rgb, mask)
