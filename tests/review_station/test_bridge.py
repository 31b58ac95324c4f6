"""broker/bridge.conf with two real mosquitto processes on loopback: a site broker bridged to a central
one. Results go up to the central ingester, verdicts come back down, and another site's topics stay home."""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import Engine, select

from review_station import accounts, devices
from review_station.storage.tables import deliveries
from review_station.verdicts import ReadForm, record_read
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import RUN_AS, Broker, Tap, wait_until
from tests.review_station.kit import (
    IngesterThread,
    Publisher,
    counts,
    result_bytes,
    result_topic,
    roomy_broker,
    station_config,
)
from tests.review_station.web_kit import PASSWORD, station


def site_broker(directory, central_port: int) -> Broker:
    """The site broker: a plain loopback listener plus the shipped bridge section, aimed at ``central_port``
    (TLS lines left out: the loopback central broker has no certificate)."""
    bridge = (PROJECT_ROOT / "broker" / "bridge.conf").read_text()
    bridge = re.sub(r"(?m)^address .*$", f"address 127.0.0.1:{central_port}", bridge)
    bridge = re.sub(r"(?m)^bridge_(cafile|certfile|keyfile) .*\n", "", bridge)
    broker = Broker(directory)
    broker.config_file.write_text(
        RUN_AS + f"listener {broker.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {directory}/\nlog_dest file {directory}/mosquitto.log\n" + bridge
    )
    return broker


def test_results_cross_the_bridge_and_verdicts_come_back(tmp_path, engine: Engine) -> None:
    central = roomy_broker(tmp_path / "central").start()
    site = site_broker(tmp_path / "site", central.port).start()
    ingester = None
    try:
        devices.enrol(engine, "cam-01", "site-a", by="test")
        devices.enrol(engine, "cam-09", "site-b", by="test")
        ingester = IngesterThread(station_config(tmp_path, engine, central.port), engine)
        device_tap = Tap(site.port, "edgescreen/v1/site-a/cam-01/review")
        wait_until(lambda: "bridge-site-a" in (tmp_path / "central" / "mosquitto.log").read_text(), 30, "the bridge")
        time.sleep(1.0)  # the bridge's subscriptions at the central broker
        result_id, payload = result_bytes("cam-01", "site-a")
        publisher = Publisher(site.port)
        publisher.publish_all([(result_topic("site-a", "cam-01"), payload)])
        # another site's topic on this site's broker: not forwarded (the bridge's prefixes pin the site)
        publisher.publish_all([(result_topic("site-b", "cam-09"), result_bytes("cam-09", "site-b")[1])])
        wait_until(lambda: counts(engine)[0] == 1, 30, "the result at the central station")
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
        _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
        record_read(engine, result_id, ana, ReadForm("refer", "soon", "moderate", "absent"), ())
        wait_until(lambda: device_tap.on("/review"), 30, "the verdict at the site broker")
        assert json.loads(device_tap.on("/review")[0])["result_id"] == result_id
        ack = {"schema": "edgescreen.review-ack/1", "review_id": json.loads(device_tap.on("/review")[0])["review_id"]}
        ack |= {"result_id": result_id, "status": "stored"}
        publisher.publish_all([("edgescreen/v1/site-a/cam-01/review_ack", json.dumps(ack).encode())])

        def delivery_state() -> str:
            with engine.connect() as connection:
                return connection.execute(select(deliveries.c.state)).scalar_one()

        wait_until(lambda: delivery_state() == "stored", 30, "the device's ack at the central station")
        assert counts(engine) == (1, 1, 0)  # cam-09's result under site-b never crossed
        publisher.close()
        device_tap.close()
    finally:
        if ingester:
            ingester.stop()
        site.stop()
        central.stop()
