"""Ed25519 keys for model bundles: the publisher's private key and the device's trusted public keys.

A public key is named by its key id (the first 16 hex digits of the sha256 of its raw 32 bytes), which
a manifest carries so that a refusal can say which key signed it. Keys are PEM files, so that the
usual tools (openssl) can read and make them too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgescreen_wire.pem_keys import KeyRefusal, read_private_key, read_public_key, write_key_pair
from firmware_app.inference.model import ModelError

PUBLIC_SUFFIX = ".pub"


class KeyFileError(ModelError, KeyRefusal):
    """A key file cannot be used; the message names the file."""


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(private_path: Path) -> Path:
    """Write a new private key (mode 0600, never overwriting one) and its public key beside it, as the
    station's keys are written (``edgescreen_wire.pem_keys.write_key_pair``)."""
    public_path = private_path.with_name(private_path.name + PUBLIC_SUFFIX)
    write_key_pair(Ed25519PrivateKey.generate(), private_path, public_path, KeyFileError)
    return public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The publisher's signing key, refused when the group or others may read it: the project's one
    rule for a private key in a file (``firmware_app.secret_file``), read by the helper that reads the
    station's private keys. A key others could read may have been copied: whoever has it can sign a
    model every device would install."""
    return read_private_key(path, Ed25519PrivateKey, "the model signing key", KeyFileError)


def trusted_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    """Every ``*.pub`` in ``directory`` by key id; a broken key file is an error, not silently skipped."""
    if not directory.is_dir():
        raise KeyFileError(f"{directory}: no trusted-keys folder, so no model bundle can be verified")
    paths = sorted(directory.glob(f"*{PUBLIC_SUFFIX}"))
    keys = [read_public_key(path, Ed25519PublicKey, "a trusted model key", KeyFileError) for path in paths]
    if not keys:
        raise KeyFileError(f"{directory}: no trusted public keys (*{PUBLIC_SUFFIX}): no bundle can be verified")
    return {key_id(key): key for key in keys}


def signature_holds(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
