"""The shipped broker config (broker/mosquitto.conf, broker/acl, TLS) holds the results the README
promises for a stopped ingester, and a loss past that bound shows: the ingester reads mosquitto's
dropped-message counter, logs it as an error and the dashboard says it.

The queue limits are the shipped ones divided by ``SCALE`` (the same two lines, in proportion), so a
test does not publish 100,000 results; ``sys_interval`` is 1 s instead of 10 so the counter comes soon.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine

from review_station import devices
from review_station.config import load_review_config
from review_station.ingest import ingester as ingester_module
from review_station.ingest.broker_drops import DROPPED_TOPIC, LIVE_TOPIC, noticed, record_counter
from review_station.ingest.ingester import Ingester
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import Broker, free_port, wait_until
from tests.review_station.kit import IngesterThread, Publisher, counts, result_bytes, result_topic, station_config
from tests.review_station.web_kit import signed_in_client, station
from tests.sync.test_security import Client, site_broker_config, tls_of, with_lines

SHIPPED = (PROJECT_ROOT / "broker" / "mosquitto.conf").read_text()
SCALE = 100
TYPICAL_RESULT_BYTES = 2048  # the README's "typical 1-2 KiB", at its top


def shipped(key: str) -> int:
    return int(re.search(rf"^{key} (\d+)$", SHIPPED, flags=re.MULTILINE).group(1))  # type: ignore[union-attr]


QUEUED = shipped("max_queued_messages") // SCALE
# mosquitto 2.0 retains its $SYS values with this message expiry: the dropped count, published at start
# and on change only, is gone from the retained store this long after the broker started.
SYS_EXPIRY_S = 60


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    names = ["cam-01", "review-ingest-1"]
    make_certs = PROJECT_ROOT / "broker" / "make-test-certs"
    subprocess.run([str(make_certs), str(out), *names], check=True, capture_output=True)
    return out


def scaled_broker(directory: Path, certs: Path) -> Broker:
    """The shipped config and ACL (in ``directory``), its queue limits scaled down, not yet started."""
    directory.mkdir()
    port = free_port()
    scaled = {
        "max_queued_messages": f"max_queued_messages {QUEUED}",
        "max_queued_bytes": f"max_queued_bytes {shipped('max_queued_bytes') // SCALE}",
        "sys_interval": "sys_interval 1",
    }
    config = with_lines(site_broker_config(directory, certs, port), scaled, "broker/mosquitto.conf")
    return Broker(directory, config, port)


@pytest.fixture()
def broker(tmp_path: Path, certs: Path) -> Iterator[Broker]:
    broker = scaled_broker(tmp_path / "broker", certs).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def settled_broker(tmp_path_factory: pytest.TempPathFactory, certs: Path) -> Iterator[Broker]:
    """The shipped broker up for longer than its dropped count (0) stays retained, as a broker is when
    an ingester starts in service; shared by the tests that need one (a minute's wait each otherwise)."""
    broker = scaled_broker(tmp_path_factory.mktemp("settled") / "broker", certs).start()
    try:
        reader = Client(broker.port, certs, "review-ingest-1")  # the station's right to read $SYS
        try:
            wait_until(lambda: not dropped_count_retained(reader), SYS_EXPIRY_S + 30, "the dropped count to expire")
        finally:
            reader.close()
        yield broker
    finally:
        broker.stop()


def dropped_count_retained(reader: Client) -> bool:
    """Whether the broker still gives a new subscriber its dropped count. Its retained copy is sent
    after the SUBACK, ahead of the next answer on that connection: the uptime's SUBACK and retained
    copy, which show the reader may read $SYS at all."""
    reader.messages.clear()
    reader.subscribe(DROPPED_TOPIC)
    reader.subscribe(LIVE_TOPIC)
    wait_until(lambda: LIVE_TOPIC in [topic for topic, _ in reader.messages], 10, "the broker's uptime")
    return DROPPED_TOPIC in [topic for topic, _ in reader.messages]


def station_tls(certs: Path) -> str:
    return (
        f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/review-ingest-1.crt"\n'
        f'tls_key_file = "{certs}/review-ingest-1.key"\n'
    )


def results_while_the_ingester_is_stopped(tmp_path: Path, engine: Engine, broker: Broker, certs: Path, n: int) -> Path:
    """Start the ingester once (its session exists), stop it, let cam-01 send ``n`` results (each
    acknowledged by the broker), and start the ingester again; returns its config."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    config = station_config(tmp_path, engine, broker.port, broker=station_tls(certs))
    IngesterThread(config, engine).stop()
    device = Publisher(broker.port, "cam-01", **tls_of(certs, "cam-01"))
    device.publish_all((result_topic("site-a", "cam-01"), result_bytes("cam-01", "site-a")[1]) for _ in range(n))
    device.close()
    return config


def test_the_documented_bound_covers_typical_results() -> None:
    """The README's bound is in results; the byte limit must not cut it short for typical ones."""
    assert shipped("max_queued_bytes") >= shipped("max_queued_messages") * TYPICAL_RESULT_BYTES
    assert shipped("max_packet_size") > 65536  # edgescreen_wire MAX_RESULT_BYTES and its topic


def test_a_stopped_ingester_gets_every_result_the_shipped_limits_hold(
    tmp_path, engine: Engine, broker, certs, caplog
) -> None:
    caplog.set_level(logging.INFO)
    config = results_while_the_ingester_is_stopped(tmp_path, engine, broker, certs, QUEUED)
    ingester = IngesterThread(config, engine)
    try:
        wait_until(lambda: counts(engine) == (QUEUED, QUEUED, 0), 60, f"all {QUEUED} results stored")
        assert not [r for r in caplog.records if "review.broker_drops_unwatched" in r.getMessage()]  # the ACL lets it
        assert "dropped" not in (broker.directory / "mosquitto.log").read_text()
        with engine.connect() as connection:
            assert noticed(connection).total == 0
    finally:
        ingester.stop()


def test_results_lost_past_the_bound_are_logged_and_shown(tmp_path, engine: Engine, broker, certs, caplog) -> None:
    caplog.set_level(logging.INFO)
    sent = QUEUED + 50
    config = results_while_the_ingester_is_stopped(tmp_path, engine, broker, certs, sent)
    ingester = IngesterThread(config, engine)
    try:
        wait_until(lambda: counts(engine)[0] >= QUEUED, 60, "the results the broker kept")

        def drops() -> int:
            with engine.connect() as connection:
                return noticed(connection).total

        wait_until(lambda: drops() > 0, 15, "the broker's dropped count at the station")
        assert drops() == sent - counts(engine)[0]  # every lost result counted, none twice
        assert "Outgoing messages are being dropped" in (broker.directory / "mosquitto.log").read_text()

        def alerts() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "review.broker_dropped_messages" in r.getMessage()]

        # The ingester's thread logs the drops once their count is committed: the count can be read first.
        wait_until(lambda: alerts(), 10, "the drops' alert in the station's log")
        assert alerts()[0].levelno == logging.ERROR
        page = signed_in_client(engine, station(), "rita", "reviewer").get("/dashboard").text
        assert f"The broker dropped {drops()} queued messages" in page
    finally:
        ingester.stop()


def test_the_station_counts_each_drop_once_across_ingesters_and_broker_restarts(engine: Engine) -> None:
    with engine.begin() as connection:
        assert record_counter(connection, 0) == 0
        assert record_counter(connection, 7) == 7
        assert record_counter(connection, 7) == 0  # a second ingester seeing the same counter
        assert record_counter(connection, 9) == 2
        assert record_counter(connection, 3) == 3  # the broker restarted: its counter began again
        assert noticed(connection).total == 12


def test_a_healthy_start_on_a_broker_up_for_a_while_is_not_warned(
    tmp_path, engine: Engine, settled_broker: Broker, certs, caplog, monkeypatch
) -> None:
    """The dropped count has expired (no drop since the broker started): the uptime shows $SYS is read."""
    monkeypatch.setattr(ingester_module, "COUNTER_SECONDS", 4.0)  # 30 s in service; sys_interval is 1 s here
    caplog.set_level(logging.INFO)
    devices.enrol(engine, "cam-01", "site-a", by="test")
    config = station_config(tmp_path, engine, settled_broker.port, broker=station_tls(certs))
    ingester = IngesterThread(config, engine)
    device = Publisher(settled_broker.port, "cam-01", **tls_of(certs, "cam-01"))

    def stored(count: int) -> None:
        device.publish_all([(result_topic("site-a", "cam-01"), result_bytes("cam-01", "site-a")[1])])
        wait_until(lambda: ingester.ingester.totals.stored == count, 30, f"result {count} stored")

    try:
        stored(1)  # the ingester has set its COUNTER_SECONDS timer: it did so before taking results
        time.sleep(ingester_module.COUNTER_SECONDS)  # the product's own timer, from a point after it began
        stored(2)  # a turn of the ingester's loop past that time, where no $SYS message would be said
        assert "review.broker_drops_unwatched" not in caplog.text
    finally:
        device.close()
        ingester.stop()


def test_an_acl_that_hides_the_count_is_said_and_results_flow(
    tmp_path, engine: Engine, certs, caplog, monkeypatch
) -> None:
    """mosquitto grants a subscription its ACL does not allow (even ``topic deny``: 2.0.11) and sends
    nothing: the silence is the sign, and the results subscription is granted and said so."""
    monkeypatch.setattr(ingester_module, "COUNTER_SECONDS", 1.0)  # 30 s in service
    caplog.set_level(logging.INFO)
    broker = scaled_broker(tmp_path / "broker", certs)
    acl = broker.directory / "acl"
    acl.write_text(acl.read_text().replace("topic read $SYS", "topic deny $SYS"))
    broker.start()
    ingester = IngesterThread(station_config(tmp_path, engine, broker.port, broker=station_tls(certs)), engine)
    try:
        wait_until(lambda: "review.broker_drops_unwatched" in caplog.text, 10, "the warning")
        assert LIVE_TOPIC in caplog.text  # what to let the station read
        assert "review.ingest_subscribed" in caplog.text and "review.subscription_refused" not in caplog.text
    finally:
        ingester.stop()
        broker.stop()


GRANTED, REFUSED = ReasonCode(PacketTypes.SUBACK, identifier=1), ReasonCode(PacketTypes.SUBACK, identifier=0x87)


@pytest.mark.parametrize(
    ("refused", "warned"), [((DROPPED_TOPIC, LIVE_TOPIC), True), ((DROPPED_TOPIC,), True), ((LIVE_TOPIC,), False)]
)
def test_a_broker_refusing_sys_reads_still_has_the_results_subscribed(
    tmp_path, engine: Engine, caplog, refused: tuple[str, ...], warned: bool
) -> None:
    """A broker that refuses $SYS (an auth plugin; mosquitto's ACL file grants and stays silent) still
    delivers results: subscribed, no error; drops are said unwatched only when their count is refused."""
    caplog.set_level(logging.INFO)
    ingester = Ingester(engine, load_review_config(str(station_config(tmp_path, engine, free_port()))).broker)
    topics = [topic for topic, _ in ingester_module.subscriptions()]
    ingester._on_subscribe(None, None, 1, [REFUSED if t in refused else GRANTED for t in topics], None)
    assert ingester.subscribed.is_set() and "review.ingest_subscribed" in caplog.text
    assert "review.subscription_refused" not in caplog.text
    assert ("review.broker_drops_unwatched" in caplog.text) == warned
