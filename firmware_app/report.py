"""How a screening result is shown to people: one JSON object, or one line of text.

This is the local, full view (it names the image file). What leaves the device is built elsewhere,
from an allow-list (``sync/``).
"""

from __future__ import annotations

from typing import Any

from firmware_app.calibration.profile import UNCALIBRATED
from firmware_app.inference.card import Estimate
from firmware_app.inference.skin_tone import TOO_LITTLE_SKIN
from firmware_app.inference.triage import Outcome
from firmware_app.lesion_measurements import SCALED, LesionMeasurements
from firmware_app.messages import message, sentence
from firmware_app.pipeline import ScreeningResult
from firmware_app.quality.guidance import guidance, instructed
from firmware_app.quality.verdict import QualityReport
from firmware_app.wording import decimal


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {"value": estimate.value, "ci95": list(estimate.ci95)}


def quality_json(report: QualityReport) -> dict[str, Any]:
    return {"verdict": report.verdict.value, "reasons": list(report.reasons), "measures": dict(report.measures)}


def quality_line(report: QualityReport, language: str) -> str:
    """The verdict and, for each cause of defects, what to do about it (``guidance.instructed``)."""
    parts = [message(f"quality.verdict.{report.verdict.value}", language)]
    instructions = zip(instructed(report.reasons), _guidance(report, language), strict=True)
    parts += [f"[{reason}] {text}" for reason, text in instructions]
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
    if result.modality == "dermoscopy":
        document |= lesion_json(result.lesion)
    return document


def lesion_json(lesion: LesionMeasurements | None) -> dict[str, Any]:
    """``lesion`` and ``skin_tone`` of a dermoscopy result; both ``null`` when the frame was ungradable."""
    if lesion is None:
        return {"lesion": None, "skin_tone": None}
    tone = lesion.skin_tone
    return {
        "lesion": {
            "diameter_mm": lesion.diameter_mm,
            "diameter_at_least": lesion.beyond_photo,
            "over_6mm": lesion.over_6mm,
            "scale": lesion.scale,
        },
        "skin_tone": None
        if tone is None
        else {"ita_degrees": tone.ita_degrees, "category": tone.category, "coverage": tone.training_coverage},
    }


def lesion_line(lesion: LesionMeasurements, language: str, with_ita: bool = False) -> str:
    """The diameter (or why there is none) and the skin tone, with the training coverage: the
    category in words on the nurse's screen, the measured angle too (``with_ita``) on the command
    line's, whose reader records or checks it (the ITA in degrees meant nothing to a nurse)."""
    if lesion.diameter_mm is not None:
        key = "lesion.diameter_at_least" if lesion.beyond_photo else "lesion.diameter"
        parts = [message(key, language).format(diameter=decimal(lesion.diameter_mm, language))]
        if lesion.over_6mm:
            parts.append(message("lesion.over_6mm", language))
    else:
        parts = [message("lesion.no_scale" if lesion.scale != SCALED else "lesion.not_found", language)]
    tone = lesion.skin_tone
    if tone is None:
        parts.append(message(f"skin_tone.not_measured.{lesion.skin_tone_unmeasured or TOO_LITTLE_SKIN}", language))
    else:
        category = message("skin_tone.category_ita" if with_ita else "skin_tone.category", language)
        name = message(f"skin_tone.name.{tone.category}", language)
        parts.append(category.format(category=name, ita=f"{tone.ita_degrees:.0f}"))
        parts.append(message(f"skin_tone.{tone.training_coverage}", language))
    return " ".join(parts)


def result_line(result: ScreeningResult, language: str) -> str:
    triage = result.triage
    parts = [result.source, result.modality, triage.outcome.value.upper()]
    if triage.score is not None and triage.operating_point and triage.model:
        point = triage.operating_point
        parts.append(
            sentence(
                "result_line.score",
                language,
                score=decimal(triage.score, language, places=3),
                threshold=decimal(point.threshold, language, places=3),
                point=point.name,
                sensitivity=round(point.sensitivity.value * 100),
                specificity=round(point.specificity.value * 100),
            )
        )
        parts.append(sentence("result_line.model", language, model=triage.model.id, version=triage.model.version))
    if triage.research_only:
        parts.append(message("result_line.research_only", language))
    if result.calibration == UNCALIBRATED:  # said as the Records screen says it
        parts.append(message("records.uncalibrated", language))
    else:
        parts.append(sentence("result_line.calibration", language, calibration=result.calibration))
    parts.append(message(f"triage.{triage.outcome.value}", language))
    if result.lesion is not None:
        parts.append(lesion_line(result.lesion, language, with_ita=True))
    parts.append(quality_line(result.quality, language))
    return "  ".join(parts)
