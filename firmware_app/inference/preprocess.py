"""Turn a decoded photo into the exact tensor a model card asks for.

The build scripts in ``models/build`` import these functions too, so the pixels a model was trained
and evaluated on are produced by the same code that feeds it on the device. Any change here changes
what the models see: rebuild and re-evaluate them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from firmware_app.inference.card import InputSpec
from firmware_app.quality.lesion import LesionSegmentation
from firmware_app.quality.measures import brightest_channel, level_percentiles
from firmware_app.quality.resample import halved_by, halving_factor


class FieldOfViewNotFound(ValueError):
    """The fundus photo has no bright circular field of view to crop to."""


@dataclass(frozen=True)
class FieldOfView:
    """The circular retinal field in a fundus photo, in pixel coordinates of that photo, and how
    many of the photo's four corners it lights (``lit_corners``)."""

    centre_x: float
    centre_y: float
    radius: float
    lit_corners: int = 0

    def reduced(self, factor: int) -> FieldOfView:
        """The same field in the pixels of the photo reduced by a whole ``factor`` (block averaged):
        pixel ``i`` of the copy covers pixels ``factor * i`` to ``factor * i + factor - 1``, so its
        centre is the photo's ``factor * i + (factor - 1) / 2``."""
        offset = (factor - 1) / 2
        return FieldOfView(
            (self.centre_x - offset) / factor,
            (self.centre_y - offset) / factor,
            (self.radius - offset) / factor,
            self.lit_corners,
        )

    def enlarged(self, factor: int) -> FieldOfView:
        """The field located on a copy reduced by a whole ``factor``, in the photo's own pixels
        (``reduced``'s inverse): the outermost pixel centre of the copy's field is half a copy pixel
        inside its edge, as the photo's is half a photo pixel inside."""
        offset = (factor - 1) / 2
        return FieldOfView(
            self.centre_x * factor + offset,
            self.centre_y * factor + offset,
            self.radius * factor + offset,
            self.lit_corners,
        )


# A fundus camera's mask is near-black; the retina, even at its dark rim, is well above this on the
# brightest channel (8-bit scale). Taken as a fraction of the photo's own bright level so that a
# dim but valid exposure still yields its field. Both are counted from the photo's own black
# (``_FOV_BLACK_PERCENTILE``), not from 0.
_FOV_MIN_LEVEL = 12.0
_FOV_RELATIVE_LEVEL = 0.08
# The photo's black is the level of its darkest percent of pixels: its mask's, which covers a few
# percent of the frame wherever the frame reaches past the field (about 5% in the corners of a
# square cut inside the field on every side, as APTOS's 224-pixel photos are). A camera's black is
# not 0: counted from 0, the level sat on a grey mask, and another camera's tone curve (a gamma of
# 0.8 lifts 15 to 26), white balance (blue times 1.15 lifts the mask as red times 0.9 lowers the
# bright level) or JPEG ringing took the mask into the field, which became the frame's whole
# square (``bench/field_stability.py``: of APTOS's 3,662 graded photos under ten variations, 729
# of the 36,620 copies found a field 2% or more off the photo's own, 40 now, 35 of them darkened by
# a tone curve of 1.25). The black counts up to a quarter of the bright level: a frame with no
# mask at all keeps its darkest part (a field filling the frame its darkest retina; a white frame
# is lit all over, its fix the light).
_FOV_BLACK_PERCENTILE, _FOV_BLACK_SHARE = 1.0, 0.25
_FOV_MIN_AREA_FRACTION = 0.05
# A corner of the frame is lit when more than half of its square, this share of the frame's shorter
# side, lies in the field (``lit_corners``).
_CORNER_SHARE = 0.03
# The long side (up to twice it) of the copy the field is located on (``find_field_of_view``).
_LOCATING_SIDE = 480
# The Minkowski norm of Shades of Gray colour constancy (the card names it "shades_of_gray_p6").
SHADES_OF_GRAY_P = 6
# ``background_subtracted``: the background is the field's mean over a Gaussian of sigma side / 30
# (Graham's scale); the outer 5% of the field's radius, where the lens darkens and scatters, is left
# out; a relative contrast c becomes 128 + 4 * 64 * c, Graham's gain of 4 at a retina's typical
# level of 64, so +-50% fills the 8-bit range; 128, no contrast, is where the normalisation puts 0.
_BACKGROUND_SCALE = 30.0
_BACKGROUND_REDUCTION = 4
_FIELD_KEPT = 0.95
_CONTRAST_GAIN = 4.0 * 64.0
BACKGROUND_LEVEL = 128
# ``lesion_box``: the square's side is this many times the lesion box's longer side (a quarter of
# the box's side as margin all round: the border and the skin around it), and between these shares
# of the photo's shorter side (no tiny lesion blown up to mush; no square larger than the photo).
_LESION_MARGIN = 1.5
_LESION_SQUARE_FLOOR = 0.5


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
    the photo's own black and bright levels (``_mask_level``), so a dim exposure keeps its field and
    a camera's grey mask stays mask, with specks of sensor noise opened away. Its outline is the
    field's, wherever the sensor's rectangle does not cut it."""
    brightest = brightest_channel(rgb) if rgb.ndim == 3 else rgb
    brightest = cv2.GaussianBlur(brightest, (5, 5), 0)
    _, mask = cv2.threshold(brightest, _mask_level(brightest), 1, cv2.THRESH_BINARY)  # 8-bit levels above it: 1
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))


def _mask_level(brightest: np.ndarray) -> float:
    """The level of ``brightest`` (each pixel's brightest channel, smoothed) above which a pixel is
    lit through the aperture: ``_FOV_RELATIVE_LEVEL`` of the way from the photo's black to its bright
    level, and at least ``_FOV_MIN_LEVEL`` above its black.

    Counted from the photo's own black (``_FOV_BLACK_PERCENTILE``), the level sits as far above the
    mask whatever black a camera gives it: counted from 0, it sat on the mask of a camera whose
    black reads 15, and a tone curve, a white balance or JPEG ringing moved the mask across it."""
    bright, darkest = level_percentiles(brightest, (99, _FOV_BLACK_PERCENTILE))
    black = min(darkest, _FOV_BLACK_SHARE * bright)
    return black + max(_FOV_MIN_LEVEL, _FOV_RELATIVE_LEVEL * (bright - black))


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
    return FieldOfView(cx, cy, radius, lit_corners(mask)).enlarged(factor)


def lit_corners(mask: np.ndarray) -> int:
    """How many of a frame's four corners its field mask lights. A fundus camera's round aperture
    leaves the corners dark whatever the frame's shape, unless its field overfills the frame's
    diagonal. A photo lit into
    its corners was not taken through this camera's aperture (skin, a face, the room)."""
    height, width = mask.shape[:2]
    side = max(2, round(_CORNER_SHARE * min(height, width)))
    corners = (mask[:side, :side], mask[:side, -side:], mask[-side:, :side], mask[-side:, -side:])
    return sum(int(np.count_nonzero(corner) * 2 > corner.size) for corner in corners)


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


@dataclass(frozen=True)
class Box:
    """A rectangle of a photo, in its pixels, wholly inside it."""

    left: int
    top: int
    width: int
    height: int

    def cut(self, rgb: np.ndarray) -> np.ndarray:
        return rgb[self.top : self.top + self.height, self.left : self.left + self.width]


def lesion_square(shape: tuple[int, ...], lesion: LesionSegmentation) -> Box | None:
    """The square the ``lesion_box`` crop shows the model; ``None`` when no lesion was found.

    Dermatoscopes differ in magnification and field: one frames a naevus filling the photo, another
    the same naevus in a sixth of it, with the rim, a ruler or stickers around it. A square centred
    on the lesion's bounding box, ``_LESION_MARGIN`` times its longer side, shows every lesion at
    about one scale with its border and the skin around it. ``lesion`` is the device's segmentation
    (at its working size, ``frame_analysis``), scaled here to a photo of ``shape``; the square is
    shifted, never padded, to lie inside the photo.
    """
    x, y, box_width, box_height = cv2.boundingRect(lesion.mask.astype(np.uint8))
    if box_width == 0:
        return None
    height, width = shape[:2]
    scale_y, scale_x = height / lesion.mask.shape[0], width / lesion.mask.shape[1]
    top, bottom = y * scale_y, (y + box_height) * scale_y
    left, right = x * scale_x, (x + box_width) * scale_x
    shorter = min(height, width)
    wanted = _LESION_MARGIN * max(bottom - top, right - left)
    side = round(min(max(wanted, _LESION_SQUARE_FLOOR * shorter), shorter))
    x0 = min(max(round((left + right - side) / 2), 0), width - side)
    y0 = min(max(round((top + bottom - side) / 2), 0), height - side)
    return Box(x0, y0, side, side)


def lit_box(shape: tuple[int, ...], lesion: LesionSegmentation) -> Box | None:
    """The box the ``lit_field`` crop shows the model: around what the dermatoscope lit
    (``LesionSegmentation.field``), ``None`` when nothing was lit.

    Dermatoscopes frame the skin differently: one fills the photo with it, another leaves a black
    border, black bars (a 4:3 sensor in a 16:9 frame) or the dark ring of its contact plate around
    it. Cut to the lit field's bounding box, a bordered or pillarboxed photo gives the model the
    view of the photo without them. ``lesion.field`` is at the segmentation's working size
    (``frame_analysis``), scaled here to a photo of ``shape`` outward, so no lit pixel is lost.
    """
    x, y, box_width, box_height = cv2.boundingRect(lesion.field.astype(np.uint8))
    if box_width == 0:
        return None
    height, width = shape[:2]
    scale_y, scale_x = height / lesion.field.shape[0], width / lesion.field.shape[1]
    left, top = int(np.floor(x * scale_x)), int(np.floor(y * scale_y))
    right = min(width, int(np.ceil((x + box_width) * scale_x)))
    bottom = min(height, int(np.ceil((y + box_height) * scale_y)))
    return Box(left, top, right - left, bottom - top)


def framed(
    rgb: np.ndarray,
    spec: InputSpec,
    field_of_view: FieldOfView | None = None,
    lesion: LesionSegmentation | None = None,
) -> np.ndarray:
    """The photo cropped as the card says and resized to the model's input size, colours untouched.
    ``field_of_view``: the fundus field when the pipeline already located it (``frame_analysis``),
    found here otherwise; the same ``find_field_of_view`` either way. ``lesion``: the frame's lesion
    segmentation (``frame_analysis``), whose lesion the ``lesion_box`` crop frames and whose lit
    field the ``lit_field`` crop does; without one, or with none found, the whole photo, as the gate
    refuses such a frame anyway."""
    if spec.crops_to_field:
        rgb = crop_to_field_of_view(rgb, field_of_view or find_field_of_view(rgb))
    elif spec.reads_segmentation and lesion is not None:
        box = lesion_square(rgb.shape, lesion) if spec.crops_to_lesion else lit_box(rgb.shape, lesion)
        rgb = rgb if box is None else box.cut(rgb)
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


def background_subtracted(rgb: np.ndarray) -> np.ndarray:
    """Each channel's local contrast against the field's own background (Graham's view, relative).

    What differs between fundus cameras is mostly smooth: the light's colour, the exposure and the
    vignetting, all multiplicative; lesions and vessels are small. Dividing each pixel by the field's
    own mean around it (a Gaussian of a thirtieth of the side, the scale of Graham's Kaggle 2015
    diabetic retinopathy preprocessing) removes the first and keeps the second, where Graham's plain
    difference would still scale with the exposure. The mean is taken over the field alone, so the
    camera's black mask does not darken the rim's background into a bright ring; the mask, the
    field's soft edge and the outer 5% of its radius become ``BACKGROUND_LEVEL``, no contrast.
    ``rgb``: a framed fundus view, the field centred and filling the square (``framed``).
    """
    side = rgb.shape[0]
    # The field's rim, dark and scattered by the lens, is left out where the aperture's circle
    # bounds the field (the disc) and where a sensor's edge or a squashed field does (the erosion).
    rim = max(1, round((1 - _FIELD_KEPT) * side / 2))
    lit = cv2.erode(fundus_field_mask(rgb), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rim + 1, 2 * rim + 1)))
    inside = cv2.bitwise_and(lit, _kept_disc(side))
    # The field's pixels and their weight blurred together, on a copy reduced by
    # _BACKGROUND_REDUCTION: a background this smooth loses nothing there, at a tenth of the cost.
    weighted = cv2.merge([*cv2.split(cv2.bitwise_and(rgb, rgb, mask=inside)), inside]).astype(np.float32)
    small_side = max(1, side // _BACKGROUND_REDUCTION)
    small = cv2.resize(weighted, (small_side, small_side), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), small_side / _BACKGROUND_SCALE)
    blurred = cv2.resize(blurred, (side, side), interpolation=cv2.INTER_LINEAR)
    background = blurred[..., :3] / np.maximum(blurred[..., 3:], 1e-6)
    # 128 + gain * (v - m) / max(m, floor), rounded and saturated to 8 bits
    view = rgb.astype(np.float32)
    view -= background
    view *= _CONTRAST_GAIN / np.maximum(background, _FOV_MIN_LEVEL)
    view += BACKGROUND_LEVEL + 0.5
    out = np.full_like(rgb, BACKGROUND_LEVEL)
    return cv2.copyTo(np.clip(view, 0, 255, out=view).astype(np.uint8), inside, out)


@functools.cache
def _kept_disc(side: int) -> np.ndarray:
    """The 0/1 uint8 disc within _FIELD_KEPT of a framed view's radius (one per view size)."""
    centre = (side - 1) / 2
    ys, xs = np.ogrid[:side, :side]
    return ((xs - centre) ** 2 + (ys - centre) ** 2 <= (_FIELD_KEPT * side / 2) ** 2).astype(np.uint8)


def colour_constant(rgb: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Apply the card's colour constancy (if any) to an RGB image already at the model's size."""
    if spec.colour_constancy == "shades_of_gray_p6":
        return shades_of_gray(rgb)
    if spec.colour_constancy == "background_subtracted":
        return background_subtracted(rgb)
    return rgb


def model_view(
    rgb: np.ndarray,
    spec: InputSpec,
    field_of_view: FieldOfView | None = None,
    lesion: LesionSegmentation | None = None,
) -> np.ndarray:
    """The uint8 image, in the card's colour order and size, that the model is shown.

    ``rgb`` is an 8-bit, 3-channel photo in R,G,B order (as ``capture`` delivers every frame). The
    build composes ``framed`` and ``colour_constant`` the same way, with augmentation in between.
    """
    view = colour_constant(framed(rgb, spec, field_of_view, lesion), spec)
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
