"""READY and WATCHDOG on a real notification socket: sent when, and only when, the checks allow."""

from __future__ import annotations

import os
import sqlite3

from firmware_app.health.checks import Level, check_records_writable
from firmware_app.health.heartbeat import GRACE_S, Heartbeat
from firmware_app.health.liveness import liveness
from firmware_app.service.notify import sd_notify, watchdog_interval_s
from firmware_app.service.watchdog import Watchdog
from tests.records.kit import open_store


def test_sd_notify_is_a_no_op_outside_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sd_notify("READY=1") is False


def test_the_watchdog_interval_is_half_of_watchdog_sec_and_only_for_our_pid(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval_s() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval_s() is None


def test_pings_stop_while_a_loop_is_stuck_and_resume_when_it_beats(tmp_path, systemd, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    loop = Heartbeat("sync loop")
    watchdog = Watchdog(lambda: liveness(database, [loop]), interval_s=0.05)
    loop.beat(5)
    assert watchdog.check_once() and systemd.receive(0.3) == ["WATCHDOG=1\nSTATUS=healthy"]

    loop.beat(-GRACE_S - 2)  # its promised next beat lapsed two seconds ago
    assert not watchdog.check_once()
    (status,) = systemd.receive(0.3)
    assert "WATCHDOG=1" not in status and "The sync loop is stuck (2 s late)" in status

    loop.beat(5)
    assert watchdog.check_once() and systemd.receive(0.3) == ["WATCHDOG=1\nSTATUS=healthy"]


def test_records_are_not_writable_while_another_writer_holds_the_lock_or_the_file_is_missing(tmp_path):
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    assert check_records_writable(database).level is Level.GREEN
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer wedged holding the lock
    wedged = check_records_writable(database, timeout_s=0.2)
    assert wedged.level is Level.RED and "locked" in str(wedged.values["error"])
    assert wedged.message_key == "health.writable.locked"  # a restart frees it: not the disk's fault
    holder.execute("ROLLBACK")
    holder.close()
    missing = check_records_writable(tmp_path / "missing.sqlite3")
    assert missing.level is Level.RED and missing.message_key == "health.writable.red"
