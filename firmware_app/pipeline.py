"""The screening flow: a frame goes in, a triage comes out.

Each stage is handed in by the composition root (``app.py``); this module only decides the order
and the rules between them, above all that an image the quality gate rejects is ``ungradable`` and
never reaches a ``no_refer``: the model is not even run on it, unless a research run is configured
(``[quality] research_run``), and then its score is kept but the outcome stays ``ungradable``.

Each frame is analysed once, right after calibration (``frame_analysis``): the gate judges that
analysis, and the model's crop and the lesion measurements reuse its field of view and lesion
instead of finding them again.

What the triage needs of a frame besides the model's run (its input: crop, resize, colour
constancy, quantisation; for dermoscopy the lesion's diameter and skin tone) needs the analysis but
not the gate's verdict. A frame screened on its own is the one to triage whatever the verdict, so
that is made on a worker thread while the gate judges the frame, and the costs overlap instead of
adding up (``bench/screen_path.py``); a burst's is made for the frame chosen, once chosen (making it
for every frame would cost a burst more than it saves). The record's archive JPEG of that frame is
started at the same moment (``Recorder.keep``). The model itself is only invoked once the
verdict is in: on a rejected frame it never runs (research runs aside), and what was made for it is
dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from edgescreen_wire.result import NOT_PHOTOGRAPHED
from firmware_app.calibration.apply import apply, calibration_id, mm_per_pixel
from firmware_app.calibration.profile import UNCALIBRATED, CalibrationProfile
from firmware_app.capture.frame import Frame
from firmware_app.events import image_ref, log_event
from firmware_app.frame_analysis import FrameAnalysis
from firmware_app.inference.card import OperatingPoint
from firmware_app.inference.model import Prediction, TriageModel
from firmware_app.inference.preprocess import FieldOfViewNotFound
from firmware_app.inference.triage import Triage, triage, ungradable
from firmware_app.lesion_measurements import LesionMeasurements, measure_segmented_lesion
from firmware_app.quality.burst import BurstChoice, best_frame
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.verdict import QualityReport, Verdict
from firmware_app.records.images import KeptPhoto
from firmware_app.records.screening import QualitySummary, ScreeningContext, ScreeningRecord, new_result_id


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

    @property
    def not_photographed(self) -> bool:
        """Recorded without a photo (``record_not_photographed``): the screens say so, not "retake"."""
        return NOT_PHOTOGRAPHED in self.quality.reasons


def log_subject(result: ScreeningResult) -> dict[str, str]:
    """How a log line names a screening: by its result id, or, when nothing records it, by the
    image's keyed reference; never by the file name (see ``firmware_app.events``)."""
    return {"result_id": result.result_id} if result.result_id else {"image": image_ref(result.source)}


@dataclass(frozen=True)
class TriageInputs:
    """What the triage of one analysed frame needs besides the model's run: the model's input, and
    for dermoscopy the lesion's measurements (``None`` when the frame has no lesion)."""

    model_input: np.ndarray
    lesion: LesionMeasurements | None


@dataclass(frozen=True)
class BurstCheck:
    """A burst after the full quality check: each frame as calibrated and analysed, its report, the
    choice, and for ``analysis`` the triage's inputs (being made on the pipeline's worker thread,
    see the module docstring) and, when a recorder is wired, the photo it keeps."""

    modality: str
    analyses: tuple[FrameAnalysis, ...]
    reports: tuple[QualityReport, ...]
    choice: BurstChoice
    triage_inputs: Future[TriageInputs]
    photo: KeptPhoto | None

    @property
    def analysis(self) -> FrameAnalysis:
        """The frame to triage, or (none passed) the first, which the record keeps; analysed once
        for the gate, and reused by the model and the lesion measurements."""
        return self.analyses[self.choice.kept]

    def inputs(self) -> TriageInputs:
        """The triage's inputs for ``analysis``, once made; what kept them from being made (no field
        of view, a model refused at loading) is raised here."""
        return self.triage_inputs.result()

    @property
    def frame(self) -> Frame:
        return self.analysis.frame

    @property
    def quality(self) -> QualityReport:
        """The chosen frame's report; when none passed, the defect most frames shared."""
        if self.choice.index is not None:
            return self.reports[self.choice.index]
        if len(self.reports) == 1:
            return self.reports[0]
        return QualityReport(self.modality, Verdict.REJECT, (self.choice.common_defect,))


class Recorder(Protocol):
    """Records one screening durably (result, photo, audit event, outbox row) or raises; see app.py.

    ``keep`` is told the frame as soon as it is known to be the one kept (a single frame's before
    the gate judges it, a burst's once chosen), so what the record needs of the photo alone (its
    archive JPEG) is made meanwhile, not after the model."""

    def keep(self, frame: Frame) -> KeptPhoto: ...

    def __call__(self, record: ScreeningRecord, photo: KeptPhoto | None) -> None:
        """Record ``record`` with ``photo``, or with none (an eye that could not be photographed)."""

    def close(self) -> None:
        """Stop making photos, once those started are made (``ScreeningPipeline.close``)."""


class ScreeningPipeline:
    """Screens frames of either modality: calibration, the quality gate, then the configured model.

    It owns worker threads (the input maker, the recorder's photo keeper): use it as ``with
    pipeline: ...``, or ``close`` it, where its owner stops (the app's ``Device.stop``)."""

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
        self._input_maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-input")

    def __enter__(self) -> ScreeningPipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the workers once what they were given is done (a checked burst's inputs, a kept
        photo): nothing is cut off half-made, and no thread outlives the pipeline."""
        self._input_maker.shutdown()
        if self._recorder is not None:
            self._recorder.close()

    @property
    def calibration(self) -> str:
        """The id of the profile this pipeline applies, or ``uncalibrated``: what its results say,
        which the app's readiness list holds against the profile file as it is now."""
        return calibration_id(self._calibration)

    def model(self, modality: str) -> TriageModel:
        """The model this pipeline triages ``modality`` with, loaded and verified on first use."""
        return self._model_for(modality)

    def screen(self, frame: Frame, modality: str, context: ScreeningContext | None = None) -> ScreeningResult:
        """Triage one frame and, when a recorder is wired, record it before returning the result."""
        return self.screen_burst([frame], modality, context)

    def screen_burst(
        self, frames: Sequence[Frame], modality: str, context: ScreeningContext | None = None
    ) -> ScreeningResult:
        """Triage the best frame of a burst; when none passes, an ``ungradable`` result whose reason
        is the defect most frames shared (the whole report when the burst is one frame)."""
        return self.screen_checked(self.check_burst(frames, modality), context)

    def check_burst(self, frames: Sequence[Frame], modality: str) -> BurstCheck:
        """The full quality check of every frame as calibrated and analysed, and the one to triage:
        what a nurse looks at before submitting (``screen_checked`` then uses it, and its analysis,
        without checking again)."""
        if not frames:
            raise ValueError("a burst needs at least one frame")
        if len(frames) == 1:
            return self._check_one(frames[0], modality)
        analyses = tuple(self._analyse(frame, modality) for frame in frames)
        reports = tuple(self._quality_gate.assess(analysis) for analysis in analyses)
        choice = best_frame(reports)
        return BurstCheck(modality, analyses, reports, choice, *self._start_keeping(analyses[choice.kept]))

    def _check_one(self, frame: Frame, modality: str) -> BurstCheck:
        """A single frame's check, its triage's inputs and photo made meanwhile (see the module
        docstring)."""
        analysis = self._analyse(frame, modality)
        started = self._start_keeping(analysis)
        reports = (self._quality_gate.assess(analysis),)
        return BurstCheck(modality, (analysis,), reports, best_frame(reports), *started)

    def _analyse(self, frame: Frame, modality: str) -> FrameAnalysis:
        return self._quality_gate.analyse(self.calibrate(frame), modality)

    def _start_keeping(self, analysis: FrameAnalysis) -> tuple[Future[TriageInputs], KeptPhoto | None]:
        """Start making what the triage and the record need of the frame kept: the triage's inputs
        (the input maker) and the archive photo (the recorder's keeper)."""
        triage_inputs = self._input_maker.submit(self._triage_inputs, analysis)
        return triage_inputs, self._recorder.keep(analysis.frame) if self._recorder is not None else None

    def _triage_inputs(self, analysis: FrameAnalysis) -> TriageInputs:
        """The model's input and the lesion's measurements from the analysed frame; a frame whose
        analysis found no field of view has none to crop (``FieldOfViewNotFound``), and it is not
        looked for again."""
        model = self._model_for(analysis.modality)
        field = analysis.located_field() if model.card.input.crops_to_field else None
        segmentation = analysis.lesion.segmentation if analysis.lesion is not None else None
        model_input = model.input_tensor(analysis.pixels, field, segmentation)
        lesion = None
        if analysis.lesion is not None:
            scale = mm_per_pixel(self._calibration, analysis.frame)
            lesion = measure_segmented_lesion(analysis.lesion, analysis.frame.width, scale, model.card)
        return TriageInputs(model_input, lesion)

    def screen_checked(self, checked: BurstCheck, context: ScreeningContext | None = None) -> ScreeningResult:
        """Triage (and record) the frame a burst check chose, or an ``ungradable`` when none passed."""
        modality, analysis, quality = checked.modality, checked.analysis, checked.quality
        frame = analysis.frame
        context = context or ScreeningContext()
        context.for_modality(modality)
        lesion = None
        if checked.choice.passed:
            inputs = checked.inputs()
            outcome = triage(*self._scored(modality, inputs))
            lesion = inputs.lesion
        else:
            outcome = self._research_triage(checked)
        result = ScreeningResult(frame.source, modality, outcome, quality, self.calibration, lesion=lesion)
        recorded = self._record(result, checked.photo, context)
        if not checked.choice.passed:
            _log_ungradable(recorded)
        return recorded

    def record_not_photographed(self, modality: str, context: ScreeningContext) -> ScreeningResult:
        """Record that the nurse could not photograph the eye at all, as "Record as not gradable"
        records a photo the gate rejected: ``ungradable`` (never ``no_refer``: nothing was screened),
        referred and sent to the specialist like any ungradable result, its one reason
        ``not_photographed`` a code like the gate's, and no photo, model or calibration."""
        context.for_modality(modality)
        quality = QualityReport(modality, Verdict.REJECT, (NOT_PHOTOGRAPHED,))
        recorded = self._record(ScreeningResult("", modality, ungradable(), quality), None, context)
        _log_ungradable(recorded)
        return recorded

    def calibrate(self, frame: Frame) -> Frame:
        """The frame as the device's calibrated camera sees it: what the quality gate must judge,
        also at preview (see ``capture_flow``)."""
        return apply(self._calibration, frame)

    def _research_triage(self, checked: BurstCheck) -> Triage:
        """``ungradable``; with a research run, the model's score too, where it can be computed at all."""
        if not self._research_run or checked.frame.source_channels < 3:
            return ungradable()
        try:
            inputs = checked.inputs()
        except FieldOfViewNotFound:
            return ungradable()
        return ungradable(*self._scored(checked.modality, inputs))

    def _scored(self, modality: str, inputs: TriageInputs) -> tuple[Prediction, OperatingPoint]:
        """The model's prediction on a frame's inputs, and the card's operating point to read it at."""
        model = self._model_for(modality)
        return model.predict_input(inputs.model_input), model.card.operating_point(self._operating_point)

    def _record(self, result: ScreeningResult, kept: KeptPhoto | None, context: ScreeningContext) -> ScreeningResult:
        """``result`` recorded with the photo ``kept`` (``None``: an eye not photographed, dated now)."""
        if self._recorder is None:
            return result
        quality = result.quality
        record = ScreeningRecord(
            new_result_id(),
            kept.frame.captured_at if kept else datetime.now(UTC),
            result.modality,
            result.triage,
            context,
            result.source,
            quality=QualitySummary(quality.verdict.value, quality.reasons, dict(quality.measures)),
            calibration_id=result.calibration if kept else None,
            lesion=result.lesion,
            photo_sha256=kept.frame.source_sha256 if kept else None,
        )
        self._recorder(record, kept)
        return dataclasses.replace(result, result_id=record.result_id)


def _log_ungradable(result: ScreeningResult) -> None:
    """One log line per ungradable result recorded, a photo rejected or an eye not photographed alike."""
    reasons = ",".join(result.quality.reasons)
    log_event("screen.ungradable", **log_subject(result), modality=result.modality, reasons=reasons)
