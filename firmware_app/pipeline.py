"""The screening flow: a frame goes in, a triage comes out.

Each stage is handed in by the composition root (``app.py``); this module only decides the order
and the rules between them, above all that an image the quality gate rejects is ``ungradable`` and
never reaches a ``no_refer``: the model is not even run on it, unless a research run is configured
(``[quality] research_run``), and then its score is kept but the outcome stays ``ungradable``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_app.capture.frame import Frame
from firmware_app.events import log_event
from firmware_app.inference.model import TriageModel
from firmware_app.inference.preprocess import FieldOfViewNotFound
from firmware_app.inference.triage import Triage, triage, ungradable
from firmware_app.quality.burst import best_frame
from firmware_app.quality.verdict import QualityReport, Verdict

QualityGate = Callable[[Frame, str], QualityReport]


@dataclass(frozen=True)
class ScreeningResult:
    source: str
    modality: str
    triage: Triage
    quality: QualityReport


class ScreeningPipeline:
    """Screens frames of either modality: the quality gate first, then the configured model."""

    def __init__(
        self,
        model_for: Callable[[str], TriageModel],
        operating_point: str | None,
        quality_gate: QualityGate,
        research_run: bool = False,
    ) -> None:
        self._model_for = model_for
        self._operating_point = operating_point
        self._quality_gate = quality_gate
        self._research_run = research_run

    def screen(self, frame: Frame, modality: str) -> ScreeningResult:
        return self._triage(frame, modality, self._quality_gate(frame, modality))

    def screen_burst(self, frames: Sequence[Frame], modality: str) -> ScreeningResult:
        """Triage the best frame of a burst; when none passes, an ``ungradable`` result whose
        reason is the defect most frames shared."""
        reports = [self._quality_gate(frame, modality) for frame in frames]
        choice = best_frame(reports)
        if choice.index is not None:
            return self._triage(frames[choice.index], modality, reports[choice.index])
        summary = QualityReport(modality, Verdict.REJECT, (choice.common_defect,) if choice.common_defect else ())
        log_event("screen.burst_rejected", frames=len(frames), common_defect=choice.common_defect)
        return ScreeningResult(frames[0].source if frames else "", modality, ungradable(), summary)

    def _triage(self, frame: Frame, modality: str, quality: QualityReport) -> ScreeningResult:
        if quality.passed:
            model = self._model_for(modality)
            operating_point = model.card.operating_point(self._operating_point)
            return ScreeningResult(
                frame.source, modality, triage(model.predict(frame.pixels), operating_point), quality
            )
        log_event("screen.ungradable", image=frame.source, modality=modality, reasons=",".join(quality.reasons))
        return ScreeningResult(frame.source, modality, self._research_triage(frame, modality), quality)

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
