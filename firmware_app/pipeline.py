"""The screening flow: a frame goes in, a triage comes out.

Each stage is handed in by the composition root (``app.py``); this module only decides the order
and the rules between them, above all that an image the quality gate rejects is ``ungradable`` and
never reaches a ``no_refer``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from firmware_app.calibration.apply import apply, calibration_id
from firmware_app.calibration.profile import UNCALIBRATED, CalibrationProfile
from firmware_app.capture.frame import Frame
from firmware_app.inference.model import TriageModel
from firmware_app.inference.triage import Triage, triage
from firmware_app.records.screening import ScreeningContext, ScreeningRecord, new_result_id


class UnusableImage(ValueError):
    """The photo cannot be screened at all (e.g. greyscale); the message says why."""


@dataclass(frozen=True)
class ScreeningResult:
    source: str
    modality: str
    triage: Triage
    # The calibration profile's id applied to the frame, or "uncalibrated".
    calibration: str = UNCALIBRATED
    # The random id the result is recorded (and synced) under; None when nothing records it.
    result_id: str | None = None


# Records one screening durably (result, image, audit event, outbox row) or raises; see app.py.
Recorder = Callable[[ScreeningRecord, Frame], None]


class ScreeningPipeline:
    """Screens frames of either modality with the model that the configuration assigns to it."""

    def __init__(
        self,
        model_for: Callable[[str], TriageModel],
        operating_point: str | None,
        calibration: CalibrationProfile | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self._model_for = model_for
        self._operating_point = operating_point
        self._calibration = calibration
        self._recorder = recorder

    def screen(self, frame: Frame, modality: str, context: ScreeningContext | None = None) -> ScreeningResult:
        """Triage one frame and, when a recorder is wired, record it before returning the result."""
        context = context or ScreeningContext()
        context.for_modality(modality)
        if frame.source_channels < 3:
            raise UnusableImage(f"{frame.source}: a greyscale photo cannot be screened; the models need colour")
        frame = apply(self._calibration, frame)
        model = self._model_for(modality)
        operating_point = model.card.operating_point(self._operating_point)
        outcome = triage(model.predict(frame.pixels), operating_point)
        result = ScreeningResult(frame.source, modality, outcome, calibration_id(self._calibration))
        if self._recorder is None:
            return result
        record = ScreeningRecord(
            new_result_id(),
            frame.captured_at,
            modality,
            outcome,
            context,
            frame.source,
            calibration_id=result.calibration,
        )
        self._recorder(record, frame)
        return dataclasses.replace(result, result_id=record.result_id)
