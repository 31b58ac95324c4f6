"""Controlled degradations of real photos, each at three strengths (1 mild, 2 clear, 3 severe).

The quality tests and ``bench/quality_eval.py`` both use these, so the figures in the benchmark and
the behaviour the tests pin down are about the same defects. Sizes scale with the photo (per 1000
pixels of its long side), so a strength means the same on a 200-pixel and a 1400-pixel photo.
Every function is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

STRENGTHS = (1, 2, 3)


def _per_1000(rgb: np.ndarray, value: float) -> float:
    return value * max(rgb.shape[:2]) / 1000.0


def _apply_kernel(rgb: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.filter2D(rgb, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def defocus(rgb: np.ndarray, strength: int) -> np.ndarray:
    """An out-of-focus lens: a uniform disc blur of radius 2, 4, 8 per 1000 pixels."""
    radius = max(1, round(_per_1000(rgb, (2, 4, 8)[strength - 1])))
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
    cv2.circle(kernel, (radius, radius), radius, 1.0, -1)
    return _apply_kernel(rgb, kernel)


def motion(rgb: np.ndarray, strength: int) -> np.ndarray:
    """A hand that moved: a straight blur 8, 16, 32 per 1000 pixels long, at 30 degrees."""
    length = max(3, round(_per_1000(rgb, (8, 16, 32)[strength - 1])))
    kernel = np.zeros((length, length), np.float32)
    angle = np.deg2rad(30)
    centre = (length - 1) / 2
    dx, dy = np.cos(angle) * centre, np.sin(angle) * centre
    cv2.line(kernel, (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy)), 1.0, 1)
    return _apply_kernel(rgb, kernel)


def _scaled(rgb: np.ndarray, factor: np.ndarray | float) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def underexpose(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Too little light: every 8-bit level times 0.45, 0.25, 0.12. The levels are sRGB-encoded, so
    that is about 2.5, 4.4 and 6.7 stops of light (``bench/exposure_stops.py`` darkens by real stops)."""
    return _scaled(rgb, (0.45, 0.25, 0.12)[strength - 1])


def overexpose(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Too much light: every level times 1.6, 2.2, 3.0, clipped."""
    return _scaled(rgb, (1.6, 2.2, 3.0)[strength - 1])


def uneven(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Light falling off across the frame: from full on the left to 50, 30, 15 percent on the right."""
    right = (0.5, 0.3, 0.15)[strength - 1]
    ramp = np.linspace(1.0, right, rgb.shape[1], dtype=np.float32)
    return _scaled(rgb, ramp[np.newaxis, :, np.newaxis])


def shift(rgb: np.ndarray, strength: int) -> np.ndarray:
    """A camera off the eye's axis: the picture moved right by 15, 25, 35 percent of its width,
    the uncovered part black (a fundus camera sees nothing there)."""
    offset = round(rgb.shape[1] * (0.15, 0.25, 0.35)[strength - 1])
    moved = np.zeros_like(rgb)
    moved[:, offset:] = rgb[:, : rgb.shape[1] - offset]
    return moved


def reframe(rgb: np.ndarray, strength: int) -> np.ndarray:
    """A dermatoscope placed off the lesion: the frame shows a window of 70 percent of the scene
    whose left edge lies 25, 12 or 0 percent of its width left of the scene's centre (where the
    lesion is), enlarged back to the frame's size: the lesion is pushed against the edge and cut."""
    height, width = rgb.shape[:2]
    window_w, window_h = round(width * 0.7), round(height * 0.7)
    left = round(width / 2 - window_w * (0.25, 0.12, 0.0)[strength - 1])
    top = (height - window_h) // 2
    window = rgb[top : top + window_h, left : left + window_w]
    return cv2.resize(window, (width, height), interpolation=cv2.INTER_LINEAR)


def glare(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Specular reflections: 2, 4, 8 white spots of radius 25 per 1000 pixels, spread over the middle."""
    count = (2, 4, 8)[strength - 1]
    height, width = rgb.shape[:2]
    radius = max(2, round(_per_1000(rgb, 25)))
    light = np.zeros((height, width), np.float32)
    for i in range(count):
        angle = 2 * np.pi * i / count + 0.4
        centre = (round(width / 2 + 0.25 * width * np.cos(angle)), round(height / 2 + 0.25 * height * np.sin(angle)))
        cv2.circle(light, centre, radius, 1.0, -1)
    light = cv2.GaussianBlur(light, (0, 0), radius / 4)[..., np.newaxis]
    return np.clip(rgb.astype(np.float32) * (1 - light) + 255 * light, 0, 255).astype(np.uint8)


def noise(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Sensor noise: Gaussian, standard deviation 8, 16, 32 levels (a high-gain dim capture)."""
    rng = np.random.default_rng(7)
    sigma = (8, 16, 32)[strength - 1]
    return np.clip(rgb.astype(np.float32) + rng.normal(0, sigma, rgb.shape), 0, 255).astype(np.uint8)


def jpeg_at(rgb: np.ndarray, quality: int) -> np.ndarray:
    """The photo as a JPEG of this quality decodes it: what a camera's MJPEG stream delivers."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def jpeg(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Heavy JPEG compression: quality 15, 8, 4."""
    return jpeg_at(rgb, (15, 8, 4)[strength - 1])


Degradation = Callable[[np.ndarray, int], np.ndarray]

# Each defect, the degradation that makes it, and the reasons a gate may rightly give for it (a
# lesion pushed to the edge is both cut and off-centre; the nurse's fix is the same).
FUNDUS_DEFECTS: dict[str, tuple[Degradation, tuple[str, ...]]] = {
    "defocus": (defocus, ("blurred",)),
    "motion": (motion, ("blurred",)),
    "underexposed": (underexpose, ("too_dark",)),
    "overexposed": (overexpose, ("too_bright",)),
    "uneven": (uneven, ("uneven_illumination",)),
    "off_centre": (shift, ("field_cut",)),
    "glare": (glare, ("glare",)),
    "noise": (noise, ("noisy",)),
    "jpeg": (jpeg, ("compressed",)),
}
DERMOSCOPY_DEFECTS: dict[str, tuple[Degradation, tuple[str, ...]]] = FUNDUS_DEFECTS | {
    "off_centre": (reframe, ("lesion_cut", "lesion_off_centre")),
}
