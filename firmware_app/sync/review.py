"""Specialist verdicts arriving on the ``review`` topic, as the device's ``Review`` records, and the
device's acknowledgement of them. The documents and their checks are the wire package's
(``edgescreen_wire.review``); a review it refuses is never stored or acknowledged.

A comment's control characters (``edgescreen_wire.typed_text``: a NUL, a bidirectional override) are
taken out here, with a log line, rather than the verdict refused: a station from before its read
form refused them may have queued such a verdict, and refusing it would keep a referral from the
nurse for the sake of invisible characters. The rest of the comment is stored and shown.

A device given the station's verdict keys (``[sync] verdict_public_keys``) takes only verdicts the
station signed (``edgescreen.review/3``): one unsigned, or whose signature does not verify over the
document (``edgescreen_wire.verdict_signature``), is ``NotSignedByStation``, handled as a malformed
verdict is: logged by its ids, never stored nor acknowledged. The station's genuine verdict, sent
again until the device answers, is then stored when it comes, even under the same review id."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edgescreen_wire import typed_text
from edgescreen_wire.checks import parse_utc_seconds
from edgescreen_wire.review import encode_review_ack, parse_review_message
from edgescreen_wire.verdict_signature import VerdictKeyError, read_public_key, signature_verifies
from firmware_app.events import log_event
from firmware_app.records.screening import Review


class NotSignedByStation(Exception):
    """A well-formed verdict this device must not take: unsigned, or not signed by a key it trusts.
    It names the verdict by its ids (never its comment, which may name a patient)."""

    def __init__(self, document: Mapping[str, Any], signed: bool) -> None:
        self.review_id, self.result_id = document["review_id"], document["result_id"]
        self.reason = "signature_invalid" if signed else "unsigned"
        super().__init__(f"review {self.review_id} of result {self.result_id}: {self.reason}")


def trusted_verdict_keys(paths: Sequence[Path]) -> list[Ed25519PublicKey] | None:
    """The keys of ``[sync] verdict_public_keys``, or ``None`` when none is configured. A file that cannot
    be used is logged and left out rather than stop the worker (results still go out): with none left,
    no verdict verifies and each waits at the station, sent again, until the key is put right
    (``doctor`` shows it red)."""
    if not paths:
        return None
    keys = []
    for path in paths:
        try:
            keys.append(read_public_key(path))
        except VerdictKeyError as error:
            log_event("sync.verdict_key_unusable", level=logging.ERROR, error=error)
    return keys


def parse_review(payload: bytes, trusted: Sequence[Ed25519PublicKey] | None = None) -> Review:
    """A validated ``Review`` from a message's bytes, or a ``WireError`` saying what is wrong.

    ``trusted``: the station's verdict keys, when this device is given any (``None``: it is not, and
    takes verdicts unsigned); the verdict must then be signed by one of them, else
    ``NotSignedByStation``. A key file that could not be read leaves an empty list: nothing verifies."""
    message = parse_review_message(payload)
    document = message.document
    if trusted is not None and (
        message.signature is None or not signature_verifies(document, message.signature, trusted)
    ):
        raise NotSignedByStation(document, signed=message.signature is not None)
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
