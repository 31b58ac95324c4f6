"""The tablets' HTTPS listener's certificate and key (``[app] tls_cert_file``, ``tls_key_file``), checked
when the config loads: a file that cannot be read, is not PEM, a key others may read, or a key that is
not the certificate's stops the start with the file named, where uvicorn would have raised it as a
traceback once the camera and the sync worker were already started. The app then reads them once
more, into the one TLS context its listener uses (``tls_context``), before anything starts: a file
removed or replaced since is said by the same check.

Imported only by a config that sets them: ``cryptography`` is no cost to a device without TLS."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from edgescreen_wire.pem_keys import read_private_key
from firmware_app.config import ConfigError

# What the key is called in a refusal (and in ``secret_file``'s "readable by others").
KEY = "the app's TLS private key"


def check_tls_files(certificate: Path, key: Path) -> None:
    """``ConfigError`` (its message starting with the key, as ``AppConfig`` raises it) when
    ``certificate`` and ``key`` cannot serve HTTPS together."""
    try:
        data = certificate.read_bytes()
    except OSError as error:
        raise ConfigError(f"tls_cert_file: {certificate} cannot be read ({error.strerror})") from None
    try:
        public = x509.load_pem_x509_certificate(data).public_key()
    except ValueError:
        raise ConfigError(f"tls_cert_file: {certificate} is not a PEM certificate") from None
    try:
        private: PrivateKeyTypes = read_private_key(key, PrivateKeyTypes, KEY, ConfigError)  # type: ignore[arg-type]
    except ConfigError as error:
        raise ConfigError(f"tls_key_file: {error}") from None
    if _spki(private.public_key()) != _spki(public):
        raise ConfigError(f"tls_key_file: {key} does not match the certificate {certificate}")


def _spki(public: object) -> bytes:
    """A public key's bytes, to compare the key's with the certificate's."""
    encoding, form = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return public.public_bytes(encoding, form)  # type: ignore[attr-defined]


def tls_context(certificate: Path, key: Path) -> ssl.SSLContext:
    """The server's TLS context from ``certificate`` and ``key``, read here once: handed to uvicorn,
    which read the files again itself once the device had started. ``ConfigError`` naming the file
    (``check_tls_files``) when they cannot serve HTTPS; the SSL library's own words only when that
    check finds nothing (the files mended meanwhile, or a kind of key the library refuses)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError) as error:
        check_tls_files(certificate, key)
        files = f"{certificate} and tls_key_file: {key}"
        raise ConfigError(f"tls_cert_file: {files} cannot serve HTTPS ({error})") from None
    return context
