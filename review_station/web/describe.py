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
from firmware_app.inference.card import CardError, ModelCard, OperatingPoint, read_card
from firmware_app.inference.model import CARD_FILE
from firmware_app.messages import message
from review_station.dating import CAPTURE, PROJECT_START, after_arrival, before_project

TRIAGE_WORDS = {
    "refer": "refer: the model found signs that need a specialist",
    "no_refer": "no referral: the model found no referable signs",
    "ungradable": "ungradable: the photo could not be judged",
}
EYE_WORDS = {"L": "left eye", "R": "right eye", None: "not recorded"}
# The quality gate's verdict for the reader: the nurse's sentences ("Image quality: ...; retake the
# photo") repeated the row's label and told the specialist to retake.
QUALITY_WORDS = {
    "good": "good",
    "usable": "usable: gradable, with the defects below",
    "reject": "not gradable: the device's quality gate refused the photo",
}


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


def _estimate(name: str, point: OperatingPoint) -> str:
    estimate = getattr(point, name)
    low, high = estimate.ci95
    return f"{estimate.value:.1%} (95% CI {low:.1%} to {high:.1%})"


def _words(code: str) -> str:
    return code.replace("_", " ")


# The device's own word on its clock when it recorded the result (edgescreen_wire.result's ``clock``).
CLOCK_WORDS = {
    "unsynchronised": "the device's clock was not kept in step by the network: this time may be off",
    "before_build": "the device's clock was not set (it read earlier than its software): the capture time is unknown",
    "future": "later than the device's clock when it recorded it: the capture time is unknown",
}


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(delta: timedelta) -> str:
    """A time difference in the unit a reader takes in at once."""
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    if delta >= timedelta(hours=2):
        return f"{delta.total_seconds() / 3600:.0f} hours"
    return f"{delta.total_seconds() / 60:.0f} minutes"


def time_rows(payload: dict[str, Any], received_at: datetime, dated_from: str) -> list[tuple[str, str]]:
    """The device's time with what its clock was worth, and the time the station dates the result by:
    its stored ``dated_from`` (``review_station.dating``), the choice the worklist ordered it by, so a
    reader never takes an impossible or doubtful time for the real one."""
    captured_at, clock = parse_utc_seconds(payload["captured_at"]), payload.get("clock")
    doubts = [] if clock is None else [CLOCK_WORDS.get(clock, "the device could not vouch for its clock")]
    if after_arrival(captured_at, received_at):
        doubts.append(f"impossible: {_span(captured_at - received_at)} after this result reached the station")
    if before_project(captured_at):
        doubts.append(f"impossible: earlier than EdgeScreen's first day ({PROJECT_START:%Y-%m-%d})")
    captured = _utc(captured_at)
    if dated_from == CAPTURE:
        dated = f"{captured}, the device's capture time"
    else:
        dated = f"{_utc(received_at)}, its arrival here: the device's time is not used"
    return [("Captured", f"{captured} ({'; '.join(doubts)})" if doubts else captured), ("Dated by the station", dated)]


def describe(
    payload: dict[str, Any], models_directory: Path, received_at: datetime, dated_from: str
) -> list[tuple[str, str]]:
    """(label, value) rows, in the order a specialist reads them; ``received_at``: the result's arrival,
    ``dated_from``: which time dates it (``results.dated_from``)."""
    rows = [
        ("Triage", TRIAGE_WORDS[payload["triage"]]),
        ("Modality", "fundus photograph" if payload["modality"] == "fundus" else "dermoscopy photograph"),
    ]
    if payload["modality"] == "fundus":
        rows.append(("Eye", EYE_WORDS.get(payload["eye"], payload["eye"])))
    else:
        rows.append(("Body site", _words(payload["body_site"]) if payload["body_site"] else "not recorded"))
    rows += time_rows(payload, received_at, dated_from)
    score, threshold = payload["score"], payload["threshold"]
    rows.append(("Model score", "not run (photo rejected)" if score is None else f"{score:.3f}"))
    rows.append(("Threshold applied", "none" if threshold is None else f"{threshold:.3f}"))
    model = payload["model"]
    rows.append(
        (
            "Model",
            f"{model['id']} version {model['version']} (file sha256 {model['sha256'][:12]}…)" if model else "none",
        )
    )
    point = operating_point(models_directory, model, threshold)
    if point is not None:
        rows.append(("Operating point", f"{point.name}: on the model's held-out test set"))
        rows.append(("  sensitivity", _estimate("sensitivity", point)))
        rows.append(("  specificity", _estimate("specificity", point)))
    elif model is not None:
        named = f"{_words(payload['operating_point'])}, " if payload.get("operating_point") else ""
        rows.append(("Operating point", f"{named}unknown to this station (no matching model card)"))
    quality = payload["quality"]
    if quality is None:
        rows.append(("Image quality", "not checked"))
    else:
        rows.append(("Image quality", QUALITY_WORDS.get(quality["verdict"], _words(quality["verdict"]))))
        for reason in quality["reasons"]:
            rows.append(("  defect", _words(reason)))
        for name, value in sorted(quality["measures"].items()):
            rows.append((f"  {_words(name)}", f"{value:.3g}"))
    rows += _result_v2_rows(payload)
    rows.append(("Calibration", payload["calibration_id"] or "uncalibrated device"))
    rows.append(("Result id", payload["result_id"]))
    return rows


def _result_v2_rows(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """What ``edgescreen.result/2`` adds; a ``/1`` payload says nothing about it."""
    if "quality_reference" not in payload:
        return []
    rows = []
    if payload["quality_reference"] is not None:
        rows.append(("Image quality on the shipped limits", QUALITY_WORDS[payload["quality_reference"]]))
    if payload["modality"] == "dermoscopy":
        diameter, tone = payload["lesion_diameter_mm"], payload["skin_tone"]
        shown = _no_diameter(payload) if diameter is None else f"{diameter:.1f} mm (to 0.5 mm)"
        rows.append(("Lesion diameter", shown))
        rows.append(("Skin tone", "not measured" if tone is None else message(f"skin_tone.name.{tone}", "en")))
    return rows


def _no_diameter(payload: dict[str, Any]) -> str:
    """Why a dermoscopy result has no diameter, as far as the payload tells: "not measured" alone let
    a reader take a lesion too large for the photo, whose diameter the device never sends (it knows
    only a lower bound), for one too small to matter."""
    if payload["triage"] == "ungradable":
        return "not measured (the photo could not be graded)"
    if payload["calibration_id"] is None:
        return "not measured: the device is not calibrated, so it has no scale"
    return (
        "not sent: the device's calibration has no scale, the lesion runs off the photo (the device "
        "then knows only a lower bound, and does not send it: it may well be over 6 mm), or its border "
        "was not found"
    )
