"""READY and WATCHDOG on a real notification socket: sent when, and only when, the checks allow."""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import subprocess
import threading
import time

import pytest

from firmware_app.health import checks
from firmware_app.health import heartbeat as heartbeat_module
from firmware_app.health.checks import Level, check_records_writable
from firmware_app.health.heartbeat import GRACE_S, Heartbeat
from firmware_app.health.liveness import liveness
from firmware_app.messages import message
from firmware_app.records import database as database_module
from firmware_app.records.database import BUSY_TIMEOUT_S
from firmware_app.service.notify import sd_notify, watchdog_interval_s
from firmware_app.service.watchdog import Watchdog
from tests.conftest import PROJECT_ROOT, read_only_view
from tests.health.lock_holding import holding_the_lock
from tests.records.kit import open_store


def test_sd_notify_is_a_no_op_outside_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sd_notify("READY=1") is False


def test_the_watchdog_interval_is_a_quarter_of_watchdog_sec_and_only_for_our_pid(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval_s() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval_s() is None


@pytest.mark.parametrize("unit", ["edgescreen-app.service", "edgescreen-sync.service"])
def test_a_check_that_waits_a_busy_timeout_still_pings_an_interval_before_systemd_restarts(unit, monkeypatch):
    """Each ping follows a check, which may wait a busy timeout for the write lock: the interval plus
    that wait must leave an interval to spare within the unit's WatchdogSec. At half of it, 30 + 30 s
    left nothing of 60 s."""
    (line,) = [line for line in (PROJECT_ROOT / "systemd" / unit).read_text().splitlines() if line.startswith("Watch")]
    watchdog_s = float(line.removeprefix("WatchdogSec="))
    monkeypatch.setenv("WATCHDOG_USEC", str(int(watchdog_s * 1e6)))
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    interval = watchdog_interval_s()
    assert interval is not None and interval + BUSY_TIMEOUT_S <= watchdog_s - interval


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


def test_a_wait_for_the_lock_is_not_the_loops_time_up_to_its_bound(monkeypatch):
    """A records write waiting for another connection's lock does not eat the loop's promise; one
    that goes on past its bound (and what was left of the promise) is a hang like any other."""
    monkeypatch.setattr(heartbeat_module, "GRACE_S", 0.1)
    loop = Heartbeat("sync loop")
    loop.beat(0.1)  # due in 0.2 s
    with loop.waiting(0.6):
        time.sleep(0.4)
        assert loop.overdue_s() == 0.0  # 0.2 s past the promise, within the wait's 0.6 s
    assert loop.overdue_s() == 0.0  # the 0.4 s waited are not counted
    time.sleep(0.3)
    assert loop.overdue_s() > 0.0  # the loop's own time is
    loop.beat(0.1)
    with loop.waiting(0.2):
        time.sleep(0.6)
        assert loop.overdue_s() > 0.1  # past 0.2 + 0.2 s: stuck


def test_records_are_not_writable_while_another_writer_holds_the_lock_or_the_file_is_missing(tmp_path, monkeypatch):
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    assert check_records_writable(database).level is Level.GREEN
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer wedged holding the lock
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 0.2)  # the probe waits what the device's writers wait
    wedged = check_records_writable(database)
    assert wedged.level is Level.RED and "locked" in str(wedged.values["error"])
    assert wedged.message_key == "health.writable.locked"  # a restart frees it: not the disk's fault
    [watched] = liveness(database, [])
    assert (watched.level, watched.message_key) == (Level.RED, wedged.message_key)  # its one red records check
    holder.execute("ROLLBACK")
    holder.close()
    missing = check_records_writable(tmp_path / "missing.sqlite3")
    assert missing.level is Level.RED and missing.message_key == "health.writable.red"


def test_a_write_lock_held_a_busy_timeout_does_not_stop_the_pings(tmp_path, systemd, monkeypatch):
    """Another process holding the write lock for a whole busy timeout (an erasure's checkpoint did,
    waiting on a backup's read, before it waited half a second at most: records/erased_pages.py) is the
    device's own work, not a hang. The probe gave up after 10 s, went red ("another program keeps them
    locked") and the pings stopped: systemd restarted the app mid-visit. Real SQLite, the lock held by a
    second real connection, the real watchdog thread on a real notification socket, the production
    ratios (WatchdogSec twice the busy timeout) at 12 s of busy timeout; the lock is taken 1.5 s before
    the old interval's check, which then met 10.5 s of it."""
    busy_s, watchdog_s = 12.0, 24.0
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", busy_s)
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", busy_s)
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.setenv("WATCHDOG_USEC", str(int(watchdog_s * 1e6)))
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    held: list[float] = []

    def hold() -> None:
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        time.sleep(busy_s)
        holder.execute("ROLLBACK")
        held.append(time.monotonic() - started)
        holder.close()

    watchdog = Watchdog(lambda: liveness(database, []))
    ready = time.monotonic()
    watchdog.ready("ready")
    holding = threading.Timer(watchdog_s / 2 - 1.5, hold)
    holding.start()
    pings = [ready]
    try:
        while time.monotonic() < ready + watchdog_s + 1:
            for said in systemd.receive(0.05):
                assert "unhealthy" not in said, said
                pings += [time.monotonic()] if said.startswith("WATCHDOG=1") else []
    finally:
        watchdog.stop()
        holding.join()
    pings.append(time.monotonic())  # none since the last is a gap too
    assert held and held[0] >= busy_s
    assert max(later - earlier for earlier, later in itertools.pairwise(pings)) < watchdog_s


def test_records_the_service_may_not_write_are_logged_as_they_come_and_go_while_the_pings_go_on(
    tmp_path, systemd, monkeypatch, caplog
):
    """Records a restart would not mend (here their folder read-only to this process, as the service's
    sandbox makes one outside its writable paths) are amber to the watchdog: the pings go on, and the
    journal said nothing until a screening failed. Now it says so once as it comes, in the readiness list's English
    sentence, at warning (``journalctl -p warning``), and once as it goes; systemd's status line says
    it meanwhile. The real watchdog thread on a real notification socket, real SQLite through a real
    read-only bind mount."""
    caplog.set_level(logging.INFO, logger="edgescreen")
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a check every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    open_store(tmp_path / "state").records.close()

    def logged(event: str) -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.getMessage().split(" ")[0] == event]

    healthy = "WATCHDOG=1\nSTATUS=healthy"
    with read_only_view(tmp_path / "state", tmp_path / "mounted") as mounted:
        database = mounted / "records.sqlite3"
        (records,) = liveness(database, [])
        assert (records.level, records.message_key) == (Level.AMBER, "health.writable.sandbox")
        sentence = message(records.message_key, "en").format(**records.values)
        watchdog = Watchdog(lambda: liveness(database, []))
        watchdog.ready("ready")
        try:
            systemd.wait_for("READY=1", 1)
            amber = systemd.receive(0.6)
            assert len(amber) >= 8 and set(amber) == {f"{healthy}; {sentence}"}  # pinging, and saying why
            (degraded,) = logged("service.degraded")
            assert degraded.levelno == logging.WARNING
            assert degraded.getMessage() == f'service.degraded status="{sentence}"'
            assert not logged("service.degraded_cleared") and not logged("service.unhealthy")

            subprocess.run(["mount", "-o", "remount,rw,bind", str(mounted)], check=True, capture_output=True)
            after = systemd.receive(1.0)
        finally:
            watchdog.stop()
    fixed = after.index(healthy)  # a check under way at the remount may still have said amber
    assert set(after[:fixed]) <= {f"{healthy}; {sentence}"} and set(after[fixed:]) == {healthy}
    assert len(after[fixed:]) >= 8
    (cleared,) = logged("service.degraded_cleared")
    assert cleared.levelno == logging.WARNING
    assert cleared.getMessage() == f'service.degraded_cleared was="{sentence}"'
    assert len(logged("service.degraded")) == 1 and not logged("service.unhealthy")


def test_a_lock_another_program_holds_keeps_the_pings_going_and_is_logged_once_naming_it(
    tmp_path, systemd, monkeypatch, caplog
):
    """Another program holding the write lock past a busy timeout (measured before: a backup-like
    process holding it 30 s had systemd restart the app every minute) stops no ping now: a restart
    frees no lock of another process's. The journal says who holds it once, at warning, and once as
    it is given back; systemd's status line says it meanwhile. A real second process, real SQLite,
    the real watchdog thread on a real notification socket."""
    caplog.set_level(logging.INFO, logger="edgescreen")
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a check every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"

    def logged(event: str) -> list[str]:
        return [record.getMessage() for record in caplog.records if record.getMessage().split(" ")[0] == event]

    watchdog = Watchdog(lambda: liveness(database, []))
    watchdog.ready("ready")
    try:
        systemd.wait_for("READY=1", 1)
        with holding_the_lock(database) as holder:
            held = systemd.receive(1.0)
        given_back = systemd.receive(0.5)
    finally:
        watchdog.stop()
    said = [status for status in held if status != "WATCHDOG=1\nSTATUS=healthy"]
    assert said and all(status.startswith("WATCHDOG=1\nSTATUS=healthy; ") for status in said)  # pinging still
    assert f"backup-tool (process {holder.pid}) has kept them locked" in said[-1]
    assert given_back[-1] == "WATCHDOG=1\nSTATUS=healthy"
    (degraded,) = logged("service.degraded")
    assert f"backup-tool (process {holder.pid})" in degraded and "sudo kill" in degraded
    assert len(logged("service.degraded_cleared")) == 1 and not logged("service.unhealthy")


def test_a_liveness_check_that_raises_is_red_and_the_pings_come_back_after_it(systemd, monkeypatch, caplog):
    """Any exception out of a check (a file system answering EIO, a bug) killed the watchdog's thread:
    the pings stopped for good with nothing in the journal but systemd's restart. It is red once,
    logged with its error, and the thread goes on."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    outcomes = iter([OSError(5, "Input/output error"), []])

    def flaky() -> list:
        outcome = next(outcomes, [])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    watchdog = Watchdog(flaky, interval_s=0.05)
    with caplog.at_level(logging.ERROR):
        watchdog.ready("ready")
        received = systemd.wait_for("WATCHDOG=1", 5)
    watchdog.stop()
    unhealthy = next(line for line in received if "unhealthy" in line)
    assert "WATCHDOG=1" not in unhealthy and "A health check failed ([Errno 5] Input/output error)" in unhealthy
    assert any("service.liveness_failed" in record.getMessage() for record in caplog.records)


def test_a_lock_held_where_the_kernels_lock_list_cannot_be_read_restarts_nothing_and_a_stuck_loop_still_does(
    tmp_path, monkeypatch
):
    """Where /proc/locks cannot be read (a PID namespace, a hardened kernel), nobody holding the write
    lock can be named: the probe said "locked" ("restart the device"), the word for a writer of this
    process's wedged, and the watchdog stopped its pings for it, though another program held the lock
    (a backup, a technician's ``sqlite3``) and a restart freed nothing. It says the holder cannot be
    told, amber to the watchdog; a loop that stops beating is still a hang. A real second process."""
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setattr("firmware_app.health.lock_holder.PROC_LOCKS", tmp_path / "no-such-list")
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    loop = Heartbeat("sync loop")
    loop.beat(-GRACE_S - 2)
    with holding_the_lock(database):
        found = check_records_writable(database)
        records, stuck = liveness(database, [loop])
    assert (found.level, found.message_key) == (Level.RED, "health.writable.locked_unlisted"), found
    assert found.values["seconds"] == 0.1, found
    assert (records.level, records.message_key) == (Level.AMBER, found.message_key), records
    assert stuck.level is Level.RED, stuck
