"""The screening flow: a frame goes in, a triage comes out.

Each stage is handed in by the composition root (``app.py``); this module only decides the order
and the rules between them, above all that an image the quality gate rejects is ``ungradable`` and
never reaches a ``no_refer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firmware_app.calibration.apply import apply, calibration_id
from firmware_app.calibration.profile import UNCALIBRATED, CalibrationProfile
from firmware_app.capture.frame import Frame
from firmware_app.inference.model import TriageModel
from firmware_app.inference.triage import Triage, triage


class UnusableImage(ValueError):
    """The photo cannot be screened at all (e.g. greyscale); the message says why."""


@dataclass(frozen=True)
class ScreeningResult:
    source: str
    modality: str
    triage: Triage
    # The calibration profile's id applied to the frame, or "uncalibrated".
    calibration: str = UNCALIBRATED


class ScreeningPipeline:
    """Screens frames of either modality with the model that the configuration assigns to it."""

    def __init__(
        self,
        model_for: Callable[[str], TriageModel],
        operating_point: str | None,
        calibration: CalibrationProfile | None = None,
    ) -> None:
        self._model_for = model_for
        self._operating_point = operating_point
        self._calibration = calibration

    def screen(self, frame: Frame, modality: str) -> ScreeningResult:
        if frame.source_channels < 3:
            raise UnusableImage(f"{frame.source}: a greyscale photo cannot be screened; the models need colour")
        frame = apply(self._calibration, frame)
        model = self._model_for(modality)
        operating_point = model.card.operating_point(self._operating_point)
        outcome = triage(model.predict(frame.pixels), operating_point)
        return ScreeningResult(frame.source, modality, outcome, calibration_id(self._calibration))
