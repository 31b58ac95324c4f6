"""The review station's notice of the results it erased for one device (station -> device).

A patient erased on the device comes back on it when its records are restored from a backup taken
before the erasure, and an administrator's erasure at the station (``edgescreen-review results
erase``) never reached the device at all. The station keeps both erased; this notice tells the device
which of its results they are, so that it erases those it still holds.

``edgescreen.erased/1`` (on ``erased``, retained, QoS 1)::

    {"schema": "edgescreen.erased/1", "erased": {"device_id": id, "result_ids": [32 hex, ...]},
     "signature": base64 of the 64-byte signature of ``verdict_signature.signed_bytes(erased, CONTEXT)``}

The device id and every result id the station erased for that device, nothing else: no patient
reference, no date. Retained, so that a device restored from a backup, or away for days, has the
whole list at its next connection; the station publishes it again, whole, at each erasure of one of
that device's results. Signed with the station's verdict key (``edgescreen_wire.verdict_signature``)
under a context of its own: whoever may publish on the broker could otherwise erase a device's
records. ``MAX_NOTICE_IDS`` ids at most, the newest erased (the station's choice): the notice's
bytes within the broker's packet limit (``max_packet_size`` 131072 in broker/mosquitto.conf).

Anything else (not JSON, too big, a field missing or unknown, an id that is not 32 hex) is refused
with a ``WireError``; the signature and the device id are the receiver's to check (``notice_verifies``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgescreen_wire.checks import IDENTIFIER, check_choice, check_keys, check_object, check_text, decode_document
from edgescreen_wire.erasure import check_result_ids
from edgescreen_wire.review import SIGNATURE
from edgescreen_wire.verdict_signature import sign_document, signature_verifies

ERASED_SCHEMA = "edgescreen.erased/1"
CONTEXT = b"edgescreen.erased/1 results erased by the review station\n"
# A device's erased results the notice names at most: some 35 bytes each ("32 hex",), so that the
# notice, its signature and its topic stay under the broker's 128 KiB packet limit.
MAX_NOTICE_IDS = 3000
MAX_NOTICE_BYTES = 35 * MAX_NOTICE_IDS + 1024


@dataclass(frozen=True)
class ErasedNotice:
    """A well-formed notice, its signature read but not verified (``notice_verifies``)."""

    device_id: str
    result_ids: tuple[str, ...]
    document: Mapping[str, Any]
    signature: bytes


def parse_erased_notice(payload: bytes) -> ErasedNotice:
    """A validated ``edgescreen.erased/1`` from its bytes, or a ``WireError`` naming the field."""
    message = check_keys(
        decode_document(payload, MAX_NOTICE_BYTES, "erased"), {"schema", "erased", "signature"}, set(), "erased"
    )
    check_choice(message["schema"], (ERASED_SCHEMA,), "schema")
    check_text(message["signature"], SIGNATURE, "signature")
    document = check_keys(check_object(message["erased"], "erased"), {"device_id", "result_ids"}, set(), "erased")
    check_text(document["device_id"], IDENTIFIER, "device_id")
    ids = check_result_ids(document["result_ids"], MAX_NOTICE_IDS)
    return ErasedNotice(document["device_id"], ids, document, base64.b64decode(message["signature"]))


def encode_erased_notice(device_id: str, result_ids: Sequence[str], key: Ed25519PrivateKey) -> bytes:
    """The signed notice naming ``result_ids`` for ``device_id``, checked by ``parse_erased_notice``
    before it is returned (a ``WireError`` for more ids than a notice carries)."""
    document = {"device_id": device_id, "result_ids": sorted(set(result_ids))}
    message = {"schema": ERASED_SCHEMA, "erased": document, "signature": sign_document(document, key, CONTEXT)}
    encoded = json.dumps(message, separators=(",", ":")).encode()
    parse_erased_notice(encoded)
    return encoded


def notice_verifies(notice: ErasedNotice, keys: Iterable[Ed25519PublicKey]) -> bool:
    """Whether one of ``keys`` (the station's verdict keys a device trusts) signed this notice."""
    return signature_verifies(notice.document, notice.signature, keys, CONTEXT)
