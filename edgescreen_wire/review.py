"""Specialist verdicts (station -> device) and the device's acknowledgement of them (device -> station).

``edgescreen.review/1`` (on ``review``)::

    {"schema": "edgescreen.review/1", "review_id": id, "result_id": 32 hex,
     "verdict": "refer"|"no_refer"|"ungradable", "reviewed_at": "YYYY-MM-DDTHH:MM:SSZ",
     "reviewer": id, "comment": text of at most 1000 characters (optional)}

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

import json
from collections.abc import Mapping
from typing import Any

from edgescreen_wire.checks import (
    HEX32,
    IDENTIFIER,
    UTC_SECONDS,
    WireError,
    check_choice,
    check_keys,
    check_text,
    decode_document,
    parse_utc_seconds,
)
from firmware_app.inference.triage import Outcome

REVIEW_SCHEMA = "edgescreen.review/1"
REVIEW_ACK_SCHEMA = "edgescreen.review-ack/1"
MAX_REVIEW_BYTES = 8192
MAX_COMMENT = 1000
ACK_STATUSES = ("stored", "duplicate", "conflict", "unknown_result")


def parse_review_document(payload: bytes) -> Mapping[str, Any]:
    """A validated ``edgescreen.review/1`` document from a message's bytes, or a ``WireError``."""
    document = decode_document(payload, MAX_REVIEW_BYTES, "review")
    check_keys(
        document, {"schema", "review_id", "result_id", "verdict", "reviewed_at", "reviewer"}, {"comment"}, "review"
    )
    check_choice(document["schema"], (REVIEW_SCHEMA,), "schema")
    check_text(document["review_id"], IDENTIFIER, "review_id")
    check_text(document["result_id"], HEX32, "result_id")
    check_choice(document["verdict"], tuple(Outcome), "verdict")
    check_text(document["reviewed_at"], UTC_SECONDS, "reviewed_at")
    check_text(document["reviewer"], IDENTIFIER, "reviewer")
    comment = document.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise WireError(f"comment: expected text of at most {MAX_COMMENT} characters")
    if comment is not None and not _encodable(comment):
        raise WireError("comment: holds a lone surrogate (\\u escape), not text")
    try:
        parse_utc_seconds(document["reviewed_at"])
    except ValueError:
        raise WireError(f"reviewed_at: {document['reviewed_at']!r} is not a valid time") from None
    return document


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
