"""Specialist verdicts arriving on the ``review`` topic, and the device's acknowledgement of them.

``edgescreen.review/1`` (specialist -> device)::

    {"schema": "edgescreen.review/1", "review_id": id, "result_id": 32 hex,
     "verdict": "refer"|"no_refer"|"ungradable", "reviewed_at": "YYYY-MM-DDTHH:MM:SSZ",
     "reviewer": id, "comment": text of at most 1000 characters (optional)}

``edgescreen.review-ack/1`` (device -> specialists, on ``review_ack``)::

    {"schema": "edgescreen.review-ack/1", "review_id": id, "result_id": 32 hex,
     "status": "stored"|"duplicate"|"conflict"|"unknown_result"}

``duplicate``: this very review was stored before. ``conflict``: its ``review_id`` is already taken
by a review of another result or with another verdict; nothing is stored, and the station must
resend under a new id.

Anything else (not JSON, too big, nested too deep, a number too long, text that is not valid
Unicode, a field missing, unknown or out of pattern) is refused with a ``WireError`` and never
stored or acknowledged on ``review_ack``.
"""

from __future__ import annotations

import json
from typing import Any

from firmware_app.inference.triage import Outcome
from firmware_app.records.screening import Review
from firmware_app.sync.wire import (
    HEX32,
    IDENTIFIER,
    UTC_SECONDS,
    WireError,
    check_choice,
    check_keys,
    check_text,
    parse_utc_seconds,
)

REVIEW_SCHEMA = "edgescreen.review/1"
REVIEW_ACK_SCHEMA = "edgescreen.review-ack/1"
MAX_REVIEW_BYTES = 8192
MAX_COMMENT = 1000


def parse_review(payload: bytes) -> Review:
    """A validated ``Review`` from a message's bytes, or a ``WireError`` saying what is wrong."""
    if len(payload) > MAX_REVIEW_BYTES:
        raise WireError(f"review: {len(payload)} bytes, more than {MAX_REVIEW_BYTES}")
    try:
        document: Any = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # ValueError also covers integers past Python's digit limit; RecursionError, deep nesting.
        raise WireError(f"review: not UTF-8 JSON that can be read ({type(error).__name__})") from None
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
        reviewed_at = parse_utc_seconds(document["reviewed_at"])
    except ValueError:
        raise WireError(f"reviewed_at: {document['reviewed_at']!r} is not a valid time") from None
    return Review(
        review_id=document["review_id"],
        result_id=document["result_id"],
        verdict=document["verdict"],
        reviewed_at=reviewed_at,
        reviewer=document["reviewer"],
        comment=comment,
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def review_ack(review: Review, status: str) -> bytes:
    document = {
        "schema": REVIEW_ACK_SCHEMA,
        "review_id": review.review_id,
        "result_id": review.result_id,
        "status": status,
    }
    return json.dumps(document, separators=(",", ":")).encode()


ACK_STATUSES = ("stored", "duplicate", "unknown_result")


def parse_review_ack(payload: bytes) -> dict[str, str]:
    """A validated ``edgescreen.review-ack/1`` (what the review station reads back), or a ``WireError``."""
    if len(payload) > MAX_REVIEW_BYTES:
        raise WireError(f"review_ack: {len(payload)} bytes, more than {MAX_REVIEW_BYTES}")
    try:
        document: Any = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"review_ack: not UTF-8 JSON ({error})") from None
    check_keys(document, {"schema", "review_id", "result_id", "status"}, set(), "review_ack")
    check_choice(document["schema"], (REVIEW_ACK_SCHEMA,), "schema")
    check_text(document["review_id"], IDENTIFIER, "review_id")
    check_text(document["result_id"], HEX32, "result_id")
    check_choice(document["status"], ACK_STATUSES, "status")
    return document
