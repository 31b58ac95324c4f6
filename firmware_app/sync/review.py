"""Specialist verdicts arriving on the ``review`` topic, as the device's ``Review`` records, and the
device's acknowledgement of them. The documents and their checks are the wire package's
(``edgescreen_wire.review``); a review it refuses is never stored or acknowledged.

A comment's control characters (``edgescreen_wire.typed_text``: a NUL, a bidirectional override) are
taken out here, with a log line, rather than the verdict refused: a station from before its read
form refused them may have queued such a verdict, and refusing it would keep a referral from the
nurse for the sake of invisible characters. The rest of the comment is stored and shown."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from edgescreen_wire import typed_text
from edgescreen_wire.checks import parse_utc_seconds
from edgescreen_wire.review import encode_review_ack, parse_review_document
from firmware_app.events import log_event
from firmware_app.records.screening import Review


def parse_review(payload: bytes) -> Review:
    """A validated ``Review`` from a message's bytes, or a ``WireError`` saying what is wrong."""
    document = parse_review_document(payload)
    return Review(
        review_id=document["review_id"],
        result_id=document["result_id"],
        verdict=document["verdict"],
        reviewed_at=parse_utc_seconds(document["reviewed_at"]),
        reviewer=document["reviewer"],
        comment=_comment(document),
        urgency=document.get("urgency"),
        **document.get("findings", {}),
    )


def _comment(document: Mapping[str, Any]) -> str | None:
    """The comment without its control characters; how many were taken out is logged (never the text:
    a comment may name a patient)."""
    if "comment" not in document:
        return None
    comment, removed = typed_text.cleaned(document["comment"])
    if removed:
        log_event(
            "sync.review_comment_cleaned",
            level=logging.WARNING,
            review_id=document["review_id"],
            result_id=document["result_id"],
            removed=removed,
        )
    return comment or None


def review_ack(review: Review, status: str) -> bytes:
    return encode_review_ack(review.review_id, review.result_id, status)
