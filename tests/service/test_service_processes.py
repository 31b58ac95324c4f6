"""The real commands as systemd runs them: READY when ready, WATCHDOG while healthy, STOPPING at the end,
and log lines that journald files by priority."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from firmware_app.inference.card import read_card
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import free_port
from tests.records.kit import write_config

COMMITTED_CARDS = [read_card(PROJECT_ROOT / "models" / model / "card.json") for model in ("dr-referable", "melanoma")]


def _start(config, *args, environment=None, stderr=subprocess.PIPE) -> subprocess.Popen:
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), *args]
    env = {**os.environ, **(environment or {})}
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def test_sync_service_is_ready_with_its_records_then_pings_and_says_when_it_stops(tmp_path, systemd):
    config = write_config(tmp_path, port=1)  # no broker: the worker is healthy while it retries
    worker = _start(config, "sync", "run", environment=systemd.environment(watchdog_s=0.4))
    try:
        assert "READY=1" in systemd.wait_for("READY=1", 60)[-1]
        pings = [m for m in systemd.receive(1.5) if m.startswith("WATCHDOG=1")]
        assert len(pings) >= 3
        worker.send_signal(signal.SIGTERM)
        systemd.wait_for("STOPPING=1", 20)
        assert worker.wait(20) == 0
    finally:
        worker.kill()
    assert "service.ready" in worker.stderr.read()


def test_app_is_ready_only_once_its_models_verify(tmp_path, systemd, retina_jpeg):
    port = free_port()
    config = write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n[app]\nport = {port}\n')
    app = _start(config, "app", "--no-sync", environment=systemd.environment(watchdog_s=0.4))
    try:
        ready = systemd.wait_for("READY=1", 90)[-1]
        assert all(f"{card.id} {card.version}" in ready for card in COMMITTED_CARDS)
        assert any(m.startswith("WATCHDOG=1") for m in systemd.receive(1.5))
        app.send_signal(signal.SIGTERM)
        systemd.wait_for("STOPPING=1", 30)
        # uvicorn re-raises SIGTERM once its graceful shutdown is done: a clean stop to systemd
        assert app.wait(30) in (0, -signal.SIGTERM)
    finally:
        app.kill()
    log = app.stderr.read()
    assert "app.stopped" in log
    assert "sync.disconnected" not in log  # --no-sync: the sync service owns the outbox


def test_app_with_a_refused_model_never_says_ready(tmp_path, systemd, retina_jpeg):
    port = free_port()
    empty = tmp_path / "no-models"
    empty.mkdir()
    extra = f'[camera]\nfiles = ["{retina_jpeg}"]\n[app]\nport = {port}\n[models]\ndirectory = "{empty}"\n'
    app = _start(write_config(tmp_path, 1, extra), "app", environment=systemd.environment(watchdog_s=0.4))
    try:
        received = systemd.receive(8)
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(30)
        app.kill()
    assert not any("READY=1" in m or "WATCHDOG=1" in m for m in received)
    assert "service.not_ready" in app.stderr.read()


def test_under_journald_lines_carry_a_priority_and_no_timestamp_of_their_own(tmp_path):
    config = write_config(tmp_path, port=1)
    log = tmp_path / "journal-stream"
    for journal in (True, False):
        with log.open("w") as stream:
            stat = os.fstat(stream.fileno())
            # journald's stream is named by device and inode; a redirected stderr keeps the timestamps
            environment = {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}" if journal else f"{stat.st_dev}:0"}
            process = _start(config, "screen", "/nonexistent.jpg", environment=environment, stderr=stream)
            assert process.wait(60) == 1
        lines = log.read_text().splitlines()
        failed = next(line for line in lines if "screen.image_failed" in line)
        warned = next(line for line in lines if "calibration.none" in line)
        if journal:
            assert failed.startswith("<4>WARNING screen.image_failed image=img-")
            assert warned.startswith("<4>WARNING calibration.none ")
        else:
            assert failed[:4].isdigit() and " WARNING screen.image_failed image=img-" in failed
