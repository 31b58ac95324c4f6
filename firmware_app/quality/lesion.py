"""Find the skin lesion in a dermoscopy photo: a reusable segmentation.

The quality gate uses it to judge focus, hair and framing on the lesion itself; other stages can use
it too (the lesion's size in millimetres from a calibrated scale, the skin tone in a ring around
it). It works on a copy at most ``WORK_SIZE`` pixels wide, which is plenty for a shape, and returns
its mask at the size of the photo it was given.

How: the dermatoscope's dark surround is set aside; thin dark hairs are closed away; the skin's
colour is taken from the edge of the field (a lesion is photographed in the middle), from the
lighter part of that edge when a lesion filling the field covers much of it; every pixel's
difference from that skin colour in CIELAB (where a distance is a perceived colour difference,
whatever the skin tone) is thresholded with Otsu's method; of the connected regions, the largest,
most central and most compact is the lesion (a ruler's ink, a tuft of hair or the rim's shaded
crescent is none of these), grown to its full extent, its holes filled. A region still chosen off the
middle is looked past (and the next, up to three): a region wholly inside, near the middle and
large enough to judge is what the dermatoscope was aimed at (marker ink ringing the lesion or a
sticker at the edge outshines a smaller lesion in the middle). Once the lesion is found, its
contrast with the skin is read again with the light's fall-off read on the skin alone
(``_contrast``): a lesion running off one side of the frame is no dent in the light.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from firmware_app.colour import srgb8_to_lab_planes
from firmware_app.quality.measures import (
    brightest_channel,
    connected_regions,
    illumination_map,
    level_percentile,
    middle_value,
    touching_border,
    value_percentile,
)
from firmware_app.quality.resample import mask_at_size, shrink

WORK_SIZE = 256
# The dermatoscope's own dark surround (vignetted corners, a black ring) is darker than any skin:
# below this level, or below this fraction of the photo's median level.
_SURROUND_LEVEL = 40
_SURROUND_RELATIVE = 0.4
# Less than this share of the photo lit (a cap left on, the light off, the dermatoscope lifted off
# the skin in a dark room): no lesion is looked for, and the gate asks for light.
MIN_LIT_SHARE = 0.2
# A hair is 1-3 pixels wide at the working size: a closing this wide removes it, not the lesion.
_HAIR_CLOSING = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
_EDGE_BAND = 0.08
_SHADING_SIGMA = 0.25  # of the long side
# The colour difference is blurred this much (pixels at the working size): specks of skin texture
# are no lesion.
_DIFFERENCE_BLUR = 1.5
# Once the lesion is found, the fall-off is read again on the skin alone (``_contrast``) when at
# least this share of the field is skin clear of the lesion's fringe.
_SHADING_MIN_SKIN = 0.1
# The lesion is what the dermatoscope was aimed at: a region with its centre further than this from
# the frame's (in frame widths and heights, as ``_relative_distance``) gives way to one the field
# holds without it, wholly inside, centred within it and covering at least this share of the frame
# (the gate judges a lesion from 0.8%): marker ink ringing the lesion, a hair tuft, a sticker, fluid
# or the rim's shading at the edge outshine a smaller lesion in the middle.
_AIMED_AT = 0.2
_AIMED_AT_MIN_AREA = 0.01
# A colour-calibration sticker: tinted this far from the skin (CIELAB a*b*), and tinted this many
# times more than it is darker (a lesion's pigment darkens the skin; a sticker's print tints it).
_STICKER_TINT = 30.0
_STICKER_TINT_OVER_DARKENING = 2.0
_STICKER_GREENER = 8.0  # CIELAB a* below the skin's: greener than any skin lesion
_MOST_STICKERS = 3  # set aside in one photo
_MOST_MARKS = 3  # looked past in one photo (``_aimed_at``)
# The rim's fall-off (``_rim_fall_off``): rings around the field's centre, in which the skin is the
# brightest part, corrected beyond this radius (1 at the middle of the frame's edges).
_RIM_RINGS = 12
_RIM_GRID = 64  # pixels on the long side of the grid the fall-off is measured on
_RIM_SKIN_PERCENTILE = 90
_RIM_FROM = 0.6
# A colour difference (CIELAB Delta E, darkness weighted) that anyone sees at a glance.
_MIN_DIFFERENCE = 12.0
# Darkness counts twice: pigment darkens skin more than it changes its hue.
_LIGHTNESS_WEIGHT = 2.0
# The edge band is all skin unless a lesion covers at least this share of it (``_skin_reference``),
# its colour at least this many times as saturated (CIELAB chroma) as the rest of the band's:
# pigment and blood deepen the skin's colour, where light falling off across the field dims it.
_REFERENCE_LESION_SHARE = 0.35
_PIGMENT_CHROMA = 1.1


@dataclass(frozen=True)
class LesionSegmentation:
    """The lesion in a photo. ``mask`` and ``field`` have the photo's height and width.

    ``field`` is what the dermatoscope lit (the photo minus its dark surround), less the marks and
    stickers set aside as no part of the skin; ``contrast`` is the lesion's median colour
    difference from the skin around it (CIELAB Delta E, tens for a naevus, under about 5 when
    nothing stands out); ``mask`` is empty when no lesion was found. ``lit`` is whether the photo
    was lit enough to look for a lesion at all (``lit_enough``), judged before anything was set
    aside: marks, or a heavy compression's blocks read as marks, are not a want of light.
    ``plain_skin`` is what is plainly skin: the lit pixels whose colour, the light's fall-off set
    aside, differs from the skin's by less than a plainly visible difference (``_MIN_DIFFERENCE``),
    so that a lesion's paler fringe its outline left out, or a dense hair, is not; ``None`` when
    the photo was not lit enough to tell.
    """

    mask: np.ndarray
    field: np.ndarray
    contrast: float
    lit: bool = True
    plain_skin: np.ndarray | None = None

    @property
    def found(self) -> bool:
        return bool(self.mask.any())

    @property
    def area_fraction(self) -> float:
        return np.count_nonzero(self.mask) / self.mask.size

    def at_size(self, shape: tuple[int, ...]) -> LesionSegmentation:
        """The same segmentation with its masks resampled to a photo of ``shape``."""
        plain_skin = None if self.plain_skin is None else mask_at_size(self.plain_skin, shape)
        return LesionSegmentation(
            mask_at_size(self.mask, shape), mask_at_size(self.field, shape), self.contrast, self.lit, plain_skin
        )


def lit_field(rgb: np.ndarray) -> np.ndarray:
    """The part of the photo the dermatoscope lit: everything but the dark surround that touches
    the photo's border (a dark lesion in the middle is kept)."""
    brightest = brightest_channel(rgb)
    level = max(_SURROUND_LEVEL, _SURROUND_RELATIVE * level_percentile(brightest, 50))
    return ~touching_border(brightest < level, connectivity=4)


def lit_enough(field: np.ndarray) -> bool:
    """Whether the dermatoscope lit enough of the photo (``MIN_LIT_SHARE``) for a lesion to be
    looked for in it at all."""
    return np.count_nonzero(field) >= MIN_LIT_SHARE * field.size


def _edge_band(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    band = np.ones(shape, bool)
    margin_y, margin_x = max(1, round(height * _EDGE_BAND)), max(1, round(width * _EDGE_BAND))
    band[margin_y:-margin_y, margin_x:-margin_x] = False
    return band


def _rim_fall_off(lightness: np.ndarray, field: np.ndarray) -> np.ndarray:
    """How much darker the dermatoscope leaves its rim than the middle of its field, at each pixel.

    Vignetting darkens the corners more steeply than the shading correction's wide blur follows,
    and a darkened corner would pass for a faint lesion cut by the frame. Per ring around the
    field's centre, the ring's bright skin (its ``_RIM_SKIN_PERCENTILE``) is compared with the
    brightest inner ring's; only the outer rings are corrected, and a lesion would have to fill a
    whole ring to be taken for its fall-off (one that does overflows the frame anyway)."""
    height, width = lightness.shape
    step = max(1, max(height, width) // _RIM_GRID)
    sampled, sampled_field = lightness[::step, ::step], field[::step, ::step]
    rows, cols = np.nonzero(sampled_field)
    if rows.size == 0:  # a field with no pixel on the grid: too sparse to show a fall-off
        return np.zeros_like(lightness)
    y, x = np.ogrid[0 : sampled.shape[0], 0 : sampled.shape[1]]
    half_height, half_width = sampled.shape[0] / 2, sampled.shape[1] / 2
    radius = np.hypot((y - rows.mean()) / half_height, (x - cols.mean()) / half_width)
    ring = np.minimum((radius * _RIM_RINGS / np.sqrt(2)).astype(np.int32), _RIM_RINGS - 1)
    # Each ring's percentile at once: the levels offset by their ring (lightness is under 256),
    # put in order only at each ring's rank (a partition, a third of a whole sort's cost), read off.
    rings = ring[sampled_field]
    keys = rings * 256.0 + sampled[sampled_field]
    counts = np.bincount(rings, minlength=_RIM_RINGS)
    ranks = np.cumsum(counts) - counts + ((counts - 1) * _RIM_SKIN_PERCENTILE / 100).astype(np.int64)
    ranks = np.minimum(ranks, keys.size - 1)
    levels = np.partition(keys, ranks)[ranks] - np.arange(_RIM_RINGS) * 256.0
    bright = np.where(counts >= 8, levels, np.nan)
    inner = (np.arange(_RIM_RINGS) + 0.5) * np.sqrt(2) / _RIM_RINGS <= _RIM_FROM
    if np.all(np.isnan(bright[inner])):
        return np.zeros_like(lightness)
    drop = np.where(inner | np.isnan(bright), 0.0, np.maximum(np.nanmax(bright[inner]) - bright, 0.0))
    return cv2.resize(drop.astype(np.float32)[ring], (width, height), interpolation=cv2.INTER_LINEAR)


def _median(plane: np.ndarray, mask: np.ndarray) -> float:
    """The median of ``plane`` over ``mask``, read on every other pixel of every other row: a
    region's median colour is all but the same on a quarter of its pixels, at a quarter of the cost."""
    return float(_median_colour([plane], mask)[0])


def _median_colour(planes: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """A region's median colour, one value per plane (``_median``): L*, a*, b* or their differences.
    The mask is sampled once for all the planes."""
    sampled = mask[::2, ::2]
    if not sampled.any():
        return np.array([middle_value(plane[mask]) for plane in planes])
    return np.array([middle_value(plane[::2, ::2][sampled]) for plane in planes])


def _skin_reference(planes: list[np.ndarray], band: np.ndarray) -> np.ndarray:
    """The skin's median colour (``_median_colour`` of ``planes``: L*, a*, b*) in the field's edge
    ``band``: all of it, or its lighter part when a lesion fills much of the band, as one filling
    the field does; else the band's median colour would be the lesion's own, and only its darkest
    fragment would differ from that "skin". The band's lightness is split in two by Otsu's method;
    the darker part is such a lesion when it covers ``_REFERENCE_LESION_SHARE`` of the band or
    more, is darker by a plainly visible difference and is coloured as pigment is against the
    lighter part: more saturated (``_PIGMENT_CHROMA``), and not a sticker's colour (a pale sticker
    in the band leaves the skin as the darker part, tinted far more than darkened against it)."""
    lightness = np.clip(planes[0] * 2.55, 0, 255).astype(np.uint8)
    cut, _ = cv2.threshold(lightness[band], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    darker = band & (lightness <= cut)
    lighter = band & ~darker
    if not lighter.any() or np.count_nonzero(darker) < _REFERENCE_LESION_SHARE * np.count_nonzero(band):
        return _median_colour(planes, band)
    # The lighter part's colour, taken here to judge the darker part, is the skin's when it is
    # chosen: it is not taken again.
    skin = _median_colour(planes, lighter)
    difference = _median_colour(planes, darker) - skin
    darker_by = -difference[0] * _LIGHTNESS_WEIGHT
    deeper = np.hypot(*(skin[1:] + difference[1:])) >= _PIGMENT_CHROMA * np.hypot(*skin[1:])
    chosen = darker_by >= _MIN_DIFFERENCE and deeper and not _sticker_coloured(difference)
    return skin if chosen else _median_colour(planes, band)


def _closed_lab(small: np.ndarray) -> list[np.ndarray]:
    """The photo's CIELAB planes (L*, a*, b*) with hairs closed away: numpy works on whole planes
    several times faster than on one channel of interleaved pixels."""
    return list(srgb8_to_lab_planes(cv2.morphologyEx(small, cv2.MORPH_CLOSE, _HAIR_CLOSING)))


def _skin_difference(
    lab: list[np.ndarray],
    field: np.ndarray,
    shaded_by: np.ndarray,
    blur: float = _DIFFERENCE_BLUR,
    fall_off: np.ndarray | None = None,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Each pixel's colour difference from the skin (CIELAB, darkness weighted), blurred a little
    (small specks of skin texture are no lesion), its CIELAB difference itself, one plane each
    (L*, a*, b*), and the rim's fall-off it corrected (``_rim_fall_off``: read on the ``field``
    unless ``fall_off`` gives it already). ``lab``: ``_closed_lab``; ``shaded_by``: the part of the
    ``field`` the light's fall-off is read on (the whole field while the lesion is unknown, the
    skin alone once it is, ``_contrast``)."""
    lightness, a, b = lab
    # Shading correction: light falling off across the field must not pass for pigment. The shading
    # is the lightness blurred far wider than a lesion; a lesion of a few percent of the field
    # barely dents it, a large one does (``_contrast``).
    coarse, _ = illumination_map(lightness, shaded_by, _SHADING_SIGMA * max(field.shape))
    shading = cv2.resize(coarse, (field.shape[1], field.shape[0]), interpolation=cv2.INTER_LINEAR)
    fall_off = _rim_fall_off(lightness, field) if fall_off is None else fall_off
    lightness = lightness - shading + _median(shading, field) + fall_off
    band = _edge_band(field.shape) & field
    planes = [lightness, a, b]
    skin = _skin_reference(planes, band if np.count_nonzero(band) > 0.05 * np.count_nonzero(field) else field)
    # Each median as a Python float: a float32 plane less a numpy float64 would be float64.
    difference = [plane - float(median) for plane, median in zip(planes, skin, strict=True)]
    darker = np.maximum(-difference[0], 0.0) * _LIGHTNESS_WEIGHT
    blurred = cv2.GaussianBlur(np.sqrt(darker**2 + difference[1] ** 2 + difference[2] ** 2), (0, 0), blur)
    return blurred, difference, fall_off


def _contrast(
    lab: list[np.ndarray],
    lesion: np.ndarray,
    skin: np.ndarray,
    difference: np.ndarray,
    fall_off: np.ndarray | None = None,
) -> float:
    """The lesion's median colour difference from the ``skin`` (``LesionSegmentation.contrast``),
    read again with the light's fall-off read on the skin alone; ``difference``: the first reading
    (``_skin_difference`` on the whole lit field), and the skin and the lesion are what is left of
    that field once marks and stickers were set aside. Read on the whole field, as it must be
    while the lesion is still looked for, a large lesion is a dent in the light: a lesion running
    off one side of the frame darkens the fall-off there and comes out paler than it is (a quarter
    less distinct for a rendered naevus), too faint for its framing to be judged. With under
    ``_SHADING_MIN_SKIN`` of the field left as skin, the fall-off read on so little is no better
    than the dent (a thin strip of it read a lesion filling the field as no lesion at all), and
    the first reading stands.

    Read again on every other pixel of every other row, as ``_median`` reads a region, the blur
    halved to cover as much skin: the fall-off is smooth, and a region's median colour is all but
    the same on a quarter of its pixels, at a quarter of the cost (a second reading at full size
    cost a screen about 1 ms, ``bench/gate_parts.py --modality dermoscopy``).

    ``fall_off``: the rim's fall-off of the first reading (``_rim_fall_off``), read on that same
    field when no mark was set aside from it: the dermatoscope's vignetting, which the lesion does
    not change, taken on every other pixel instead of read again (a fifth of the second reading's
    cost). Where marks were set aside the field is another, and it is read again on it."""
    field = lesion | skin
    around = skin & ~cv2.dilate(lesion.astype(np.uint8), _HAIR_CLOSING).astype(bool)
    sampled = (slice(None, None, 2), slice(None, None, 2))
    lesion_sampled, skin_sampled = lesion[sampled], skin[sampled]
    if (
        np.count_nonzero(around) < _SHADING_MIN_SKIN * np.count_nonzero(field)
        or not lesion_sampled.any()
        or not skin_sampled.any()
    ):
        return _median(difference, lesion) - _median(difference, skin)
    planes = [plane[sampled] for plane in lab]
    rim = None if fall_off is None else fall_off[sampled]
    again, _, _ = _skin_difference(planes, field[sampled], around[sampled], _DIFFERENCE_BLUR / 2, rim)
    return middle_value(again[lesion_sampled]) - middle_value(again[skin_sampled])


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled > 0


def centroid_offset(region: np.ndarray) -> np.ndarray:
    """The vector (x, y) from the frame's centre to a (non-empty) region's centroid, in pixels."""
    moments = cv2.moments(region.astype(np.uint8), binaryImage=True)
    height, width = region.shape
    return np.array([moments["m10"] / moments["m00"] - width / 2, moments["m01"] / moments["m00"] - height / 2])


def _relative_distance(offsets: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The length of vectors (x, y) from the frame's centre (the last axis), in frame widths and
    heights: how far from the middle a region lies, whatever the frame's aspect."""
    height, width = shape[:2]
    return np.hypot(offsets[..., 0] / width, offsets[..., 1] / height)


def _region_offset(region: np.ndarray) -> float:
    """How far a (non-empty) region's centroid lies from the frame's centre (``_relative_distance``)."""
    return float(_relative_distance(centroid_offset(region), region.shape))


def _most_central_large_region(candidate: np.ndarray) -> np.ndarray:
    """The connected region with the largest area weighted by closeness to the centre and by how
    compact it is (the square root of its share of the disc across its box: 1 for a round lesion,
    0.7 for one half cut off by the frame, a fraction for a line of ink or a crescent at the rim)."""
    count, labels, stats, centroids = connected_regions(candidate)
    if count <= 1:
        return np.zeros(candidate.shape, bool)
    height, width = candidate.shape
    offsets = _relative_distance(centroids[1:] - (width / 2, height / 2), candidate.shape)
    area = stats[1:, cv2.CC_STAT_AREA]
    extent = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    compact = np.sqrt(np.clip(area / (np.pi / 4 * extent**2), 0.0, 1.0))
    scores = area * np.clip(1.0 - offsets, 0.05, 1.0) * compact
    return labels == 1 + int(np.argmax(scores))


def _threshold_and_choose(difference: np.ndarray, field: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """What differs from the skin by more than Otsu's level (judged on ``inner``): its most central
    large region, chosen away from the rim, grown back to its full extent in ``field`` (a lesion
    may run off the frame), holes filled."""
    top = max(_MIN_DIFFERENCE, value_percentile(difference[inner], 99))
    scaled = np.clip(difference * (255.0 / top), 0, 255).astype(np.uint8)
    level, _ = cv2.threshold(scaled[inner], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Otsu splits skin texture when the lesion is small: never below a plainly visible difference.
    level = max(level * top / 255.0, _MIN_DIFFERENCE)
    opening = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    candidate = cv2.morphologyEx(((difference > level) & field).astype(np.uint8), cv2.MORPH_OPEN, opening)
    core = _most_central_large_region((candidate > 0) & inner)
    if not core.any():
        return core
    # The candidate region the core lies in, flooded from one of its pixels (8-connected): the
    # same region a labelling of every candidate region picks out, for the cost of this one.
    row, col = np.unravel_index(np.argmax(core), core.shape)
    cv2.floodFill(candidate, None, (int(col), int(row)), 2, flags=8)
    return _fill_holes(candidate == 2) & field


def runs_to_edge(region: np.ndarray, field: np.ndarray) -> bool:
    """Whether ``region`` reaches the edge of the lit ``field`` or of the photo: part of it may lie
    beyond what the photo shows."""
    kernel = np.ones((3, 3), np.uint8)
    core = cv2.erode(field.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    return bool((region & ~core).any())


def _sticker_coloured(difference: np.ndarray) -> bool:
    """Whether a region's colour (its median CIELAB difference from the skin: L*, a*, b*) is a
    printed sticker's: tinted far more than it is darker than the skin, where pigment darkens skin
    more than it tints it, and either strongly tinted (``_STICKER_TINT``) or greener than the skin
    (``_STICKER_GREENER``: a pale cyan or green sticker), which no pigment or blood makes skin."""
    lightness, a, b = (float(value) for value in difference)
    tint = np.hypot(a, b)
    if tint <= _STICKER_TINT_OVER_DARKENING * max(0.0, -lightness):
        return False
    return bool(tint > _STICKER_TINT or (a < -_STICKER_GREENER and tint > _MIN_DIFFERENCE))


def _chosen_without(
    region: np.ndarray, field: np.ndarray, inner: np.ndarray, difference: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``region`` and its fringe set aside from the lit ``field`` and its ``inner`` part (no part of
    the lit skin), and the region chosen again without them (``_threshold_and_choose``; empty when
    nothing of the inner part is left): the new choice, field and inner part."""
    field = field & ~cv2.dilate(region.astype(np.uint8), _HAIR_CLOSING).astype(bool)
    inner = inner & field
    chosen = _threshold_and_choose(difference, field, inner) if inner.any() else np.zeros_like(field)
    return chosen, field, inner


def _aimed_at(
    lesion: np.ndarray, field: np.ndarray, inner: np.ndarray, difference: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The lesion and the field, looked past off-centre regions (``_AIMED_AT``; up to
    ``_MOST_MARKS`` of them, one after the other, at the field's edge or not): when the field
    without them holds a region wholly inside, near the middle and large enough to judge, that is
    what the dermatoscope was aimed at, and the regions set aside are no part of the lit skin (as a
    sticker is not). Otherwise the first region stays the lesion: a lesion running off the frame,
    or pushed against its edge, is what the gate must see to ask for a retake."""
    mark, without = lesion, field
    for _ in range(_MOST_MARKS):
        if not (mark.any() and _region_offset(mark) > _AIMED_AT):
            break
        mark, without, inner = _chosen_without(mark, without, inner, difference)
        if (
            np.count_nonzero(mark) >= _AIMED_AT_MIN_AREA * mark.size
            and not runs_to_edge(mark, without)
            and _region_offset(mark) <= _AIMED_AT
        ):
            return mark, without
    return lesion, field


def segment_lesion(rgb: np.ndarray) -> LesionSegmentation:
    """Segment the lesion of an 8-bit RGB dermoscopy photo (see the module's docstring)."""
    return segment_working_copy(shrink(rgb, WORK_SIZE)).at_size(rgb.shape)


def segment_working_copy(small: np.ndarray) -> LesionSegmentation:
    """Segment the lesion of a photo already at most ``WORK_SIZE`` wide; the masks have its size.
    The pipeline segments its frame's working copy once, through this (``frame_analysis``)."""
    field = lit_field(small)
    if not lit_enough(field):
        return LesionSegmentation(np.zeros(small.shape[:2], bool), field, 0.0, lit=False)
    lab = _closed_lab(small)
    lit = field
    difference, lab_difference, fall_off = _skin_difference(lab, field, field)
    # The field's own rim is shaded by the dermatoscope; judge the threshold away from it.
    rim = max(3, round(_EDGE_BAND / 2 * max(field.shape))) | 1
    inner = cv2.erode(field.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (rim, rim))) > 0
    inner = inner if inner.any() else field
    lesion = _threshold_and_choose(difference, field, inner)
    # A colour-calibration sticker at the edge outshines a paler lesion in the middle: it is no
    # part of the lit skin, and the lesion is looked for again without it (and the next one).
    for _ in range(_MOST_STICKERS):
        if not (lesion.any() and runs_to_edge(lesion, field)):
            break
        if not _sticker_coloured(_median_colour(lab_difference, lesion)):
            break
        lesion, field, inner = _chosen_without(lesion, field, inner, difference)
    lesion, field = _aimed_at(lesion, field, inner, difference)
    skin = field & ~lesion
    # The first reading's fall-off holds for the field it was read on, none set aside from it.
    fall_off = fall_off if field is lit else None
    contrast = _contrast(lab, lesion, skin, difference, fall_off) if lesion.any() and skin.any() else 0.0
    return LesionSegmentation(lesion, field, contrast, plain_skin=(difference < _MIN_DIFFERENCE) & field)
