"""The sync loop's heartbeat while another connection holds the records' write lock: each write waits
for it up to a busy timeout, which is not the loop's own time."""

from __future__ import annotations

import firmware_app.health.heartbeat as heartbeat_module
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.records import database
from firmware_app.records.outbox import Outbox
from tests.mqtt_broker import free_port, wait_until
from tests.records.kit import open_store, write_config
from tests.sync.kit import BackgroundWorker, most_overdue_while_locked


def test_each_reconnection_keeps_its_heartbeat_promise_while_its_writes_wait_for_the_lock(tmp_path, monkeypatch):
    """Each try promised the connection's timeout (and the grace), then wrote the state twice
    ("connecting", "disconnected"), each write waiting up to a busy timeout for another connection's
    lock: 2 x 30 s against 10 + 30 s on the device, and the watchdog restarted the worker (another process's
    long write holds the lock so: a large erasure, a migration). Scaled down: 1 s of busy
    wait, 0.5 s of grace and of connection timeout; the lock held by a second real SQLite connection
    long enough for every write to wait its whole busy timeout."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 1.0)
    monkeypatch.setattr(heartbeat_module, "GRACE_S", 0.5)
    config = write_config(tmp_path, free_port())  # no broker on that port
    config.write_text(config.read_text().replace("connect_timeout_s = 5.0", "connect_timeout_s = 0.5"))
    open_store(tmp_path).records.close()
    loops: list[Heartbeat] = []
    worker = BackgroundWorker(config, loops)
    try:
        outbox = Outbox(open_store(tmp_path).records)
        wait_until(lambda: outbox.state().get("connection") == "disconnected", 10, "a failed try")
        overdue = most_overdue_while_locked(tmp_path / "records.sqlite3", 5.0, loops[0])
        worker.check_alive()
    finally:
        worker.stop()
    assert overdue == 0.0
