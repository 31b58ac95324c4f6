from __future__ import annotations

import pytest

from tests.mqtt_broker import Broker


@pytest.fixture()
def broker(tmp_path):
    started = Broker(tmp_path / "broker").start()
    yield started
    started.stop()
