"""How a screening result is shown to people: one JSON object, or one line of text.

This is the local, full view (it names the image file). What leaves the device is built elsewhere,
from an allow-list (``sync/``).
"""

from __future__ import annotations

from typing import Any

from firmware_app.inference.card import Estimate
from firmware_app.inference.triage import Outcome
from firmware_app.messages import message
from firmware_app.pipeline import ScreeningResult
from firmware_app.quality.guidance import guidance
from firmware_app.quality.verdict import QualityReport


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {"value": estimate.value, "ci95": list(estimate.ci95)}


def quality_json(report: QualityReport) -> dict[str, Any]:
    return {"verdict": report.verdict.value, "reasons": list(report.reasons), "measures": dict(report.measures)}


def quality_line(report: QualityReport, language: str) -> str:
    """The verdict and, for each defect, what to do about it."""
    parts = [message(f"quality.verdict.{report.verdict.value}", language)]
    parts += [f"[{reason}] {text}" for reason, text in zip(report.reasons, _guidance(report, language), strict=True)]
    return "  ".join(parts)


def _guidance(report: QualityReport, language: str) -> list[str]:
    return guidance(report.reasons, report.modality, language)


def result_json(result: ScreeningResult, language: str) -> dict[str, Any]:
    triage = result.triage
    document: dict[str, Any] = {
        "image": result.source,
        "result_id": result.result_id,
        "modality": result.modality,
        "triage": triage.outcome.value,
        "score": triage.score,
        "threshold": triage.threshold,
        "operating_point": None,
        "model": None,
        "calibration": result.calibration,
        "advice": message(f"triage.{triage.outcome.value}", language),
        "quality": quality_json(result.quality),
        "disclaimer": message("disclaimer", language),
    }
    if triage.outcome is Outcome.UNGRADABLE:
        document["guidance"] = _guidance(result.quality, language)
    if triage.operating_point:
        point = triage.operating_point
        document["operating_point"] = {
            "name": point.name,
            "sensitivity": _estimate(point.sensitivity),
            "specificity": _estimate(point.specificity),
        }
    if triage.model:
        document["model"] = {"id": triage.model.id, "version": triage.model.version, "sha256": triage.model.sha256}
    if triage.research_only:
        document["research_only"] = True
    return document


def result_line(result: ScreeningResult, language: str) -> str:
    triage = result.triage
    parts = [result.source, result.modality, triage.outcome.value.upper()]
    if triage.score is not None and triage.operating_point and triage.model:
        point = triage.operating_point
        parts.append(
            f"score {triage.score:.3f} vs threshold {point.threshold:.3f} "
            f"({point.name}: sensitivity {point.sensitivity.value:.0%}, specificity {point.specificity.value:.0%})"
        )
        parts.append(f"model {triage.model.id} {triage.model.version}")
    if triage.research_only:
        parts.append("(research only)")
    parts.append(f"calibration {result.calibration}")
    parts.append(message(f"triage.{triage.outcome.value}", language))
    parts.append(quality_line(result.quality, language))
    return "  ".join(parts)
