"""Why the worker's last connection to the site broker failed, as one of the few causes a technician
acts on differently (``sync.failure.<cause>`` says what to do; ``doctor``'s broker line names it). The
worker's own words (``connection_detail``) stay for the journal; these codes are all that is kept of
them in the records' state: no certificate, key or patient data is in a cause."""

from __future__ import annotations

import socket
import ssl

# This device does not trust the broker's certificate: tls_ca_file, or a broker_host not on it.
TLS_VERIFY = "tls_verify"
# The broker refuses this device's certificate (another CA's, revoked, expired, none): at TLS 1.2 with
# an alert within the client's handshake (REFUSING_ALERTS); at TLS 1.3 after it, and the broker ends
# the connection before answering it, as a closed socket (the worker's ``_on_disconnect``).
TLS_REFUSED = "tls_refused"
# TLS configured, and what answers at broker_port does not speak it: the broker's plain port (1883).
TLS_HANDSHAKE = "tls_handshake"
# The broker answered and refused the device or its results (``worker.denies_this_device``).
NOT_AUTHORISED = "not_authorised"
CONNECTION_REFUSED = "connection_refused"
NAME_UNRESOLVED = "name_unresolved"
TIMED_OUT = "timed_out"

# The alerts, as OpenSSL names them (the SSLError's ``reason``), a TLS server refuses a client's
# certificate with. Seen from the shipped broker at TLS 1.2: unknown ca (another CA's certificate),
# certificate revoked, certificate expired, and handshake failure (no certificate). Also refusals in
# RFC 8446: bad certificate (corrupt, or its signature does not verify), and certificate required,
# TLS 1.3's for none (which comes after the client's handshake: TLS_REFUSED).
REFUSING_ALERTS = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    }
)


def cause_of(error: BaseException, tls: bool) -> str:
    """The cause of a connection that could not be opened; ``""`` when none of the known ones.
    ``tls``: TLS is configured, and a connection reset is then the handshake's (mosquitto's plain
    listener resets one at the client's hello, ``_tls_cause``); without TLS it is no known cause."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return TLS_VERIFY
    if isinstance(error, ssl.SSLError):
        return _tls_cause(error)
    if isinstance(error, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(error, ConnectionError) and tls:  # reset or aborted during the handshake
        return TLS_HANDSHAKE
    if isinstance(error, socket.gaierror):
        return NAME_UNRESOLVED
    if isinstance(error, TimeoutError):
        return TIMED_OUT
    return ""


def _tls_cause(error: ssl.SSLError) -> str:
    """A handshake that failed: refused, or with no TLS server at all. Told apart by whether the other
    end spoke TLS, that is, sent an alert (OpenSSL's reasons ``SSLV3_ALERT_*``, ``TLSV1_ALERT_*``,
    ``TLSV13_ALERT_*``). A device configured for TLS and left at the broker's plain port (1883) was told
    its certificate was refused, every SSLError being filed so, and the technician chased certificates:
    mosquitto's plain listener resets the connection at the client's hello (no SSLError: ``cause_of``),
    and a server of another protocol answers bytes OpenSSL reads as no TLS record ("wrong version
    number", "record layer failure" from OpenSSL 3.2) or closes ("unexpected EOF"), none an alert. An
    alert that refuses no certificate (a protocol version) fits neither remedy: unknown."""
    reason = error.reason or ""
    if reason in REFUSING_ALERTS:
        return TLS_REFUSED
    return "" if "_ALERT_" in reason else TLS_HANDSHAKE
