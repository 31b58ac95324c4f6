"""Ed25519 keys for model bundles: the publisher's private key and the device's trusted public keys.

A public key is named by its key id (the first 16 hex digits of the sha256 of its raw 32 bytes), which
a manifest carries so that a refusal can say which key signed it. Keys are PEM files, so that the
usual tools (openssl) can read and make them too.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgescreen_wire.pem_keys import read_public_key
from firmware_app.inference.model import ModelError

PUBLIC_SUFFIX = ".pub"


class KeyFileError(ModelError):
    """A key file cannot be used; the message names the file."""


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key(private_path: Path) -> Path:
    """Write a new private key (mode 0600, never overwriting one) and its public key beside it."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise KeyFileError(f"{private_path}: a key is already there; refusing to overwrite it") from error
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    public_path = private_path.with_name(private_path.name + PUBLIC_SUFFIX)
    public_path.write_bytes(public_pem(key.public_key()))
    return public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read the signing key ({error.strerror})") from error
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key ({error})") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return key


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
