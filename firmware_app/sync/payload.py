"""The result payload, ``edgescreen.result/1``: the only thing about a screening that leaves the device.

It is built from an allow-list (DESIGN.md, "What leaves the device"): the builder reads named fields
of the record and nothing else, so the patient reference, the note and the image's file name cannot
reach it; and every payload is validated against the same list before it is queued. Numbers and
codes only, apart from the fixed disclaimer every payload carries.

    {"schema": "edgescreen.result/1", "result_id": 32 hex, "device_id": id, "site_id": id,
     "modality": "fundus"|"dermoscopy", "eye": "L"|"R"|null, "body_site": coarse site|null,
     "captured_at": "YYYY-MM-DDTHH:MM:SSZ",
     "model": {"id": id, "version": id, "sha256": 64 hex}|null,
     "quality": {"verdict": code, "reasons": [code...], "measures": {code: number}}|null,
     "triage": "refer"|"no_refer"|"ungradable", "score": [0,1]|null, "threshold": [0,1]|null,
     "calibration_id": id|null, "disclaimer": the fixed English disclaimer,
     "clock": "unsynchronised"|"before_build"|"future"}

``clock`` is optional, so every earlier payload stays valid: it is there only when ``captured_at``
may be wrong (the device clock was not synchronised, or the time cannot be true), as a code the
reviewer can weigh, never a second date. ``triage`` must agree with ``score`` and ``threshold``
(``refer`` at or above it): a payload altered in the queue is refused, not published.
"""

from __future__ import annotations

import json
from typing import Any

from firmware_app.inference.card import MODALITIES
from firmware_app.inference.triage import Outcome
from firmware_app.messages import message
from firmware_app.records.clock import ClockState
from firmware_app.records.integrity import payload_digest
from firmware_app.records.screening import BODY_SITES, EYES, ScreeningRecord
from firmware_app.sync.wire import (
    CODE,
    HEX32,
    HEX64,
    IDENTIFIER,
    UTC_SECONDS,
    WireError,
    check_choice,
    check_keys,
    check_number,
    check_text,
    utc_seconds,
)

RESULT_SCHEMA = "edgescreen.result/1"
DISCLAIMER = message("disclaimer", "en")
REQUIRED = frozenset(
    {
        "schema",
        "result_id",
        "device_id",
        "site_id",
        "modality",
        "eye",
        "body_site",
        "captured_at",
        "model",
        "quality",
        "triage",
        "score",
        "threshold",
        "calibration_id",
        "disclaimer",
    }
)
OPTIONAL = frozenset({"clock"})
ALLOW_LIST = REQUIRED | OPTIONAL
FLAGGED_CLOCKS = tuple(state.value for state in ClockState if state is not ClockState.SYNCHRONISED)


def result_payload(record: ScreeningRecord, device_id: str, site_id: str) -> dict[str, Any]:
    """The allow-listed view of one record; identifying fields of the record are never read."""
    triage, model, quality = record.triage, record.triage.model, record.quality
    flagged = {"clock": record.clock} if record.clock in FLAGGED_CLOCKS else {}
    return flagged | {
        "schema": RESULT_SCHEMA,
        "result_id": record.result_id,
        "device_id": device_id,
        "site_id": site_id,
        "modality": record.modality,
        "eye": record.context.eye,
        "body_site": record.context.body_site,
        "captured_at": utc_seconds(record.captured_at),
        "model": {"id": model.id, "version": model.version, "sha256": model.sha256} if model else None,
        "quality": {"verdict": quality.verdict, "reasons": list(quality.reasons), "measures": dict(quality.measures)}
        if quality
        else None,
        "triage": triage.outcome.value,
        "score": triage.score,
        "threshold": triage.threshold,
        "calibration_id": record.calibration_id,
        "disclaimer": DISCLAIMER,
    }


def _check_model(model: Any) -> None:
    if model is None:
        return
    check_keys(model, {"id", "version", "sha256"}, set(), "model")
    check_text(model["id"], IDENTIFIER, "model.id")
    check_text(model["version"], IDENTIFIER, "model.version")
    check_text(model["sha256"], HEX64, "model.sha256")


def _check_quality(quality: Any) -> None:
    if quality is None:
        return
    check_keys(quality, {"verdict", "reasons", "measures"}, set(), "quality")
    check_text(quality["verdict"], CODE, "quality.verdict")
    if not isinstance(quality["reasons"], list):
        raise WireError("quality.reasons: expected a list of codes")
    for index, reason in enumerate(quality["reasons"]):
        check_text(reason, CODE, f"quality.reasons[{index}]")
    if not isinstance(quality["measures"], dict):
        raise WireError("quality.measures: expected an object of numbers")
    for name, value in quality["measures"].items():
        check_text(name, CODE, "quality.measures key")
        check_number(value, f"quality.measures.{name}")


def validate_result(document: Any) -> None:
    """Raise ``WireError`` naming the first field that the allow-list or its patterns refuse."""
    check_keys(document, set(REQUIRED), set(OPTIONAL), "result")
    check_choice(document["schema"], (RESULT_SCHEMA,), "schema")
    check_text(document["result_id"], HEX32, "result_id")
    check_text(document["device_id"], IDENTIFIER, "device_id")
    check_text(document["site_id"], IDENTIFIER, "site_id")
    check_choice(document["modality"], MODALITIES, "modality")
    check_choice(document["eye"], (None, *EYES), "eye")
    check_choice(document["body_site"], (None, *BODY_SITES), "body_site")
    check_text(document["captured_at"], UTC_SECONDS, "captured_at")
    _check_model(document["model"])
    _check_quality(document["quality"])
    check_choice(document["triage"], tuple(Outcome), "triage")
    check_number(document["score"], "score", nullable=True, low=0.0, high=1.0)
    check_number(document["threshold"], "threshold", nullable=True, low=0.0, high=1.0)
    check_text(document["calibration_id"], IDENTIFIER, "calibration_id", nullable=True)
    check_choice(document["disclaimer"], (DISCLAIMER,), "disclaimer")
    if "clock" in document:
        check_choice(document["clock"], FLAGGED_CLOCKS, "clock")
    _check_triage_agrees(document["triage"], document["score"], document["threshold"])


def _check_triage_agrees(outcome: str, score: float | None, threshold: float | None) -> None:
    if outcome == Outcome.UNGRADABLE or score is None or threshold is None:
        return
    if (outcome == Outcome.REFER) != (score >= threshold):
        raise WireError(f"triage: {outcome!r} contradicts score {score} against threshold {threshold}")


def encode_result(document: dict[str, Any]) -> bytes:
    """Validate, then serialise compactly (UTF-8, not ASCII-escaped, keys sorted)."""
    validate_result(document)
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def check_queued(payload: bytes, result_id: str, bound_digest: str | None) -> None:
    """Re-check a queued payload just before it is published: still valid, still the result it was
    queued for, and (when its audit event recorded one) still byte for byte what was recorded."""
    if bound_digest is not None and payload_digest(payload) != bound_digest:
        raise WireError(f"result {result_id}: the queued payload differs from what its audit event recorded")
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise WireError(f"result {result_id}: the queued payload is not UTF-8 JSON ({error})") from None
    validate_result(document)
    if document["result_id"] != result_id:
        raise WireError(f"result {result_id}: the queued payload is for result {document['result_id']}")
