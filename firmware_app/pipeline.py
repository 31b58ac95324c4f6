"""The screening flow: a frame goes in, a triage comes out.

Each stage is handed in by the composition root (``app.py``); this module only decides the order
and the rules between them, above all that an image the quality gate rejects is ``ungradable`` and
never reaches a ``no_refer``: the model is not even run on it, unless a research run is configured
(``[quality] research_run``), and then its score is kept but the outcome stays ``ungradable``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_app.calibration.apply import apply, calibration_id, mm_per_pixel
from firmware_app.calibration.profile import UNCALIBRATED, CalibrationProfile
from firmware_app.capture.frame import Frame
from firmware_app.events import image_ref, log_event
from firmware_app.inference.model import TriageModel
from firmware_app.inference.preprocess import FieldOfViewNotFound
from firmware_app.inference.triage import Triage, triage, ungradable
from firmware_app.lesion_measurements import LesionMeasurements, measure_lesion
from firmware_app.quality.burst import best_frame
from firmware_app.quality.verdict import QualityReport, Verdict
from firmware_app.records.screening import QualitySummary, ScreeningContext, ScreeningRecord, new_result_id

# Judges one frame of a modality (the quality gate's full check; see app.py).
QualityGate = Callable[[Frame, str], QualityReport]


@dataclass(frozen=True)
class ScreeningResult:
    source: str
    modality: str
    triage: Triage
    quality: QualityReport
    # The calibration profile's id applied to the frame, or "uncalibrated".
    calibration: str = UNCALIBRATED
    # The random id the result is recorded (and synced) under; None when nothing records it.
    result_id: str | None = None
    # Dermoscopy with a gradable frame: the lesion's diameter and the skin tone around it.
    lesion: LesionMeasurements | None = None


def log_subject(result: ScreeningResult) -> dict[str, str]:
    """How a log line names a screening: by its result id, or, when nothing records it, by the
    image's keyed reference; never by the file name (see ``firmware_app.events``)."""
    return {"result_id": result.result_id} if result.result_id else {"image": image_ref(result.source)}


# Records one screening durably (result, image, audit event, outbox row) or raises; see app.py.
Recorder = Callable[[ScreeningRecord, Frame], None]


class ScreeningPipeline:
    """Screens frames of either modality: calibration, the quality gate, then the configured model."""

    def __init__(
        self,
        model_for: Callable[[str], TriageModel],
        operating_point: str | None,
        quality_gate: QualityGate,
        calibration: CalibrationProfile | None = None,
        recorder: Recorder | None = None,
        research_run: bool = False,
    ) -> None:
        self._model_for = model_for
        self._operating_point = operating_point
        self._quality_gate = quality_gate
        self._calibration = calibration
        self._recorder = recorder
        self._research_run = research_run

    def screen(self, frame: Frame, modality: str, context: ScreeningContext | None = None) -> ScreeningResult:
        """Triage one frame and, when a recorder is wired, record it before returning the result."""
        return self.screen_burst([frame], modality, context)

    def screen_burst(
        self, frames: Sequence[Frame], modality: str, context: ScreeningContext | None = None
    ) -> ScreeningResult:
        """Triage the best frame of a burst; when none passes, an ``ungradable`` result whose reason
        is the defect most frames shared (the whole report when the burst is one frame)."""
        if not frames:
            raise ValueError("a burst needs at least one frame")
        context = context or ScreeningContext()
        context.for_modality(modality)
        calibrated = [self.calibrate(frame) for frame in frames]
        reports = [self._quality_gate(frame, modality) for frame in calibrated]
        choice = best_frame(reports)
        lesion = None
        if choice.index is not None:
            frame, quality = calibrated[choice.index], reports[choice.index]
            model = self._model_for(modality)
            outcome = triage(model.predict(frame.pixels), model.card.operating_point(self._operating_point))
            if modality == "dermoscopy":
                lesion = measure_lesion(frame.pixels, mm_per_pixel(self._calibration, frame), model.card)
        else:
            frame = calibrated[0]
            quality = (
                reports[0] if len(reports) == 1 else QualityReport(modality, Verdict.REJECT, (choice.common_defect,))
            )
            outcome = self._research_triage(frame, modality)
        result = ScreeningResult(
            frame.source, modality, outcome, quality, calibration_id(self._calibration), lesion=lesion
        )
        recorded = self._record(result, frame, context)
        if choice.index is None:
            reasons = ",".join(quality.reasons)
            log_event("screen.ungradable", **log_subject(recorded), modality=modality, reasons=reasons)
        return recorded

    def calibrate(self, frame: Frame) -> Frame:
        """The frame as the device's calibrated camera sees it: what the quality gate must judge,
        also at preview (see ``capture_flow``)."""
        return apply(self._calibration, frame)

    def _research_triage(self, frame: Frame, modality: str) -> Triage:
        """``ungradable``; with a research run, the model's score too, where it can be computed at all."""
        if not self._research_run or frame.source_channels < 3:
            return ungradable()
        model = self._model_for(modality)
        try:
            prediction = model.predict(frame.pixels)
        except FieldOfViewNotFound:
            return ungradable()
        return ungradable(prediction, model.card.operating_point(self._operating_point))

    def _record(self, result: ScreeningResult, frame: Frame, context: ScreeningContext) -> ScreeningResult:
        if self._recorder is None:
            return result
        quality = result.quality
        record = ScreeningRecord(
            new_result_id(),
            frame.captured_at,
            result.modality,
            result.triage,
            context,
            frame.source,
            quality=QualitySummary(quality.verdict.value, quality.reasons, dict(quality.measures)),
            calibration_id=result.calibration,
        )
        self._recorder(record, frame)
        return dataclasses.replace(result, result_id=record.result_id)
