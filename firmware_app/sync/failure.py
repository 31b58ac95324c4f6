"""Why the worker's last connection to the site broker failed, as one of the few causes a technician
acts on differently (``sync.failure.<cause>`` says what to do; ``doctor``'s broker line names it). The
worker's own words (``connection_detail``) stay for the journal; these codes are all that is kept of
them in the records' state: no certificate, key or patient data is in a cause."""

from __future__ import annotations

import socket
import ssl

# This device does not trust the broker's certificate: tls_ca_file, or a broker_host not on it.
TLS_VERIFY = "tls_verify"
# The broker ends a TLS connection before answering it: in TLS 1.3 its refusal of this device's
# certificate (another CA's, revoked, expired) comes after the client's handshake, as a closed socket.
TLS_REFUSED = "tls_refused"
# The broker answered and refused the device or its results (``worker.denies_this_device``).
NOT_AUTHORISED = "not_authorised"
CONNECTION_REFUSED = "connection_refused"
NAME_UNRESOLVED = "name_unresolved"
TIMED_OUT = "timed_out"


def cause_of(error: BaseException) -> str:
    """The cause of a connection that could not be opened; ``""`` when none of the known ones."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return TLS_VERIFY
    if isinstance(error, ssl.SSLError):
        return TLS_REFUSED
    if isinstance(error, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(error, socket.gaierror):
        return NAME_UNRESOLVED
    if isinstance(error, TimeoutError):
        return TIMED_OUT
    return ""
