"""The device's side of the result payload (``edgescreen_wire.result``): building it from a record,
and re-checking a queued one before it is published.

It is built from an allow-list (DESIGN.md, "What leaves the device"): the builder reads named fields
of the record and nothing else, so the patient reference, the note and the image's file name cannot
reach it; and every payload is validated by the wire package before it is queued. A device sends
``edgescreen.result/1`` until its ``[sync] result_schema`` says ``/2``.
"""

from __future__ import annotations

from typing import Any

from edgescreen_wire.checks import WireError, decode_document, utc_seconds
from edgescreen_wire.result import (
    DISCLAIMER,
    FLAGGED_CLOCKS,
    MAX_RESULT_BYTES,
    RESULT_V1,
    RESULT_V2,
    RESULT_V3,
    WITH_V2_FIELDS,
    round_diameter,
    validate_result,
)
from edgescreen_wire.review import REVIEW_V2
from firmware_app.records.integrity import payload_altered
from firmware_app.records.screening import ScreeningRecord
from firmware_app.records.uploads import SealedUpload
from firmware_app.reference_quality import reference_verdict


def result_payload(
    record: ScreeningRecord,
    device_id: str,
    site_id: str,
    schema: str = RESULT_V1,
    shared: SealedUpload | None = None,
    review_schema: str = REVIEW_V2,
) -> dict[str, Any]:
    """The allow-listed view of one record; identifying fields of the record are never read. A photo
    ``shared`` with the station is announced by the digest and size of its sealed bytes (``/2`` and later);
    ``review_schema`` the verdicts this device reads (``/3`` and later: ``SyncConfig.review_schema``)."""
    if shared is not None and schema not in WITH_V2_FIELDS:
        raise ValueError(f"a shared photo is announced by {RESULT_V2} or later, not {schema}")
    triage, model, quality = record.triage, record.triage.model, record.quality
    flagged = {"clock": record.clock} if record.clock in FLAGGED_CLOCKS else {}
    document = flagged | {
        "schema": schema,
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
    if schema in WITH_V2_FIELDS:
        lesion, point = record.lesion, triage.operating_point
        document |= {
            "lesion_diameter_mm": round_diameter(lesion.whole_diameter_mm) if lesion else None,
            "skin_tone": lesion.skin_tone.category if lesion and lesion.skin_tone else None,
            "operating_point": point.name if point else None,
            "quality_reference": reference_verdict(record.modality, quality) if quality else None,
            "image": {"sha256": shared.sha256, "size": shared.size} if shared else None,
        }
    if schema == RESULT_V3:
        document["review_schema"] = review_schema
    return document


def check_queued(payload: bytes, result_id: str, bound_digest: str | None) -> None:
    """Re-check a queued payload just before it is published: still valid, still the result it was
    queued for, and (when its audit event recorded one) still byte for byte what was recorded."""
    if payload_altered(payload, bound_digest):
        raise WireError(f"result {result_id}: the queued payload differs from what its audit event recorded")
    try:
        document = decode_document(payload, MAX_RESULT_BYTES, f"result {result_id}")
    except WireError as error:
        raise WireError(f"{error}: the queued payload is unreadable") from None
    validate_result(document)
    if document["result_id"] != result_id:
        raise WireError(f"result {result_id}: the queued payload is for result {document['result_id']}")
