"""Strong photometric and geometric augmentation of the framed view, before colour constancy.

What varies between clinics is mostly the camera: its light's colour and brightness, uneven
illumination across the field, focus, framing and JPEG compression. Each transform mimics one of
those on the framed view (the device's crop and size, so every training pixel stays inside what the
device can produce); colour constancy is applied afterwards, as on the device, so the model learns
on what the correction leaves of a tint rather than on the tint itself. Every photometric transform
is multiplicative, so a fundus camera's black mask stays black.

Framing (``framing``, dermoscopy): other dermatoscopes leave a dark round surround, a light that
falls off to near black in the corners, or black bars around the skin. The ``lit_field`` crop cuts
bars and borders off, not a round field's corners nor a vignette, which a model trained on photos
without them reads as part of the lesion's surround; a share of training views gets one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """How far each transform may go; ``black_border`` for fundus views (the mask outside the field)."""

    max_rotation_deg: float = 180.0
    max_scale: float = 0.15
    brightness: float = 0.3
    channel_gain: float = 0.2
    max_gamma: float = 1.4
    illumination_ramp: float = 0.3
    blur_probability: float = 0.3
    max_blur_sigma: float = 1.5
    jpeg_probability: float = 0.3
    black_border: bool = False
    # Share of views given another dermatoscope's framing (``_framing``); 0 draws nothing from the
    # generator, so every other view is the very one a recipe without framing gets.
    framing: float = 0.0
    max_border: float = 0.12  # black bars: up to this share of the side, each pair of sides
    round_radius: tuple[float, float] = (0.5, 0.72)  # round field's radii, shares of the side
    vignette_depth: tuple[float, float] = (0.5, 0.95)  # light lost in the far corners


def _geometry(view: np.ndarray, rng: np.random.Generator, how: Augmentation) -> np.ndarray:
    height, width = view.shape[:2]
    angle = rng.uniform(-how.max_rotation_deg, how.max_rotation_deg)
    scale = 1.0 + rng.uniform(-how.max_scale, how.max_scale)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    border = cv2.BORDER_CONSTANT if how.black_border else cv2.BORDER_REFLECT_101
    out = cv2.warpAffine(view, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=border)
    return out[:, ::-1] if rng.random() < 0.5 else out


def _framing(view: np.ndarray, rng: np.random.Generator, how: Augmentation) -> np.ndarray:
    """On a share ``how.framing`` of views, one of: black bars (top and bottom, left and right, each
    pair its own width, zero to ``max_border``), a round field (black beyond an ellipse around the
    centre, the view's resize having squeezed the circle), or a vignette (light falling off with
    the square of the radius, to near black in the corners)."""
    if how.framing == 0.0 or rng.random() >= how.framing:
        return view
    height, width = view.shape[:2]
    kind = rng.integers(3)
    if kind == 0:
        rows, cols = (round(rng.uniform(0, how.max_border) * side) for side in (height, width))
        out = view.copy()
        out[:rows], out[height - rows :], out[:, :cols], out[:, width - cols :] = 0, 0, 0, 0
        return out
    ys, xs = np.ogrid[0:height, 0:width]
    if kind == 1:
        radius_y, radius_x = rng.uniform(*how.round_radius, size=2) * (height, width)
        inside = ((ys - (height - 1) / 2) / radius_y) ** 2 + ((xs - (width - 1) / 2) / radius_x) ** 2 <= 1
        return view * inside[..., np.newaxis].astype(np.uint8)
    half_height, half_width = (height - 1) / 2, (width - 1) / 2  # the corner pixels at radius 1
    radius = np.hypot((ys - half_height) / half_height, (xs - half_width) / half_width) / np.sqrt(2)
    light = 1.0 - rng.uniform(*how.vignette_depth) * radius**2
    return np.clip(view * light[..., np.newaxis] + 0.5, 0, 255).astype(np.uint8)


def _light(view: np.ndarray, rng: np.random.Generator, how: Augmentation) -> np.ndarray:
    """Illuminant colour and level, gamma, and a linear illumination ramp across the field."""
    height, width = view.shape[:2]
    pixels = view.astype(np.float32) / 255.0
    gamma = np.exp(rng.uniform(-np.log(how.max_gamma), np.log(how.max_gamma)))
    pixels = pixels**gamma
    direction = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = ((xs / width - 0.5) * np.cos(direction) + (ys / height - 0.5) * np.sin(direction)) * 2
    shading = 1.0 + rng.uniform(-how.illumination_ramp, how.illumination_ramp) * ramp
    level = 1.0 + rng.uniform(-how.brightness, how.brightness)
    colour = 1.0 + rng.uniform(-how.channel_gain, how.channel_gain, size=3)
    pixels = pixels * (shading * level)[..., np.newaxis] * colour
    return np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _optics(view: np.ndarray, rng: np.random.Generator, how: Augmentation) -> np.ndarray:
    """Defocus blur and JPEG compression, each only sometimes."""
    out = view
    if rng.random() < how.blur_probability:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, how.max_blur_sigma))
    if rng.random() < how.jpeg_probability:
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        if ok:
            out = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    return out


def augment(view: np.ndarray, rng: np.random.Generator, how: Augmentation) -> np.ndarray:
    """One random variant of a uint8 HxWx3 framed view, same shape and dtype."""
    return np.ascontiguousarray(_optics(_light(_framing(_geometry(view, rng, how), rng, how), rng, how), rng, how))
