"""The ingester against a real mosquitto: several ingesters, manual acknowledgement, and faults."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, func, select

from review_station import devices
from review_station.ingest.ingester import shared_subscriptions
from review_station.storage.tables import result_tallies, results
from tests.mqtt_broker import stop_network_loop, wait_until
from tests.review_station.kit import (
    IngesterThread,
    Publisher,
    connected_ingester,
    counts,
    result_bytes,
    result_topic,
    roomy_broker,
    station_config,
)


@pytest.fixture()
def broker(tmp_path: Path):
    broker = roomy_broker(tmp_path / "broker").start()
    try:
        yield broker
    finally:
        broker.stop()


def device_results(count: int, device: str = "cam-01", site: str = "site-a") -> list[tuple[str, bytes]]:
    return [(result_topic(site, device), result_bytes(device, site)[1]) for _ in range(count)]


def test_two_ingesters_each_receive_the_stream_and_store_each_result_once(tmp_path, engine: Engine, broker) -> None:
    """Each ingester has a plain subscription (a shared one does not survive a broker restart:
    test_broker_restart.py), so each receives every result and every refusal: the database keeps each
    result once, and the refused message is quarantined once."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    first = IngesterThread(station_config(tmp_path, engine, broker.port), engine)
    second = None
    try:
        second = IngesterThread(station_config(tmp_path / "2", engine, broker.port, 'client_id = "ingest-2"\n'), engine)
        publisher = Publisher(broker.port)
        publisher.publish_all(device_results(300))
        # a result from cam-01 published on cam-02's topic: refused, as the issue's broker test showed
        publisher.publish_all([(result_topic("site-b", "cam-02"), result_bytes("cam-01", "site-a")[1])])
        publisher.close()
        wait_until(lambda: counts(engine) == (300, 300, 1), 60, "300 results and one refusal")
        both = (first.ingester.totals, second.ingester.totals)

        def received() -> list[tuple[int, int]]:  # each ingester counts just after its commit
            return [(totals.stored + totals.duplicates, totals.quarantined) for totals in both]

        wait_until(lambda: received() == [(300, 1), (300, 1)], 10, "every message at both ingesters")
        assert sum(totals.stored for totals in both) == 300
    finally:
        first.stop()
        if second:
            second.stop()


def test_an_ingester_upgraded_from_the_shared_subscription_leaves_it(tmp_path, engine: Engine, broker) -> None:
    """Before 2026-12-03 an ingester's session held ``$share/review/...``; kept beside the plain
    subscription, it would bring each result twice. The ingester leaves it at connection."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    old = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="review-ingest-1", protocol=mqtt.MQTTv5)
    subscribed = threading.Event()
    old.on_subscribe = lambda *_: subscribed.set()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    old.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
    old.loop_start()
    old.subscribe(shared_subscriptions("review")[0], qos=1)
    assert subscribed.wait(10)
    old.disconnect()
    stop_network_loop(old)
    config = station_config(tmp_path, engine, broker.port)
    IngesterThread(config, engine).stop()  # upgraded: connects once, then is stopped again
    publisher = Publisher(broker.port)
    publisher.publish_all(device_results(20))
    publisher.close()
    ingester = IngesterThread(config, engine)
    try:
        wait_until(lambda: counts(engine) == (20, 20, 0), 30, "20 results")
        # A 21st result, published now, comes after any second copy of the 20 on the one connection,
        # and the ingester stores in the order it receives: once it has counted the 21st, it has
        # counted any such copy as a duplicate.
        publisher = Publisher(broker.port)
        publisher.publish_all(device_results(1))
        publisher.close()
        wait_until(lambda: ingester.ingester.totals.stored == 21, 30, "the 21st result counted")
        assert (ingester.ingester.totals.stored, ingester.ingester.totals.duplicates) == (21, 0)
    finally:
        ingester.stop()


def publish_in_steps(port: int, messages: list[tuple[str, bytes]], step: int, pause: float) -> threading.Thread:
    def publish() -> None:
        publisher = Publisher(port)
        for start in range(0, len(messages), step):
            publisher.publish_all(messages[start : start + step])
            time.sleep(pause)
        publisher.close()

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    return thread


def stop_cleanly(process) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


def test_sigkilled_twenty_times_while_2000_results_arrive_every_result_is_stored_once(
    tmp_path, engine: Engine, broker
) -> None:
    devices.enrol(engine, "cam-01", "site-a", by="test")
    devices.enrol(engine, "cam-02", "site-b", by="test")
    config = station_config(tmp_path, engine, broker.port)
    log = tmp_path / "ingest.log"
    connected_ingester(config, log).kill()  # from now on its session (and subscription) exists
    messages = device_results(1000) + device_results(1000, "cam-02", "site-b")
    random.Random(12).shuffle(messages)
    publishing = publish_in_steps(broker.port, messages, step=50, pause=1.0)
    rng = random.Random(2026)
    kills_while_publishing = 0
    for _ in range(20):
        process = connected_ingester(config, log)
        time.sleep(rng.uniform(0.0, 1.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills_while_publishing += publishing.is_alive()
    assert kills_while_publishing >= 10
    publishing.join(120)
    assert not publishing.is_alive()
    process = connected_ingester(config, log)
    try:
        wait_until(lambda: counts(engine)[0] >= 2000, 60, "2000 results")
    finally:
        stop_cleanly(process)
    assert counts(engine) == (2000, 2000, 0)
    with engine.connect() as connection:
        per_device = dict(
            connection.execute(select(results.c.device_id, func.count()).group_by(results.c.device_id)).all()
        )
        tallied = connection.execute(
            select(result_tallies.c.device_id, func.sum(result_tallies.c.results)).group_by(result_tallies.c.device_id)
        ).all()
    assert per_device == {"cam-01": 1000, "cam-02": 1000}
    assert {device: int(n) for device, n in tallied} == per_device  # the worklist's counts: each result once too


def held_kib(process: subprocess.Popen[str]) -> int:
    """What the ingester's Python objects hold (``traced_command``), the least of three readings 0.2 s
    apart: a batch still in flight is held for a moment, a leak for good."""
    readings = []
    for _ in range(3):
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("held\n")
        process.stdin.flush()
        readings.append(int(process.stdout.readline()) // 1024)
        time.sleep(0.2)
    return min(readings)


def test_a_flood_of_5000_malformed_payloads_is_quarantined_in_bounded_memory_and_good_results_flow(
    tmp_path, engine: Engine, broker
) -> None:
    """Bounded: what the ingester's objects grow by after the first 500 messages (its caches filled)
    would be a leak. Read on the objects it holds, not on its resident size, which also counts what the
    C allocator keeps after a free and varied from run to run by more than a leak of a kilobyte a
    message would add (``traced_command``)."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    config = station_config(tmp_path, engine, broker.port)
    process = connected_ingester(
        config,
        tmp_path / "ingest.log",
        module="tests.review_station.traced_command",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    rng = random.Random(5)
    topic = result_topic("site-a", "cam-01")
    junk = [(topic, rng.randbytes(rng.randint(1, 8192))) for _ in range(5000)]
    good = device_results(200)
    mixed = junk[500:]
    for index, message in enumerate(good):
        mixed.insert(index * 20, message)
    try:
        publisher = Publisher(broker.port)
        publisher.publish_all(junk[:500])
        wait_until(lambda: counts(engine)[2] >= 500, 60, "the first 500 quarantined")
        warmed = held_kib(process)
        publisher.publish_all(mixed)
        publisher.close()
        wait_until(lambda: counts(engine) == (200, 200, 5000), 120, "200 results and 5000 quarantined")
        grown = held_kib(process) - warmed
    finally:
        stop_cleanly(process)
    # Measured 90 to 165 KiB over these 4,700 messages (SQLite and PostgreSQL, three runs each); with 1 KB
    # kept a message (tried in the ingester's on_message), 5,054 KiB.
    assert grown < 3 * 1024, f"the ingester's objects grew by {grown} KiB over 4,700 messages after the first 500"


def test_postgresql_restarted_mid_stream_loses_nothing(tmp_path, postgres, broker) -> None:
    from review_station.storage.database import open_database

    engine = open_database(postgres.create_database("restart"))
    devices.enrol(engine, "cam-01", "site-a", by="test")
    process = connected_ingester(station_config(tmp_path, engine, broker.port), tmp_path / "ingest.log")
    try:
        publishing = publish_in_steps(broker.port, device_results(600), step=50, pause=0.3)
        wait_until(lambda: counts(engine)[0] >= 100, 60, "the first results")
        postgres.stop()
        # Results keep arriving at the broker; none can be committed, none is acknowledged. The
        # ingester has met the stopped database twice: a batch refused, and refused again when retried.
        log = tmp_path / "ingest.log"
        wait_until(lambda: log.read_text().count(" review.database_unavailable ") >= 2, 60, "two refused commits")
        postgres.start()
        publishing.join(60)
        wait_until(lambda: counts(engine)[0] >= 600, 90, "600 results")
        assert counts(engine) == (600, 600, 0)
    finally:
        stop_cleanly(process)
        engine.dispose()
