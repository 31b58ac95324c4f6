"""Image-quality measures shared by both modalities: small pure functions, each one number.

Every measure takes an 8-bit grey (or RGB) image and a boolean ``mask`` of the region that matters
(the retinal field, the lesion, the skin), and looks only inside it, so that a black camera mask or
a vignetted corner never counts. The gates call them on a frame already resampled to a fixed working
size, which is what makes the numbers comparable between a 640x480 preview and a 12-megapixel
capture: a defect too fine to see at the working size is also too fine to matter to a model or a
grader looking at the whole field.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from firmware_app.quality.resample import SLACK, mask_at_size, shrink

# An 8-bit level this high is burnt out: the sensor's top, where no detail is left.
BURNT_OUT = 250
# Immerkaer's noise kernel: the difference of two Laplacians cancels image structure up to second
# order, so on smooth tissue what remains is the sensor noise. Its gain on white noise is 6.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_REBLUR = 9
# How far a ``directional_sharpness`` step's box reaches either side of the step, in pixels: what a
# region must be kept this far from for none of its steps to be counted.
STEP_REACH = _REBLUR - _REBLUR // 2
# ``directional_sharpness`` leaves out steps of this many 8-bit levels or fewer: on a heavily blurred
# field the pixel-to-neighbour steps are the rounding to 8 bits and a JPEG's ripple of a level or
# two, which a re-blur removes as it removes fine detail, so the blurrier the field the sharper it
# read (a Gaussian blur of 12 pixels on a 1280-pixel dr-600 photo, saved as a JPEG, above one of 4).
_ROUNDING_STEPS = 2


def _inside(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    selected = values[mask]
    return selected if selected.size else np.zeros(1, values.dtype)


def box_around(mask: np.ndarray, reach: int = 0) -> tuple[slice, slice]:
    """The box of a mask's pixels grown by ``reach`` on every side, within the image: a measure each
    of whose terms reads only pixels within ``reach`` of one in the mask is the same on that crop,
    at the cost of its area (a fundus field's square is a fifth corners and rows the frame cut off;
    reflections and hairs lie in one part of the frame)."""
    x, y, width, height = cv2.boundingRect(np.asarray(mask, bool).view(np.uint8))
    return slice(max(0, y - reach), y + height + reach), slice(max(0, x - reach), x + width + reach)


def connected_regions(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats`` of a mask (8-connected): count, labels, stats, centroids.

    With 16-bit labels whenever the mask cannot hold more regions than they number (8-connected
    regions are at least a pixel apart, so at most one per 2x2 block): OpenCV's 32-bit path costs
    about a millisecond more per call, whatever the mask holds (``bench/screen_path.py --profile``).
    """
    height, width = mask.shape
    most = ((height + 1) // 2) * ((width + 1) // 2)
    label_type = cv2.CV_16U if most < np.iinfo(np.uint16).max else cv2.CV_32S
    return cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8, ltype=label_type)


def touching_border(mask: np.ndarray, connectivity: int = 8) -> np.ndarray:
    """The regions of ``mask`` that touch the image's border (4- or 8-connected), as a mask: what
    reaches the frame's edge may lie mostly beyond it (a dermatoscope's dark surround), or be laid
    along it (a ruler's white marks). Flooding a one-pixel frame of the mask's value floods exactly
    those regions, at a fraction of labelling every region."""
    framed = cv2.copyMakeBorder(np.asarray(mask, bool).view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    cv2.floodFill(framed, None, (0, 0), 2, flags=connectivity)
    return framed[1:-1, 1:-1] == 2


def level_percentile(levels: np.ndarray, q: float, mask: np.ndarray | None = None) -> float:
    """``np.percentile(levels[mask], q)`` of 8-bit levels (``level_percentiles``)."""
    return level_percentiles(levels, (q,), mask)[0]


def level_percentiles(levels: np.ndarray, qs: Sequence[float], mask: np.ndarray | None = None) -> list[float]:
    """``np.percentile(levels[mask], q)`` of 8-bit levels for each of ``qs``, the same numbers (NaN
    when the mask is empty), read off one histogram: three times faster than numpy's partition of
    the pixels, and a second percentile of the same pixels costs next to nothing."""
    counts = cv2.calcHist([levels], [0], None if mask is None else mask.astype(np.uint8), [256], [0, 256])
    cumulative = np.cumsum(counts.ravel().astype(np.int64))
    total = int(cumulative[-1])
    if total == 0:
        return [float("nan")] * len(qs)
    return [_ranked_level(cumulative, total, q) for q in qs]


def _ranked_level(cumulative: np.ndarray, total: int, q: float) -> float:
    """The ``q``th percentile of levels whose cumulative histogram is ``cumulative``."""
    index = (total - 1) * (q / 100.0)
    below = math.floor(index)
    fraction = index - below
    # numpy's linear interpolation between the two ranks, computed its way round.
    low = float(np.searchsorted(cumulative, below, side="right"))
    high = float(np.searchsorted(cumulative, min(below + 1, total - 1), side="right"))
    return low + (high - low) * fraction if fraction < 0.5 else high - (high - low) * (1 - fraction)


def brightness(gray: np.ndarray, mask: np.ndarray) -> float:
    """Mean level in the region, 0 (black) to 1 (white)."""
    return float(_inside(gray, mask).mean()) / 255.0


def clipped_fractions(
    image: np.ndarray, mask: np.ndarray, dark: int = 12, bright: int = BURNT_OUT
) -> tuple[float, float]:
    """Fractions of the region crushed to black (< ``dark``) and burnt out (>= ``bright``).

    Clipped pixels hold no detail at all, whatever the model: these are the exposure defects that no
    processing can recover. ``image`` is one channel, chosen by the gate: a red retina burns out in
    its brightest channel long before it turns white, while pale skin always sits near the top of
    the red channel and is judged on its luminance.
    """
    values = _inside(image, mask)
    return np.count_nonzero(values < dark) / values.size, np.count_nonzero(values >= bright) / values.size


# The four directions ``directional_sharpness`` steps along (row, column): along rows, along
# columns, and both diagonals.
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def directional_sharpness(gray: np.ndarray, mask: np.ndarray) -> list[float]:
    """Focus along each of ``DIRECTIONS``: how much of the fine variation a deliberate re-blur
    removes (Crete-Roffet et al., "The blur effect", 2007), about 0.7 for a sharp retina or lesion
    and falling towards 0 as the frame blurs. Each pixel-to-neighbour step is compared with the same
    step after a 9-pixel box blur: a sharp frame loses most of its steps, an already blurred one
    little. A ratio of steps, it does not depend on exposure or on how much structure the region
    holds, but it does on scale: it is read at the gate's fixed working size, not the sensor's
    resolution. Sensor noise raises it (a re-blur takes a noise step away as it does fine detail),
    so the gates read it on a copy with the sensor's noise smoothed away (``without_noise``,
    ``sensor_noise``), and measure the noise on its own. A defocus lowers
    all four directions alike, a motion blur the one along its path most; rows and columns alone
    miss a slanted motion blur, which keeps the detail across its path.

    A diagonal step is 1.4 pixels long, so the diagonal box has 7 steps (9.9 pixels): about the
    length of the others, which keeps a sharp retina about as sharp along every direction. Steps of
    ``_ROUNDING_STEPS`` levels or fewer are rounding and compression, not detail, and are left out. The
    re-blur is never computed: the step of a box-blurred image is the difference of the box's two
    ends divided by its length, so each direction costs two shifted differences. Only steps whose
    whole box lies in ``mask`` count, so the field's black surround never does.

    On 8-bit levels, in whole numbers: a step minus its re-blurred step, times the box's length, is
    the step times the length minus the ends' difference, which 16 bits hold exactly and OpenCV's
    saturating subtraction floors at 0; steps outside the region are zeroed, so plain sums give the
    ratio of the region's means. Floats and masked means cost twenty times as much on a 510-pixel
    field (``bench/quality_speed.py``). Only the mask's box is read (``box_around``): a step and its
    box reach ``STEP_REACH`` pixels at most.
    """
    box = box_around(mask, STEP_REACH)
    image = np.asarray(gray, np.uint8)[box]
    inside = mask[box].astype(np.uint8) * np.uint8(255)
    height, width = image.shape
    margin = STEP_REACH
    if min(height, width) <= 2 * margin:
        return [0.0] * len(DIRECTIONS)

    def shifted(values: np.ndarray, by: int, step: tuple[int, int]) -> np.ndarray:
        rows, cols = by * step[0], by * step[1]
        return values[margin + rows : height - margin + rows, margin + cols : width - margin + cols]

    kept = []
    for step in DIRECTIONS:
        length = math.ceil(_REBLUR / math.hypot(*step))
        before, after = length // 2, length - length // 2
        region = cv2.bitwise_and(shifted(inside, -before, step), shifted(inside, after, step))
        steps = cv2.bitwise_and(cv2.absdiff(shifted(image, 1, step), shifted(image, 0, step)), region)
        _, steps = cv2.threshold(steps, _ROUNDING_STEPS, 0, cv2.THRESH_TOZERO)
        ends = cv2.absdiff(shifted(image, after, step), shifted(image, -before, step)).astype(np.uint16)
        scaled = steps.astype(np.uint16)
        scaled *= length
        total = cv2.sumElems(steps)[0] * length
        kept.append(cv2.sumElems(cv2.subtract(scaled, ends))[0] / total if total > 0 else 0.0)
    return kept


# Sensor noise raises ``directional_sharpness``: a re-blur takes away a noise step as it takes away
# fine detail, so a blurred frame under noise reads as sharp as a graded one (UDA-1 photos defocused
# at radius 8 per 1000 pixels, with Gaussian noise of 8 levels added: 29 of 30 passed). Focus is
# read instead on a copy whose noise is smoothed away by non-local means, which averages each pixel
# with those whose surroundings look alike, so that steps standing above the noise (a vessel's, a
# pigment network's) are kept and those within its reach are not. Its strength is
# ``_DENOISE_STRENGTH`` times the sensor's noise as it reaches that copy (``noise_after``), read at
# the photo's own resolution beyond ``_NOISE_FLOOR`` levels (``sensor_noise``): what a photo's own
# finest detail and its JPEG read as noise there (graded dr-600 photos at most 0.75; UDA-1's, and
# the archived sources' read at their own size, 0.5 to 0.8 at the median) is left as it is, as
# the floor of 1 level at the working size left it before: no graded photo's verdict moved
# (``bench/generalisation.py``, ``tests/expected/decisions.json``).
_NOISE_FLOOR = 1.0
_DENOISE_STRENGTH = 1.4
# Non-local means' patch and search window (``cv2.fastNlMeansDenoising``), in pixels: smaller than
# OpenCV's (7 and 21), at a fraction of the cost; the figures above were measured with these.
_DENOISE_PATCH, _DENOISE_SEARCH = 5, 11


def without_noise(image: np.ndarray, noise: float) -> np.ndarray:
    """``image`` (8-bit) with the sensor's ``noise`` as it reaches it (``noise_after``) smoothed
    away; ``image`` itself when there is none."""
    if noise <= 0.0:
        return image
    strength = _DENOISE_STRENGTH * noise
    return cv2.fastNlMeansDenoising(np.ascontiguousarray(image), None, strength, _DENOISE_PATCH, _DENOISE_SEARCH)


# The levels ``sensor_noise`` reads noise between (neither crushed nor burnt out), and the reach of
# the noise kernel, kept inside them.
_UNCLIPPED = (12, BURNT_OUT - 1)
_NOISE_REACH = np.ones((3, 3), np.uint8)


# A central tile with fewer usable pixels than this share (``_unclipped``) is mostly black or burnt
# out (a dark lesion, a shadow over a fundus's centre, a glare), and read as no noise at all: a blur
# under noise then passed (the bundled retina with a black disc of 300 pixels' radius at its centre,
# defocused under 8 levels, good). Graded photos' central tiles keep far more (on 300 of each source
# at least 93% on dr-600, 55% on UDA-1, 67% on ISIC 2017, 98% on HAM10000, 42% on APTOS's 224-pixel
# photos, their black corners within the tile), so they are read there as before.
_ENOUGH_UNCLIPPED = 0.25
# Where ``sensor_noise`` looks instead: tiles this share of the frame's smaller side from its centre,
# up, down, left and right, inside a round field that fits the frame (a fundus's, a dermatoscope's
# plate) and, but for the smallest photos, clear of the central tile.
_AROUND_CENTRE = 1 / 3
_AROUND = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _unclipped(tile: np.ndarray) -> np.ndarray:
    """Where ``tile``'s levels are neither crushed nor burnt out, nor next to a pixel that is
    (``_UNCLIPPED``, ``_NOISE_REACH``): clipping flattens the noise."""
    return cv2.erode(cv2.inRange(tile, _UNCLIPPED[0], _UNCLIPPED[1]), _NOISE_REACH)


def sensor_noise(photo: np.ndarray, levels: Callable[[np.ndarray], np.ndarray]) -> float:
    """The sensor's noise in 8-bit levels (``noise_sigma``) beyond what the photo's own detail reads
    as noise (``_NOISE_FLOOR``, in quadrature), read at the photo's own resolution on the one
    channel ``levels`` takes from a tile of it (``tile_at``): the central tile, or, when too little
    of it is neither black nor burnt out (``_ENOUGH_UNCLIPPED``), whichever of it and the four tiles
    around it (``_AROUND_CENTRE``) has the most that is. There a sensor's noise stands far above the
    detail: graded dr-600 photos read 0.4 to 0.75, with Gaussian noise of 2 levels added 2.0. At the
    gates' working size both read alike (0.6 to 1.1): the reduction averages the noise away and
    keeps the detail, so a defocused photo's noise read there was taken for a graded photo's detail
    and left in place."""
    tile = levels(central_tile(photo))
    kept = _unclipped(tile)
    if cv2.countNonZero(kept) < _ENOUGH_UNCLIPPED * kept.size:
        height, width = photo.shape[:2]
        reach = min(height, width) * _AROUND_CENTRE
        around = (levels(tile_at(photo, height // 2 + up * reach, width // 2 + left * reach)) for up, left in _AROUND)
        # The central tile first, its usable pixels as found: it is kept when no tile around it has more.
        tile, kept = max(
            ((tile, kept), *((candidate, _unclipped(candidate)) for candidate in around)),
            key=lambda read: cv2.countNonZero(read[1]),
        )
    reading = noise_sigma(tile, kept > 0)
    return math.sqrt(max(0.0, reading * reading - _NOISE_FLOOR * _NOISE_FLOOR))


# The side of the white-noise tile ``noise_after`` resamples to measure what area resampling keeps.
_WHITE_TILE = 256


@functools.cache
def _kept_by_area_resampling(side: int) -> float:
    """The share of white noise, as ``noise_sigma`` reads it, that area resampling of a
    ``_WHITE_TILE``-pixel tile to ``side`` pixels keeps: measured on a fixed tile of it, once per
    side."""
    white = np.random.default_rng(0).normal(128.0, 16.0, (_WHITE_TILE, _WHITE_TILE)).astype(np.float32)
    resampled = cv2.resize(white, (side, side), interpolation=cv2.INTER_AREA)
    return noise_sigma(resampled, np.ones(resampled.shape, bool)) / noise_sigma(white, np.ones(white.shape, bool))


def noise_after(noise: float, factor: int, ratio: float) -> float:
    """A photo's white ``noise`` (``sensor_noise``) as ``noise_sigma`` reads it on a copy reduced as
    ``resample.reduction`` says: block averaging by a whole ``factor`` divides it by the factor and
    leaves it white, while area resampling by the remaining ``ratio`` mixes each pixel with its
    neighbours and takes far more of the pixel-to-pixel noise than its ratio says (a ratio of 0.95
    keeps 42% of it, one of 0.61 40%), measured on white noise (``_kept_by_area_resampling``)."""
    kept = 1.0 if ratio >= 1.0 else _kept_by_area_resampling(max(1, round(_WHITE_TILE * ratio)))
    return noise * kept / factor


def focus_across_rows_and_columns(directional: list[float]) -> float:
    """The weaker of rows and columns (``directional_sharpness``'s first two ``DIRECTIONS``): the
    gates' ``sharpness``, beside ``focus_balance``."""
    return min(directional[:2])


def focus_balance(directional: list[float]) -> float:
    """The weakest direction's focus over the strongest's (``directional_sharpness``): about 0.9 or
    more where detail runs every way (vessels, a pigment network), whatever the camera's own
    softness, which lowers every direction alike; a hand that moved smears the detail along its
    path only. 0 when nothing has detail."""
    return min(directional) / max(directional) if max(directional) > 0 else 0.0


def detail_contrast(gray: np.ndarray, mask: np.ndarray) -> float:
    """Strength of structure (vessels, pigment network) relative to the mean level: a haze or a dirty
    lens lowers it. The standard deviation of the image minus its coarse version (averaged over
    4-pixel blocks, then smoothed: about an 8-pixel blur, at a sixteenth of the cost), over the mean."""
    image = gray.astype(np.float32)
    height, width = image.shape
    coarse = cv2.GaussianBlur(shrink(image, max(1, max(height, width) // 4)), (0, 0), 2.0)
    structure = image - cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    level = float(_inside(image, mask).mean())
    return float(_inside(structure, mask).std()) / level if level > 1.0 else 0.0


def illumination_map(gray: np.ndarray, mask: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The lighting of the region: ``gray`` blurred at ``sigma``, ignoring everything outside
    ``mask`` (normalised convolution, so a black surround does not darken the rim), returned at a
    reduced size with the reduced mask. Computed small because a blur this wide is costly at full
    size and carries no detail anyway.

    The masked levels and their weights are reduced together, as the two planes of one image, in
    one call instead of two: OpenCV's area reduction treats each plane as an image of its own. Not
    blurred together: the blur of a two-plane image differs from each plane's in float rounding."""
    factor = min(1.0, 2.0 / sigma)
    size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
    weights = mask.astype(np.float32)
    both = cv2.resize(cv2.merge([gray.astype(np.float32) * weights, weights]), size, interpolation=cv2.INTER_AREA)
    weighted, weights = cv2.split(both)
    blurred = cv2.GaussianBlur(weighted, (0, 0), sigma * factor)
    support = cv2.GaussianBlur(weights, (0, 0), sigma * factor)
    return blurred / np.maximum(support, 1e-3), weights > 0.5


def middle_value(values: np.ndarray) -> float:
    """``np.median`` of a flat array of finite numbers, the same number: the one or two middle
    values put in place by a partition, and their mean in the array's own precision as numpy takes
    it, without ``np.median``'s general machinery and its partition for a NaN check, which cost
    twice the partition itself on a region's few thousand values."""
    count = values.size
    if count == 0:
        return float("nan")
    half = count // 2
    if count % 2:
        return float(np.partition(values, half)[half])
    low, high = np.partition(values, (half - 1, half))[half - 1 : half + 1]
    return float((low + high) / 2)


def value_percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` of a flat array of finite numbers, the same number: the two
    values either side of its rank put in place by a partition, and numpy's linear interpolation
    between them in the array's own precision (from the upper one past half way), without
    ``np.percentile``'s general machinery, which costs as much again as the partition on a region's
    few thousand values (``middle_value`` is its median)."""
    rank = (values.size - 1) * (q / 100)
    if rank >= values.size - 1:
        return float(values.max())
    below = math.floor(rank)
    low, high = np.partition(values, (below, below + 1))[below : below + 2]
    fraction = rank - below
    step = high - low
    return float(high - step * (1 - fraction) if fraction >= 0.5 else low + step * fraction)


def _middle(counts: np.ndarray) -> float:
    """The median position of a mask's pixels along one axis, from their count in each row (or
    column): ``np.median`` of their row (or column) indices, without listing them."""
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    low = int(np.searchsorted(cumulative, (total - 1) // 2, side="right"))
    high = int(np.searchsorted(cumulative, total // 2, side="right"))
    return (low + high) / 2


def _capped_level_mean(counts: np.ndarray, cap: np.float32, floor: float) -> float | None:
    """The mean of the 8-bit levels counted in ``counts`` (a 256-bin histogram), each capped at
    ``cap``, leaving out (with a ``floor``) those darker than ``floor`` times their median; ``None``
    when nothing is counted. Numpy's float32 arithmetic on the pixels' values, done on 256 bins: the
    same median and limit, and the same mean whenever ``cap`` is a whole level (float32 adds whole
    levels exactly); otherwise the same to float32 rounding."""
    levels = np.arange(256, dtype=np.float32)
    above = levels > cap
    capped = int(counts[above].sum())
    counts = np.where(above, 0, counts)
    total = int(counts.sum()) + capped
    if total == 0:
        return None
    if floor > 0:
        cumulative = np.cumsum(counts)

        def ranked(rank: int) -> np.float32:
            return levels[np.searchsorted(cumulative, rank, side="right")] if rank < cumulative[-1] else cap

        median = (ranked((total - 1) // 2) + ranked(total // 2)) / np.float32(2)
        least = np.float32(floor) * median
        counts = np.where(levels >= least, counts, 0)
        capped = capped if cap >= least else 0
    kept = int(counts.sum()) + capped
    return float(np.float32(float(counts @ levels.astype(np.float64)) + capped * float(cap)) / np.float32(kept))


def illumination_unevenness(gray: np.ndarray, mask: np.ndarray, floor: float = 0.0) -> float:
    """How much darker the darkest half of the region (left, right, top or bottom) is than the
    brightest one: 0 even, 1 black on one side. Levels are capped at the region's 90th percentile
    first, so a bright optic disc or a pale lesion does not pass for uneven light. Lighting is a
    large-scale property, so it is judged on a copy at most 128 pixels wide, or up to
    ``resample.SLACK`` less where a whole-factor block average lands there (the gates' 253- to
    256-pixel copies halve to it; resampled by a fraction, the copy cost as much as the rest).

    With a ``floor``, each half leaves out what is darker than ``floor`` times its own median: dark
    spots (another lesion, hairs) are set aside, while a half the light leaves darker keeps its
    skin, which a floor taken on the whole region would set aside with them.

    ``gray`` is 8-bit: each half's median and mean are read off its histogram
    (``_capped_level_mean``), where listing and sorting the pixels cost four times as much."""
    small = shrink(gray, 128, SLACK)
    inside = mask_at_size(mask, small.shape).astype(np.uint8)
    per_row = np.count_nonzero(inside, axis=1)
    if not per_row.any():
        return 1.0
    cap = np.float32(level_percentile(small, 90, inside))
    below = math.ceil(_middle(per_row))
    right_of = math.ceil(_middle(np.count_nonzero(inside, axis=0)))
    halves = [
        (slice(None), slice(None, right_of)),
        (slice(None), slice(right_of, None)),
        (slice(None, below), slice(None)),
        (slice(below, None), slice(None)),
    ]
    means = []
    for half in halves:
        if not inside[half].size:
            continue
        counts = cv2.calcHist([small[half]], [0], inside[half], [256], [0, 256]).ravel().astype(np.int64)
        mean = _capped_level_mean(counts, cap, floor)
        if mean is not None:
            means.append(mean)
    return float(1.0 - min(means) / max(means)) if max(means) > 1.0 else 1.0


# A pixel's three channels as a window along the interleaved row, anchored at its first (red).
_ONE_PIXEL = np.ones((1, 3), np.uint8)


def _over_channels(rgb: np.ndarray, extreme: Callable[..., np.ndarray]) -> np.ndarray:
    """Each pixel's extreme channel by OpenCV's dilation (``cv2.dilate``: the brightest) or erosion
    (``cv2.erode``: the darkest) of the 8-bit image read as one channel, its rows interleaved
    (R, G, B, R, ...): a window three values wide anchored at each pixel's red covers exactly its
    three channels, and every third value is the pixel's, picked by OpenCV's channel extraction
    (numpy's strided copy of every third value costs half as much again). Splitting the channels
    to compare them costs five times as much (the same values)."""
    height, width = rgb.shape[:2]
    interleaved = np.ascontiguousarray(rgb).reshape(height, -1)
    return cv2.extractChannel(extreme(interleaved, _ONE_PIXEL, anchor=(0, 0)).reshape(height, width, 3), 0)


def brightest_channel(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's brightest channel: where any colour clips first, and what stays black only when
    every channel is black."""
    return _over_channels(rgb, cv2.dilate)


def channel_extremes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's brightest and darkest channel (``brightest_channel``): how much colour the pixel
    holds."""
    return _over_channels(rgb, cv2.dilate), _over_channels(rgb, cv2.erode)


def specular_mask(
    rgb: np.ndarray, level: int = 235, max_saturation: float = 0.2, lift: int = 30, field: np.ndarray | None = None
) -> np.ndarray:
    """Specular reflections: pixels near white, colourless, and at least ``lift`` levels brighter
    than their surroundings (within the lit ``field`` when given, ``_background``). Tissue under a
    fundus camera or a dermatoscope is coloured, and a reflection is a spot on it; a frame that is
    pale all over is an exposure problem, not glare."""
    return specular_in_extremes(*channel_extremes(rgb), level, max_saturation, lift, field)


def specular_in_extremes(
    brightest: np.ndarray,
    darkest: np.ndarray,
    level: int = 235,
    max_saturation: float = 0.2,
    lift: int = 30,
    field: np.ndarray | None = None,
) -> np.ndarray:
    """``specular_mask`` of the photo whose ``channel_extremes`` these are: a gate that has them
    already (the fundus gate's lit field and exposure read the brightest channel) splits the
    channels once.

    Each test is made on the 8-bit levels by OpenCV, and is the same test as in real numbers: the
    darkest channel a pixel of each brightest level needs to be colourless is that level times
    ``1 - max_saturation`` rounded up (a table), and the lift a subtraction floored at 0 (``lift``
    is positive). Floats and 16-bit differences of whole frames cost twice as much.

    The surroundings (``_background``, the costly part) are read only when some pixel is near white
    and colourless: a retina's field almost never holds one (1 of 60 dr-600 photos), nor do about
    half of the dermoscopy photos, and without one nothing can be a reflection however lifted."""
    least_darkest = np.ceil(np.arange(256) * (1.0 - max_saturation)).astype(np.uint8)
    colourless = cv2.compare(darkest, cv2.LUT(brightest, least_darkest), cv2.CMP_GE)
    near_white = cv2.compare(brightest, level, cv2.CMP_GE)
    candidates = cv2.bitwise_and(near_white, colourless)
    if not cv2.countNonZero(candidates):
        return np.zeros(brightest.shape, bool)
    lifted = cv2.compare(cv2.subtract(brightest, _background(brightest, field)), lift, cv2.CMP_GE)
    return cv2.bitwise_and(candidates, lifted) > 0


def _background(brightest: np.ndarray, field: np.ndarray | None) -> np.ndarray:
    """The level around each pixel: ``brightest`` blurred far wider than a reflection (a twentieth
    of the long side), on a 64-pixel copy. With the lit ``field``, the blur weighs its pixels only
    (a normalised convolution): a dermatoscope's black ring, a scanner's black border or a
    letterbox would otherwise pull the level beside them down, and pale skin there would stand out
    from it as reflections do (a border of black read as a row of air bubbles)."""
    height, width = brightest.shape
    # With the field, its pixels alone are averaged down, in 8 bits (the lit share as 0-255).
    lit = None if field is None else field.astype(np.uint8) * np.uint8(255)
    small = shrink(brightest if lit is None else cv2.bitwise_and(brightest, brightest, mask=lit), 64)
    sigma = max(height, width) / 20 * small.shape[1] / width
    if lit is None:
        blurred = cv2.GaussianBlur(small, (0, 0), sigma)
    else:
        weight = cv2.GaussianBlur(shrink(lit, 64).astype(np.float32), (0, 0), sigma)
        levels = cv2.GaussianBlur(small.astype(np.float32), (0, 0), sigma)
        blurred = np.clip(255.0 * levels / np.maximum(weight, 1e-3), 0, 255).round().astype(np.uint8)
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def noise_sigma(gray: np.ndarray, mask: np.ndarray) -> float:
    """The sensor noise's standard deviation in 8-bit levels, by Immerkaer's fast estimator (the
    mean absolute response of a kernel that cancels smooth image structure)."""
    response = np.abs(cv2.filter2D(gray.astype(np.float32), -1, _NOISE_KERNEL))
    return float(_inside(response, mask).mean()) * np.sqrt(np.pi / 2) / 6.0


def central_tile(image: np.ndarray, side: int = 256) -> np.ndarray:
    """The frame's central ``side``-pixel tile (``tile_at``). A tile is its own central tile (a view
    of it, no copy)."""
    height, width = image.shape[:2]
    return tile_at(image, height // 2, width // 2, side)


def tile_at(image: np.ndarray, row: float, column: float, side: int = 256) -> np.ndarray:
    """The frame's ``side``-pixel tile centred on ``row`` and ``column`` as near as the 8x8 JPEG
    block grid and the frame's edges allow (its 8-bit levels or pixels, contiguous)."""
    height, width = image.shape[:2]
    top = min((int(row) - side // 2) // 8 * 8, (height - side) // 8 * 8)
    left = min((int(column) - side // 2) // 8 * 8, (width - side) // 8 * 8)
    return np.ascontiguousarray(image[max(0, top) : max(0, top) + side, max(0, left) : max(0, left) + side])


def blockiness(gray: np.ndarray) -> float:
    """How much stronger the steps across 8x8 JPEG block borders are than the steps inside blocks:
    about 1 for a natural image, well above 1 for a heavily compressed one.

    Measured on the frame at its own resolution (the block grid is lost once resampled); only a
    central 256-pixel tile is read, so the cost does not grow with the sensor size.
    """
    tile = central_tile(gray)
    steps_x, steps_y = cv2.absdiff(tile[:, 1:], tile[:, :-1]), cv2.absdiff(tile[1:], tile[:-1])
    on_border_x, on_border_y = steps_x[:, 7::8], steps_y[7::8, :]
    # On the 8-bit levels: the steps are whole numbers, their sums (under 2**24 on a 256-pixel
    # tile) exact in float32, in which the ratio is taken.
    total_x, total_y, border_x, border_y = (
        np.float32(steps.sum()) for steps in (steps_x, steps_y, on_border_x, on_border_y)
    )
    inside = (total_x - border_x + total_y - border_y) / max(
        1, steps_x.size - on_border_x.size + steps_y.size - on_border_y.size
    )
    border = (border_x + border_y) / max(1, on_border_x.size + on_border_y.size)
    # One level added to both keeps a flat tile (a sky, a white frame) at about 1.
    return float((border + 1.0) / (inside + 1.0))


# Blocks flattened by a JPEG quantiser keep their borders against their neighbours; blocks made flat
# by defocus or by too little light do not. Beside those reasons, flat blocks count as compression
# only where the borders show (``gate``): between what defocused or darkened copies of graded photos
# read (at most 1.28) and their copies at JPEG quality 15, 8 and 4 (from 1.71), by
# bench/flattened_blocks.py on 60 photos of each source. A dim photo compressed hard can read under
# it, so flat blocks are measured whatever the borders, and compression stays its reason elsewhere.
FLATTENED_BLOCKS_FROM = 1.5


def compression(gray: np.ndarray) -> dict[str, float]:
    """``blockiness`` and ``flat_blocks`` (``flat_block_fraction``) of a frame's 8-bit levels (the
    gates read its green), both on the one central tile copied out of it."""
    tile = central_tile(gray)
    return {"blockiness": blockiness(tile), "flat_blocks": flat_block_fraction(tile)}


def flat_block_fraction(gray: np.ndarray, flat: float = 2.0, dark: int = 24, bright: int = BURNT_OUT) -> float:
    """Share of the lit 8x8 JPEG blocks of the central tile that hold no detail at all (at most
    ``flat`` levels from darkest to brightest): what a compression too strong for grading leaves.

    Visible block borders (``blockiness``) are harmless while each block keeps its detail, as in the
    MJPEG stream of a UVC camera; once the quantiser has flattened most blocks, vessels and pigment
    network are gone. Crushed and burnt-out blocks are flat for another reason and are not counted.
    """
    tile = central_tile(gray)
    rows, cols = tile.shape[0] // 8 * 8, tile.shape[1] // 8 * 8
    # Each block's darkest and brightest level: an 8x8 erosion and dilation anchored at the block's
    # first pixel, read at every eighth; twenty times faster than numpy's reduction over blocks.
    whole, block = tile[:rows, :cols], np.ones((8, 8), np.uint8)
    low = cv2.erode(whole, block, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)[::8, ::8]
    high = cv2.dilate(whole, block, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)[::8, ::8]
    lit = (low >= dark) & (high < bright)
    return float(((high - low) <= flat)[lit].mean()) if lit.any() else 0.0
