from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mqtt_broker import Broker
from tests.sync.test_security import make_test_certs, started_site_broker


@pytest.fixture()
def broker(tmp_path):
    started = Broker(tmp_path / "broker").start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """broker/make-test-certs' default clients: cam-01, cam-02 and the ingester review-ingest-1."""
    return make_test_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture()
def site_broker(tmp_path: Path, certs: Path) -> Iterator[Broker]:
    """The shipped site-broker configuration (``site_broker_config``) on a loopback port."""
    broker = started_site_broker(tmp_path / "site-broker", certs)
    yield broker
    broker.stop()
