"""A queued verdict that no longer passes the wire checks (queued by a station of an earlier version,
its ``reviewed_at`` at the limit of time) is set aside and listed undelivered, whether it fails as it
is signed or as a ``conflict`` renames it; the ingester goes on and sends the other verdicts. Before,
the ``WireError`` stopped the ingester, and under systemd every restart stopped on the same verdict."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select, update

from edgescreen_wire.result import RESULT_V3
from edgescreen_wire.review import REVIEW_V3, encode_review_ack
from edgescreen_wire.topics import REVIEW, REVIEW_ACK, device_topic
from review_station.storage.tables import deliveries
from review_station.undelivered import undelivered
from tests.mqtt_broker import Tap, wait_until
from tests.review_station.kit import Publisher, running_station
from tests.review_station.test_signed_verdicts import keyed_station
from tests.review_station.test_undelivered import read
from tests.review_station.web_kit import add_results, signed_in_client, station

SITE, DEVICE = "site-a", "cam-01"
# A time today's check refuses: a day's offset from UTC overflows the device's conversion to local time.
YEAR_ONE = "0001-01-01T00:00:00Z"


def queued_before_the_check(engine: Engine, result_id: str, **values: object) -> str:
    """The verdict on ``result_id`` made as a station of an earlier version queued it; its review id."""
    with engine.begin() as connection:
        review_id, payload = connection.execute(
            select(deliveries.c.review_id, deliveries.c.payload).where(deliveries.c.result_id == result_id)
        ).one()
        document = json.loads(payload) | {"reviewed_at": YEAR_ONE}
        changed = {"payload": json.dumps(document).encode(), **values}
        connection.execute(update(deliveries).where(deliveries.c.review_id == review_id).values(**changed))
    return review_id


def states(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(deliveries.c.result_id, deliveries.c.state)).all())


def test_a_verdict_that_fails_todays_checks_is_set_aside_and_the_ingester_goes_on(tmp_path, engine: Engine, capsys):
    with running_station(tmp_path, engine) as running:
        config, _ = keyed_station(tmp_path, engine, running.broker.port)
        asks = {"review_schema": REVIEW_V3}
        signed, renamed, sound = add_results(engine, DEVICE, SITE, [0.9, 0.9, 0.9], schema=RESULT_V3, payload=asks)
        client = signed_in_client(engine, station(), "ana", "reviewer")
        for result_id in (signed, renamed, sound):
            read(client, result_id)
        queued_before_the_check(engine, signed)
        # Sent once already (not due again for a minute); the device answers that it holds its id.
        conflict_id = queued_before_the_check(engine, renamed, state="sent", last_sent_at=deliveries.c.updated_at)
        tap = Tap(running.broker.port, device_topic(SITE, DEVICE, REVIEW))
        running.at_the_end(tap.close)
        ingester = running.start_ingester(config)
        publisher = Publisher(running.broker.port)
        running.at_the_end(publisher.close)
        ack = encode_review_ack(conflict_id, renamed, "conflict")
        publisher.publish_all([(device_topic(SITE, DEVICE, REVIEW_ACK), ack)])
        wait_until(lambda: states(engine)[renamed] == "unsendable", 30, "the renamed verdict set aside")
        wait_until(lambda: len(tap.on("/review")) == 1, 30, "the sound verdict sent")
        assert states(engine) == {signed: "unsendable", renamed: "unsendable", sound: "sent"}
        [sent] = [json.loads(payload) for payload in tap.on("/review")]
        assert sent["review"]["result_id"] == sound
        assert ingester._thread.is_alive()
        with engine.connect() as connection:
            listed = {item.result_id: item.reason for item in undelivered(connection, alert_h=24)}
        assert listed == {signed: "unsendable", renamed: "unsendable"}
        assert capsys.readouterr().err.count("ERROR review.verdict_unsendable") == 2
