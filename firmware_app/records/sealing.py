"""Authenticated encryption at rest (AES-256-GCM) for images and anything that identifies a patient.

The key lives in its own file, created when the records are first initialised (``store.Records``
decides when) with mode 0600 and written atomically, so a power cut can never leave an empty or
half-written key. Each sealed value is bound to its row and
field (GCM associated data): a value copied into another row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from firmware_app.durable import fsync_directory
from firmware_app.records.database import RecordsError
from firmware_app.secret_file import ExposedSecret, read_secret

KEY_BYTES = 32
NONCE_BYTES = 12


def create_key(path: Path) -> None:
    """Write a new random key, unless another process just did: theirs wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(descriptor, AESGCM.generate_key(bit_length=KEY_BYTES * 8))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(temporary, path)  # fails if another process created the key first: theirs wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    fsync_directory(path.parent)


def read_key(path: Path) -> bytes:
    """The records key; refused if others can read it or it is malformed."""
    try:
        key = read_secret(path, "the records key")
    except OSError as error:
        raise RecordsError(f"{path}: cannot read the records key ({error})") from error
    except ExposedSecret as error:
        raise RecordsError(str(error)) from None
    if len(key) != KEY_BYTES:
        raise RecordsError(f"{path}: the records key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


class SealBroken(RecordsError):
    """One sealed value does not open with a key that opens the others: its bytes changed on the
    card (a worn SD card flips bits, and GCM refuses a single one). The records around it are
    whole, so whoever reads many values (a search, a restore) passes over it, and says so."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        # The key's own for digests (``digest``), apart from the one that encrypts.
        self._digest_key = hmac.new(key, b"edgescreen records digests", hashlib.sha256).digest()

    def digest(self, data: bytes, binding: str) -> str:
        """A keyed digest of ``data`` (HMAC-SHA-256), for ``binding``'s use: records can be searched by
        it while it tells nobody without the key whether it is of bytes they hold (a patient's photo)."""
        return hmac.new(self._digest_key, binding.encode() + b"\0" + data, hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, binding: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, binding.encode())

    def open(self, sealed: bytes, binding: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], binding.encode())
        except InvalidTag:
            raise SealBroken(
                f"a sealed value for {binding} does not open with the records key: its bytes changed on the card "
                "(a worn card) or were altered; `edgescreen doctor` names every such result"
            ) from None


class KeyUnavailable(RecordsError):
    """Stands in for the ``Sealer`` when the key is missing: work that needs no key goes on, and
    anything that would seal or open a value fails with what to do."""

    def seal(self, plaintext: bytes, binding: str) -> bytes:
        raise KeyUnavailable(*self.args)

    def open(self, sealed: bytes, binding: str) -> bytes:
        raise KeyUnavailable(*self.args)

    def digest(self, data: bytes, binding: str) -> str:
        raise KeyUnavailable(*self.args)
