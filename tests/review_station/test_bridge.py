"""broker/bridge.conf between two real mosquitto processes on loopback, both on the shipped
broker/mosquitto.conf (TLS, client certificates) and broker/acl, the central one with the bridge's block
from broker/bridge-acl: results and erasure requests go up to the central ingester, verdicts come back
down, and a site's bridge can neither carry nor publish another site's topics."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from edgescreen_wire.erased import notice_verifies, parse_erased_notice
from edgescreen_wire.erasure import erasure_documents
from edgescreen_wire.verdict_signature import read_public_key, write_key_pair
from review_station import accounts, devices
from review_station.storage.tables import deliveries
from review_station.verdicts import ReadForm, record_read
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import Broker, Tap, free_port, wait_until
from tests.review_station.kit import IngesterThread, counts, result_bytes, result_topic, station_config
from tests.review_station.web_kit import PASSWORD, station
from tests.sync.test_security import Client, site_broker_config, tls_of, with_lines

BROKER_DIR = PROJECT_ROOT / "broker"
ACCEPTED = "Success"
DENIED = "Not authorized"
UNHEARD = "No matching subscribers"  # MQTT 5: accepted, and nobody subscribes to it here


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As the README's steps make them: devices, the review station and site-a's bridge."""
    out = tmp_path_factory.mktemp("certs")
    names = ["cam-01", "cam-09", "review-ingest-1", "bridge-site-a"]
    subprocess.run([str(BROKER_DIR / "make-test-certs"), str(out), *names], check=True, capture_output=True)
    return out


def central_broker(directory: Path, certs: Path) -> Broker:
    """The shipped config and ACL, plus site-a's bridge block as ``install-site-broker --bridge-site``
    appends it."""
    directory.mkdir(parents=True)
    port = free_port()
    config = site_broker_config(directory, certs, port)
    bridge_block = subprocess.run([str(BROKER_DIR / "bridge-acl"), "site-a"], check=True, capture_output=True)
    with (directory / "acl").open("a") as acl:
        acl.write(bridge_block.stdout.decode())
    return Broker(directory, config, port)


def site_broker(directory: Path, certs: Path, central_port: int) -> Broker:
    """site-a's broker: the shipped config and ACL, plus broker/bridge.conf aimed at the central broker
    with the bridge-site-a certificate (only its address and file locations changed)."""
    directory.mkdir(parents=True)
    port = free_port()
    bridge = (BROKER_DIR / "bridge.conf").read_text()
    replacements = {
        "address": f"address 127.0.0.1:{central_port}",
        "bridge_cafile": f"bridge_cafile {certs}/ca.crt",
        "bridge_certfile": f"bridge_certfile {certs}/bridge-site-a.crt",
        "bridge_keyfile": f"bridge_keyfile {certs}/bridge-site-a.key",
    }
    bridge = with_lines(bridge, replacements, "broker/bridge.conf")
    return Broker(directory, site_broker_config(directory, certs, port) + bridge, port)


@pytest.fixture()
def bridged(tmp_path: Path, certs: Path) -> Iterator[tuple[Broker, Broker]]:
    """(central, site), the site's bridge connected and subscribed at the central broker."""
    central = central_broker(tmp_path / "central", certs).start()
    site = site_broker(tmp_path / "site", certs, central.port).start()
    try:
        # Subscribed once a verdict published at the central broker has a subscriber there: its PUBACK
        # says "No matching subscribers" until the bridge's subscription for verdicts holds.
        station_client = Client(central.port, certs, "review-ingest-1")
        try:
            verdict = lambda: station_client.publish("edgescreen/v1/site-a/cam-00/review", b"{}")  # noqa: E731
            wait_until(lambda: verdict() == ACCEPTED, 30, "the bridge's subscription at the central broker")
        finally:
            station_client.close()
        yield central, site
    finally:
        site.stop()
        central.stop()


def test_results_cross_the_bridge_and_verdicts_come_back(tmp_path, certs, bridged, engine: Engine) -> None:
    central, site = bridged
    devices.enrol(engine, "cam-01", "site-a", by="test")
    devices.enrol(engine, "cam-09", "site-b", by="test")
    station_tls = f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/review-ingest-1.crt"\n'
    station_tls += f'tls_key_file = "{certs}/review-ingest-1.key"\n'
    private, public = tmp_path / "verdict.key", tmp_path / "verdict.pub"
    write_key_pair(private, public)
    keyed = f'[verdicts]\nprivate_key_file = "{private}"\n'
    ingester = IngesterThread(station_config(tmp_path, engine, central.port, broker=station_tls, extra=keyed), engine)
    # One client per certificate: a second cam-01 client would take the first one's session.
    device, other_site = Client(site.port, certs, "cam-01"), Client(site.port, certs, "cam-09")
    device.subscribe("edgescreen/v1/site-a/cam-01/review")
    device.subscribe("edgescreen/v1/site-a/cam-01/erased")
    try:
        result_id, payload = result_bytes("cam-01", "site-a")
        assert device.publish(result_topic("site-a", "cam-01"), payload) == ACCEPTED
        # another site's topic on this site's broker: not forwarded (the bridge's prefixes pin the site)
        assert other_site.publish(result_topic("site-b", "cam-09"), result_bytes("cam-09", "site-b")[1]) == UNHEARD
        wait_until(lambda: counts(engine)[0] == 1, 30, "the result at the central station")
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
        _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
        record_read(engine, result_id, ana, ReadForm("refer", "soon", "moderate", "absent"), ())
        wait_until(lambda: device.messages, 30, "the verdict at the site broker")
        verdict = json.loads(device.messages[0][1])
        assert verdict["result_id"] == result_id
        ack = {"schema": "edgescreen.review-ack/1", "review_id": verdict["review_id"]}
        ack |= {"result_id": result_id, "status": "stored"}
        assert device.publish("edgescreen/v1/site-a/cam-01/review_ack", json.dumps(ack).encode()) == ACCEPTED

        def delivery_state() -> str:
            with engine.connect() as connection:
                return connection.execute(select(deliveries.c.state)).scalar_one()

        wait_until(lambda: delivery_state() == "stored", 30, "the device's ack at the central station")
        assert counts(engine) == (1, 1, 0)  # cam-09's result under site-b never crossed
        # The patient's erasure goes up the bridge too, and the central station carries it out.
        [erasure] = erasure_documents("cam-01", [result_id])
        assert device.publish("edgescreen/v1/site-a/cam-01/erasure", erasure) == ACCEPTED
        wait_until(lambda: counts(engine) == (0, 0, 0), 30, "the erasure at the central station")
        # The station's signed notice of it comes back down to the device.
        erased = "edgescreen/v1/site-a/cam-01/erased"
        wait_until(lambda: any(topic == erased for topic, _ in device.messages), 30, "the notice at the site broker")
        [notice] = [parse_erased_notice(payload) for topic, payload in device.messages if topic == erased]
        assert notice.result_ids == (result_id,) and notice_verifies(notice, [read_public_key(public)])
        assert "Denied" not in (tmp_path / "central" / "mosquitto.log").read_text()
    finally:
        for client in (device, other_site):
            client.close()
        ingester.stop()


def test_a_sites_bridge_certificate_cannot_publish_into_another_site(certs, bridged) -> None:
    central, _ = bridged
    station_tap = Tap(central.port, "edgescreen/v1/+/+/result", **tls_of(certs, "review-ingest-1"))
    bridge = Client(central.port, certs, "bridge-site-a")
    try:
        payload = result_bytes("cam-09", "site-b")[1]
        assert bridge.publish(result_topic("site-a", "cam-09"), payload) == ACCEPTED
        assert bridge.publish(result_topic("site-b", "cam-09"), payload) == DENIED
        assert bridge.publish("edgescreen/v1/site-b/cam-09/review_ack", b"{}") == DENIED
        assert bridge.publish("edgescreen/v1/site-a/cam-01/review", b"{}") == DENIED  # verdicts only come down
        wait_until(lambda: station_tap.on("/result"), 10, "the accepted result at the station's tap")
        assert [topic for topic, _ in station_tap.messages] == [result_topic("site-a", "cam-09")]
    finally:
        bridge.close()
        station_tap.close()
