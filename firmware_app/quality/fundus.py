"""The fundus gate: is the retina in this photo gradable, and if not, what should the nurse fix?

Everything is measured inside the circular field of view only, on the field resampled to a square
of ``size`` pixels (or up to ``resample.SLACK`` fewer; ``[quality.fundus] field_size``, 256, for
both checks), so a 45-degree field is judged the same way whatever the sensor; focus and noise are
judged at a finer scale (``_detail``). The measures (all in ``QualityReport.measures``):

- ``field_coverage``: how far the frame reaches along the field's horizontal meridian band (where
  the disc and the macula lie) on its more cut side, in field radii (1 whole). A field cut at top
  and bottom by the camera's mask is normal and keeps it at 1; a frame cut on both sides alike (a
  field wider than the sensor) keeps the disc and macula down to about 0.6.
- ``field_span``: the located field's diameter over the frame's shorter side. A fundus camera images
  its field to fill the sensor's short side (the 4,262 graded photos of both sources: 0.90 to 1.41
  of it, median 1.14); a lit field much smaller than that is light reaching only the middle of the
  field (a pupil too small for the camera, the camera too far from it): the periphery is missing,
  and in a macula-centred photo the disc with it. Its outline may be as sharp as the camera's own aperture,
  so nothing but its size tells it apart, and the model scores the middle of a retina, enlarged,
  as a whole one (referable eyes came out no_refer).
- ``lit_corners``: how many of the frame's four corners the field lights (``preprocess.lit_corners``).
  A fundus camera's round aperture leaves them dark whatever the frame's shape (a field pushed
  against one side lights that side's two); a photo lit into three or more was not taken through it
  (skin on a visit set to eyes, a face) and shows no retina.
- ``field_offset``: how much more one side of the field is cut than the other: along the horizontal
  meridian band, by the frame's edge or left dark (the camera was off the pupil, and the disc, out
  to about 0.85 field radii, is cut off or unlit on that side); along the vertical one, left dark
  inside the frame (a drooping lid, a camera off the pupil's axis leaving the lower or upper half
  unlit). A field cut or masked alike on both sides (a camera's mask at top and bottom, a field
  squashed to an ellipse) is the camera's own; one side dark is a defect: measured in its lit part
  only, such a field read as good, and the model scored half a retina.
- ``sharpness`` (green channel, where vessels contrast most): are the vessels sharp? The weaker of
  rows and columns (``measures.directional_sharpness``, ``measures.focus_across_rows_and_columns``),
  read with the sensor's noise smoothed away (``measures.without_noise``): noise reads as detail. The
  noise is read on the photo at its own size (``measures.sensor_noise``), where it stands above the
  retina's own detail, unlike at the measured size (``noise``).
- ``sharpness_balance``: the weakest direction's sharpness over the strongest's. Vessels run every
  way, so a retina is about as sharp along every direction (0.9 or more); a hand that moved smears
  the detail along its path only, which a slanted path hides from an overall sharpness.
- ``sharpness_off_glare``, ``sharpness_balance_off_glare``: the same two read away from the
  field's reflections (``glare_fraction``'s) and their glow, the same as they where there are none.
  A reflection's glow is a smooth ramp from the retina to white, its steps far larger than a
  vessel's, and focus reads it as blur however sharp the retina beside it is; a defocus blurs the
  retina away from it too. They limit nothing themselves: they name the reason (``gate``).
- ``brightness``, ``dark_fraction``, ``bright_fraction``: exposure of the field. Too much light is
  judged by what it burns out, never by the mean level: a blond fundus is bright, not clipped, and
  a mild overexposure is no brighter than one. ``bright_fraction`` is the share of the field burnt
  out in its brightest channel, the red: over half the field, the light is too much whatever else
  the photo shows.
- ``overexposure``: ``bright_fraction`` when the field's brightest part (the optic disc) is burnt
  out in green as well, 0 when it is not. Too much light raises every channel and burns out the
  disc in green as it burns out the red; a warmer white balance raises red against green and burns
  out red alone, leaving green, where graders read the retina, as the camera's own photo had it.
  The disc is unpigmented, so a pigmented fundus is neither favoured nor penalised.
- ``bright_fraction_off_glare``, ``overexposure_off_glare``: the same two read away from the
  field's reflections and their glow, as focus is, the same as they where there are none. A
  reflection is a white spot burnt out in every channel, green too: on a retina whose red is near
  the top it adds its own burnt-out share and passes for a disc burnt out in green (the bundled
  retina with eight of them read past ``max_overexposure``); too much light burns out the field
  away from them as well. They limit nothing themselves: they name the reason (``gate``).
- ``highlights``: the level the field's brightest thousandth of pixels reaches in their brightest
  channel, 0 to 1. Too little light is judged by it beside ``brightness``: the disc is unpigmented
  and the fundus's red stays bright whatever its pigment, so a well exposed retina, dark or light,
  reaches well up the sensor's range there (0.99 on a typical graded photo, a third of the way up
  on another camera's dimmest graded captures), while an underexposure scales every level down, the
  brightest with the rest. A pigmented fundus lowers the mean level (``brightness``), not its
  highlights.
- ``unevenness``: how much darker the darkest half of the field is than the brightest.
- ``light_gradient``: light falling steadily across the field, from one side through the middle to
  the other (a camera off the pupil's axis): the smaller natural-log step between three bands
  across the field (``light_gradient``). The halves of ``unevenness`` differ on most retinas by
  anatomy (the disc's side is brighter, the macula darker); bands read off the disc and the macula
  do not.
- ``disc_side_shade``: how much darker the side of those bands the optic disc lies on is than the
  other side. A retina is brighter on its disc's side, so light falling towards the disc runs
  against the anatomy, and the anatomy hides it from ``light_gradient``; it also darkens the disc,
  which ``highlights`` reads. It limits nothing by itself (graded photos show some shade too): a
  field too dark only by it is named ``uneven_illumination``, not ``too_dark``
  (``_dark_only_on_the_disc_side``).
- ``glare_fraction``: colourless specular reflections in the field, the optic disc set aside (on a
  pale fundus it burns out to a colourless white as bright above the retina as a reflection).
- ``edge_shadow``: fraction of the field's rim much darker than its centre: eyelashes, a drooping
  lid or a pupil too small, all of which shade the edge first. Its limit is declared (half the
  rim), not fitted: a camera whose rims are lit on nearly every photo would otherwise set it at
  its own vignetting and refuse another camera's darker fundi.
- ``noise``: sensor noise. ``blockiness`` and ``flat_blocks``: JPEG compression, judged by what it
  hides: visible block borders alone are harmless (a UVC camera's MJPEG stream has them), blocks
  flattened to no detail at all are not (``measures.flat_block_fraction``).
- ``contrast``: strength of the vessel pattern, with the field 192 pixels across whatever the
  sensor; a haze (dirty lens, cataract) lowers it.
- ``disc_contrast``: how far the brightest disc-sized spot stands above the field; the optic disc
  is the brightest large structure of a retina, so a low value means it was not found. Where the
  disc lies is the disc-sized spot that stands out most from the retina around it (``_optic_disc``).
- ``macula_offset``: where the macula should be (2.5 disc diameters from the disc, towards the
  centre), in field radii from the centre; above about 0.9 it is out of the field: the patient was
  not looking at the fixation target.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import cv2
import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.config import FundusQualityConfig
from firmware_app.frame_analysis import FrameAnalysis, analyse, fundus_reduction
from firmware_app.inference.preprocess import (
    FieldOfView,
    FieldOfViewNotFound,
    crop_to_field_of_view,
    field_of_view_on,
    fundus_field_mask,
)
from firmware_app.quality import measures
from firmware_app.quality.resample import SLACK, halved_by, halving_factor, mask_at_size, reduction, shrink
from firmware_app.quality.verdict import QualityReport, Rule, judge, rejected

MODALITY = "fundus"
# The inner part of the field that is measured: the last few percent of the radius is the
# camera's aperture edge, a sharp step that is not retina.
_FIELD_RADIUS = 0.92
_CENTRE_RADIUS = 0.5
_RIM_FROM = 0.72
# An adult optic disc is about 1/7 of a 45-degree field's diameter, and the fovea lies about 2.5 disc
# diameters temporal to it.
_DISC_DIAMETER = 1.0 / 7.0
_DISC_TO_MACULA = 2.5 * _DISC_DIAMETER * 2.0  # in field radii
# The disc is looked for as a spot brighter than the retina this many disc sizes around it.
_DISC_SURROUND = 4.0
# Glare is not looked for within this many field radii of the disc's centre: three quarters of its
# diameter, the disc and its bright rim, wherever the disc-sized spot's centre falls in it.
_DISC_SET_ASIDE = 0.75 * _DISC_DIAMETER * 2.0
_SHADOW_LEVEL = 0.45
# A reflection's glow: the light it spreads onto the retina beyond its white core, a smooth ramp
# from the retina's level to white, read as reaching this share of the detail copy's side past the
# core (``_focus_off_glare``). Its steps are tens of levels, a vessel's a few, and a re-blur leaves
# a ramp as it is: focus, a ratio of the steps the re-blur takes away, weighs the ramps most and
# reads them as blur, however sharp the retina beside them. The bench's reflections
# (``tests/degradations.glare``: white spots 2.5% of the photo's long side in radius, their edge a
# Gaussian of a quarter of that) glow about 1.5% of the long side past the core; focus read off the
# glow levelled off from 1.5% to 3% of the side (dr-600 and APTOS, 30 photos each, 4 and 8 spots).
_GLARE_GLOW = 0.02
# The focus measures, each with its reading away from the reflections and their glow: beside glare,
# a fundus's ``blurred`` is the glow's unless focus read away from it is past a limit too (``gate``).
FOCUS_OFF_GLARE = {"sharpness": "sharpness_off_glare", "sharpness_balance": "sharpness_balance_off_glare"}
# The same for the light: beside glare, a fundus's ``too_bright`` is the reflections' unless the
# field's burnt-out share read away from them is past a limit too (``gate``).
EXPOSURE_OFF_GLARE = {"bright_fraction": "bright_fraction_off_glare", "overexposure": "overexposure_off_glare"}
# The camera's mask is black: below this share of the field's 95th percentile (brightest channel),
# and never above this level, a pixel is mask, not retina.
_MASK_RELATIVE, _MASK_LEVEL = 0.1, 20.0
# Haze is judged with the field this many pixels across, whatever the sensor: the contrast measure's
# blur is a few pixels wide, so on a field measured at its own small size (a 224-pixel photo) it would
# span more of the retina than on a large one, and read a higher contrast for the same retina.
_CONTRAST_SIDE = 192
# The disc and the macula lie on the field's horizontal meridian: a cut that leaves this band whole
# (the usual top-and-bottom mask of many cameras) removes neither.
_MERIDIAN_BAND = 0.45
# Uneven light is read in three bands across the field (the middle, within this many field radii
# of the centre, and the two sides beyond), on the field's parts at least this far off the axis
# the bands follow: the disc (a seventh of the field across) and the macula, the field's brightest
# and darkest structures, lie within 0.35 radii of the horizontal meridian, so the bands across
# the field from left to right miss them; from top to bottom the disc falls in the middle band,
# which it can only brighten, and a middle brighter than both sides is no gradient.
_GRADIENT_SIDE, _GRADIENT_OFF_AXIS = 0.3, 0.35
# The share of the field's pixels, from the top, whose level ``highlights`` reads: a thousandth is
# about 40 pixels of a 256-pixel field, a part of the disc (about a thousand), more than a few
# noisy pixels.
_HIGHLIGHT_PERCENTILE = 99.9
# Below this ``disc_contrast`` nothing in the field stands out at all (a wall, a grey card, the cap
# left on and sensor noise): no retina is in view, and that is the one thing to tell the nurse (every
# graded photo of both sources reads 0.083 or more; ``bench/generalisation.py --derive --limit 0``).
_NO_RETINA_BELOW = 0.02
# A field lighting this many of the frame's corners was not imaged through a fundus camera's round
# aperture (``preprocess.lit_corners``; a camera's field would have to overfill the frame's diagonal,
# and no graded photo of either source lights three: ``bench/generalisation.py --limit 0``). Three,
# not one or two: a field pushed against one side of the frame (the camera off the eye's axis,
# ``field_cut``) lights that side's two corners. A dermatoscope's photo screened on a visit set to
# eyes lights three or more in most photos of each dermoscopy source (``bench/wrong_modality.py``),
# and the retinopathy model never scores it.
_NO_APERTURE_CORNERS = 3
# The bands either side of a field's outline its step is read in (``_outline_step``), as a share of
# the frame's short side (5 pixels of a 256-pixel copy, past the outline's blur), and the level
# outside over inside under which the outline is a step (an aperture's edge), not a fade.
_OUTLINE_BAND, _OUTLINE_STEP = 0.02, 0.5
# Focus is a ratio of steps, whatever the light, but it leaves out steps of a couple of 8-bit levels
# as rounding (``measures.directional_sharpness``), and a frame's steps shrink with its light: it is
# read in the green, a retina's dimmest channel, and on a field whose highlights (read in the red)
# stay under a third of the sensor's range the vessels' steps are left at the rounding, and a sharp
# retina reads as blurred as a defocused one. Of 59 sharp dr-600 photos darkened by the bench to
# under it (levels times 0.25 and 0.12), 26 of 118 copies read blurred, and 3 of 59 above it (times
# 0.45); a defocus or a hand that moved read blurred on about all of them, darkened or not. So
# beside ``too_dark``, ``blurred`` is the light's under this level (``gate``): the nurse fixes the
# light first, and the next frame's focus is judged again. The declared floor of light itself
# (``min_highlights``): what a retina must show.
FOCUS_READ_FROM = 0.3
# Side of the copy uneven light is read on, and the closing that fills the vessels in it: light is a
# large-scale property, and a dark vessel or a haemorrhage is not a shadow.
_GRADIENT_COPY, _VESSEL_FILL = 128, np.ones((5, 5), np.uint8)
# The window the lit field's specks of noise are smoothed away in (``_median_above``): a 5x5 median's.
_SPECK_WINDOW = (5, 5)


def _radius_axis(size: int) -> np.ndarray:
    """Each row's (or column's) offset from the centre of a ``size`` square, in field radii."""
    return (np.arange(size, dtype=np.float32) + 0.5 - size / 2) / (size / 2)


@functools.lru_cache(maxsize=4)
def _radius_map(size: int) -> np.ndarray:
    """Distance of each pixel from the centre of a ``size`` square, in half-sides (field radii).
    One camera's frames come back at the same size or two (both checks measure at one): made once
    each, read-only."""
    axis = _radius_axis(size)
    radius = np.sqrt(axis[np.newaxis, :] ** 2 + axis[:, np.newaxis] ** 2)
    radius.flags.writeable = False
    return radius


@dataclass(frozen=True)
class _Zones:
    """The parts of a ``size`` square the measures read, by their distance from its centre in field
    radii (``radius``, ``_radius_map``): the ``circle`` measured, its horizontal meridian ``band``,
    the ``centre`` the rim's level is compared with and the ``rim`` shadows are looked for in."""

    radius: np.ndarray
    circle: np.ndarray
    band: np.ndarray
    centre: np.ndarray
    rim: np.ndarray


@functools.lru_cache(maxsize=4)
def _zones(size: int) -> _Zones:
    """The zones of a ``size`` square, the same for every frame measured at that size (``_radius_map``):
    made once each, read-only."""
    radius = _radius_map(size)
    circle = radius < _FIELD_RADIUS
    band = circle & (np.abs(_radius_axis(size))[:, np.newaxis] < _MERIDIAN_BAND)
    zones = _Zones(radius, circle, band, radius < _CENTRE_RADIUS, radius >= _RIM_FROM)
    for mask in (zones.circle, zones.band, zones.centre, zones.rim):
        mask.flags.writeable = False
    return zones


def _field(analysis: FrameAnalysis) -> tuple[np.ndarray, np.ndarray, FieldOfView, tuple[int, float]]:
    """The field of view resampled to a square of the working size at most (or up to
    ``resample.SLACK`` less), the mask of pixels the frame covered, the field in the photo's own
    pixel coordinates, and how the square was reduced from the photo (``resample.reduction``'s
    whole factor and ratio, the halvings counted in the factor).

    The square is cut from the analysis's working copy (the frame halved as often as its short side
    stays at the working size or more). A field smaller than the working size is measured at its
    own size, never enlarged: an enlarged field would look blurred.
    """
    in_photo = analysis.located_field()
    small = analysis.working
    factor = fundus_reduction(analysis.pixels.shape, analysis.size)
    fov = in_photo.reduced(factor)
    square = crop_to_field_of_view(small, fov)
    whole, ratio = reduction(square.shape[0], analysis.size, SLACK)
    measured = shrink(square, analysis.size, SLACK)
    size = measured.shape[0]
    # Where the frame's own rectangle falls in the square: the rest is padding, not retina.
    per_pixel = size / square.shape[0]
    left, top = fov.centre_x - square.shape[0] / 2, fov.centre_y - square.shape[0] / 2
    columns = (np.arange(size) + 0.5) / per_pixel + left
    rows = (np.arange(size) + 0.5) / per_pixel + top
    covered = ((rows >= 0) & (rows < small.shape[0]))[:, np.newaxis] & ((columns >= 0) & (columns < small.shape[1]))
    return measured, covered, in_photo, (factor * whole, ratio)


def _reach(cut: np.ndarray) -> tuple[float, float]:
    """How far a square's field reaches towards either end of an axis, in field radii from the
    centre (1 where nothing is cut), from ``cut``: whether each row (or column) along it is cut."""
    axis = _radius_axis(cut.size)
    before, after = cut & (axis < 0), cut & (axis >= 0)
    return (
        float(np.abs(axis[before]).min()) if before.any() else 1.0,
        float(np.abs(axis[after]).min()) if after.any() else 1.0,
    )


def _one_sided_cut(lit: np.ndarray, covered: np.ndarray, band: np.ndarray) -> float:
    """How much further one side of the field is cut than the other (``field_offset``): along the
    horizontal meridian ``band`` wherever the field is not ``lit`` (outside the frame, or dark in
    it), and along the vertical one (``band`` turned) wherever it is dark inside the frame
    (``covered``): the frame's own top and bottom are the camera's."""
    left, right = _reach((band & ~lit).any(axis=0))
    up, down = _reach((band.T & covered & ~lit).any(axis=1))
    return max(abs(left - right), abs(up - down))


def _lit(brightest: np.ndarray, circle: np.ndarray) -> np.ndarray:
    """The pixels of the circle that are retina, not the camera's black mask: brighter than a level
    set by the field's own ``brightest`` channel (``measures.brightest_channel``; so a dim or
    pigmented field keeps all its retina) and capped (so a lit retina is never taken for the mask),
    specks of noise smoothed away (``_median_above``).
    A field cut by the camera's mask at top and bottom, or by a frame off the pupil, is unlit there."""
    level = (
        min(_MASK_LEVEL, _MASK_RELATIVE * measures.level_percentile(brightest, 95, circle))
        if circle.any()
        else _MASK_LEVEL
    )
    lit = _median_above(brightest, level)
    return cv2.morphologyEx(lit, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)).astype(bool) & circle


def _median_above(levels: np.ndarray, level: float) -> np.ndarray:
    """Where the 5x5 median of 8-bit ``levels`` (``cv2.medianBlur``'s, its border replicated) is
    above ``level``, as 0/1: counted instead of sorted. A window's median is above the level exactly
    when 13 of its 25 pixels are, so the pixels above it are counted by a 5x5 box sum with the same
    border: the same mask for a fraction of the median's cost (``bench/gate_parts.py --modality
    fundus``, ``lit field``)."""
    _, above = cv2.threshold(levels, level, 1, cv2.THRESH_BINARY)
    window = cv2.boxFilter(above, -1, _SPECK_WINDOW, normalize=False, borderType=cv2.BORDER_REPLICATE)
    _, median_above = cv2.threshold(window, _SPECK_WINDOW[0] * _SPECK_WINDOW[1] // 2, 1, cv2.THRESH_BINARY)
    return median_above


def _focus_channel(pixels: np.ndarray) -> np.ndarray:
    """The green of RGB ``pixels``: the channel focus is read on, vessels contrast most there."""
    return cv2.extractChannel(pixels, 1)


def _detail(
    analysis: FrameAnalysis, fov: FieldOfView, field: np.ndarray, detail_size: int
) -> tuple[np.ndarray, np.ndarray, tuple[int, float]]:
    """The field's green square at ``detail_size`` pixels across (never enlarged), ``field`` (the
    lit field at the measured size) brought to its size, and how the square was reduced from the
    photo (as ``_field`` says): where the fine-scale measures, focus and noise, are taken. At the
    field's measured size (``[quality.fundus] field_size``, 256) a moderate blur is under a pixel
    wide, and the vessels' own fine structure reads as noise. The square is halved from the frame
    as far as it stays at that size, from the working copy when that is far enough already (a chain
    of halvings is the same from any of its levels, ``resample.halved_by``), so only the last few
    percent are resampled."""
    factor = halving_factor(round(2 * fov.radius), detail_size)
    done = fundus_reduction(analysis.pixels.shape, analysis.size)
    source, done = (analysis.working, done) if done <= factor else (analysis.pixels, 1)
    green = halved_by(crop_to_field_of_view(source[:, :, 1], fov.reduced(done)), factor // done)
    whole, ratio = reduction(green.shape[0], detail_size, SLACK)
    square = shrink(green, detail_size, SLACK)
    return square, mask_at_size(field, square.shape), (factor * whole, ratio)


def _haze_contrast(green: np.ndarray, field: np.ndarray) -> float:
    """``measures.detail_contrast`` of the field at ``_CONTRAST_SIDE`` pixels across (never
    enlarged). The square, at the field's measured size (about 256 pixels), is brought there
    bilinearly: a reduction by a quarter needs no area average, whose fractional form cost four
    times as much (0.16 against 0.04 ms on one core), the contrast's own blur is wider than the
    difference, and no fundus decision or ``bench/generalisation.py`` row moved. A field measured
    more than twice that size (a larger ``field_size``) is area-averaged still: bilinear would skip
    pixels there, and the contrast read would no longer be the one the limits were set on."""
    side = min(_CONTRAST_SIDE, green.shape[0])
    sampling = cv2.INTER_AREA if green.shape[0] > 2 * side else cv2.INTER_LINEAR
    small = cv2.resize(green, (side, side), interpolation=sampling) if side < green.shape[0] else green
    return measures.detail_contrast(small, mask_at_size(field, small.shape))


def highlights(brightest: np.ndarray, field: np.ndarray) -> float:
    """The level the field's brightest thousandth of pixels reaches in ``brightest`` (each pixel's
    brightest channel, ``measures.brightest_channel``), 0 to 1: how well the photo is exposed.

    A retina's brightest structures, the disc (unpigmented) and the fundus's red whatever its
    pigment, reach well up the sensor's range in a photo exposed to grade (near its top on one
    camera, a third of the way up on another's dim captures, graded all the same); an underexposure
    scales every level down, these with the rest, while a pigmented fundus darkens the mean level
    (green and blue above all), not them."""
    return measures.level_percentile(brightest, _HIGHLIGHT_PERCENTILE, field) / 255.0 if field.any() else 0.0


def overexposure(bright_fraction: float, green: np.ndarray, field: np.ndarray) -> float:
    """``bright_fraction`` (the share of the field burnt out in its brightest channel) when the
    field's brightest thousandth of pixels is burnt out in ``green`` as well, else 0.

    Too much light scales every channel: it burns out the optic disc, the brightest structure, in
    green too. A warmer white balance scales red against green: it burns out red alone, and the
    green, where vessels, haemorrhages and exudates are read, is what the camera's own photo had.
    The disc is unpigmented, so its green reads the light, not the fundus's pigment."""
    burnt_in_green = measures.level_percentile(green, _HIGHLIGHT_PERCENTILE, field) >= measures.BURNT_OUT
    return bright_fraction if burnt_in_green else 0.0


def light_bands(red: np.ndarray, field: np.ndarray) -> np.ndarray:
    """The mean level of three bands across the field (one side, the middle, the other side), along
    rows (left to right) and along columns (top to bottom): a 2 by 3 array, what ``light_gradient``
    and ``disc_side_shade`` read.

    Read on the red channel, vessels filled in: light reaches every channel alike, while pigment and
    blood darken green and blue most, so a pigmented fundus or a haemorrhage does not pass for a
    shadow. The bands lie on the field's parts off the axis they follow (``_GRADIENT_OFF_AXIS``), so
    the disc and the macula fall off the bands across the field, or in their middle."""
    small = shrink(red, _GRADIENT_COPY, SLACK)
    lit = mask_at_size(field, small.shape).astype(np.float32)
    levels = cv2.morphologyEx(small, cv2.MORPH_CLOSE, _VESSEL_FILL).astype(np.float32) * lit
    axis = _radius_axis(small.shape[0])
    off_axis = (np.abs(axis) >= _GRADIENT_OFF_AXIS).astype(np.float32)
    # Each row or column's band: 0 one side, 1 the middle, 2 the other side.
    band = (axis >= -_GRADIENT_SIDE).astype(np.intp) + (axis > _GRADIENT_SIDE)
    means = []
    # Along rows (each column's sum over the upper and lower parts), then along columns.
    for total, count in ((off_axis @ levels, off_axis @ lit), (levels @ off_axis, lit @ off_axis)):
        counts = np.bincount(band, count, minlength=3)
        means.append(np.bincount(band, total, minlength=3) / np.maximum(counts, 1.0))
    return np.array(means)


def light_gradient(bands: np.ndarray) -> float:
    """How far the light falls steadily across the field, in natural-log levels per step, from its
    ``light_bands``: the smaller of the two steps from side to middle and from middle to side, along
    rows or along columns, whichever is larger (0 when neither falls both ways).

    A camera's light off the axis darkens the field from one side through the middle to the other,
    the steady gradient both steps show. A retina's own pattern does not: the middle is brighter
    than both sides when the light falls off towards the rim all round (vignetting, which tilts no
    side), a dark crescent at one edge moves one step only (``edge_shadow`` judges it), and the
    disc and the macula lie off the bands or in their middle (``_GRADIENT_OFF_AXIS``)."""
    steepest = 0.0
    for means in bands:
        if means.min() < 1.0:
            continue
        first, second = np.log(means[0] / means[1]), np.log(means[1] / means[2])
        steepest = max(steepest, min(first, second), min(-first, -second))
    return float(steepest)


def disc_side_shade(bands: np.ndarray, disc_x: float) -> float:
    """How much darker the side of the field the optic disc lies on is than the other side, in
    natural-log levels, from the field's ``light_bands`` along rows and the disc's offset from the
    centre (``disc_x``, field radii): 0 when the disc's side is as bright or brighter.

    A retina is brighter on its disc's (nasal) side than on its macula's, so light falling across
    the field towards the disc (a right eye's disc darkened by light from the left) runs against
    the anatomy: the two cancel in ``light_gradient``, and the darkened disc lowers ``highlights``
    as an underexposure would. An even dimming scales both sides alike and leaves this what the
    retina's own is. Some graded photos are darker on their disc's side too (the nasal rim
    vignetted, a disc found in the wrong place), so it limits nothing alone: it names the reason
    (``_dark_only_on_the_disc_side``)."""
    left, _, right = bands[0]
    if min(left, right) < 1.0:
        return 0.0
    far_over_disc = left / right if disc_x >= 0 else right / left
    return max(0.0, float(np.log(far_over_disc)))


@dataclass(frozen=True)
class _OpticDisc:
    """The optic disc as found (``_optic_disc``): its ``contrast`` against the field, and its centre
    (``x``, ``y``) in field radii from the field's centre."""

    contrast: float
    x: float
    y: float

    @property
    def macula_offset(self) -> float:
        """The expected macula's distance from the field's centre, in field radii."""
        return float(np.hypot(self.x - np.copysign(_DISC_TO_MACULA, self.x), self.y))


def _optic_disc(gray: np.ndarray, field: np.ndarray, radius: np.ndarray) -> _OpticDisc:
    """The disc: the disc-sized spot that stands out most from the retina around it
    (``_DISC_SURROUND``); and how far the field's brightest disc-sized spot stands above the field's
    median level (``disc_contrast``: whether a disc, or anything, stands out at all).

    Its centre lies at least its own radius inside the measured field. Found as the field's
    brightest disc-sized spot, a broad bright part of the field (the haze of a lens reflex, a side
    lit more than the other) outshone the disc: the macula was then expected out of the field and
    good photos refused as ``macula_outside``, most of them dark fundi, and the disc left to be read
    as glare (a look at APTOS's ``macula_outside`` rejects, tests/quality/test_fundus_gate.py). A
    bright band along the rim (a lid's or the lens's reflex) can still stand out more than a faint
    disc, and a cluster of exudates the size of a disc more than the disc."""
    sigma = gray.shape[0] * _DISC_DIAMETER / 4
    smoothed, inside = measures.illumination_map(gray, field, sigma=sigma)
    size = smoothed.shape[0]
    # The surround blurred from the disc-sized map, already small: a second pass over the field's
    # square cost the gate as much again as finding the disc.
    surround, _ = measures.illumination_map(smoothed, inside, sigma=sigma * _DISC_SURROUND * size / gray.shape[0])
    surround = cv2.resize(surround, (size, size), interpolation=cv2.INTER_LINEAR)
    small_radius = cv2.resize(radius, (size, size), interpolation=cv2.INTER_NEAREST)
    searched = inside & (small_radius < _FIELD_RADIUS - _DISC_DIAMETER)
    if not searched.any():
        return _OpticDisc(0.0, 0.0, 0.0)
    level = measures.middle_value(smoothed[inside])
    # Whether anything bright stands out at all is the brightest spot's height above the field: a
    # skin lesion photographed as a fundus has skin beside it standing out from its surround as much
    # as a faint disc does, and nothing standing above the field.
    brightest = float(smoothed[searched].max())
    contrast = (brightest - level) / level if level > 1.0 else 0.0
    y, x = np.unravel_index(int(np.argmax(np.where(searched, smoothed - surround, -np.inf))), searched.shape)
    # Its centre is its brightest point within a disc's radius of that spot: the surround's own
    # slope moves the spot that stands out most a little off the disc's middle.
    reach = max(1, round(size * _DISC_DIAMETER / 2))
    rows, cols = slice(max(0, y - reach), y + reach + 1), slice(max(0, x - reach), x + reach + 1)
    near = np.where(searched[rows, cols], smoothed[rows, cols], -np.inf)
    dy, dx = np.unravel_index(int(np.argmax(near)), near.shape)
    y, x = rows.start + dy, cols.start + dx
    return _OpticDisc(contrast, (x + 0.5 - size / 2) / (size / 2), (y + 0.5 - size / 2) / (size / 2))


def _glare(extremes: tuple[np.ndarray, np.ndarray], disc: _OpticDisc) -> np.ndarray:
    """The specular reflections of the field's square (``measures.specular_mask``, from the
    square's ``measures.channel_extremes``), the optic disc set aside: on a pale fundus the disc,
    unpigmented and the brightest structure, is a colourless white well above the retina around
    it, as a reflection is, and it is anatomy."""
    specular = measures.specular_in_extremes(*extremes).astype(np.uint8)
    half = specular.shape[0] / 2
    centre = (round((disc.x + 1.0) * half), round((disc.y + 1.0) * half))
    cv2.circle(specular, centre, round(_DISC_SET_ASIDE * half), 0, thickness=cv2.FILLED)
    return specular.astype(bool)


def _glare_fraction(glare: np.ndarray, field: np.ndarray) -> float:
    """The share of the field that is specular reflection (``_glare``)."""
    return float(glare[field].mean()) if field.any() else 0.0


def _near_glare(glare: np.ndarray, field: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The field's reflections (``glare`` and ``field`` at the measured size) and their glow
    (``_GLARE_GLOW`` of the side), as a mask at ``shape``; None when the field has none (most
    photos), so that nothing is read again."""
    reflections = glare & field
    if not reflections.any():
        return None
    reach = max(1, round(_GLARE_GLOW * shape[0]))
    glow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    return cv2.dilate(mask_at_size(reflections, shape[:2]).astype(np.uint8), glow).astype(bool)


def _focus_off_glare(
    focus: list[float], glare: np.ndarray, field: np.ndarray, fine: np.ndarray, fine_field: np.ndarray
) -> list[float]:
    """``focus`` (``measures.directional_sharpness`` of the detail copy ``fine`` on ``fine_field``)
    read again away from the field's reflections and their glow (``_near_glare``); ``focus``
    itself when the field has none."""
    near = _near_glare(glare, field, fine.shape)
    return focus if near is None else measures.directional_sharpness(fine, fine_field & ~near)


def _exposure_off_glare(
    exposure: tuple[float, float], glare: np.ndarray, field: np.ndarray, brightest: np.ndarray, green: np.ndarray
) -> tuple[float, float]:
    """``exposure`` (``bright_fraction`` and ``overexposure`` of the field) read again away from
    its reflections and their glow (``_near_glare``, at the measured size of ``brightest`` and
    ``green``); ``exposure`` itself when the field has none, or nothing is left of it."""
    near = _near_glare(glare, field, brightest.shape)
    if near is None:
        return exposure
    away = field & ~near
    if not away.any():
        return exposure
    _, bright = measures.clipped_fractions(brightest, away)
    return bright, overexposure(bright, green, away)


def fundus_measures(rgb: np.ndarray, size: int, detail_size: int | None = None) -> dict[str, float]:
    """All the fundus measures of one RGB photo measured at ``size`` (see ``analysed_measures``)."""
    return analysed_measures(analyse(Frame(rgb, "measured"), MODALITY, size), detail_size)


def analysed_measures(analysis: FrameAnalysis, detail_size: int | None = None) -> dict[str, float]:
    """All the fundus measures of an analysed frame; raises ``FieldOfViewNotFound`` when it has no field.

    With a ``detail_size`` larger than the working size (both of the gate's checks, ``gate.assess``),
    focus and noise are measured at that larger scale (``_detail``).
    """
    rgb, size = analysis.pixels, analysis.size
    square, covered, fov, field_reduced_by = _field(analysis)
    zones = _zones(square.shape[0])
    band = zones.band
    extremes = measures.channel_extremes(square)
    brightest = extremes[0]
    field = _lit(brightest, zones.circle & covered)
    gray = cv2.cvtColor(square, cv2.COLOR_RGB2GRAY)
    green = _focus_channel(square)
    dark, bright = measures.clipped_fractions(brightest, field)
    centre_level = measures.level_percentile(gray, 50, field & zones.centre) if field.any() else 0.0
    rim = field & zones.rim
    shadow = float((gray[rim] < _SHADOW_LEVEL * centre_level).mean()) if rim.any() else 1.0
    disc = _optic_disc(gray, field, zones.radius)
    reach = _reach((band & ~covered).any(axis=0))
    fine, fine_field, reduced_by = (
        _detail(analysis, fov, field, detail_size)
        if detail_size and detail_size > size
        else (green, field, field_reduced_by)
    )
    noise = measures.noise_sigma(fine, fine_field)
    sensor = measures.sensor_noise(analysis.pixels, _focus_channel)
    steady = measures.without_noise(fine, measures.noise_after(sensor, *reduced_by))
    focus = measures.directional_sharpness(steady, fine_field)
    glare = _glare(extremes, disc)
    off_glare = _focus_off_glare(focus, glare, field, steady, fine_field)
    exposure = (bright, overexposure(bright, green, field))
    bright_off_glare, overexposure_off_glare = _exposure_off_glare(exposure, glare, field, brightest, green)
    bands = light_bands(cv2.extractChannel(square, 0), field)
    return {
        "field_coverage": min(reach),
        "field_offset": _one_sided_cut(field, covered, band),
        "field_span": 2.0 * fov.radius / min(rgb.shape[:2]),
        "lit_corners": float(fov.lit_corners),
        "sharpness": measures.focus_across_rows_and_columns(focus),
        "sharpness_balance": measures.focus_balance(focus),
        "sharpness_off_glare": measures.focus_across_rows_and_columns(off_glare),
        "sharpness_balance_off_glare": measures.focus_balance(off_glare),
        "brightness": measures.brightness(gray, field),
        "dark_fraction": dark,
        "bright_fraction": bright,
        "overexposure": exposure[1],
        "bright_fraction_off_glare": bright_off_glare,
        "overexposure_off_glare": overexposure_off_glare,
        "highlights": highlights(brightest, field),
        "unevenness": measures.illumination_unevenness(gray, field),
        "light_gradient": light_gradient(bands),
        "disc_side_shade": disc_side_shade(bands, disc.x),
        "glare_fraction": _glare_fraction(glare, field),
        "edge_shadow": shadow,
        "noise": noise,
        **measures.compression(rgb[:, :, 1]),
        "contrast": _haze_contrast(green, field),
        "disc_contrast": disc.contrast,
        "macula_offset": disc.macula_offset,
    }


# The typical values are the medians of the tune-half originals (bench/quality_tune.py); those of
# ``highlights``, ``light_gradient``, ``field_span`` and the focus measures, the fitting photos'
# medians (bench/generalisation.py --fit-on dr-600 --fit-on aptos2019-224 --derive).
RULES = (
    Rule("field_cut", "field_coverage", "min_field_coverage", 1.0),
    Rule("field_cut", "field_offset", "max_field_offset", 0.0),
    Rule("field_too_small", "field_span", "min_field_span", 1.142),
    Rule("too_dark", "brightness", "min_brightness", 0.327),
    Rule("too_dark", "dark_fraction", "max_dark_fraction", 0.0),
    Rule("too_dark", "highlights", "min_highlights", 0.996),
    Rule("too_bright", "overexposure", "max_overexposure", 0.0),
    Rule("too_bright", "bright_fraction", "max_burnt_out_fraction", 0.002),
    Rule("blurred", "sharpness", "min_sharpness", 0.7666),
    Rule("blurred", "sharpness_balance", "min_sharpness_balance", 0.9667),
    Rule("uneven_illumination", "unevenness", "max_unevenness", 0.177),
    Rule("uneven_illumination", "light_gradient", "max_light_gradient", 0.003),
    Rule("glare", "glare_fraction", "max_glare_fraction", 0.0),
    Rule("edge_artefact", "edge_shadow", "max_edge_shadow", 0.001),
    Rule("noisy", "noise", "max_noise", 0.852),
    Rule("compressed", "blockiness", "max_blockiness", 1.286),
    Rule("compressed", "flat_blocks", "max_flat_blocks", 0.0),
    Rule("low_contrast", "contrast", "min_contrast", 0.125),
    Rule("no_optic_disc", "disc_contrast", "min_disc_contrast", 0.821),
    Rule("macula_outside", "macula_offset", "max_macula_offset", 0.238),
)

# A frame burnt out or black: judged as usual even when nothing stands out in it (``assess_fundus``).
_CLIPPED = tuple(rule for rule in RULES if rule.measure in {"overexposure", "bright_fraction", "dark_fraction"})

# Where the disc and the macula lie in a 45-degree field, how much of the field's rim a shadow may
# hide, and what a retina can show at all (black, burnt out over half the field, or its brightest
# structures under a third of the sensor's range), are the same for every camera: these limits are
# declared from that (config.py says how), never fitted to photos (``quality.fit``).
PHYSICAL = frozenset(
    {
        "min_field_coverage",
        "max_field_offset",
        "min_field_span",
        "max_macula_offset",
        "max_dark_fraction",
        "min_highlights",
        "max_burnt_out_fraction",
        "max_edge_shadow",
    }
)
# Of those, the ones a camera's own optics set, which its own photos may tighten (``edgescreen
# quality fit``): where its frame cuts its field, and how much of the frame the field fills. The
# others hang on the patient as much as on the camera (a lid, fixation, a darker fundus's
# vignetting, a small pupil's dimmer capture): a device's first photos would narrow them to its
# first patients.
CAMERA_GEOMETRY = frozenset({"min_field_coverage", "min_field_span"})


def field_too_dim_to_find(working: np.ndarray) -> bool:
    """Whether a frame whose field of view was not found (its ``working`` copy) holds one the light
    left too dim to find: with its levels raised until its brightest percent reaches the sensor's
    top (the light the nurse would add), a field is found, it leaves the frame's corners dark
    (``_NO_APERTURE_CORNERS``), and its outline is the aperture's step out of the black
    (``_outline_step``).

    The locator wants a field some levels above the black (``preprocess._mask_level``), so that
    sensor noise is never one; a retina at an eighth of its light (the bench's darkest copies) sits
    a few levels above it. Raised with the rest, a blank frame's noise fills the frame to its
    corners, light leaking onto a capped lens fades into the black with no step, and a black frame
    has nothing to raise: each stays ``no_field_of_view``."""
    top = measures.level_percentile(measures.brightest_channel(working), 99)
    if top < 1.0:
        return False
    raised = np.clip(working * (255.0 / top), 0, 255).astype(np.uint8)
    try:
        field = field_of_view_on(raised, 1)
    except FieldOfViewNotFound:
        return False
    if field.lit_corners >= _NO_APERTURE_CORNERS:
        return False
    return _outline_step(raised) < _OUTLINE_STEP


def _outline_step(raised: np.ndarray) -> float:
    """How far the level just outside a frame's field mask (``preprocess.fundus_field_mask``) stands
    above the frame's black, over how far the level just inside it does (``_OUTLINE_BAND``), in
    each pixel's brightest channel of ``raised``; infinite when the mask has no outline in the frame.
    A camera's aperture cuts the retina off sharply, its mask at the black beside the retina's rim
    (0.31 at most on 122 dr-600 and APTOS photos each darkened 8, 20 and 50 times), while light
    fading into the dark (a glow, a leak) is nearly as bright just outside the level it was cut at
    as just inside (0.7 to 0.8 with a sensor's noise)."""
    brightest = measures.brightest_channel(raised)
    mask = fundus_field_mask(raised)
    reach = max(2, round(_OUTLINE_BAND * min(mask.shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    # The frame's own edge is no outline: eroded as if the field went on beyond it.
    inside = mask > cv2.erode(mask, disc, borderType=cv2.BORDER_CONSTANT, borderValue=1)
    outside = cv2.dilate(mask, disc) > mask
    if not inside.any() or not outside.any():
        return float("inf")
    black = measures.level_percentile(brightest, 1)
    return (float(brightest[outside].mean()) - black) / max(float(brightest[inside].mean()) - black, 1.0)


def assess_fundus(
    analysis: FrameAnalysis, limits: FundusQualityConfig, usable_from: float, detail_size: int | None = None
) -> QualityReport:
    """The fundus verdict for one analysed frame; a photo with no field of view, one in which
    nothing stands out (``_NO_RETINA_BELOW``) and the light is not the reason, or one lit into its
    corners past the camera's aperture (``_NO_APERTURE_CORNERS``: skin, a face), is a ``reject`` for
    that alone: what else the measures read on it (no focus, no disc) follows from it, and the nurse
    needs the one fix. A frame burnt out or black is judged as usual, and one whose field only the
    light left too dim to find (``field_too_dim_to_find``) is ``too_dark``: its fix is the light."""
    try:
        measured = analysed_measures(analysis, detail_size)
    except FieldOfViewNotFound:
        return rejected(MODALITY, "too_dark" if field_too_dim_to_find(analysis.working) else "no_field_of_view")
    clipped = any(rule.check(measured, limits).past for rule in _CLIPPED)
    no_retina = measured["disc_contrast"] < _NO_RETINA_BELOW or measured["lit_corners"] >= _NO_APERTURE_CORNERS
    if no_retina and not clipped:
        return rejected(MODALITY, "no_field_of_view", measured)
    report = judge(MODALITY, RULES, measured, limits, usable_from)
    return _dark_only_on_the_disc_side(report, measured, limits, usable_from)


def _dark_only_on_the_disc_side(
    report: QualityReport, measured: dict[str, float], limits: FundusQualityConfig, usable_from: float
) -> QualityReport:
    """``report`` (the verdict on ``measured``) with ``too_dark`` named ``uneven_illumination`` when
    the field is too dark only because its disc's side is shaded (``disc_side_shade``): judged again
    with that side lit as the other (``highlights`` raised by the shade), it would not be too dark
    for this verdict (a field refused would at most be near the limit). The verdict stands.

    ``highlights`` reads the disc, so light falling across the field towards the disc (a right eye's
    disc darkened by light from the left) lowers it as an underexposure does, and the nurse told
    to add light would burn out the lit side; an underexposure scales both sides alike, which
    leaves the shade what the retina's own is."""
    if "too_dark" not in report.reasons or measured["disc_side_shade"] <= 0.0:
        return report
    lit = dict(measured, highlights=min(1.0, measured["highlights"] * float(np.exp(measured["disc_side_shade"]))))
    evenly_lit = judge(MODALITY, RULES, lit, limits, usable_from)
    if evenly_lit.verdict is report.verdict and "too_dark" in evenly_lit.reasons:
        return report
    named = ("uneven_illumination" if reason == "too_dark" else reason for reason in report.reasons)
    return replace(report, reasons=tuple(dict.fromkeys(named)))
