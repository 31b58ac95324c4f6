"""The ingester's identity at the shipped site broker (broker/mosquitto.conf binds a client's id to its
certificate's CN): it will not start under a client id its certificate does not name, and a session
taken from it (another client with its certificate) is an error in its log and on the dashboard."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from review_station.ingest.takeovers import noticed_takeovers
from tests.mqtt_broker import Broker, free_port, wait_until
from tests.review_station.kit import IngesterThread, review_process, station_config
from tests.review_station.web_kit import signed_in_client, station
from tests.sync.test_security import Client, make_test_certs, started_site_broker


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_certs(tmp_path_factory.mktemp("certs"), "review-ingest-1", "review-ingest-2")


@pytest.fixture()
def broker(tmp_path: Path, certs: Path) -> Iterator[Broker]:
    broker = started_site_broker(tmp_path / "broker", certs)
    try:
        yield broker
    finally:
        broker.stop()


def station_tls(certs: Path, name: str) -> str:
    return (
        f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/{name}.crt"\ntls_key_file = "{certs}/{name}.key"\n'
    )


def test_an_ingester_whose_certificate_names_another_client_id_does_not_start(tmp_path, engine: Engine, certs) -> None:
    """Its session would be the certificate's, not the one configured: two such ingesters fight."""
    config = station_config(tmp_path, engine, free_port(), broker=station_tls(certs, "review-ingest-2"))
    run = review_process(config, "ingest", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 2, stderr  # a configuration error: the unit does not restart it
    assert "Traceback" not in stderr
    assert "[broker] client_id is 'review-ingest-1' but the certificate" in stderr
    assert "Set client_id = 'review-ingest-2'" in stderr


def test_a_session_taken_from_the_ingester_is_an_error_and_on_the_dashboard(
    tmp_path, engine: Engine, broker, certs, caplog
) -> None:
    caplog.set_level(logging.INFO)
    ingester = IngesterThread(
        station_config(tmp_path, engine, broker.port, broker=station_tls(certs, "review-ingest-1")), engine
    )
    # A copy of the ingester's certificate, whatever client id it sends, takes the ingester's session.
    copy = Client(broker.port, certs, "review-ingest-1", client_id="anything-else")
    try:
        taken = "review.ingest_session_taken_over client_id=review-ingest-1"
        wait_until(lambda: any(taken in record.getMessage() for record in caplog.records), 30, "the logged takeover")
        assert next(r for r in caplog.records if taken in r.getMessage()).levelno == logging.ERROR
    finally:
        copy.close()
        ingester.stop()
    with engine.connect() as connection:
        assert noticed_takeovers(connection).total >= 1
    page = signed_in_client(engine, station(), "rita", "reviewer").get("/dashboard").text
    assert 'id="session-takeovers"' in page and "(client id review-ingest-1)" in page
