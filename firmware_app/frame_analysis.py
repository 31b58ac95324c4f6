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
shrunk from the one before, so the frame's full resolution is averaged down once. A fundus frame
is only ever halved (``resample.halved_by``, OpenCV's fastest reduction): the working copy and the
copy its field of view is located on (one chain of halvings) and the thumbnail; the one fractional
resample left is the field's square to its measured size (``quality.fundus``). The thumbnail is
never resampled by a fraction: OpenCV's fractional area resampling costs about as much on a
128-pixel thumbnail (0.1-0.25 ms) as the colour check that reads it, where a halving costs a tenth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.inference.preprocess import FieldOfView, FieldOfViewNotFound, field_of_view_on, locating_factor
from firmware_app.quality.lesion import WORK_SIZE, LesionSegmentation, segment_working_copy
from firmware_app.quality.resample import SLACK, halved, halved_by, halving_factor, shrink

# Colour is a large-scale property: a 128-pixel copy shows it as well as the full frame, and so does
# a fundus frame halved to 64-127 pixels, or a skin photo's block averaged to up to ``SLACK`` under 128.
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

    ``working`` is the frame at the gate's working ``size``: for a fundus, halved as often as its
    short side (about the field's diameter) stays at ``size`` or more (``fundus_reduction``); for
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
    """The whole factor a fundus frame is reduced by for a gate working at ``size``: the frame is
    halved (``resample.halved``) as often as its short side (about the field's diameter) stays at
    ``size`` or more."""
    return halving_factor(min(shape[:2]), size)


def _halved_pair(rgb: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The fundus working copy, and the copy its field of view is located on with its factor: two
    levels of one chain of halvings of the frame, the larger halved from the frame and the smaller
    from it, so the field is the one ``find_field_of_view`` locates on the whole frame."""
    working_factor, located_factor = fundus_reduction(rgb.shape, size), locating_factor(rgb.shape)
    first_factor = min(working_factor, located_factor)
    first = halved_by(rgb, first_factor)
    working = halved_by(first, working_factor // first_factor)
    return working, halved_by(first, located_factor // first_factor), located_factor


def _field_of_view(located: np.ndarray, factor: int) -> FieldOfView | None:
    """The fundus field in the frame's own pixels, ``None`` when the frame has none."""
    try:
        return field_of_view_on(located, factor)
    except FieldOfViewNotFound:
        return None


def analyse(frame: Frame, modality: str, size: int, min_side: int = 1) -> FrameAnalysis:
    """The analysis of one calibrated frame, for a gate working at ``size`` pixels."""
    rgb = frame.pixels
    if not measurable(rgb, min_side):
        return FrameAnalysis(frame, modality, size, rgb, rgb)
    if modality == "fundus":
        working, located, located_factor = _halved_pair(rgb, size)
        field = _field_of_view(located, located_factor)
        thumbnail = halved(working, THUMBNAIL_SIZE // 2, max)[0]
        return FrameAnalysis(frame, modality, size, working, thumbnail, field)
    working = shrink(rgb, size, SLACK)
    small = shrink(working, WORK_SIZE, SLACK)
    lesion = LesionView(small, segment_working_copy(small))
    return FrameAnalysis(frame, modality, size, working, shrink(small, THUMBNAIL_SIZE, SLACK), lesion=lesion)
