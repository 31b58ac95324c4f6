"""The ingester's MQTT client id is its certificate's common name, or it does not start.

The site broker names each client's session after the certificate that opened it
(``use_username_as_clientid`` in broker/mosquitto.conf), whatever client id the client sends: a device's
certificate cannot take the station's session that way. A ``[broker] client_id`` other than the
certificate's CN would be silently replaced there, so two ingesters given one certificate and two
client ids would share one session and knock each other off several times a second; and on a broker
that does not bind them yet, the ingester's session would not be the one its ACL block is named for.
Saying so at start, with the two names, is cheaper than either.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from edgescreen_wire.client_identity import common_name
from review_station.config import BrokerConfig, ConfigError


def certificate_name(path: Path) -> str:
    """The subject's common name of the PEM certificate in ``path`` (a key may follow it in the file)."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigError(f"[broker] tls_cert_file {path} cannot be read as a certificate: {error}") from error
    name = common_name(certificate)
    if name is None:
        raise ConfigError(f"[broker] tls_cert_file {path} has no common name: the broker needs it as the user name")
    return name


def check_client_id(settings: BrokerConfig) -> None:
    """``ConfigError`` when the ingester presents a certificate whose CN is not its ``client_id``."""
    if settings.tls_cert_file is None:
        return  # no certificate (a loopback test broker): the client id is the configured one
    name = certificate_name(settings.tls_cert_file)
    if name != settings.client_id:
        raise ConfigError(
            f"[broker] client_id is {settings.client_id!r} but the certificate {settings.tls_cert_file} names "
            f"{name!r}: the broker names the ingester's session after its certificate (use_username_as_clientid). "
            f"Set client_id = {name!r}, or give this ingester a certificate of its own whose CN is "
            f"{settings.client_id!r} (and its ACL block: broker/ingester-acl)"
        )
