"""A lost device's certificate revoked: broker/revoke-certs writes the CA's revocation list again, the
shipped site broker (``crlfile``) refuses the certificate once restarted on it (as
scripts/install-site-broker restarts it), and every other certificate still connects."""

from __future__ import annotations

import ssl
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.mqtt_broker import stop_network_loop
from tests.sync.test_security import (
    BROKER_DIR,
    Client,
    make_test_certs,
    started_site_broker,
    tls_of,
)


def connects(port: int, certs: Path, name: str) -> bool:
    """Whether the broker accepts a connection with ``name``'s certificate (a refused handshake or
    CONNACK, or no answer within 3 s, is no)."""
    accepted = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(**tls_of(certs, name))
    client.on_connect = lambda c, u, f, rc, p: accepted.set() if not rc.is_failure else None
    try:
        client.connect("127.0.0.1", port)
        client.loop_start()
        return accepted.wait(3.0)
    except (ssl.SSLError, ConnectionError, OSError):
        return False  # the TLS handshake itself was refused
    finally:
        stop_network_loop(client)
        client.disconnect()


def test_a_revoked_device_certificate_is_refused_and_the_others_still_connect(tmp_path: Path) -> None:
    certs = make_test_certs(tmp_path / "certs")
    broker = started_site_broker(tmp_path / "broker", certs)
    port = broker.port
    try:
        assert connects(port, certs, "cam-02")  # before: a valid certificate like any other
        stolen = Client(port, certs, "cam-02")  # connected when the device is reported lost
        run = subprocess.run([str(BROKER_DIR / "revoke-certs"), str(certs), "cam-02"], capture_output=True, text=True)
        assert run.returncode == 0 and "revoked cam-02" in run.stderr
        stolen.connected.clear()
        broker.stop()  # the restart that installs the new list (install-site-broker): connections drop
        broker.start()
        assert not connects(port, certs, "cam-02")
        assert not stolen.connected.wait(3.0)  # paho's reconnection, refused too
        assert connects(port, certs, "cam-01") and connects(port, certs, "review-ingest-1")
        stolen.close()
    finally:
        broker.stop()
