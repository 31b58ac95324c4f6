from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mqtt_broker import Broker, free_port
from tests.sync.test_security import BROKER_DIR, site_broker_config


@pytest.fixture()
def broker(tmp_path):
    started = Broker(tmp_path / "broker").start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """broker/make-test-certs' default clients: cam-01, cam-02 and the ingester review-ingest-1."""
    out = tmp_path_factory.mktemp("certs")
    subprocess.run([str(BROKER_DIR / "make-test-certs"), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture()
def site_broker(tmp_path: Path, certs: Path) -> Iterator[Broker]:
    """The shipped site-broker configuration (``site_broker_config``) on a loopback port."""
    directory = tmp_path / "site-broker"
    directory.mkdir()
    port = free_port()
    broker = Broker(directory, site_broker_config(directory, certs, port), port).start()
    yield broker
    broker.stop()
