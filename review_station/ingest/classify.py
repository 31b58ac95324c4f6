"""What one incoming result message is: a result to store, or a refusal with its reason.

Validation is the wire package's (``edgescreen_wire.result``), the very code the device checks its
payloads with: the station accepts exactly what a device may send, in any version it may send. On
top, the station checks what a device cannot vouch for itself: that the topic's device and site are
the payload's, and that the registry has that device at that site.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from edgescreen_wire.checks import HEX32, WireError, decode_document, parse_utc_seconds
from edgescreen_wire.result import (
    MAX_RESULT_BYTES,
    NOT_PHOTOGRAPHED,
    WITH_V2_FIELDS,
    could_not_photograph,
    validate_result,
)
from edgescreen_wire.topics import RESULT, parse_device_topic
from review_station.dating import dating
from review_station.storage.tables import queue_rank_of

TRIAGE_RANK = {"refer": 0, "ungradable": 1, "no_refer": 2}


class Refused(ValueError):
    """A result message the station will not store as a result; it goes to quarantine with this reason,
    and with the result id it names when it names one (a patient's erasure finds the copy by it)."""

    def __init__(self, reason: str, result_id: str | None = None) -> None:
        super().__init__(reason)
        self.result_id = result_id


class Unenrolled(Refused):
    """A valid result whose device the registry does not have (yet): the one refusal an enrolment can
    lift, so quarantine keeps the payload whole for ``release`` to bring in."""

    def __init__(self, device_id: str, result_id: str) -> None:
        super().__init__(f"device {device_id} is not enrolled (or is retired)", result_id)
        self.device_id = device_id


def result_row(topic: str, payload: bytes, registry: dict[str, str], received_at: datetime) -> dict[str, Any]:
    """The ``results`` row for a valid, authorised result message, or ``Refused`` saying why not."""
    where = parse_device_topic(topic)
    if where is None or where.leaf != RESULT:
        raise Refused(f"not a result topic: {topic}")
    result_id: str | None = None
    try:
        document: Any = decode_document(payload, MAX_RESULT_BYTES, "result")
        result_id = _named_result_id(document)
        validate_result(document)
    except (WireError, RecursionError, ArithmeticError) as error:
        # ArithmeticError: a number no check foresaw overflowing arithmetic; one message must never
        # stop the ingester (it would be delivered again, and stop it again, after every restart).
        raise Refused(f"invalid result: {type(error).__name__}: {error}", result_id or _id_in(payload)) from None
    if (document["device_id"], document["site_id"]) != (where.device_id, where.site_id):
        raise Refused(
            f"the payload says {document['site_id']}/{document['device_id']}, "
            f"the topic {where.site_id}/{where.device_id}: a device may only file its own results",
            result_id,
        )
    enrolled_site = registry.get(where.device_id)
    if enrolled_site is None:
        raise Unenrolled(where.device_id, document["result_id"])
    if enrolled_site != where.site_id:
        raise Refused(f"device {where.device_id} is enrolled at {enrolled_site}, not {where.site_id}", result_id)
    try:
        captured_at = parse_utc_seconds(document["captured_at"])
    except ValueError:
        raise Refused(f"captured_at {document['captured_at']!r} is not a valid time", result_id) from None
    quality, model = document["quality"], document["model"]
    return {
        "result_id": document["result_id"],
        "schema": document["schema"],
        "device_id": where.device_id,
        "site_id": where.site_id,
        "modality": document["modality"],
        "eye": document["eye"],
        "body_site": document["body_site"],
        "captured_at": captured_at,
        "received_at": received_at,
        **dating(captured_at, received_at, document.get("clock")),
        "triage": document["triage"],
        "triage_rank": TRIAGE_RANK[document["triage"]],
        "quality_verdict": quality_verdict(quality),
        "model_id": model["id"] if model else None,
        "model_version": model["version"] if model else None,
        **_v2_columns(document),
        "state": "awaiting_review",
        "queue_rank": queue_rank_of("awaiting_review"),
        "payload": document,
    }


def _named_result_id(document: Any) -> str | None:
    """The result id a decoded document names, before it is validated: a copy the station refuses as
    invalid (a schema newer than the station's, a field out of range) is still a patient's result."""
    named = document.get("result_id") if isinstance(document, dict) else None
    return named if isinstance(named, str) and HEX32.fullmatch(named) else None


# The id as a device writes it: what migration 0024 (its own frozen copy) found in the entries kept before.
_NAMED = re.compile(rb'"result_id"\s*:\s*"([0-9a-f]{32})"')


def _id_in(payload: bytes) -> str | None:
    """The result id in the bytes of a message that could not be decoded (over ``MAX_RESULT_BYTES``, cut
    short on its way): still a patient's result, which her erasure must find in quarantine."""
    named = _NAMED.search(payload)
    return named.group(1).decode() if named else None


def quality_verdict(quality: dict[str, Any] | None) -> str | None:
    """The quality the worklist lists and filters a result by: the device's verdict, but for an eye the
    nurse could not photograph (``NOT_PHOTOGRAPHED``), which the device sends as ``reject`` with no
    photo: filed under ``reject`` it could not be told apart from a photo the gate refused."""
    if could_not_photograph(quality):
        return NOT_PHOTOGRAPHED
    return quality["verdict"] if quality else None


def _v2_columns(document: dict[str, Any]) -> dict[str, Any]:
    """What ``edgescreen.result/2`` adds (``/3`` too), as columns the dashboard groups by; ``None`` for ``/1``."""
    v2 = document["schema"] in WITH_V2_FIELDS
    return {
        name: document[name] if v2 else None
        for name in ("lesion_diameter_mm", "skin_tone", "operating_point", "quality_reference")
    }
