"""The station signs every verdict a device asks to have signed (edgescreen.review/3), as it sends it:
through a real mosquitto to a real sync worker given the station's verdict key, the first time, under
a new review id after a ``conflict``, and again after ``resend-verdicts``; and a verdict paho does not
publish is said, and left to be tried again."""

from __future__ import annotations

import json
import logging
import stat

import paho.mqtt.client as mqtt
from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V3
from edgescreen_wire.review import REVIEW_V2, REVIEW_V3
from edgescreen_wire.topics import REVIEW, device_topic
from edgescreen_wire.verdict_signature import read_public_key
from firmware_app.sync.review import parse_review
from review_station import devices
from review_station.cli import main as review_main
from review_station.config import load_review_config
from review_station.ingest.ingester import Ingester
from review_station.storage.tables import deliveries
from review_station.verdicts import resend_verdicts
from tests.mqtt_broker import Tap, wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.review_station.kit import counts, running_station, station_config
from tests.review_station.web_kit import add_results, csrf_of, signed_in_client, station
from tests.sync.kit import BackgroundWorker
from tests.sync.signing import trusting
from tests.sync.test_worker import review

READ = {"verdict": "refer", "urgency": "urgent", "icdr_grade": "severe", "maculopathy": "present"}


def keyed_station(tmp_path, engine: Engine, port: int, broker: str = ""):
    """A station config with a verdict key made by ``edgescreen-review verdicts keygen``; its public file.
    ``broker``: more of its ``[broker]`` section (``station_config``)."""
    private, public = tmp_path / "station" / "verdict.key", tmp_path / "verdict.pub"
    extra = f'[verdicts]\nprivate_key_file = "{private}"\n'
    config = station_config(tmp_path / "station", engine, port, broker=broker, extra=extra)
    assert review_main(["--config", str(config), "verdicts", "keygen", "--public", str(public)]) == 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert review_main(["--config", str(config), "verdicts", "keygen", "--public", str(public)]) == 1  # kept
    return config, public


def record_read(engine: Engine, result_id: str) -> None:
    client = signed_in_client(engine, station(), "ana", "reviewer")
    form = READ | {"csrf": csrf_of(client, f"/results/{result_id}")}
    assert client.post(f"/results/{result_id}/reads", data=form).status_code == 303


def delivery_states(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(deliveries.c.state)).scalars())


def stored_review_ids(store) -> list[str]:
    return [row[0] for row in store.records.connection.execute("SELECT review_id FROM review")]


def test_the_station_signs_what_it_sends_and_the_device_verifies_it_renamed_and_resent(tmp_path, engine: Engine):
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        config, public = keyed_station(tmp_path, engine, running.broker.port)
        device_dir = tmp_path / "device"
        device_dir.mkdir()
        store = open_store(device_dir)
        photo = small_photo()
        taken_by = record_one(store, photo, schema=RESULT_V3, review_schema=REVIEW_V3)
        refer = record_one(store, photo, sample_record(score=0.9), RESULT_V3, review_schema=REVIEW_V3)
        ingester = running.start_ingester(config)
        worker = BackgroundWorker(write_config(device_dir, running.broker.port, trusting(public)))
        running.at_the_end(worker.stop)
        wait_until(lambda: counts(engine)[0] == 2, 30, "the device's 2 results at the station")
        ingester.stop()  # the read is queued, not sent, until the device holds its id for another result
        record_read(engine, refer.result_id)
        with engine.connect() as connection:
            queued_id, queued = connection.execute(select(deliveries.c.review_id, deliveries.c.payload)).one()
        assert json.loads(queued)["schema"] == REVIEW_V2  # queued as decided; signed as it is sent
        store.add_review(parse_review(review(taken_by.result_id, review_id=queued_id)))
        tap = Tap(running.broker.port, device_topic(DEVICE.site, DEVICE.id, REVIEW))
        running.start_ingester(config)
        # "conflict", renamed, signed again under the new id, verified and stored.
        wait_until(lambda: len(stored_review_ids(store)) == 2, 30, "the renamed verdict stored on the device")
        [renamed] = set(stored_review_ids(store)) - {queued_id}
        sent = [json.loads(payload) for payload in tap.on("/review")]
        assert {message["schema"] for message in sent} == {REVIEW_V3}
        assert {message["review"]["review_id"] for message in sent} == {queued_id, renamed}
        trusted = [read_public_key(public)]
        assert all(parse_review(json.dumps(message).encode(), trusted) for message in sent)  # each verifies
        [verdict] = store.view(refer.result_id)["reviews"]
        assert (verdict["verdict"], verdict["urgency"], verdict["icdr_grade"]) == ("refer", "urgent", "severe")
        # resend-verdicts: sent again, signed again; the device verifies it and answers "duplicate".
        wait_until(lambda: delivery_states(engine) == ["stored"], 30, "the station told the verdict is stored")
        acks = Tap(running.broker.port, "edgescreen/v1/+/+/review_ack")
        assert resend_verdicts(engine, DEVICE.id, by="test") == 1
        wait_until(lambda: [json.loads(p)["status"] for p in acks.on("/review_ack")] == ["duplicate"], 30, "duplicate")
        tap.close()
        acks.close()


def test_without_its_key_the_station_sends_no_unsigned_verdict_to_a_device_that_asks_for_signed_ones(
    tmp_path, engine: Engine, caplog
):
    with running_station(tmp_path, engine) as running:
        asks = {"review_schema": REVIEW_V3}
        [signed] = add_results(engine, DEVICE.id, DEVICE.site, [0.9], schema=RESULT_V3, payload=asks)
        [unsigned] = add_results(engine, "cam-02", DEVICE.site, [0.9], schema=RESULT_V3)
        tap = Tap(running.broker.port, "edgescreen/v1/+/+/review")
        running.at_the_end(tap.close)
        running.start_ingester()
        record_read(engine, signed)
        client = signed_in_client(engine, station(), "bea", "reviewer")
        form = READ | {"csrf": csrf_of(client, f"/results/{unsigned}")}
        assert client.post(f"/results/{unsigned}/reads", data=form).status_code == 303
        wait_until(lambda: "review.verdict_not_signed" in caplog.text, 30, "the unsigned verdict held back")
        wait_until(lambda: len(tap.on("/review")) == 1, 30, "the other device's verdict sent")
        [sent] = [json.loads(payload) for payload in tap.on("/review")]
        assert (sent["schema"], sent["result_id"]) == (REVIEW_V2, unsigned)


def test_a_device_is_answered_as_its_latest_result_asks_whichever_result_the_verdict_is_on(tmp_path, engine: Engine):
    """A result sent before the device was given the key asked for /2, yet the device now refuses an
    unsigned verdict: it gets the verdict signed. A device whose key was taken off again (its latest
    result asks for /2) gets it unsigned."""
    with running_station(tmp_path, engine) as running:
        config, public = keyed_station(tmp_path, engine, running.broker.port)
        [before_the_key] = add_results(engine, DEVICE.id, DEVICE.site, [0.9], schema=RESULT_V3)
        add_results(engine, DEVICE.id, DEVICE.site, [0.2], schema=RESULT_V3, payload={"review_schema": REVIEW_V3})
        tap = Tap(running.broker.port, device_topic(DEVICE.site, DEVICE.id, REVIEW))
        running.at_the_end(tap.close)
        running.start_ingester(config)
        record_read(engine, before_the_key)
        wait_until(lambda: len(tap.on("/review")) == 1, 30, "the verdict sent")
        sent = tap.on("/review")[0]
        assert json.loads(sent)["schema"] == REVIEW_V3
        assert parse_review(sent, [read_public_key(public)]).result_id == before_the_key
        [after_the_key_went] = add_results(engine, DEVICE.id, DEVICE.site, [0.8], schema=RESULT_V3)
        client = signed_in_client(engine, station(), "bea", "reviewer")
        form = READ | {"csrf": csrf_of(client, f"/results/{after_the_key_went}")}
        assert client.post(f"/results/{after_the_key_went}/reads", data=form).status_code == 303
        wait_until(lambda: len(tap.on("/review")) >= 2, 30, "the second verdict sent")
        assert {json.loads(p)["schema"] for p in tap.on("/review")[1:]} == {REVIEW_V2}


def test_a_verdict_paho_does_not_publish_is_said_and_left_to_be_tried_again(tmp_path, engine: Engine, caplog) -> None:
    """paho refuses a publication on a connection it has found lost (as ``test_erased_notices`` makes it
    refuse a notice: the real broker stopped under the ingester's own client); the verdict's attempt was
    dropped without a word, to be tried again after ``review_retry_s``. It is now said, naming the
    review and paho's reason, and the delivery stays unsettled for the next attempt."""
    with running_station(tmp_path, engine) as running:
        [result_id] = add_results(engine, DEVICE.id, DEVICE.site, [0.9])
        record_read(engine, result_id)
        with engine.connect() as connection:
            review_id = connection.execute(select(deliveries.c.review_id)).scalar_one()
        settings = load_review_config(str(station_config(tmp_path / "station", engine, running.broker.port)))
        ingester = Ingester(engine, settings.broker)
        client = ingester._new_client()
        client.connect("127.0.0.1", running.broker.port)
        wait_until(lambda: client.loop(0.05) == mqtt.MQTT_ERR_SUCCESS and client.is_connected(), 30, "connected")
        running.broker.stop()
        wait_until(lambda: client.loop(0.05) != mqtt.MQTT_ERR_SUCCESS, 30, "the connection seen lost")
        with caplog.at_level(logging.WARNING):
            ingester._send_verdict(client, review_id, None, signed=False)
        said = [line for line in caplog.messages if line.startswith("review.verdict_not_published")]
        assert len(said) == 1 and review_id in said[0], caplog.text
        assert mqtt.error_string(mqtt.MQTT_ERR_NO_CONN) in said[0]
        assert delivery_states(engine) == ["pending"]
