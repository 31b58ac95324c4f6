"""The quality gate's entry point: one frame, one modality, one of two speeds.

``preview`` measures a small copy (``[quality] preview_size``) and is cheap enough for every live
frame, to guide the nurse while aiming; ``full`` measures at ``[quality] full_size`` and decides
whether a captured frame may be triaged (a fundus field is measured at ``[quality.fundus]
field_size`` at most, its focus and noise at ``full_size``'s scale: ``working_size``). Whatever the
frame holds (black, white, greyscale, a few pixels) the answer is a ``QualityReport``, never an
exception.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from enum import StrEnum

import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.config import QualityConfig
from firmware_app.frame_analysis import FrameAnalysis, analyse
from firmware_app.quality import dermoscopy, fundus
from firmware_app.quality.colour import colour_defect, colour_measures
from firmware_app.quality.lesion import LesionSegmentation
from firmware_app.quality.measures import FLATTENED_BLOCKS_FROM
from firmware_app.quality.modality import REASON as WRONG_MODALITY
from firmware_app.quality.modality import retina_on_skin_visit
from firmware_app.quality.verdict import QualityReport, Rule, rejected

# (photo, working size, detail size) -> measures; bench/quality_tune.py reads these too.
MEASURES: dict[str, Callable[[np.ndarray, int, int | None], dict[str, float]]] = {
    "fundus": fundus.fundus_measures,
    "dermoscopy": dermoscopy.dermoscopy_measures,
}
RULES: dict[str, tuple[Rule, ...]] = {"fundus": fundus.RULES, "dermoscopy": dermoscopy.RULES}
# The settings that are geometry, or what any photo can show at all, not one camera's photography:
# declared, never fitted (``quality.fit``).
PHYSICAL: dict[str, frozenset[str]] = {"fundus": fundus.PHYSICAL, "dermoscopy": dermoscopy.PHYSICAL}
# Of those, the camera's own optics, which a camera's own fit may tighten (``quality.fundus``).
CAMERA_GEOMETRY: dict[str, frozenset[str]] = {"fundus": fundus.CAMERA_GEOMETRY, "dermoscopy": frozenset()}
# What a device's own fit (``edgescreen quality fit``) keeps at the defaults: the declared settings
# but the camera's own optics.
DEVICE_DECLARED: dict[str, frozenset[str]] = {
    modality: PHYSICAL[modality] - CAMERA_GEOMETRY[modality] for modality in PHYSICAL
}


class Speed(StrEnum):
    PREVIEW = "preview"
    FULL = "full"


# Defocus and too little light flatten 8x8 blocks as a JPEG quantiser does, but leave no block borders
# (``measures.FLATTENED_BLOCKS_FROM``): beside their own reasons, such flat blocks are theirs, and
# "over-compressed: set the camera to high quality" is a fix the nurse does not have.
_FLATTENING_TOO = frozenset({"blurred", "too_dark"})


def _without_confounded_compression(report: QualityReport, max_blockiness: float) -> QualityReport:
    """``report`` without ``compressed`` when the frame is also ``blurred`` or ``too_dark`` and its
    block borders do not show (under ``FLATTENED_BLOCKS_FROM`` and under their own limit); the
    verdict stands, refused for those reasons."""
    borders = report.measures.get("blockiness", math.inf)
    if (
        "compressed" not in report.reasons
        or not _FLATTENING_TOO & set(report.reasons)
        or borders >= min(FLATTENED_BLOCKS_FROM, max_blockiness)
    ):
        return report
    return dataclasses.replace(report, reasons=tuple(reason for reason in report.reasons if reason != "compressed"))


class QualityGate:
    """Judges frames against the configured limits (``[quality]``)."""

    def __init__(self, config: QualityConfig) -> None:
        self.config = config

    def working_size(self, modality: str, speed: Speed) -> int:
        """The size this speed's check measures at: the fundus field never larger than
        ``[quality.fundus] field_size`` (its focus is judged at ``full_size``'s scale, see ``assess``)."""
        size = self.config.full_size if speed is Speed.FULL else self.config.preview_size
        return min(size, self.config.fundus.field_size) if modality == "fundus" else size

    def measures(self, rgb: np.ndarray, modality: str, speed: Speed) -> dict[str, float]:
        """A photo's measures as this speed's check takes them, for fitting limits to photos: at a
        size below the full check's, focus is judged at the full check's scale (``MEASURES``)."""
        size = self.working_size(modality, speed)
        return MEASURES[modality](rgb, size, self.config.full_size if size < self.config.full_size else None)

    def analyse(self, frame: Frame, modality: str, speed: Speed = Speed.FULL) -> FrameAnalysis:
        """The frame analysed once at this speed's working size, for the gate and every later stage."""
        return analyse(frame, modality, self.working_size(modality, speed), self.config.min_image_side)

    def assess(self, analysis: FrameAnalysis, speed: Speed = Speed.FULL) -> QualityReport:
        """The verdict on a frame analysed at ``speed`` (``analyse``)."""
        frame, modality = analysis.frame, analysis.modality
        pixels = frame.pixels
        if frame.source_channels < 3 or pixels.ndim != 3 or pixels.shape[2] != 3:
            return rejected(modality, "greyscale")
        if min(pixels.shape[:2]) < self.config.min_image_side:
            return rejected(modality, "image_too_small")
        limits = self.config.limits(modality)
        colour = colour_measures(analysis.thumbnail)
        defect = colour_defect(colour, limits.min_colourfulness, limits.min_red_share)
        if defect:
            return rejected(modality, defect, colour)
        # A retina on a visit set to skin: the one thing to tell the nurse, before any lesion rule.
        if modality == "dermoscopy" and analysis.lesion is not None:
            retina = retina_on_skin_visit(colour, analysis.lesion.segmentation.field)
            if retina is not None:
                return rejected(modality, WRONG_MODALITY, retina)
        if speed is Speed.PREVIEW:
            limits = dataclasses.replace(limits, min_sharpness=limits.preview_min_sharpness)
        # The preview judges focus at the full check's scale, on part of the frame (see the gates).
        detail = self.config.full_size
        if modality == "fundus":
            report = fundus.assess_fundus(analysis, limits, self.config.usable_from, detail)
        else:
            report = dermoscopy.assess_dermoscopy(analysis, limits, self.config.usable_from, detail)
        return _without_confounded_compression(report, limits.max_blockiness)

    def check(self, frame: Frame, modality: str, speed: Speed = Speed.FULL) -> QualityReport:
        return self.assess(self.analyse(frame, modality, speed), speed)

    __call__ = check


def device_lesion(rgb: np.ndarray, config: QualityConfig | None = None) -> LesionSegmentation | None:
    """The lesion as the device segments a dermoscopy photo: the gate's own analysis of the frame
    (``[quality]`` defaults unless ``config``), on the same pixels. A model whose card crops to the
    segmentation (``lesion_box``, ``lit_field``) is shown this view by the build and by
    ``TriageModel.predict`` (a bundle's reference scores), as by the device's pipeline."""
    analysed = QualityGate(config or QualityConfig()).analyse(Frame(rgb, "photo"), "dermoscopy")
    return analysed.lesion.segmentation if analysed.lesion is not None else None
