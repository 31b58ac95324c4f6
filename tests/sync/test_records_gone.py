"""The sync service at boot with its records drive not mounted yet: the records are gone from their path
(their key is there). `sync run` refused them with exit status 2, which edgescreen-sync.service is never
restarted on (a configuration error's): once the drive was mounted, results stopped flowing until
someone restarted the service. Now it stops with a status systemd restarts, says why once, makes
nothing in the empty mount point, and drains the outbox once the records are back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_app.messages import sentence
from firmware_app.records.database import database_files
from firmware_app.records.presence import RECORDS_GONE_EXIT
from firmware_app.records.witness import witness_path
from firmware_app.service.records_wait import RECHECK_S
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import Tap, wait_until
from tests.records.kit import in_language, open_store, record_one, small_photo, write_config
from tests.service.notify_socket import NotifySocket
from tests.test_cli import edgescreen
from tests.test_cli_missing_records import tree


def unmount(database: Path) -> Callable[[], None]:
    """Take the records' files away from their path, as a drive not mounted yet does (their key stays);
    the function returned puts the same files back, as mounting it does."""
    unmounted = database.parent / "on-the-drive"
    unmounted.mkdir()
    records = [path for path in (*database_files(database), witness_path(database)) if path.exists()]
    for path in records:
        path.rename(unmounted / path.name)

    def mount() -> None:
        for path in records:
            (unmounted / path.name).rename(path)

    return mount


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sync_run_waits_for_records_gone_by_exiting_restartable_and_drains_once_they_are_back(
    tmp_path, retina_rgb, broker, language
):
    config = in_language(write_config(tmp_path, broker.port), language)
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb, 32)).result_id
    store.records.close()
    database = tmp_path / "records.sqlite3"
    mount = unmount(database)
    before = tree(tmp_path)

    gone = edgescreen("sync", "run", "--until-drained", config=config)

    assert gone.returncode == RECORDS_GONE_EXIT != 2, gone.stderr
    values = {"path": str(database), "key_file": str(tmp_path / "records.key")}
    said = [line for line in gone.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.records_missing', language, **values)}"]
    logged = [line for line in gone.stderr.splitlines() if "sync.records_gone" in line]
    assert len(logged) == 1 and "is the records drive mounted?" in logged[0]  # the journal's English
    assert "Traceback" not in gone.stderr
    assert tree(tmp_path) == before  # no records, no sync lock in the empty mount point

    mount()  # the drive mounted: the same records at their path
    tap = Tap(broker.port)
    try:
        back = edgescreen("sync", "run", "--until-drained", config=config)
        assert back.returncode == 0, back.stderr
        wait_until(lambda: tap.on("/result"), 10, "the recorded result at the broker")
        assert [json.loads(payload)["result_id"] for payload in tap.on("/result")] == [result_id]
    finally:
        tap.close()
    assert json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 0


def _sync_service(config, notify: NotifySocket) -> subprocess.Popen[str]:
    """``edgescreen sync run`` as edgescreen-sync.service runs it: told systemd's notification socket
    and its watchdog (WatchdogSec=60)."""
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "sync", "run"]
    env = {**os.environ, **notify.environment(watchdog_s=60)}
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE, text=True)


def test_the_sync_service_waits_for_records_gone_saying_so_once_and_ends_once_they_are_back(tmp_path, broker):
    """Under systemd the service exited 9 and was restarted every 5 s (RestartSec=) while the drive was
    not mounted, a warning in the journal each time: hours of it filled the journal (systemd 252, in
    Debian 12, has no growing restart delay). Now it says so once, is ready with a status saying what it
    waits for (TimeoutStartSec= would kill it else) and pings its watchdog while it looks for its
    records; once they are back it ends with 9, for systemd to start it on them (RestartSec=, 5 s)."""
    config = write_config(tmp_path, broker.port)
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    mount = unmount(database)
    notify = NotifySocket(tmp_path)
    before = tree(tmp_path)
    service = _sync_service(config, notify)
    try:
        ready = notify.wait_for("READY=1", 30)[-1]
        assert "STATUS=waiting for the records: " in ready and "is the records drive mounted?" in ready
        pinged = notify.receive(4 * RECHECK_S)
        assert service.poll() is None  # on main: ended with 9 at once, to be restarted 5 s later
        assert pinged.count("WATCHDOG=1") >= 2, pinged
        assert tree(tmp_path) == before
        mount()
        assert service.wait(RECHECK_S + 30) == RECORDS_GONE_EXIT
    finally:
        service.kill()
        notify.close()
    logged = service.stderr.read() if service.stderr else ""
    assert len([line for line in logged.splitlines() if "sync.records_gone" in line]) == 1, logged
    assert "records.back" in logged and "Traceback" not in logged


def test_the_sync_service_stopped_while_it_waits_for_its_records_ends_cleanly(tmp_path, broker):
    """A `systemctl stop` while the drive is not mounted is a stop, not a failure: exit status 0."""
    config = write_config(tmp_path, broker.port)
    open_store(tmp_path).records.close()
    for path in database_files(tmp_path / "records.sqlite3"):
        path.unlink(missing_ok=True)
    notify = NotifySocket(tmp_path)
    service = _sync_service(config, notify)
    try:
        notify.wait_for("READY=1", 30)
        service.send_signal(signal.SIGTERM)
        assert service.wait(30) == 0
    finally:
        service.kill()
        notify.close()
