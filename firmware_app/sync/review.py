"""Specialist verdicts arriving on the ``review`` topic, as the device's ``Review`` records, and the
device's acknowledgement of them. The documents and their checks are the wire package's
(``edgescreen_wire.review``); a review it refuses is never stored or acknowledged."""

from __future__ import annotations

from edgescreen_wire.checks import parse_utc_seconds
from edgescreen_wire.review import encode_review_ack, parse_review_document
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
        comment=document.get("comment"),
        urgency=document.get("urgency"),
        **document.get("findings", {}),
    )


def review_ack(review: Review, status: str) -> bytes:
    return encode_review_ack(review.review_id, review.result_id, status)
