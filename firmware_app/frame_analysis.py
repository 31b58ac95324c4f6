"""One frame, analysed once: what the quality gate, the model's preprocessing and the lesion
measurements all start from.

Each of them used to find it again on its own copy: the fundus field of view was located by the
gate and again by the model's crop, the lesion segmented by the gate and again by the lesion
measurements, and every stage shrank the frame itself. A ``FrameAnalysis`` is made once per frame
(``analyse``), right after calibration, and handed down the pipeline: the gate measures it, the
model crops the field it located, the lesion measurements read the segmentation the gate judged.
It is an immutable value, so a burst's frames each keep their own, and nothing is ever stale.

The downscale pyramid: the gate's working copy (``working``), the segmentation's copy of it
(dermoscopy, ``lesion.image``), and the colour check's thumbnail of it (``thumbnail``), each
shrunk from the one before, so the frame's full resolution is averaged down once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.inference.preprocess import FieldOfView, FieldOfViewNotFound, find_field_of_view
from firmware_app.quality.lesion import WORK_SIZE, LesionSegmentation, segment_working_copy
from firmware_app.quality.resample import SLACK, block_average, shrink

# Colour is a large-scale property: a 128-pixel copy shows it as well as the full frame.
THUMBNAIL_SIZE = 128


@dataclass(frozen=True)
class LesionView:
    """The lesion as segmented once: ``image`` is the frame at the segmentation's working size
    (``quality.lesion.WORK_SIZE``), and the segmentation's masks have its height and width."""

    image: np.ndarray
    segmentation: LesionSegmentation


@dataclass(frozen=True)
class FrameAnalysis:
    """A calibrated frame and what every later stage needs of it, computed once.

    ``working`` is the frame at the gate's working ``size``: for a fundus, reduced by the largest
    whole factor that keeps its short side (about the field's diameter) at ``size`` or more; for
    dermoscopy, shrunk to ``size`` on its long side (or up to ``resample.SLACK`` less).
    ``field_of_view`` (fundus) is in the frame's own pixels, ``None`` when the frame has none;
    ``lesion`` (dermoscopy) is its segmentation. Both are ``None`` when the frame is not a colour
    picture big enough to measure (the gate refuses it).
    """

    frame: Frame
    modality: str
    size: int
    working: np.ndarray
    thumbnail: np.ndarray
    field_of_view: FieldOfView | None = None
    lesion: LesionView | None = None

    @property
    def pixels(self) -> np.ndarray:
        return self.frame.pixels

    def located_field(self) -> FieldOfView:
        """The fundus field of view; ``FieldOfViewNotFound`` when the frame has none."""
        if self.field_of_view is None:
            raise FieldOfViewNotFound("no bright field of view in the photo")
        return self.field_of_view


def measurable(pixels: np.ndarray, min_side: int) -> bool:
    """Whether a frame holds a colour picture large enough to be measured at all."""
    return pixels.ndim == 3 and pixels.shape[2] == 3 and min(pixels.shape[:2]) >= min_side


def fundus_reduction(shape: tuple[int, ...], size: int) -> int:
    """The whole factor a fundus frame is reduced by for a gate working at ``size``: the largest
    that keeps its short side (about the field's diameter) at ``size`` or more."""
    return max(1, min(shape[:2]) // size)


def _field_of_view(rgb: np.ndarray, working: np.ndarray, size: int, for_model: bool) -> FieldOfView | None:
    """The fundus field in the frame's own pixels. For the model, located on the whole frame, as
    the model's crop always was (the build trains on that crop); for a preview no model sees, on
    the working copy shrunk to ``size``, which costs a fraction at a live frame's rate."""
    try:
        if for_model:
            return find_field_of_view(rgb)
        located = shrink(working, size)
        found = find_field_of_view(located)
    except FieldOfViewNotFound:
        return None
    scale = working.shape[1] / located.shape[1] * fundus_reduction(rgb.shape, size)
    return FieldOfView(found.centre_x * scale, found.centre_y * scale, found.radius * scale)


def analyse(frame: Frame, modality: str, size: int, min_side: int = 1, for_model: bool = True) -> FrameAnalysis:
    """The analysis of one calibrated frame, for a gate working at ``size`` pixels; ``for_model``
    False for a preview, which no model crops."""
    rgb = frame.pixels
    if not measurable(rgb, min_side):
        return FrameAnalysis(frame, modality, size, rgb, rgb)
    if modality == "fundus":
        working = block_average(rgb, fundus_reduction(rgb.shape, size))
        field = _field_of_view(rgb, working, size, for_model)
        return FrameAnalysis(frame, modality, size, working, shrink(working, THUMBNAIL_SIZE), field)
    working = shrink(rgb, size, SLACK)
    small = shrink(working, WORK_SIZE, SLACK)
    lesion = LesionView(small, segment_working_copy(small))
    return FrameAnalysis(frame, modality, size, working, shrink(small, THUMBNAIL_SIZE), lesion=lesion)
