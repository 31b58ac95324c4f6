"""The sealed photo, part of the wire contract: sealing to the review station with HPKE (RFC 9180), base mode, one shot.

Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, from ``cryptography``'s HPKE module
(no home-made construction). Each seal makes a fresh ephemeral key, so the sealed bytes are
``enc`` (32 bytes) then the ciphertext and its 16-byte tag. The ``info`` binds the photo to its
result id: a sealed photo moved to another result does not open. Only the station's private key
opens it, so the broker, a proxy, the device's own upload queue or a stolen upload folder hold
nothing readable.

The device seals (``seal_image``) with the public key it is configured with; the station opens
(``open_image``) only when a signed-in reviewer asks for the photo. The private key is a PEM file of
mode 0600; an HSM or KMS would replace ``read_private_key`` and ``open_image`` by a call that
decapsulates inside it (see the README), the sealed format staying the same.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from edgescreen_wire import pem_keys

SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
INFO_PREFIX = b"edgescreen.image/1 result "
ENC_BYTES = 32
TAG_BYTES = 16
# What sealing adds to a photo's size.
OVERHEAD_BYTES = ENC_BYTES + TAG_BYTES


class SealError(pem_keys.KeyRefusal, ValueError):
    """A sealed photo does not open (tampered, cut short, another result's, another key's), or a key
    file cannot be used; the message says which, never what the photo holds."""


def _info(result_id: str) -> bytes:
    return INFO_PREFIX + result_id.encode("ascii")


def seal_image(image: bytes, station_key: X25519PublicKey, result_id: str) -> bytes:
    return SUITE.encrypt(image, station_key, info=_info(result_id))


def open_image(sealed: bytes, private_key: X25519PrivateKey, result_id: str) -> bytes:
    if len(sealed) <= OVERHEAD_BYTES:
        raise SealError(f"result {result_id}: the sealed photo is too short ({len(sealed)} bytes) to hold one")
    try:
        return SUITE.decrypt(sealed, private_key, info=_info(result_id))
    except InvalidTag:
        raise SealError(
            f"result {result_id}: the sealed photo does not open with this station's key (altered, cut short, "
            "sealed for another result or to another key)"
        ) from None


STATION_KEY = "the station's photo key"


def read_public_key(path: Path) -> X25519PublicKey:
    return pem_keys.read_public_key(path, X25519PublicKey, STATION_KEY, SealError)


def read_private_key(path: Path) -> X25519PrivateKey:
    """The station's private key; refused when the group or others may read it."""
    return pem_keys.read_private_key(path, X25519PrivateKey, STATION_KEY, SealError)


def write_key_pair(private_path: Path, public_path: Path) -> X25519PublicKey:
    """A new station key: the private half created 0600 (never overwritten), the public half for devices."""
    key = X25519PrivateKey.generate()
    pem_keys.write_key_pair(key, private_path, public_path, SealError)
    return key.public_key()
