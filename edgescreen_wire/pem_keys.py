"""The station's key files as both sides hold them: the photo key (X25519, which devices seal to)
and the verdict key (Ed25519, which devices check signatures with). One way to read and write
them, each refusal naming the file and the key, raised as the caller's own error: a private half
is refused when the group or others may read it, and neither half is ever written over a file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from firmware_app.durable import create_whole_durably
from firmware_app.secret_file import ExposedSecret, read_secret, write_new_secret

Public = TypeVar("Public")
Private = TypeVar("Private")

# Why a key pair is not written, in English: the station's catalogue says each in its language too
# ("keygen.refused.<key>", ``KeyRefusal``).
WRITE_REFUSALS = {
    "private_taken": "{path}: a key is already there; it is never overwritten",
    "public_taken": "{path}: a file is already there; a public key is never written over it",
    "same_file": "{path}: the public key goes to a file of its own, not the private key's",
    "private_unwritable": "{path}: the private key cannot be written ({problem})",
    "public_unwritable": "{path}: the public key cannot be written ({problem})",
}


class KeyRefusal(Exception):
    """The base of the errors a key file is refused with (``SealError``, ``VerdictKeyError``, the
    model signing key's ``KeyFileError``), its message the English of why. A key pair not written says
    which ``WRITE_REFUSALS`` it is (``key``) and its ``values``, so the station's command line says it
    in the station's language, as its other refusals (``sentence_key``: ``words.refusal``); a key file
    that cannot be read names it in its own English (``key`` None)."""

    key: str | None = None
    values: dict[str, str]

    @property
    def sentence_key(self) -> str:
        return f"keygen.refused.{self.key}"


def _refused(error: type[KeyRefusal], key: str, path: Path, **values: str) -> KeyRefusal:
    """``error`` saying ``WRITE_REFUSALS[key]`` of ``path`` with ``values``, in English and by its key."""
    values = {"path": str(path), **values}
    refused = error(WRITE_REFUSALS[key].format(**values))
    refused.key, refused.values = key, values
    return refused


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
    key: X25519PrivateKey | Ed25519PrivateKey, private_path: Path, public_path: Path, error: type[KeyRefusal]
) -> None:
    """Write a new ``key``: its private half created 0600, then its public half for the devices; neither
    over a file there (a key in use, the other key's public file the devices were given), a link
    included. Private first, and removed again when the public half cannot be written: nothing was
    sealed to it yet. The other way round, a power cut between the two left a public file with no
    private key, which looks fine to give devices, and every photo sealed to it could never be opened."""
    _refuse_taken(private_path, public_path, error)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with _refused_as(private_path, "private", error):
        write_new_secret(private_path, pem)  # its folder too, where the public half may go (``models keygen``)
    try:
        with _refused_as(public_path, "public", error):
            create_whole_durably(public_path, public)
    except BaseException:
        with suppress(OSError):  # the public half's refusal is what the user must read
            private_path.unlink()
        raise


def _refuse_taken(private_path: Path, public_path: Path, error: type[KeyRefusal]) -> None:
    """Refuse before anything is made: a private key there, a file or a link at ``public_path``, or
    both halves asked for the same file, however each is spelt (``..``, a link to a folder): the paths
    are compared resolved, as far as they exist. ``os.path.realpath``, not ``Path.resolve``: a link loop
    in a path raises RuntimeError there (Python 3.11), where realpath stops at it, and the write then
    refuses the path as unwritable, the system's reason given."""
    if os.path.lexists(private_path):
        raise _refused(error, "private_taken", private_path)
    if os.path.lexists(public_path):
        raise _refused(error, "public_taken", public_path)
    if os.path.realpath(public_path) == os.path.realpath(private_path):
        raise _refused(error, "same_file", public_path)


@contextmanager
def _refused_as(path: Path, half: str, error: type[KeyRefusal]) -> Iterator[None]:
    """Writing a key's ``half`` ("public", "private") at ``path``: a file made there meanwhile refused
    as taken, any other reason the file system gives with it (its own words)."""
    try:
        yield
    except FileExistsError:
        raise _refused(error, f"{half}_taken", path) from None
    except OSError as problem:
        raise _refused(error, f"{half}_unwritable", path, problem=str(problem)) from None
