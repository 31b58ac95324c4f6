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
from firmware_app.quality.measures import brightest_channel, level_percentile
from firmware_app.quality.resample import halved_by, halving_factor


class FieldOfViewNotFound(ValueError):
    """The fundus photo has no bright circular field of view to crop to."""


@dataclass(frozen=True)
class FieldOfView:
    """The circular retinal field in a fundus photo, in pixel coordinates of that photo."""

    centre_x: float
    centre_y: float
    radius: float

    def reduced(self, factor: int) -> FieldOfView:
        """The same field in the pixels of the photo reduced by a whole ``factor`` (block averaged):
        pixel ``i`` of the copy covers pixels ``factor * i`` to ``factor * i + factor - 1``, so its
        centre is the photo's ``factor * i + (factor - 1) / 2``."""
        offset = (factor - 1) / 2
        return FieldOfView(
            (self.centre_x - offset) / factor, (self.centre_y - offset) / factor, (self.radius - offset) / factor
        )

    def enlarged(self, factor: int) -> FieldOfView:
        """The field located on a copy reduced by a whole ``factor``, in the photo's own pixels
        (``reduced``'s inverse): the outermost pixel centre of the copy's field is half a copy pixel
        inside its edge, as the photo's is half a photo pixel inside."""
        offset = (factor - 1) / 2
        return FieldOfView(
            self.centre_x * factor + offset, self.centre_y * factor + offset, self.radius * factor + offset
        )


# A fundus camera's mask is near-black; the retina, even at its dark rim, is well above this on the
# brightest channel (8-bit scale). Taken as a fraction of the photo's own bright level so that a
# dim but valid exposure still yields its field.
_FOV_MIN_LEVEL = 12.0
_FOV_RELATIVE_LEVEL = 0.08
_FOV_MIN_AREA_FRACTION = 0.05
# The long side (up to twice it) of the copy the field is located on (``find_field_of_view``).
_LOCATING_SIDE = 480
# The Minkowski norm of Shades of Gray colour constancy (the card names it "shades_of_gray_p6").
SHADES_OF_GRAY_P = 6


def locating_factor(shape: tuple[int, ...]) -> int:
    """The power of two ``find_field_of_view`` halves a photo of this shape by before locating its
    field: as often as the long side stays at ``_LOCATING_SIDE`` or more."""
    return halving_factor(max(shape[:2]), _LOCATING_SIDE)


def find_field_of_view(rgb: np.ndarray) -> FieldOfView:
    """Locate the circular field of view; raise ``FieldOfViewNotFound`` when there is none.

    The circle is the minimum enclosing circle of the largest bright region, so a field whose top
    and bottom are cut by a rectangular sensor (common on 3:2 fundus cameras) keeps its true radius.
    It is located on a copy halved (``resample.halved_by``) by ``locating_factor``, to a long side
    of ``_LOCATING_SIDE`` to twice that: a field a few hundred pixels across is placed there within
    a percent of its radius of where the photo itself places it (``tests/test_frame_analysis``; on
    dr-600 0.3% on average, closer than the fractional resample to 512 pixels it replaced), which
    moves a model's 224-pixel crop by about a pixel.
    """
    factor = locating_factor(rgb.shape)
    return field_of_view_on(halved_by(rgb, factor), factor)


def fundus_field_mask(rgb: np.ndarray) -> np.ndarray:
    """The uint8 0/1 mask of the pixels lit through a fundus camera's aperture: above a level set by
    the photo's own bright level, so a dim exposure keeps its field, with specks of sensor noise
    opened away. Its outline is the field's, wherever the sensor's rectangle does not cut it."""
    brightest = brightest_channel(rgb) if rgb.ndim == 3 else rgb
    brightest = cv2.GaussianBlur(brightest, (5, 5), 0)
    level = max(_FOV_MIN_LEVEL, _FOV_RELATIVE_LEVEL * level_percentile(brightest, 99))
    mask = (brightest > level).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))


def field_of_view_on(small: np.ndarray, factor: int) -> FieldOfView:
    """``find_field_of_view`` on the copy ``small`` of a photo, halved by ``factor``: the field in
    the photo's own pixels (a frame's analysis has that copy already, ``frame_analysis``)."""
    mask = fundus_field_mask(small)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        raise FieldOfViewNotFound("no bright field of view in the photo")
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < _FOV_MIN_AREA_FRACTION * mask.size:
        raise FieldOfViewNotFound("the bright region is too small to be a field of view")
    (cx, cy), radius = cv2.minEnclosingCircle(largest)
    return FieldOfView(cx, cy, radius).enlarged(factor)


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
    if spec.crops_to_field:
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
    # OpenCV's histogram of each channel in place: numpy's bincount first copies the strided channel.
    image = np.ascontiguousarray(rgb)
    histograms = np.array([cv2.calcHist([image], [c], None, [256], [0, 256]).ravel() for c in range(3)], np.float64)
    illuminant = (histograms @ levels**p / (image.size // 3)) ** (1.0 / p)
    if illuminant.min() < 1.0:
        return rgb.copy()
    gains = np.sqrt(np.mean(illuminant**2)) / illuminant
    tables = np.clip(np.round(levels[:, np.newaxis] * gains), 0, 255).astype(np.uint8)
    return cv2.LUT(image, tables[:, np.newaxis, :])


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
    """Normalise as the card says, then quantise with the input tensor's own scale and zero point.

    Every pixel is one of 256 levels per channel, so each channel's 256 quantised values are worked
    out once and looked up (``cv2.LUT``), a fraction of the cost of normalising every pixel in
    floating point, with the very same arithmetic, hence the very same values."""
    levels = np.arange(256, dtype=np.float32)[:, np.newaxis]
    normalised = (levels - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    info = np.iinfo(spec.dtype)
    quantised = np.clip(np.round(normalised / scale + zero_point), info.min, info.max).astype(spec.dtype)
    # cv2.LUT maps 8-bit levels to 8-bit values: the table holds the quantised values' bytes.
    table = quantised.view(np.uint8)[np.newaxis, ...]
    return cv2.LUT(np.ascontiguousarray(view), table).view(spec.dtype)[np.newaxis, ...]
