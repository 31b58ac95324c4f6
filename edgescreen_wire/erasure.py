"""A patient's erasure carried from the device to the review station (device -> station).

``edgescreen.erasure/1`` (on ``erasure``)::

    {"schema": "edgescreen.erasure/1", "device_id": id, "result_ids": [32 hex, ...]}

The device id and the random ids of the results the station may hold, nothing else: no patient
reference, no date, no count of what the device erased beyond what the station holds already. The
ids are distinct and at most ``MAX_ERASED_IDS`` a document; a patient with more results than that
is carried in several documents (``erasure_documents``). The device checks what it queues, and the
station what it receives, with ``parse_erasure``.

Anything else (not JSON, too big, a field missing or unknown, an id that is not 32 hex) is refused
with a ``WireError``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgescreen_wire.checks import HEX32, IDENTIFIER, WireError, check_choice, check_keys, check_text, decode_document

ERASURE_SCHEMA = "edgescreen.erasure/1"
# Far more results than one patient has; a document of them is some 35 kB.
MAX_ERASED_IDS = 1000
MAX_ERASURE_BYTES = 48 * 1024


@dataclass(frozen=True)
class ErasureRequest:
    """What a valid erasure document asks: the results ``device_id`` sent that are to be erased."""

    device_id: str
    result_ids: tuple[str, ...]


def parse_erasure(payload: bytes) -> ErasureRequest:
    """A validated ``edgescreen.erasure/1`` from its bytes, or a ``WireError`` naming the field."""
    document = decode_document(payload, MAX_ERASURE_BYTES, "erasure")
    check_keys(document, {"schema", "device_id", "result_ids"}, set(), "erasure")
    check_choice(document["schema"], (ERASURE_SCHEMA,), "schema")
    check_text(document["device_id"], IDENTIFIER, "device_id")
    return ErasureRequest(document["device_id"], check_result_ids(document["result_ids"]))


def check_result_ids(ids: Any, most: int = MAX_ERASED_IDS) -> tuple[str, ...]:
    """``result_ids`` as the erasure documents carry them (this request, the station's notice of what it
    erased): 1 to ``most`` distinct result ids, or a ``WireError``."""
    if not isinstance(ids, list) or not 0 < len(ids) <= most:
        raise WireError(f"result_ids: expected a list of 1 to {most} result ids")
    for index, result_id in enumerate(ids):
        check_text(result_id, HEX32, f"result_ids[{index}]")
    if len(set(ids)) != len(ids):
        raise WireError("result_ids: an id is named twice")
    return tuple(ids)


def erasure_documents(device_id: str, result_ids: Sequence[str]) -> list[bytes]:
    """The documents that ask the station to erase ``result_ids``, ``MAX_ERASED_IDS`` at most each,
    each checked by ``parse_erasure`` before it is returned (none for no id)."""
    ids = sorted(set(result_ids))
    documents = []
    for start in range(0, len(ids), MAX_ERASED_IDS):
        document = {"schema": ERASURE_SCHEMA, "device_id": device_id, "result_ids": ids[start : start + MAX_ERASED_IDS]}
        encoded = json.dumps(document, separators=(",", ":")).encode()
        parse_erasure(encoded)
        documents.append(encoded)
    return documents
