"""The station's key files as both sides hold them: the photo key (X25519, which devices seal to)
and the verdict key (Ed25519, which devices check signatures with). One way to read and write
them, each refusal naming the file and the key, raised as the caller's own error: a private half
is refused when the group or others may read it, and never overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from firmware_app.secret_file import ExposedSecret, read_secret, write_new_secret

Public = TypeVar("Public")
Private = TypeVar("Private")


def read_public_key(path: Path, kind: type[Public], what: str, error: type[Exception]) -> Public:
    """``what`` ("the station's verdict key") of type ``kind`` from the PEM file ``path``."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as problem:
        raise error(f"{path}: not a readable PEM public key ({problem})") from None
    if not isinstance(key, kind):
        raise error(f"{path}: {what} must be an {kind.__name__.removesuffix('PublicKey')} public key")
    return key


def read_private_key(path: Path, kind: type[Private], what: str, error: type[Exception]) -> Private:
    """``what`` of type ``kind`` from the PEM file ``path``, which no one but its owner may read."""
    try:
        pem = read_secret(path, what)
    except OSError as problem:
        raise error(f"{path}: {what} cannot be read ({problem})") from None
    except ExposedSecret as problem:
        raise error(str(problem)) from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError as problem:
        raise error(f"{path}: not a PEM private key ({problem})") from None
    if not isinstance(key, kind):
        raise error(f"{path}: {what} must be an {kind.__name__.removesuffix('PrivateKey')} private key")
    return key


def write_key_pair(
    key: X25519PrivateKey | Ed25519PrivateKey, private_path: Path, public_path: Path, error: type[Exception]
) -> None:
    """Write a new ``key``: its private half created 0600 (never over a key already there), its public
    half for the devices."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        write_new_secret(private_path, pem)
    except FileExistsError:
        raise error(f"{private_path}: a key is already there; it is never overwritten") from None
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_path.write_bytes(public)
