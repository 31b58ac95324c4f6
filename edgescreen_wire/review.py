"""Specialist verdicts (station -> device) and the device's acknowledgement of them (device -> station).

``edgescreen.review/1`` (on ``review``)::

    {"schema": "edgescreen.review/1", "review_id": id, "result_id": 32 hex,
     "verdict": "refer"|"no_refer"|"ungradable", "reviewed_at": "YYYY-MM-DDTHH:MM:SSZ",
     "reviewer": id, "comment": text of at most 1000 characters (optional)}

A comment is text a person typed: the station's read form refuses the control characters of
``edgescreen_wire.typed_text`` in it (a NUL, a bidirectional override), and the device takes out any
that still arrive (from a station before that rule), logging it, rather than lose the verdict.

``edgescreen.review/2`` is ``/1`` plus what the nurse acts on and the record keeps of the read::

     "urgency": "routine"|"soon"|"urgent",
     "findings": {"icdr_grade": grade, "maculopathy": "absent"|"present"|"ungradable"}  (fundus)
               | {"diagnosis": category}                                              (dermoscopy)
                 (optional: absent when the specialist read the result without a photo, so
                 graded nothing: "not assessed"; never a part of either)

A device reads ``/2`` when its results say so (``edgescreen.result/3``'s ``review_schema``); the
station sends ``/1`` to every other, which would refuse the new fields and lose the verdict.

``edgescreen.review/3`` is a ``/1`` or ``/2`` document signed by the review station (Ed25519)::

    {"schema": "edgescreen.review/3", "review": an edgescreen.review/1 or /2 document,
     "signature": base64 of the 64-byte signature of ``verdict_signature.signed_bytes(review)``}

A device reads ``/3`` when its results announce it (``review_schema``), which it does once it is
given the station's verdict public key: from then on it refuses every verdict whose signature is
missing or does not verify (``firmware_app.sync.review``). The signed document is carried whole and
unchanged inside, so the device checks it with the very rules of ``/1`` and ``/2``, and a station
signs any verdict it queued in either (one decided before the device asked for signatures too).
A new version rather than an optional field of ``/1`` and ``/2``: every device reads those with an
exact key set, so a ``signature`` field there would make each device not yet upgraded refuse, and
lose, every verdict.

``edgescreen.review-ack/1`` (on ``review_ack``)::

    {"schema": "edgescreen.review-ack/1", "review_id": id, "result_id": 32 hex,
     "status": "stored"|"duplicate"|"conflict"|"unknown_result"}

``duplicate``: this very review was stored before. ``conflict``: its ``review_id`` is already taken
by a review of another result or with another verdict; nothing is stored, and the station must
resend under a new id.

Anything else (not JSON, too big, nested too deep, a number too long, text that is not valid
Unicode, a field missing, unknown or out of pattern) is refused with a ``WireError``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from edgescreen_wire.checks import (
    HEX32,
    IDENTIFIER,
    UTC_SECONDS,
    WireError,
    check_choice,
    check_keys,
    check_object,
    check_text,
    decode_document,
    parse_utc_seconds,
)
from firmware_app.inference.triage import Outcome

REVIEW_V1 = "edgescreen.review/1"
REVIEW_V2 = "edgescreen.review/2"
REVIEW_V3 = "edgescreen.review/3"
# The documents a verdict is (``/3`` wraps one of them), and every schema a device may read.
UNSIGNED_SCHEMAS = (REVIEW_V1, REVIEW_V2)
REVIEW_SCHEMAS = (*UNSIGNED_SCHEMAS, REVIEW_V3)
# An Ed25519 signature (64 bytes) in base64, padding included.
SIGNATURE = re.compile(r"[A-Za-z0-9+/]{86}==")
REVIEW_ACK_SCHEMA = "edgescreen.review-ack/1"
MAX_REVIEW_BYTES = 8192
MAX_COMMENT = 1000
ACK_STATUSES = ("stored", "duplicate", "conflict", "unknown_result")
# What a specialist's read says beside the verdict (the station's read form, ``edgescreen.review/2``).
URGENCIES = ("routine", "soon", "urgent")
ICDR_GRADES = ("none", "mild", "moderate", "severe", "proliferative", "ungradable")
MACULOPATHY = ("absent", "present", "ungradable")
DIAGNOSES = (
    "melanoma",
    "naevus",
    "seborrhoeic_keratosis",
    "basal_cell_carcinoma",
    "squamous_cell_carcinoma",
    "actinic_keratosis",
    "dermatofibroma",
    "vascular_lesion",
    "other",
    "ungradable",
)
# The times a verdict may carry: the device shows it in its local time, and a time within a day of
# ``datetime``'s limits (year 1, year 9999) overflows that conversion east or west of UTC, which failed
# the nurse's record page of the result for good.
SHOWABLE = (datetime.min.replace(tzinfo=UTC) + timedelta(days=1), datetime.max.replace(tzinfo=UTC) - timedelta(days=1))

# The findings of a read by the result's modality: a fundus read's, a dermoscopy read's, each field
# with its choices.
FINDINGS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "fundus": {"icdr_grade": ICDR_GRADES, "maculopathy": MACULOPATHY},
    "dermoscopy": {"diagnosis": DIAGNOSES},
}


@dataclass(frozen=True)
class ReviewMessage:
    """A verdict as it arrived: its ``/1`` or ``/2`` document, and the station's signature of it when it
    came signed (``/3``), else ``None``."""

    document: Mapping[str, Any]
    signature: bytes | None


def parse_review_message(payload: bytes) -> ReviewMessage:
    """A validated ``edgescreen.review/1``, ``/2`` or ``/3`` message from its bytes, or a ``WireError``
    that carries the review id when the document has a well-formed one. The signature is read, not
    verified: that takes the keys a device trusts (``verdict_signature.signature_verifies``)."""
    message = check_object(decode_document(payload, MAX_REVIEW_BYTES, "review"), "review")
    signed = message.get("schema") == REVIEW_V3
    document = message.get("review") if signed else message
    try:
        if signed:
            check_keys(message, {"schema", "review", "signature"}, set(), "review")
            check_text(message["signature"], SIGNATURE, "signature")
        checked = _checked_review(check_object(document, "review"))
    except WireError as error:
        review_id = document.get("review_id") if isinstance(document, dict) else None
        if isinstance(review_id, str) and IDENTIFIER.fullmatch(review_id):
            error.document_id = review_id
        raise
    return ReviewMessage(checked, base64.b64decode(message["signature"]) if signed else None)


def parse_review_document(payload: bytes) -> Mapping[str, Any]:
    """A validated ``edgescreen.review/1`` or ``/2`` document (what the station queues, unsigned), or a
    ``WireError``."""
    message = parse_review_message(payload)
    if message.signature is not None:
        raise WireError(f"schema: expected one of {list(UNSIGNED_SCHEMAS)}, got {REVIEW_V3!r}")
    return message.document


def _checked_review(document: Mapping[str, Any]) -> Mapping[str, Any]:
    check_choice(document.get("schema"), UNSIGNED_SCHEMAS, "schema")
    required = {"schema", "review_id", "result_id", "verdict", "reviewed_at", "reviewer"}
    optional = {"comment"}
    if document["schema"] == REVIEW_V2:
        required.add("urgency")
        optional.add("findings")
    check_keys(document, required, optional, "review")
    check_text(document["review_id"], IDENTIFIER, "review_id")
    check_text(document["result_id"], HEX32, "result_id")
    check_choice(document["verdict"], tuple(Outcome), "verdict")
    check_text(document["reviewed_at"], UTC_SECONDS, "reviewed_at")
    check_text(document["reviewer"], IDENTIFIER, "reviewer")
    # Absent when there is none: a ``null`` is no text (the device's cleaning of it raised TypeError).
    comment = document.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise WireError(f"comment: expected text of at most {MAX_COMMENT} characters")
    if not _encodable(comment):
        raise WireError("comment: holds a lone surrogate (\\u escape), not text")
    try:
        reviewed_at = parse_utc_seconds(document["reviewed_at"])
    except ValueError:
        raise WireError(f"reviewed_at: {document['reviewed_at']!r} is not a valid time") from None
    if not SHOWABLE[0] <= reviewed_at <= SHOWABLE[1]:
        raise WireError(f"reviewed_at: {document['reviewed_at']!r} cannot be shown in every time zone")
    if document["schema"] == REVIEW_V2:
        check_choice(document["urgency"], URGENCIES, "urgency")
        if "findings" in document:
            _check_findings(document["findings"])
    return document


def _check_findings(findings: Any) -> None:
    """Either read's findings, whole: a fundus read's grade and maculopathy, or a dermoscopy read's diagnosis."""
    check_object(findings, "findings")
    fields = next((fields for fields in FINDINGS.values() if fields.keys() == findings.keys()), None)
    if fields is None:
        raise WireError(f"findings: expected the fields {' or '.join(str(sorted(f)) for f in FINDINGS.values())}")
    for name, choices in fields.items():
        check_choice(findings[name], choices, f"findings.{name}")


def check_findings_of(findings: Mapping[str, Any], modality: str, review_id: str) -> None:
    """Refuse a verdict's ``findings`` (as the document carries them, ``{}`` for none) when any is not one
    of a read of its result's ``modality``. The document alone passes either read's, as it does not
    name the result's modality: a dermoscopy diagnosis on a fundus result, or an ICDR grade on a
    lesion, reached the nurse's record as a finding nobody made of that photo. Only the holder of the
    result can tell."""
    if not findings.keys() <= FINDINGS[modality].keys():
        raise WireError(f"findings: {sorted(findings)} are not all of a {modality} result", review_id)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_review_ack(review_id: str, result_id: str, status: str) -> bytes:
    check_choice(status, ACK_STATUSES, "status")
    document = {"schema": REVIEW_ACK_SCHEMA, "review_id": review_id, "result_id": result_id, "status": status}
    return json.dumps(document, separators=(",", ":")).encode()


def parse_review_ack(payload: bytes) -> Mapping[str, Any]:
    """A validated ``edgescreen.review-ack/1`` (what the review station reads back), or a ``WireError``."""
    document = decode_document(payload, MAX_REVIEW_BYTES, "review_ack")
    check_keys(document, {"schema", "review_id", "result_id", "status"}, set(), "review_ack")
    check_choice(document["schema"], (REVIEW_ACK_SCHEMA,), "schema")
    check_text(document["review_id"], IDENTIFIER, "review_id")
    check_text(document["result_id"], HEX32, "result_id")
    check_choice(document["status"], ACK_STATUSES, "status")
    return document
