"""The stored check that a key file holds the key the records were sealed with.

Opening the records with the wrong key must fail at once, on open and on restore, rather than at
the first sealed value. The check that does it is kept in the records' ``meta``, so it is on the
card, in every backup and, once deleted, in freed blocks; a check that is fast to compute (the
releases before this one kept 16 hex digits of a SHA-256 of the key) lets whoever holds a copy of
the card test every 32 bytes of it as a key in under a second. So the check is a salted scrypt
digest, with its parameters stored beside it as the review station stores its password hashes:
16 MiB and about 50 ms a test on a desktop core, several times that on a Pi, paid once per open.

What it cannot do: any sealed value of the records is a key check too (AES-GCM's tag, a few
microseconds a test), so a card whose freed blocks hold the key and the records' pages is not
protected by it. The key file's crypto-erase (``firmware_app/wipe.py``) and full-disk encryption
(README, "A lost or stolen device") are what protect such a card.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from firmware_app.records.database import ContentNotRecords

SCHEME = "scrypt"
# The operators' PIN hashes' cost (firmware_app/operators.py): one test at each open.
N, R, P = 2**14, 8, 1
# Parameters read back from the records are bounded, so a garbled check cannot ask for gigabytes.
MAX_MEMORY = 64 * 2**20
SALT_BYTES = 16
DIGEST_BYTES = 32
# A check made before this module: the first 16 hex digits of this digest of the key (records/store.py
# replaces it with a scrypt check the first time the records are opened with their key).
LEGACY_PREFIX = b"edgescreen-records-key\0"


def _digest(key: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(key, salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=DIGEST_BYTES)


def make_check(key: bytes) -> str:
    """A new check of ``key``: ``scrypt$N$r$p$salt$digest`` (base64), with a fresh random salt."""
    salt = os.urandom(SALT_BYTES)
    parts = (base64.b64encode(part).decode() for part in (salt, _digest(key, salt, N, R, P)))
    return "$".join((SCHEME, str(N), str(R), str(P), *parts))


def matches(check: str, key: bytes) -> bool:
    """Whether ``key`` is the key ``check`` was made of; ``ContentNotRecords`` for a check that is not one."""
    try:
        scheme, n, r, p, salt, digest = check.split("$")
        if scheme != SCHEME:
            raise ValueError(f"unknown scheme {scheme!r}")
        computed = _digest(key, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
        return hmac.compare_digest(computed, base64.b64decode(digest, validate=True))
    except ValueError as error:  # a malformed field, or parameters beyond MAX_MEMORY
        raise ContentNotRecords(f"the records' key check cannot be read ({error})") from None


def legacy_matches(fingerprint: str, key: bytes) -> bool:
    """Whether ``key`` is the one a check of the releases before this one names."""
    return hmac.compare_digest(fingerprint, hashlib.sha256(LEGACY_PREFIX + key).hexdigest()[:16])
