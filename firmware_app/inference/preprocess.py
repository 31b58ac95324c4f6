"""Turn a decoded photo into the exact tensor a model card asks for.

The build scripts in ``models/build`` import these functions too, so the pixels a model was trained
and evaluated on are produced by the same code that feeds it on the device. Any change here changes
what the models see: rebuild and re-evaluate them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from firmware_app.inference.card import InputSpec


class FieldOfViewNotFound(ValueError):
    """The fundus photo has no bright circular field of view to crop to."""


@dataclass(frozen=True)
class FieldOfView:
    """The circular retinal field in a fundus photo, in pixel coordinates of that photo."""

    centre_x: float
    centre_y: float
    radius: float


# A fundus camera's mask is near-black; the retina, even at its dark rim, is well above this on the
# brightest channel (8-bit scale). Taken as a fraction of the photo's own bright level so that a
# dim but valid exposure still yields its field.
_FOV_MIN_LEVEL = 12.0
_FOV_RELATIVE_LEVEL = 0.08
_FOV_MIN_AREA_FRACTION = 0.05
# The Minkowski norm of Shades of Gray colour constancy (the card names it "shades_of_gray_p6").
SHADES_OF_GRAY_P = 6


def find_field_of_view(rgb: np.ndarray) -> FieldOfView:
    """Locate the circular field of view; raise ``FieldOfViewNotFound`` when there is none.

    The circle is the minimum enclosing circle of the largest bright region, so a field whose top
    and bottom are cut by a rectangular sensor (common on 3:2 fundus cameras) keeps its true radius.
    """
    # Channel by channel: the same values as ``rgb.max(axis=2)``, an order of magnitude faster.
    brightest = np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2]) if rgb.ndim == 3 else rgb
    small_scale = 512.0 / max(brightest.shape)
    small = brightest
    if small_scale < 1.0:
        small = cv2.resize(brightest, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    else:
        small_scale = 1.0
    small = cv2.GaussianBlur(small, (5, 5), 0)
    level = max(_FOV_MIN_LEVEL, _FOV_RELATIVE_LEVEL * float(np.percentile(small, 99)))
    mask = (small > level).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        raise FieldOfViewNotFound("no bright field of view in the photo")
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < _FOV_MIN_AREA_FRACTION * mask.size:
        raise FieldOfViewNotFound("the bright region is too small to be a field of view")
    (cx, cy), radius = cv2.minEnclosingCircle(largest)
    return FieldOfView(cx / small_scale, cy / small_scale, radius / small_scale)


def crop_to_field_of_view(rgb: np.ndarray, fov: FieldOfView) -> np.ndarray:
    """Square crop centred on the field, padded with black where the field leaves the photo."""
    side = max(1, round(2 * fov.radius))
    left = round(fov.centre_x - side / 2)
    top = round(fov.centre_y - side / 2)
    height, width = rgb.shape[:2]
    canvas = np.zeros((side, side, *rgb.shape[2:]), dtype=rgb.dtype)
    src_x0, src_y0 = max(0, left), max(0, top)
    src_x1, src_y1 = min(width, left + side), min(height, top + side)
    if src_x1 > src_x0 and src_y1 > src_y0:
        canvas[src_y0 - top : src_y1 - top, src_x0 - left : src_x1 - left] = rgb[src_y0:src_y1, src_x0:src_x1]
    return canvas


def framed(rgb: np.ndarray, spec: InputSpec, field_of_view: FieldOfView | None = None) -> np.ndarray:
    """The photo cropped as the card says and resized to the model's input size, colours untouched.
    ``field_of_view``: the fundus field when the pipeline already located it (``frame_analysis``),
    found here otherwise; the same ``find_field_of_view`` either way."""
    if spec.crop == "fundus_fov":
        rgb = crop_to_field_of_view(rgb, field_of_view or find_field_of_view(rgb))
    interpolation = cv2.INTER_AREA if rgb.shape[0] > spec.height else cv2.INTER_LINEAR
    return cv2.resize(rgb, (spec.width, spec.height), interpolation=interpolation)


def shades_of_gray(rgb: np.ndarray, p: int = SHADES_OF_GRAY_P) -> np.ndarray:
    """Divide out the scene's illuminant, estimated as each channel's Minkowski p-norm mean.

    Different dermatoscopes and fundus cameras tint the same tissue differently; a model trained on
    one tint reads another as a different lesion or retina. Shades of Gray (Finlayson and Trezzi
    2004; p = 6 as in the ISIC challenge winners) is cheap, has no parameters to fit, and so behaves
    the same on a camera never seen in training. Black pixels (a fundus camera's mask) add nothing
    to any channel's norm, so the field alone sets the correction. A channel with no signal at all
    cannot be rebalanced, and the photo is returned as it is.
    """
    # Every pixel is one of 256 levels: each channel's p-norm is read off its histogram, and the
    # gains applied by a table, a fraction of the cost of raising and scaling every pixel.
    levels = np.arange(256, dtype=np.float64)
    histograms = np.stack([np.bincount(rgb[..., c].ravel(), minlength=256) for c in range(3)])
    illuminant = (histograms @ levels**p / (rgb.size // 3)) ** (1.0 / p)
    if illuminant.min() < 1.0:
        return rgb.copy()
    gains = np.sqrt(np.mean(illuminant**2)) / illuminant
    tables = np.clip(np.round(levels[:, np.newaxis] * gains), 0, 255).astype(np.uint8)
    return cv2.LUT(np.ascontiguousarray(rgb), tables[:, np.newaxis, :])


def colour_constant(rgb: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Apply the card's colour constancy (if any) to an RGB image already at the model's size."""
    return shades_of_gray(rgb) if spec.colour_constancy == "shades_of_gray_p6" else rgb


def model_view(rgb: np.ndarray, spec: InputSpec, field_of_view: FieldOfView | None = None) -> np.ndarray:
    """The uint8 image, in the card's colour order and size, that the model is shown.

    ``rgb`` is an 8-bit, 3-channel photo in R,G,B order (as ``capture`` delivers every frame). The
    build composes ``framed`` and ``colour_constant`` the same way, with augmentation in between.
    """
    view = colour_constant(framed(rgb, spec, field_of_view), spec)
    if spec.colour_order == "BGR":
        view = view[:, :, ::-1]
    return np.ascontiguousarray(view)


def quantise(view: np.ndarray, spec: InputSpec, scale: float, zero_point: int) -> np.ndarray:
    """Normalise as the card says, then quantise with the input tensor's own scale and zero point."""
    normalised = (view.astype(np.float32) - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    info = np.iinfo(spec.dtype)
    quantised = np.clip(np.round(normalised / scale + zero_point), info.min, info.max)
    return quantised.astype(spec.dtype)[np.newaxis, ...]
