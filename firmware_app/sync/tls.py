"""The device's TLS client context, built in one place from ``[sync]``'s files: the sync worker (to
the broker), the photo uploader (to the review station) and ``edgescreen doctor``'s tls check use
the same one. Built before any connection, a key that does not match its certificate, or a file
that cannot be read, is one sentence the doctor shows red and the worker reports before it exits,
where paho's ``tls_set`` raised it from inside the worker as a traceback, again at every restart."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from firmware_app.config import SyncConfig
from firmware_app.secret_file import ExposedSecret, refuse_exposed

if TYPE_CHECKING:
    import ssl

# OpenSSL's reason when the private key is not the certificate's (another device's key, say).
KEY_MISMATCH = "KEY_VALUES_MISMATCH"


class TlsUnusable(Exception):
    """The TLS files cannot make a context: the message names the file and why, for the technician."""


class TlsKeyExposed(TlsUnusable):
    """The device's TLS key is readable by others: unlike the other causes, no new certificate is
    needed, only its mode (``path``, ``mode``) put right."""

    def __init__(self, message: str, path: Path, mode: str) -> None:
        super().__init__(message)
        self.path, self.mode = path, mode


def client_context(settings: SyncConfig) -> ssl.SSLContext:
    """A client context trusting ``tls_ca_file`` (the system's CAs without one) and presenting the
    device certificate with its key when they are set; ``TlsUnusable`` when the files cannot make one.

    ``ssl`` is imported here, not with the module: the app imports ``TlsUnusable``, and a process that
    only screens and records never loads the sync side (``tests/test_screening_imports.py``)."""
    import ssl

    ca = settings.tls_ca_file
    try:
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
    except (ssl.SSLError, OSError) as error:  # SSLError is an OSError: the certificate's words first
        raise TlsUnusable(f"the CA file {ca} cannot be used: {_reason(error)}") from error
    certificate = settings.tls_cert_file
    if certificate is None:
        return context
    key = settings.tls_key_file or certificate  # without a key file, the key is in the certificate's file
    try:
        context.load_cert_chain(str(certificate), str(key))
    except ssl.SSLError as error:
        if error.reason == KEY_MISMATCH:
            raise TlsUnusable(f"the key {key} does not match the certificate {certificate}") from error
        raise TlsUnusable(f"the certificate {certificate} or its key {key} cannot be used: {_reason(error)}") from error
    except OSError as error:
        raise TlsUnusable(f"the certificate {certificate} or its key {key} cannot be read: {_reason(error)}") from error
    try:  # the device's identity at the broker: under the records key's rule (secret_file.py)
        refuse_exposed(key, "the device's TLS private key")
    except ExposedSecret as error:
        raise TlsKeyExposed(str(error), Path(key), error.mode) from None
    return context


def _reason(error: OSError) -> str:
    """OpenSSL's reason (``PEM lib``, ``NO_CERTIFICATE_OR_CRL_FOUND``) or the system's (``Permission denied``)."""
    return str(getattr(error, "reason", None) or error.strerror or error)
