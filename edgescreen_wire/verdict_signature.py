"""The review station's signature on a verdict (``edgescreen.review/3``), part of the wire contract.

Without it the broker's ACL is all that stands between a device and a forged verdict: whoever runs
the site broker, or holds the station's or a bridge's broker certificate, could tell a nurse that a
referred patient needs no referral. The station signs each verdict with an Ed25519 key that never
leaves it; a device given the public half refuses a verdict that does not verify.

What is signed is ``signed_bytes(document)``: ``CONTEXT`` followed by the ``/1`` or ``/2`` document in
one canonical JSON form, defined here once for both sides: keys sorted, no whitespace, UTF-8, no
``\\u`` escape but those JSON requires (as Python's ``json`` writes them). That is RFC 8785 (JCS)
for documents without numbers, which a review document never holds. The device verifies over the
document it parsed, which is what it stores (verdict, urgency, findings, comment, ids, reviewer,
reviewed_at), so no byte of it can change after signing, and a field added on the way is refused by
the document's exact key set. ``CONTEXT`` keeps a verdict signature from ever passing as a signature
of anything else (a model bundle's manifest), should a key be reused.

Keys are PEM files, like the photo key: the private half mode 0600 in the station's config, the
public half on each device. A device may trust several public keys at once (the old and the new,
while the station's key is changed), so a verdict verifies if any of them accepts it.

The same key and scheme sign the station's other word to a device, its notice of the results it erased
(``edgescreen_wire.erased``), under a context of its own: one signature never passes for the other.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgescreen_wire import pem_keys
from edgescreen_wire.review import REVIEW_V3, parse_review_document

CONTEXT = b"edgescreen.review/3 verdict signed by the review station\n"


class VerdictKeyError(pem_keys.KeyRefusal, ValueError):
    """A verdict key file cannot be used; the message names the file and why."""


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signed_bytes(document: Mapping[str, Any], context: bytes = CONTEXT) -> bytes:
    return context + canonical_json(document)


def sign_document(document: Mapping[str, Any], key: Ed25519PrivateKey, context: bytes = CONTEXT) -> str:
    """The base64 signature of ``document`` under ``context`` (a verdict's ``CONTEXT`` unless said)."""
    return base64.b64encode(key.sign(signed_bytes(document, context))).decode("ascii")


def sign_review(payload: bytes, key: Ed25519PrivateKey) -> bytes:
    """The ``edgescreen.review/3`` message of a queued ``/1`` or ``/2`` verdict's bytes, checked first
    as the device will check it."""
    document = parse_review_document(payload)
    signature = sign_document(document, key)
    message = {"schema": REVIEW_V3, "review": document, "signature": signature}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature_verifies(
    document: Mapping[str, Any], signature: bytes, keys: Iterable[Ed25519PublicKey], context: bytes = CONTEXT
) -> bool:
    """Whether any of ``keys`` made ``signature`` over ``document`` under ``context``."""
    message = signed_bytes(document, context)
    for key in keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


VERDICT_KEY = "the station's verdict key"


def read_public_key(path: Path) -> Ed25519PublicKey:
    return pem_keys.read_public_key(path, Ed25519PublicKey, VERDICT_KEY, VerdictKeyError)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The station's signing key; refused when the group or others may read it."""
    return pem_keys.read_private_key(path, Ed25519PrivateKey, VERDICT_KEY, VerdictKeyError)


def write_key_pair(private_path: Path, public_path: Path) -> Ed25519PublicKey:
    """A new verdict key: the private half created 0600 (never overwritten), the public half for devices."""
    key = Ed25519PrivateKey.generate()
    pem_keys.write_key_pair(key, private_path, public_path, VerdictKeyError)
    return key.public_key()
