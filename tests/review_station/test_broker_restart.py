"""A site broker restarted while the station's ingesters are stopped loses none of the results devices
send before the ingesters are back.

On Debian's mosquitto (2.0.11) a persistent session survives a restart with its plain subscriptions,
but not with its shared ones (``$share/...``): a result published after the restart and before an
ingester subscribes again is answered "No matching subscribers" and dropped, while the device got its
PUBACK and marks it sent. The broker here is the shipped one (``broker/mosquitto.conf`` and
``broker/acl``, TLS, client certificates), its persistence file in the test's directory. A broker that
starts without that file has lost the sessions themselves: nothing at the station can get back what it
dropped, but the station says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from review_station import devices
from review_station.ingest.lost_sessions import noticed_lost_sessions
from tests.mqtt_broker import Broker, wait_until
from tests.review_station.kit import IngesterThread, Publisher, counts, result_bytes, result_topic, station_config
from tests.review_station.test_broker_queues import station_tls
from tests.review_station.web_kit import signed_in_client, station
from tests.sync.test_security import make_test_certs, started_site_broker, tls_of

INGESTERS = ("review-ingest-1", "review-ingest-2")
SENT = 40


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_certs(tmp_path_factory.mktemp("certs"), "cam-01", *INGESTERS)


@pytest.fixture()
def broker(tmp_path: Path, certs: Path) -> Iterator[Broker]:
    """The shipped broker, with the second ingester's ACL block as ``install-site-broker --ingester`` adds it."""
    broker = started_site_broker(tmp_path / "broker", certs, ingesters=INGESTERS[1:])
    try:
        yield broker
    finally:
        broker.stop()


def ingester_config(tmp_path: Path, engine: Engine, broker: Broker, certs: Path, name: str) -> Path:
    """The station config of the ingester whose certificate (and client id) is ``name``."""
    tls = station_tls(certs).replace("review-ingest-1", name)
    return station_config(tmp_path / name, engine, broker.port, broker=f'client_id = "{name}"\n{tls}')


@pytest.mark.parametrize("ingesters", [1, 2])
def test_results_sent_after_a_broker_restart_while_the_ingesters_are_stopped_are_all_stored(
    tmp_path, engine: Engine, broker: Broker, certs: Path, ingesters: int, caplog
) -> None:
    caplog.set_level(logging.INFO)
    devices.enrol(engine, "cam-01", "site-a", by="test")
    configs = [ingester_config(tmp_path, engine, broker, certs, name) for name in INGESTERS[:ingesters]]
    for config in configs:
        IngesterThread(config, engine).stop()  # subscribed once: its persistent session holds the results
    broker.stop()  # SIGTERM: mosquitto saves its sessions and restarts from them
    broker.start()
    device = Publisher(broker.port, "cam-01", **tls_of(certs, "cam-01"))
    device.publish_all((result_topic("site-a", "cam-01"), result_bytes("cam-01", "site-a")[1]) for _ in range(SENT))
    device.close()  # every result acknowledged by the broker: the device marks them sent
    running = [IngesterThread(config, engine) for config in configs]
    try:
        wait_until(lambda: counts(engine)[0] >= SENT, 30, f"all {SENT} results stored")
        assert counts(engine) == (SENT, SENT, 0)

        def received_by_each() -> list[int]:  # each ingester counts what it took just after its commit
            return [each.ingester.totals.stored + each.ingester.totals.duplicates for each in running]

        wait_until(lambda: received_by_each() == [SENT] * ingesters, 10, "every result at each ingester")
        assert "review.broker_session_lost" not in caplog.text  # the restart kept the sessions
    finally:
        for each in running:
            each.stop()


def test_a_broker_that_lost_its_persistence_file_is_said_and_shown(
    tmp_path, engine: Engine, broker: Broker, certs: Path, caplog
) -> None:
    """Started without its sessions, the broker drops what devices send until an ingester subscribes
    again: the station cannot get those results back, but it says the session was lost."""
    caplog.set_level(logging.INFO)
    config = ingester_config(tmp_path, engine, broker, certs, INGESTERS[0])
    IngesterThread(config, engine).stop()  # its first session: nothing lost
    assert "review.broker_session_lost" not in caplog.text
    broker.stop()
    (broker.directory / "mosquitto.db").unlink()  # a reinstalled broker, a lost persistence file
    broker.start()
    IngesterThread(config, engine).stop()
    lost = [record for record in caplog.records if "review.broker_session_lost" in record.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.ERROR
    with engine.connect() as connection:
        assert noticed_lost_sessions(connection).total == 1
    page = signed_in_client(engine, station(), "rita", "reviewer").get("/dashboard").text
    assert 'id="lost-sessions"' in page and INGESTERS[0] in page
