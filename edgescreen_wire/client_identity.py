"""A client's name at the site broker: its certificate's common name, which the broker takes as the
MQTT user name and client id (``use_identity_as_username``, ``use_username_as_clientid`` in
broker/mosquitto.conf) whatever the client sends, and which the ACL confines to its own topics. Both
sides check their certificate against the id they expect by it: the ingester at start
(``review_station.ingest.identity``), the device in ``edgescreen doctor``."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID


def common_name(certificate: x509.Certificate) -> str | None:
    """The subject's common name of ``certificate``; None without one (the broker refuses it a name)."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None
