"""A result payload in plain words for the specialist: every field, named, with its meaning.

The operating point is found in the station's copy of the model card (same id, version and file
hash, and the threshold the device applied), so the page can say what that threshold measured on
the model's held-out test split. A model the station does not know is said to be unknown, not guessed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from edgescreen_wire.checks import parse_utc_seconds
from edgescreen_wire.result import NOT_PHOTOGRAPHED, could_not_photograph
from firmware_app.inference.card import CardError, ModelCard, OperatingPoint, read_card
from firmware_app.inference.model import CARD_FILE
from firmware_app.messages import message
from review_station.dating import CAPTURE, PROJECT_START, after_arrival, before_project
from review_station.web.words import number
from review_station.words import code, say

QUALITY_VERDICTS = ("good", "usable", "reject")

# The words of every row are the station's catalogue's (``review_station/words.py``), in the reader's
# language; the quality gate's verdict is worded for the reader ("describe.quality.*"): the nurse's
# sentences ("Image quality: ...; retake the photo") repeated the row's label and told the specialist to retake.


@lru_cache(maxsize=64)
def _card(directory: Path, model_id: str) -> ModelCard | None:
    try:
        return read_card(directory / model_id / CARD_FILE)
    except CardError:
        return None


def operating_point(directory: Path, model: dict[str, Any] | None, threshold: float | None) -> OperatingPoint | None:
    if model is None or threshold is None:
        return None
    card = _card(directory, model["id"])
    if card is None or (card.version, card.sha256) != (model["version"], model["sha256"]):
        return None
    return next((p for p in card.operating_points.values() if abs(p.threshold - threshold) < 1e-6), None)


def _estimate(name: str, point: OperatingPoint, language: str) -> str:
    estimate = getattr(point, name)
    low, high = estimate.ci95
    percent = {
        key: number(value * 100, language) for key, value in (("value", estimate.value), ("low", low), ("high", high))
    }
    return say("describe.estimate", language, **percent)


def _words(code: str) -> str:
    return code.replace("_", " ")


# The device's own word on its clock when it recorded the result (edgescreen_wire.result's ``clock``).
CLOCKS = ("unsynchronised", "before_build", "future")


def _utc(moment: datetime, language: str) -> str:
    return say("describe.utc", language, when=moment.strftime("%Y-%m-%d %H:%M:%S"))


def _span(delta: timedelta, language: str) -> str:
    """A time difference in the unit a reader takes in at once."""
    if delta >= timedelta(days=2):
        return say("describe.days", language, count=delta.days)
    if delta >= timedelta(hours=2):
        return say("describe.hours", language, count=f"{delta.total_seconds() / 3600:.0f}")
    return say("describe.minutes", language, count=f"{delta.total_seconds() / 60:.0f}")


def time_rows(
    payload: dict[str, Any], received_at: datetime, dated_from: str, language: str = "en"
) -> list[tuple[str, str]]:
    """The device's time with what its clock was worth, and the time the station dates the result by:
    its stored ``dated_from`` (``review_station.dating``), the choice the worklist ordered it by, so a
    reader never takes an impossible or doubtful time for the real one."""
    captured_at, clock = parse_utc_seconds(payload["captured_at"]), payload.get("clock")
    doubts = [] if clock is None else [say(f"describe.clock.{clock if clock in CLOCKS else 'other'}", language)]
    if after_arrival(captured_at, received_at):
        doubts.append(say("describe.after_arrival", language, span=_span(captured_at - received_at, language)))
    if before_project(captured_at):
        doubts.append(say("describe.before_project", language, day=f"{PROJECT_START:%Y-%m-%d}"))
    captured = _utc(captured_at, language)
    if dated_from == CAPTURE:
        dated = say("describe.dated_capture", language, when=captured)
    else:
        dated = say("describe.dated_arrival", language, when=_utc(received_at, language))
    if doubts:
        captured = say(
            "describe.doubted", language, when=captured, doubts=say("describe.doubts_joint", language).join(doubts)
        )
    return [(say("figure.captured", language), captured), (say("figure.dated", language), dated)]


def photographed(modality: str, eye: str | None, body_site: str | None, language: str = "en") -> str:
    """Which eye, or where on the skin, the photo was taken: the body site the nurse chose, in the
    specialist's anatomy (``body_site.*``, as the dashboard says it too). The same words on the result
    page and in each worklist row, so the reader finds in the list the eye or lesion the page shows."""
    if modality == "fundus":
        return say(f"describe.eye.{eye}", language) if eye else say("describe.not_recorded", language)
    return code("body_site", body_site, language) if body_site else say("describe.not_recorded", language)


def describe(
    payload: dict[str, Any], models_directory: Path, received_at: datetime, dated_from: str, language: str = "en"
) -> list[tuple[str, str]]:
    """(label, value) rows, in the order a specialist reads them, in ``language``; ``received_at``: the
    result's arrival, ``dated_from``: which time dates it (``results.dated_from``)."""

    def row(label: str, value: str) -> None:
        rows.append((say(f"figure.{label}", language), value))

    def said(key: str, **values: Any) -> str:
        return say(key, language, **values)

    rows: list[tuple[str, str]] = []
    # An eye the nurse could not photograph: no photo was refused, no model run, nothing calibrated.
    unphotographed = could_not_photograph(payload["quality"])
    triage = "not_photographed" if unphotographed else payload["triage"]
    row("triage", said(f"describe.triage.{triage}"))
    row("modality", said(f"describe.{'fundus' if payload['modality'] == 'fundus' else 'dermoscopy'}"))
    modality, eye, body_site = payload["modality"], payload["eye"], payload["body_site"]
    row("eye" if modality == "fundus" else "body_site", photographed(modality, eye, body_site, language))
    rows += time_rows(payload, received_at, dated_from, language)
    score, threshold = payload["score"], payload["threshold"]
    not_run = said("describe.not_run.no_photo" if unphotographed else "describe.not_run")
    row("score", not_run if score is None else number(score, language, 3))
    row("threshold", said("describe.none") if threshold is None else number(threshold, language, 3))
    model = payload["model"]
    shown_model = (
        said("describe.model", id=model["id"], version=model["version"], sha=model["sha256"][:12])
        if model
        else said("describe.none")
    )
    row("model", shown_model)
    point = operating_point(models_directory, model, threshold)
    if point is not None:
        row("operating_point", said("describe.operating_point", name=code("point", point.name, language)))
        row("sensitivity", _estimate("sensitivity", point, language))
        row("specificity", _estimate("specificity", point, language))
    elif model is not None:
        named = f"{code('point', payload['operating_point'], language)}, " if payload.get("operating_point") else ""
        row("operating_point", said("describe.unknown_point", named=named))
    quality = payload["quality"]
    if quality is None:
        row("quality", said("describe.not_checked"))
    else:
        row("quality", _quality(quality["verdict"], payload, language))
        for reason in quality["reasons"]:
            row("defect", code("defect", reason, language))
        for name, value in sorted(quality["measures"].items()):
            rows.append(
                (f"  {code('measure', name, language)}", number(float(f"{value:.3g}"), language, _places(value)))
            )
    rows += _result_v2_rows(payload, language)
    row(
        "calibration",
        payload["calibration_id"] or said("describe.no_photo" if unphotographed else "describe.uncalibrated"),
    )
    row("result_id", payload["result_id"])
    return rows


def _quality(verdict: str, payload: dict[str, Any], language: str) -> str:
    """A quality verdict in words; an eye that could not be photographed's is no photo refused, named as the
    worklist names it (one wording for one thing)."""
    if could_not_photograph(payload["quality"]):
        return say("describe.quality.not_photographed", language, reason=code("defect", NOT_PHOTOGRAPHED, language))
    return say(f"describe.quality.{verdict}", language) if verdict in QUALITY_VERDICTS else _words(verdict)


def _places(value: float) -> int:
    """The decimals ``value`` shows at three significant digits, as ``{:.3g}`` wrote it (0.0123, 12.3, 123)."""
    shown = f"{value:.3g}"
    return len(shown.split(".")[1]) if "." in shown and "e" not in shown else 0


def _result_v2_rows(payload: dict[str, Any], language: str) -> list[tuple[str, str]]:
    """What ``edgescreen.result/2`` adds; a ``/1`` payload says nothing about it."""
    if "quality_reference" not in payload:
        return []
    rows = []
    if payload["quality_reference"] is not None:
        rows.append(
            (say("figure.quality_reference", language), _quality(payload["quality_reference"], payload, language))
        )
    if payload["modality"] == "dermoscopy":
        diameter, tone = payload["lesion_diameter_mm"], payload["skin_tone"]
        shown = (
            _no_diameter(payload, language)
            if diameter is None
            else say("describe.diameter", language, mm=number(diameter, language))
        )
        rows.append((say("figure.diameter", language), shown))
        measured = (
            say("describe.not_measured", language) if tone is None else message(f"skin_tone.name.{tone}", language)
        )
        rows.append((say("figure.skin_tone", language), measured))
    return rows


def _no_diameter(payload: dict[str, Any], language: str) -> str:
    """Why a dermoscopy result has no diameter, as far as the payload tells: "not measured" alone let
    a reader take a lesion too large for the photo, whose diameter the device never sends (it knows
    only a lower bound), for one too small to matter."""
    if payload["triage"] == "ungradable":
        return say("describe.no_diameter.ungradable", language)
    if payload["calibration_id"] is None:
        return say("describe.no_diameter.uncalibrated", language)
    return say("describe.no_diameter.not_sent", language)
