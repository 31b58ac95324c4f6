"""What every dermoscopy result states beside the triage: the lesion's diameter and the skin's tone.

The diameter is the D of ABCDE (more than 6 mm matters): the lesion's largest Feret diameter (the
longest distance across it, whatever its shape) in millimetres, from the device's scale calibration;
without one, it is not guessed. A lesion that reaches the edge of the photo (or of the lit field)
may run on beyond it, and the gate passes one larger than the field: its diameter is then only the
visible part's, a lower bound, and is reported as "at least", never sent as the lesion's diameter.

The skin tone (ITA category) is measured in a ring of skin around the lesion, away from its fuzzy
border and inside the lit field, because dermoscopy models are less reliable on skin tones they were
not trained on, and the result must say when that is the case.

Both work on a copy at the lesion segmentation's working size, which is all a shape and a median
colour need; the diameter is scaled back to the frame's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from firmware_app.frame_analysis import LesionView
from firmware_app.inference.card import ModelCard
from firmware_app.inference.skin_tone import SkinTone, SkinToneUnmeasured, assess_skin_tone
from firmware_app.quality.lesion import (
    WORK_SIZE,
    LesionSegmentation,
    runs_to_edge,
    segment_lesion,
    segment_working_copy,
)
from firmware_app.quality.resample import shrink

D_OF_ABCDE_MM = 6.0
SCALED = "calibrated"
NO_SCALE = "no scale calibration"
# The ring of skin: from just outside the lesion's border (which fades into the skin) out to a
# width proportional to the lesion, as fractions of its equivalent diameter, with floors in pixels.
_RING_GAP, _RING_WIDTH = 0.08, 0.35
_MIN_GAP_PX, _MIN_WIDTH_PX = 2, 6


@dataclass(frozen=True)
class LesionMeasurements:
    """``diameter_mm`` is ``None`` without a scale (``scale`` says why) or without a lesion found;
    ``skin_tone`` is ``None`` when it cannot be measured, ``skin_tone_unmeasured`` then saying why
    (``skin_tone.TOO_LITTLE_SKIN`` around the lesion, or a ``COLOUR_CAST``). ``beyond_photo``: the
    lesion reaches the edge of the photo or of the lit field, so ``diameter_mm`` is a lower bound."""

    diameter_mm: float | None
    scale: str
    skin_tone: SkinTone | None
    # Where the lesion lies, as fractions of the frame (x, y, width, height): what a shared photo is
    # cropped to, so sharing never segments the frame a second time. Stays on the device.
    box: tuple[float, float, float, float] | None = None
    beyond_photo: bool = False
    skin_tone_unmeasured: str | None = None

    @property
    def over_6mm(self) -> bool | None:
        """Whether the lesion is wider than 6 mm; ``None`` when unknown (no diameter, or a lower
        bound of 6 mm or less)."""
        if self.diameter_mm is None or (self.beyond_photo and self.diameter_mm <= D_OF_ABCDE_MM):
            return None
        return self.diameter_mm > D_OF_ABCDE_MM

    @property
    def whole_diameter_mm(self) -> float | None:
        """The lesion's diameter when the photo shows all of it (what a result may send); else ``None``."""
        return None if self.beyond_photo else self.diameter_mm


def feret_diameter_px(mask: np.ndarray) -> float:
    """The longest distance across the region, edge to edge (0 for an empty mask)."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None:
        return 0.0
    hull = cv2.convexHull(points).reshape(-1, 2).astype(np.float64)
    distances = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=2)
    # Between pixel centres, plus the half pixel on each side that the outermost pixels cover.
    return float(distances.max()) + 1.0


def perilesional_ring(lesion: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Lit skin around the lesion; the whole lit field when no lesion was found.

    The ring is read off each pixel's exact distance to the lesion: one distance transform, where
    growing the lesion twice by discs dozens of pixels wide cost several times more."""
    if not lesion.any():
        return field
    size = np.sqrt(4 * np.count_nonzero(lesion) / np.pi)
    gap = max(_MIN_GAP_PX, round(_RING_GAP * size))
    outer = gap + max(_MIN_WIDTH_PX, round(_RING_WIDTH * size))
    # Distances matter only out to the ring's outer edge: they are computed on the lesion's box
    # grown by that much, which holds every lesion pixel, so each is the whole photo's distance.
    x, y, width, height = cv2.boundingRect(lesion.astype(np.uint8))
    box = slice(max(0, y - outer - 1), y + height + outer + 1), slice(max(0, x - outer - 1), x + width + outer + 1)
    distance = cv2.distanceTransform((~lesion[box]).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ring = np.zeros_like(lesion)
    ring[box] = (distance > gap) & (distance <= outer)
    return ring & field


def lesion_and_skin_ring(small: np.ndarray) -> tuple[LesionSegmentation, np.ndarray]:
    """The lesion in a photo at most ``WORK_SIZE`` wide, and the skin whose tone is measured.

    ``models/build/skin_tones.py`` measures the training images' skin tone through this too.
    """
    segmentation = segment_lesion(small)
    return segmentation, perilesional_ring(segmentation.mask, segmentation.field)


def measure_lesion(rgb: np.ndarray, mm_per_pixel: float | None, card: ModelCard) -> LesionMeasurements:
    """Diameter and skin tone of the lesion in a calibrated 8-bit RGB dermoscopy photo (see
    ``measure_segmented_lesion``)."""
    small = shrink(rgb, WORK_SIZE)
    return measure_segmented_lesion(LesionView(small, segment_working_copy(small)), rgb.shape[1], mm_per_pixel, card)


def measure_segmented_lesion(
    lesion: LesionView, frame_width: int, mm_per_pixel: float | None, card: ModelCard
) -> LesionMeasurements:
    """Diameter and skin tone of a lesion already segmented (the pipeline's ``frame_analysis``).

    ``mm_per_pixel`` is at the resolution of the frame, ``frame_width`` pixels wide
    (``calibration.apply.mm_per_pixel``); ``card`` is the model's, which says which skin tones it
    was trained on.
    """
    segmentation, small = lesion.segmentation, lesion.image
    ring = perilesional_ring(segmentation.mask, segmentation.field)
    diameter_mm = None
    if mm_per_pixel is not None and segmentation.found:
        to_frame = frame_width / small.shape[1]
        diameter_mm = round(feret_diameter_px(segmentation.mask) * to_frame * mm_per_pixel, 1)
    skin_tone, unmeasured = None, None
    try:
        skin_tone = assess_skin_tone(small, ring, card)
    except SkinToneUnmeasured as why:  # too few skin pixels (the lesion fills the field), or a colour cast
        unmeasured = why.reason
    return LesionMeasurements(
        diameter_mm,
        SCALED if mm_per_pixel is not None else NO_SCALE,
        skin_tone,
        lesion_box(segmentation.mask),
        segmentation.found and runs_to_edge(segmentation.mask, segmentation.field),
        unmeasured,
    )


def lesion_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """The mask's bounding box as fractions of the mask's size (scale-free: the mask is a small copy)."""
    if not mask.any():
        return None
    x, y, width, height = cv2.boundingRect(mask.astype(np.uint8))
    rows, columns = mask.shape[:2]
    return x / columns, y / rows, width / columns, height / rows
