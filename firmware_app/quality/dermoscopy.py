"""The dermoscopy gate: can a specialist (or the model) judge the lesion in this photo?

The lesion is found first, once per frame (``frame_analysis``, through ``lesion.segment_lesion``'s
steps), on a copy at most ``lesion.WORK_SIZE`` pixels wide. Each measure is taken at the smallest
size that still shows its defect (``analysed_measures``): the lesion's framing, the exposure and
the light on that copy, where the masks were found; focus, noise, hair and reflections, which live
in the finest detail, on the working copy at ``size`` pixels on its long side (or up to
``resample.SLACK`` fewer; never enlarged); compression on the photo itself. Measuring everything
at ``size`` cost four times the pixels for the same numbers. The measures (all in
``QualityReport.measures``):

- ``lesion_contrast``: the lesion's colour difference from the skin (CIELAB Delta E); low means no
  lesion stands out, so nothing can be judged.
- ``lesion_fraction`` and ``lesion_pixels``: its share of the lit field (a round field's black
  surround, a scanner's frame or black bars beside the photo are no part of what the dermatoscope
  shows) and its area in the photo's own pixels; too small and its border and structures cannot
  be seen.
- ``lesion_cut``: how far the lesion could be slid back into view, as a share of the lit field,
  when it runs out of the photo on one side: the skin left empty on the other side, times how
  one-sided the cut is (a lesion larger than the frame overflows it on opposite sides and reads
  near 0: no placement shows it whole, see ``_framing``); 0 for a faint lesion, whose outline
  cannot tell a cut (``_FRAMING_MIN_CONTRAST``).
- ``lesion_offset``: distance of its centre from the frame's centre, in half-widths/half-heights;
  ``lesion_pushed``: for a lesion wholly in view, how far it is pushed against one edge (its skin
  there narrower than a tenth of the field) with skin left empty on the other side. A lesion
  wholly in view but off the middle is not a defect by itself (0 for a faint lesion, like the cut).
- ``sharpness``: focus measured on the lesion and its border, where the diagnostic detail is, the
  weaker of rows and columns (``measures.directional_sharpness``); ``sharpness_balance``: the
  weakest direction's over the strongest's (``measures.focus_balance``), as for fundus, read away
  from hairs: a pigment network runs every way, and a hand that moved smears it along its path
  only, which may be slanted. ``coarse_sharpness`` instead of both on a photo smaller than the
  scale focus is judged at (``_focus``).
- ``highlights``: the level the lit field's paler tenth reaches in each pixel's brightest channel
  (its 90th percentile), 0 to 1: how much light the dermatoscope gave. Too little light is judged
  by it, as the fundus gate judges it by its own ``highlights``: an underexposure scales every
  level down, the paler skin's with the rest, while pigment darkens what it covers, and melanin
  mostly in green and blue, least in red. On the skin's mean luminance a melanoma filling most of
  the field, or a darker skin, read as a lost stop of light.
- ``brightness``, ``dark_fraction``: exposure of the skin around the lesion (of the whole lit
  field when the lesion fills it): too much light, and skin crushed to black;
  ``bright_fraction``: the share of the lesion and its border burnt out to white, where the
  detail that matters is lost.
- ``unevenness``: fall-off of the light across what is plainly skin around the lesion (``_lit_by``:
  not a lesion's fringe its outline left out, nor a dense hair; darker spots set aside in each half
  on its own: a side darkened by the light is still skin).
- ``glare_fraction``: specular reflections in the field (no immersion fluid, or too much pressure),
  bright against the skin's paler part as well as against their surroundings: pale skin beside a
  large dark melanoma or the dermatoscope's black ring stands out from surroundings they darken,
  and is not glare; nor is a ruler's white laid along the photo's edge (nothing touching the edge
  of the photo or of its lit field counts as a reflection, ``_reflections``).
  ``glare_spots``: how many large round burnt-out white plateaus the field holds, the light source
  reflected whole, where real highlights on skin and fluid are small and scattered and a
  melanoma's shiny white structures are streaks and patches, not round burnt-out discs.
- ``bubbles``: small round specular highlights, the mark of air bubbles in the immersion fluid,
  brighter than the skin's paler part as glare is: pale skin in the gaps between dark hairs stands
  out from surroundings they darken, and is no bubble.
- ``hair_fraction``: share of the lesion covered by hair (thin dark lines found by a black-hat).
- ``noise``: sensor noise, read away from the dark surround (its step to black is no noise).
  ``blockiness`` and ``flat_blocks``: JPEG compression, judged by what it hides: the visible block
  borders of a UVC camera's MJPEG stream (quality 50) are harmless and pass (``max_blockiness`` is
  fitted above them), a heavier compression's are not, nor blocks flattened to no detail at all
  (``measures.flat_block_fraction``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.config import DermoscopyQualityConfig
from firmware_app.frame_analysis import FrameAnalysis, analyse
from firmware_app.quality import measures
from firmware_app.quality.lesion import LesionSegmentation, centroid_offset
from firmware_app.quality.resample import SLACK, block_average, mask_at_size, reduction
from firmware_app.quality.verdict import QualityReport, Rule, judge, rejected

MODALITY = "dermoscopy"
# Hairs are a few pixels wide at the working size: a black-hat a little wider finds them, and a
# hair is a dark line at least this much darker than the skin around it.
_HAIR_DEPTH = 18
_HAIR_MIN_LENGTH = 0.04  # of the long side
_HAIR_MAX_WIDTH = 5  # pixels: anything an opening this wide keeps is not a hair
# Focus steps are counted only this far from a hair (``_detail_focus``): beyond a step's box.
_NEAR_HAIR = np.ones((2 * measures.STEP_REACH + 1,) * 2, np.uint8)
# An air bubble's highlight is a small round specular spot.
_BUBBLE_MIN_AREA, _BUBBLE_MAX_AREA = 0.00002, 0.002  # of the frame
_BUBBLE_MIN_ROUNDNESS = 0.6
# A reflection is at least this many levels brighter than the skin's paler part (this percentile
# of its brightest channel): pale skin beside a large dark lesion, or beside the black ring of the
# dermatoscope, stands out from surroundings they darken, and is still skin. The field's exposure
# (``highlights``) is read at the same percentile.
_GLARE_LIFT = 20
_PALE_SKIN = 90
# A glare spot: the dermatoscope's light reflected whole off dry or pressed skin, a round white
# plateau at least this wide (equivalent radius per 1000 pixels of the long side). Real specular
# highlights on skin and fluid are small and scattered, white streaks are long: neither is round.
_GLARE_SPOT_MIN_RADIUS = 12
_GLARE_SPOT_MIN_ASPECT = 0.75  # shorter over longer side of its box
_GLARE_SPOT_FILL = (0.6, 0.95)  # share of its box it fills: a disc 0.79 (0.9 when a few pixels wide), a square 1
# Clipped to white in every channel: a reflection burnt out, whatever the skin around it.
_CLIPPED_WHITE = measures.BURNT_OUT
# Framing (``_framing``): a lesion wholly in view is pushed against an edge when the skin on that
# side is narrower than this share of the field; a cut lesion is fully cut once its outline runs
# along the edge for this share of its diameter.
_NEAR_EDGE = 0.1
_CUT_SEEN = 0.5
# Whether a lesion is cut or pushed against an edge is judged only on a lesion whose border stands
# out this clearly from the skin (``lesion_contrast``, CIELAB Delta E, darkness weighted; a typical
# naevus reads about 50): a faint, diffuse lesion's outline follows the skin's own texture, and where
# it meets the frame's edge is as likely skin as lesion (a pigment network spread over the whole
# field reads as a lesion cut on every side it reaches). Its centre's offset is still judged. 26,
# where it was 25 before the lesion's contrast was read with the light's fall-off off the skin alone
# (``lesion._contrast``), which made graded lesions read 7% more distinct (median): the same share
# of HAM10000's and ISIC 2017 training's graded photos (71%, 300 each) has its framing judged.
_FRAMING_MIN_CONTRAST = 26.0
# Focus is read on the lesion and its border in grey, whose steps stand well above the 8-bit rounding
# focus leaves out however dim the frame, until none is left (a focus of 0): of 61 sharp UDA-1 photos
# darkened by the bench (levels times 0.45, 0.25 and 0.12), 1 of 183 copies read blurred, and a
# defocus or a hand that moved still did on most. Beside ``too_dark``, ``blurred`` is kept from any
# light (``gate``; the fundus's green is another matter, ``fundus.FOCUS_READ_FROM``).
FOCUS_READ_FROM = 0.0
# Noise is read this many pixels (at the working size) inside the edge of the lit field
# (``_away_from_surround``).
_SURROUND_MARGIN = 2
# Exposure is read on the skin around the lesion, and the light's fall-off on what is plainly skin
# there (``_lit_by``), when at least this share of the field is left for it.
_MIN_SKIN = 0.1
# Skin pixels darker than this share of the skin's median are another lesion or a hair, not skin.
_SKIN_FLOOR = 0.8


def _ellipse(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def _hair_width(size: int) -> int:
    """The black-hat's width on a copy ``size`` pixels on its long side: a little wider than a hair."""
    return max(5, round(size / 60)) | 1


def _hair(gray: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Thin, long dark strokes on ``gray``, part of a copy ``size`` pixels on its long side. The
    black-hat finds everything dark and narrow; an opening keeps only what is wider than a hair
    (globules, dots), which is set aside; of the rest, only strokes long enough to be hairs are kept
    (not the short lines of a pigment network). Returned as the strokes' labels and, by label,
    which are hairs: most photos have none, and a mask of them would cost a pass over the copy."""
    strokes = (cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, _ellipse(_hair_width(size))) > _HAIR_DEPTH).astype(np.uint8)
    blobs = cv2.dilate(cv2.morphologyEx(strokes, cv2.MORPH_OPEN, _ellipse(_HAIR_MAX_WIDTH)), _ellipse(3))
    thin = strokes & (1 - blobs)
    count, labels, stats, _ = measures.connected_regions(thin)
    lengths = np.hypot(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    is_hair = np.zeros(count, bool)
    is_hair[1:] = lengths >= _HAIR_MIN_LENGTH * size
    return labels, is_hair


def _hairs_around_lesion(gray: np.ndarray, around_lesion: np.ndarray) -> np.ndarray | None:
    """The hairs on and round the lesion (``around_lesion``, a mask at the segmentation's size),
    found on ``gray``, the working copy, as a mask of it; None when there are none (most photos):
    at the segmentation's size a pigment network's lines merge into strokes as long and thin as
    hairs.

    Hairs are looked for on the border's box grown by a hair's length and by how far the black-hat,
    the opening and the dilation reach: the strokes found there are the whole copy's but near its
    edge, and a stroke from the border that gets near the edge is a hair either way (as long as
    one), so the same pixels are covered, at the cost of the box."""
    size = max(gray.shape)
    around = mask_at_size(around_lesion, gray.shape)
    reach = _hair_width(size) - 1 + _HAIR_MAX_WIDTH - 1 + 1
    margin = math.ceil(_HAIR_MIN_LENGTH * size) + reach + 2
    box = measures.box_around(around, margin)
    labels, is_hair = _hair(gray[box], size)
    if not is_hair.any():
        return None
    hairs = np.zeros(gray.shape, bool)
    hairs[box] = is_hair[labels]  # each pixel's verdict looked up by its label
    return hairs


def _hair_fraction(hairs: np.ndarray | None, lesion: np.ndarray, around_lesion: np.ndarray) -> float:
    """Share of the lesion (``lesion``, a mask at the segmentation's size) that the ``hairs`` (a
    mask of the working copy, ``_hairs_around_lesion``) cover on it and its border (``around_lesion``)."""
    if hairs is None:
        return 0.0
    covered = np.count_nonzero(hairs & mask_at_size(around_lesion, hairs.shape))
    return covered / max(1, np.count_nonzero(mask_at_size(lesion, hairs.shape)))


def _bubbles(brightest: np.ndarray, specular: np.ndarray, reflected_from: float) -> int:
    """How many specular spots are small and round, as an air bubble's highlight is, and bright as a
    reflection is: reaching ``reflected_from`` in ``brightest`` (each pixel's brightest channel; see
    ``_reflections``). ``specular`` holds what is bright against its surroundings, and the gaps of
    pale skin between dark hairs, or beside a large dark lesion, are bright against surroundings they
    darken: a hairy melanoma on pale skin read as a photo full of bubbles."""
    box = measures.box_around(specular)
    spots = specular[box]
    if spots.size == 0:
        return 0
    count, labels, stats, _ = measures.connected_regions(spots)
    reflected = np.zeros(count - 1, bool)
    reflected[labels[spots & (brightest[box] >= reflected_from)] - 1] = True
    area = stats[1:, cv2.CC_STAT_AREA] / specular.size
    extent = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]).astype(np.float32)
    roundness = stats[1:, cv2.CC_STAT_AREA] / (np.pi / 4 * extent**2)
    small_round = (area >= _BUBBLE_MIN_AREA) & (area <= _BUBBLE_MAX_AREA) & (roundness >= _BUBBLE_MIN_ROUNDNESS)
    return int(np.sum(reflected & small_round))


def _glare(brightest: np.ndarray, specular: np.ndarray, above_skin: float) -> np.ndarray:
    """The specular reflections that also stand out from the skin's own paler part: reaching
    ``above_skin`` in ``brightest`` (each pixel's brightest channel; see ``_reflections``)."""
    return specular & (brightest >= above_skin)


def _glare_spots(darkest: np.ndarray, specular: np.ndarray, field: np.ndarray) -> int:
    """How many large round white spots the photo holds (see ``_GLARE_SPOT_MIN_RADIUS``), none of
    them touching the edge of the photo or its field (``_reflections``): each is burnt out to white
    at its core, and stands out from the skin around it (``specular``) or is white throughout (on
    pale skin a spot cannot stand out by much). Clipped to white in every channel is clipped in the
    darkest (``darkest``: each pixel's darkest channel)."""
    clipped = darkest >= _CLIPPED_WHITE
    if not (clipped & field).any():
        return 0
    white = (specular | clipped) & field
    white &= ~measures.touching_border(white | ~field)
    if not (clipped & white).any():
        return 0
    box = measures.box_around(white)
    count, labels, stats, _ = measures.connected_regions(white[box])
    burnt_out = np.zeros(count - 1, bool)
    burnt_out[labels[(clipped & white)[box]] - 1] = True
    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float32)
    width, height = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    radius = np.sqrt(area / np.pi) * 1000.0 / max(darkest.shape[:2])
    aspect = np.minimum(width, height) / np.maximum(width, height)
    fill = area / (width * height)
    low, high = _GLARE_SPOT_FILL
    round_spot = (aspect >= _GLARE_SPOT_MIN_ASPECT) & (fill >= low) & (fill <= high)
    spots = burnt_out & (radius >= _GLARE_SPOT_MIN_RADIUS) & round_spot
    return int(spots.sum())


def _reflections(working: np.ndarray, field: np.ndarray, skin: np.ndarray) -> dict[str, float]:
    """``glare_fraction``, ``glare_spots`` and ``bubbles`` on the working copy (``field`` and ``skin``
    masks at its size): an air bubble's highlight is a few pixels wide there, and averaged down to
    the segmentation's size the scattered highlights of skin and fluid fuse into as many small
    round spots (three times as many bubbles on UDA-1's graded photos). A reflection stands out
    from the lit skin around it: the black beyond the field (a round field, a scanned slide's frame)
    is no part of its surroundings. The channels' extremes are split once for all three.

    Glare and a bubble's highlight are the light reflected: both stand out from the skin's own
    paler part by ``_GLARE_LIFT``; on skin too pale for that, a bubble's highlight is burnt out to
    white (``_CLIPPED_WHITE``), as a glare spot's core is. What touches the edge of the photo or
    of its lit field is not counted (``measures.touching_border`` of it with what lies outside the
    field, a black frame or bars beside the photo): a ruler laid along the edge is white plastic
    between black ticks, each gap as bright and as round as the light reflected whole (ISIC 2017
    photos with one were refused for glare, and the nurse told to add fluid), and a reflection cut
    by the edge cannot be told from one; reflections off the skin show inside the frame."""
    brightest, darkest = measures.channel_extremes(working)
    specular = measures.specular_in_extremes(brightest, darkest, field=field) & field
    if not specular.any():  # no reflection, nor a bubble's highlight (half of UDA-1's photos): nothing to place
        return {"glare_fraction": 0.0, "glare_spots": float(_glare_spots(darkest, specular, field)), "bubbles": 0.0}
    # A spot's shape is judged whole, with the burnt-out white around it (``_glare_spots``).
    inside = specular & ~measures.touching_border(specular | ~field)
    above_skin = measures.level_percentile(brightest, _PALE_SKIN, skin) + _GLARE_LIFT
    return {
        "glare_fraction": np.count_nonzero(_glare(brightest, inside, above_skin)) / max(1, np.count_nonzero(field)),
        "glare_spots": float(_glare_spots(darkest, specular, field)),
        "bubbles": float(_bubbles(brightest, inside, min(above_skin, _CLIPPED_WHITE))),
    }


def _outline_cut(lesion: np.ndarray, field: np.ndarray) -> tuple[float, np.ndarray]:
    """Length of the lesion's outline that runs along the edge of the frame or of the lit field, in
    lesion diameters (of the circle of the same area), and the mean of the unit vectors (x, y)
    from the frame's centre to each cut point: its length is how one-sided the cut is (1 all on
    one side, 0 spread all round), its direction the side the lesion runs out of the photo."""
    # Eroded as if empty pixels bordered the photo (``lesion.runs_to_edge`` too): its edge is an edge of both.
    inside, empty_beyond = lesion.astype(np.uint8), {"borderType": cv2.BORDER_CONSTANT, "borderValue": 0}
    outline = (inside - cv2.erode(inside, np.ones((3, 3), np.uint8), **empty_beyond)) > 0
    edge = cv2.erode(field.astype(np.uint8), np.ones((5, 5), np.uint8), **empty_beyond) == 0
    cut = outline & edge
    # Most lesions lie wholly in view: their outline meets no edge, and there are no points to list.
    if not cut.any():
        return 0.0, np.zeros(2)
    diameter = np.sqrt(4.0 * np.count_nonzero(lesion) / np.pi)
    rows, cols = np.nonzero(cut)
    dy, dx = rows - lesion.shape[0] / 2, cols - lesion.shape[1] / 2
    length = np.maximum(np.hypot(dx, dy), 1e-6)
    return float(rows.size / diameter), np.array([(dx / length).mean(), (dy / length).mean()])


def _room(lesion: np.ndarray, field: np.ndarray, direction: np.ndarray) -> tuple[float, float]:
    """The lit skin between the lesion and the field's edge ahead of it along ``direction`` (a unit
    vector, x and y) and behind it, as shares of the field's extent along it: how far the
    dermatoscope could slide the lesion back before the other side runs out of the photo."""
    rows, cols = np.nonzero(lesion[::2, ::2])
    along = cols * direction[0] + rows * direction[1]
    # A region reaches furthest along any direction on its outline: the field's outline is enough.
    outlines, _ = cv2.findContours(field[::2, ::2].astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    points = np.concatenate(outlines).reshape(-1, 2)
    field_along = points[:, 0] * direction[0] + points[:, 1] * direction[1]
    low, high = float(field_along.min()), float(field_along.max())
    span = max(1.0, high - low)
    return max(0.0, high - float(along.max())) / span, max(0.0, measures.value_percentile(along, 2) - low) / span


def _framing(lesion: np.ndarray, field: np.ndarray, off_centre: np.ndarray) -> tuple[float, float]:
    """``lesion_cut`` and ``lesion_pushed``: how far the lesion could be slid back towards the
    middle of the photo, as a share of the lit field, when it runs out of the photo on one side
    (cut), or, wholly in view, lies against one edge (pushed). ``off_centre`` is the vector (x, y)
    from the frame's centre to the lesion's.

    A framing defect is one the nurse can fix and the specialist needs fixed: the whole lesion,
    with skin around it. A lesion cut on one side with skin left empty on the other was photographed
    beside the dermatoscope's middle, and sliding the dermatoscope shows more of it: its cut is that
    room times how one-sided the cut is (``_outline_cut``), the less for a lesion that only grazes
    the edge (its outline on the edge shorter than ``_CUT_SEEN`` of its diameter: a small cap of
    it is out of view, its border all but whole). A lesion larger than the field overflows it on
    opposite sides, and no placement shows it whole: that is not a defect (no retake can mend it,
    and its structures are all in view at the magnification a specialist reads them at; its extent
    is the overview photo's to show). A lesion wholly in view but off the middle keeps its border
    and skin all round, and is not a defect either: only one whose skin on one side is narrower
    than ``_NEAR_EDGE`` of the field, with room on the other, is pushed, the less so the wider
    that skin."""
    length, side = _outline_cut(lesion, field)
    one_sided = float(np.hypot(*side))
    if length > 0:
        if one_sided == 0:
            return 0.0, 0.0
        _, behind = _room(lesion, field, side / one_sided)
        return min(1.0, length / _CUT_SEEN) * one_sided * behind, 0.0
    distance = float(np.hypot(*off_centre))
    if distance == 0:
        return 0.0, 0.0
    ahead, behind = _room(lesion, field, off_centre / distance)
    return 0.0, max(0.0, behind - ahead) * max(0.0, 1.0 - ahead / _NEAR_EDGE)


def _away_from_surround(field: np.ndarray) -> np.ndarray:
    """The lit ``field`` (at the working size) without the pixels next to the dermatoscope's dark
    surround: a round field ends in a step to black, and the noise estimator's kernel reads that
    step as noise (a graded photo given a round field read several times its own noise).
    The kernel reaches one pixel, and the field's mask, found at the segmentation's size and
    resampled, can reach one more past the lit edge: ``_SURROUND_MARGIN``. The photo's own edge
    is not such a step, and is kept."""
    margin = np.ones((2 * _SURROUND_MARGIN + 1,) * 2, np.uint8)
    return cv2.erode(field.astype(np.uint8), margin, borderType=cv2.BORDER_CONSTANT, borderValue=1) > 0


def _lit_by(segmentation: LesionSegmentation, around_skin: np.ndarray) -> np.ndarray:
    """The skin the light's fall-off is read on: the skin around the lesion (``around_skin``), less
    what is not plainly skin (``LesionSegmentation.plain_skin``) while at least ``_MIN_SKIN`` of the
    lit field is left. A lesion larger than its outline, its paler fringe read as skin, or a dense
    hair darkened one side of that ring as a light falling off would (melanomas were refused as
    unevenly lit: ``bench/generalisation.py``). Most of a fall-off stays in it, since the colour
    difference is read with the segmentation's shading correction; near the frame's edge, where
    that correction does not follow a ramp all the way, some of the darkest skin is set aside, so a
    ramp reads somewhat lower than on the whole ring (``max_unevenness`` was derived on this
    reading). With less than ``_MIN_SKIN`` plainly skin left, the whole ring, as before; the whole
    lit field when there is no skin around the lesion at all."""
    field = segmentation.field
    if not around_skin.any():
        return field
    plain = around_skin if segmentation.plain_skin is None else around_skin & segmentation.plain_skin
    return plain if np.count_nonzero(plain) >= _MIN_SKIN * np.count_nonzero(field) else around_skin


def _highlights(small: np.ndarray, field: np.ndarray) -> float:
    """``highlights``: the level the lit field's paler tenth reaches in each pixel's brightest
    channel, 0 to 1; 0 when nothing is lit (a lens cap on, the light off), as no light is."""
    if not field.any():
        return 0.0
    return measures.level_percentile(measures.brightest_channel(small), _PALE_SKIN, field) / 255.0


def _offset(off_centre: np.ndarray, shape: tuple[int, int]) -> float:
    """How far the lesion's centre lies from the frame's, in half-widths or half-heights."""
    height, width = shape
    return float(max(abs(off_centre[0]) / (width / 2), abs(off_centre[1]) / (height / 2)))


def _focus_channel(pixels: np.ndarray) -> np.ndarray:
    """The luminance of RGB ``pixels``: the channel focus is read on (``_detail_focus``)."""
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


def _detail_focus(
    image: np.ndarray, region: np.ndarray, reduced_by: tuple[int, float], hairs: np.ndarray | None, noise: float = 0.0
) -> tuple[list[float], list[float]]:
    """Focus along each direction (``measures.directional_sharpness``) on ``region`` (a mask at a
    reduced size) measured on ``image`` reduced as ``reduced_by`` says (``resample.reduction``'s
    factor and ratio), to the scale the limits were set at, whatever the frame's resolution (the
    preview reads the full frame at the full check's scale): only the region's box is read, so a
    small lesion costs little. At the preview's own small size a moderate blur is under a pixel
    wide.

    Returned twice: on the whole region, and with no step near a hair (``hairs``, a mask at any
    size) counted, for the balance of directions: a hair is sharp across its length and has no
    steps along it, so over a smooth lesion it reads as unbalanced as a motion blur (the bundled
    synthetic naevus read ``usable: blurred``). The same twice when there are no hairs, or no
    detail is left away from them. Both on the box with the sensor's ``noise`` as it reaches the
    box smoothed away (``measures.without_noise``): noise reads as detail."""
    factor, ratio = reduced_by
    x, y, width, height = cv2.boundingRect(region.astype(np.uint8))
    scale_y, scale_x = image.shape[0] / region.shape[0], image.shape[1] / region.shape[1]
    top, bottom = int(y * scale_y) // factor * factor, int((y + height) * scale_y)
    left, right = int(x * scale_x) // factor * factor, int((x + width) * scale_x)
    box = block_average(_focus_channel(image[top:bottom, left:right]), factor)
    reduced = (round(image.shape[0] // factor * ratio), round(image.shape[1] // factor * ratio))
    row, col = round(top // factor * ratio), round(left // factor * ratio)
    if ratio < 1.0:
        box_size = (max(1, round(box.shape[1] * ratio)), max(1, round(box.shape[0] * ratio)))
        box = cv2.resize(box, box_size, interpolation=cv2.INTER_AREA)
    rows, cols = slice(row, row + box.shape[0]), slice(col, col + box.shape[1])
    inside = mask_at_size(region, reduced)[rows, cols]
    # A rounding's pixel past the reduced frame cut off; the sensor's noise smoothed away.
    box = measures.without_noise(box[: inside.shape[0], : inside.shape[1]], noise)
    focus = measures.directional_sharpness(box, inside)
    if hairs is None:
        return focus, focus
    near_hair = cv2.dilate(mask_at_size(hairs, reduced)[rows, cols].astype(np.uint8), _NEAR_HAIR)
    away = measures.directional_sharpness(box, inside & (near_hair == 0))
    return focus, away if min(away) > 0 else focus


def _focus(
    analysis: FrameAnalysis, region: np.ndarray, detail_size: int | None, hairs: np.ndarray | None
) -> dict[str, float]:
    """The focus measures on ``region`` (a mask at the segmentation's size), the balance away from
    ``hairs`` (``_detail_focus``): on the working copy, or, with a ``detail_size`` larger than the
    working size (the preview) or than the photo itself, on the photo brought to that larger scale;
    a working copy up to ``resample.SLACK`` under its size does not count as smaller.

    Focus is a ratio of steps, and its scale is the image's: a photo smaller than the scale the
    check judges focus at (an archived copy, as HAM10000's 200-pixel and ISIC 2017's 256-pixel
    ones; no camera at the default ``[quality] full_size`` sends one) shows its detail coarser, and
    its sharp photos read lower. Its focus is ``coarse_sharpness``, judged against a limit of its own
    (``min_coarse_sharpness``), where a photo at that scale has ``sharpness`` and
    ``sharpness_balance``. The balance reads lower too at that size (judged there against the limit
    fitted at the working size, it refused more of HAM10000's and ISIC 2017's graded copies than the
    5% aimed at), so it is not judged there; and the room kept round a hair would cover most of a
    lesion that small, so hairs are not set aside.

    The sensor's noise is read on the photo itself (``measures.sensor_noise``) and brought to the
    box's scale (``measures.noise_after``): the working copy is the photo reduced as
    ``resample.shrink`` does (``frame_analysis.analyse``), and needs no further reduction."""
    rgb = analysis.pixels
    judged_at = max(analysis.size, detail_size or 0)
    if detail_size and detail_size > min(analysis.size, max(rgb.shape[:2])):
        image, size = rgb, detail_size
    else:
        image, size = analysis.working, analysis.size
    factor, ratio = reduced_by = reduction(max(image.shape[:2]), size, SLACK)
    coarse = round(max(image.shape[:2]) // factor * ratio) < (1 - SLACK) * judged_at
    from_photo = reduced_by if image is rgb else reduction(max(rgb.shape[:2]), analysis.size, SLACK)
    sensor = measures.sensor_noise(rgb, _focus_channel)
    noise = measures.noise_after(sensor, *from_photo)
    if region.any():
        focus, away = _detail_focus(image, region, reduced_by, None if coarse else hairs, noise)
    else:
        focus = away = [0.0] * len(measures.DIRECTIONS)
    sharpness = measures.focus_across_rows_and_columns(focus)
    if coarse:
        return {"coarse_sharpness": sharpness}
    return {"sharpness": sharpness, "sharpness_balance": measures.focus_balance(away)}


def dermoscopy_measures(rgb: np.ndarray, size: int, detail_size: int | None = None) -> dict[str, float]:
    """All the dermoscopy measures of one RGB photo measured at ``size`` (see ``analysed_measures``)."""
    return analysed_measures(analyse(Frame(rgb, "measured"), MODALITY, size), detail_size)


def analysed_measures(analysis: FrameAnalysis, detail_size: int | None = None) -> dict[str, float]:
    """All the dermoscopy measures of an analysed frame, on its lesion.

    Each is measured at the smallest size that still shows its defect: framing, exposure and light
    on the segmentation's own copy (``LesionView.image``, at most ``lesion.WORK_SIZE``), where its
    masks were found; focus, sensor noise, hair and reflections, which live in the finest detail,
    on the working copy (``sharpness`` on the lesion's box only, see ``_focus``); compression on
    the photo itself, whose 8x8 block grid resampling would hide.
    """
    rgb, working = analysis.pixels, analysis.working
    if analysis.lesion is None:
        raise ValueError("not a colour picture large enough to measure (the gate refuses it first)")
    small, segmentation = analysis.lesion.image, analysis.lesion.segmentation
    lesion, field = segmentation.mask, segmentation.field
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    found = segmentation.found
    border_width = max(3, round(max(gray.shape) / 40)) | 1
    around_lesion = cv2.dilate(lesion.astype(np.uint8), _ellipse(border_width)).astype(bool) & field
    # Other lesions, hairs and freckles in the skin are pathology or anatomy, not lighting.
    around_skin = field & ~around_lesion
    skin = around_skin & (gray >= _SKIN_FLOOR * measures.level_percentile(gray, 50, around_skin))
    # Exposure is the skin's: a large dark melanoma or a pale lesion is pathology, not a wrong light.
    lit_skin = skin if np.count_nonzero(skin) >= _MIN_SKIN * np.count_nonzero(field) else field
    dark, _ = measures.clipped_fractions(gray, lit_skin)
    # Burnt-out skin around a lesion that kept its detail hides nothing; a burnt-out lesion does.
    _, bright = measures.clipped_fractions(gray, around_lesion if found else field)
    lesion_area = np.count_nonzero(lesion)
    off_centre = centroid_offset(lesion) if found else np.zeros(2)
    clearly_seen = found and segmentation.contrast >= _FRAMING_MIN_CONTRAST
    cut, pushed = _framing(lesion, field, off_centre) if clearly_seen else (0.0, 0.0)
    working_gray = cv2.cvtColor(working, cv2.COLOR_RGB2GRAY)
    # The field and the skin resampled to the working size once, for the reflections and the noise.
    working_field = mask_at_size(field, working.shape)
    working_skin = mask_at_size(skin, working.shape) if skin.any() else working_field
    hairs = _hairs_around_lesion(working_gray, around_lesion) if found else None
    return {
        "lesion_contrast": segmentation.contrast,
        "lesion_fraction": lesion_area / max(1, np.count_nonzero(field)),
        "lesion_pixels": lesion_area / lesion.size * rgb.shape[0] * rgb.shape[1],
        "lesion_cut": cut,
        "lesion_offset": _offset(off_centre, lesion.shape),
        "lesion_pushed": pushed,
        **_focus(analysis, around_lesion if found else field, detail_size, hairs),
        "highlights": _highlights(small, field),
        "brightness": measures.brightness(gray, lit_skin),
        "dark_fraction": dark,
        "bright_fraction": bright,
        "unevenness": measures.illumination_unevenness(
            cv2.extractChannel(small, 0), _lit_by(segmentation, around_skin), floor=_SKIN_FLOOR
        ),
        **_reflections(working, working_field, working_skin if lit_skin is skin else working_field),
        "hair_fraction": _hair_fraction(hairs, lesion, around_lesion),
        "noise": measures.noise_sigma(working_gray, working_skin & _away_from_surround(working_field)),
        **measures.compression(rgb[:, :, 1]),
    }


# The typical values are the medians of the tune-half originals (bench/quality_tune.py).
RULES = (
    Rule("no_lesion", "lesion_contrast", "min_lesion_contrast", 50.0),
    Rule("lesion_too_small", "lesion_fraction", "min_lesion_fraction", 0.151),
    Rule("lesion_too_small", "lesion_pixels", "min_lesion_pixels", 12424.0),
    Rule("lesion_cut", "lesion_cut", "max_lesion_cut", 0.0),
    Rule("lesion_off_centre", "lesion_offset", "max_lesion_offset", 0.103),
    Rule("lesion_off_centre", "lesion_pushed", "max_lesion_pushed", 0.0),
    Rule("too_dark", "highlights", "min_highlights", 0.816),
    Rule("too_dark", "dark_fraction", "max_dark_fraction", 0.0),
    Rule("too_bright", "brightness", "max_brightness", 0.687),
    Rule("too_bright", "bright_fraction", "max_bright_fraction", 0.0),
    # One of the two kinds of focus (``_focus``), by the photo's size.
    Rule("blurred", "sharpness", "min_sharpness", 0.72, one_of="focus"),
    Rule("blurred", "sharpness_balance", "min_sharpness_balance", 0.94, one_of="focus"),
    Rule("blurred", "coarse_sharpness", "min_coarse_sharpness", 0.66, one_of="focus"),
    Rule("uneven_illumination", "unevenness", "max_unevenness", 0.031),
    Rule("glare", "glare_fraction", "max_glare_fraction", 0.0),
    Rule("glare", "glare_spots", "max_glare_spots", 0.0),
    Rule("bubbles", "bubbles", "max_bubbles", 0.0),
    Rule("hair", "hair_fraction", "max_hair_fraction", 0.0),
    Rule("noisy", "noise", "max_noise", 0.579),
    Rule("compressed", "blockiness", "max_blockiness", 1.313),
    Rule("compressed", "flat_blocks", "max_flat_blocks", 0.0),
)

# Framing (where the lesion sits and whether the photo shows all of it), the pixels a border needs
# to be seen, skin crushed to black or a lesion burnt to white, skin at the top of the sensor's
# range, too little light, the light source reflected, hair over the lesion, a lesion that stands
# out from the skin at all, a photo full of air bubbles and JPEG blocks emptied of the skin's
# texture are the same for every dermatoscope: these limits are declared (config.py says why),
# never fitted to photos (``quality.fit``), nor to a device's own first photos (``edgescreen
# quality fit``: glare and bubbles are the immersion fluid's and the nurse's as much as the
# device's, hair, a faint lesion and how pale the skin is the patient's). Graded photos' framing
# has a long tail (lesions photographed against an edge), which a percentile would turn into
# limits that never fire; one camera's exposure, pale skin and glare, one clinic's hairiness, or
# one archive's small copies' bubbles and JPEG blocks, fitted, refuse another's graded photos.
PHYSICAL = frozenset(
    {
        "max_lesion_cut",
        "max_lesion_offset",
        "max_lesion_pushed",
        "min_lesion_fraction",
        "min_lesion_contrast",
        "min_lesion_pixels",
        "min_highlights",
        "max_dark_fraction",
        "max_bright_fraction",
        "max_brightness",
        "max_glare_fraction",
        "max_glare_spots",
        "max_hair_fraction",
        "max_bubbles",
        "max_flat_blocks",
    }
)


def assess_dermoscopy(
    analysis: FrameAnalysis, limits: DermoscopyQualityConfig, usable_from: float, detail_size: int | None = None
) -> QualityReport:
    """The dermoscopy verdict for one analysed frame; one with too little of it lit is ``too_dark``
    alone (what else the measures read on it, no lesion, no focus, follows from the dark, and the
    nurse needs the one fix: light), as a fundus photo with no field of view is ``no_field_of_view``."""
    measured = analysed_measures(analysis, detail_size)
    if analysis.lesion is not None and not analysis.lesion.segmentation.lit:
        return rejected(MODALITY, "too_dark", measured)
    return judge(MODALITY, RULES, measured, limits, usable_from)
