"""device/kiosk: waits for the app at the address it publishes (else the config's [app] port), then opens
it in Chromium's kiosk mode."""

from __future__ import annotations

import http.server
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import free_port
from tests.records.kit import write_config


def kiosk(tmp_path: Path, config: Path, runtime: Path) -> subprocess.CompletedProcess[str]:
    """device/kiosk with stand-ins for Chromium that say what they were asked to open."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("chromium-browser", "chromium"):
        (bin_dir / name).write_text('#!/bin/sh\necho "$@"\n')
        (bin_dir / name).chmod(0o755)
    environment = {
        **os.environ,
        "EDGESCREEN_CONFIG": str(config),
        "EDGESCREEN_RUNTIME_DIR": str(runtime),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    command = ["sh", str(PROJECT_ROOT / "device" / "kiosk")]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)


def test_the_kiosk_opens_the_app_at_the_address_it_publishes_though_the_config_is_unreadable(tmp_path):
    """As installed: the kiosk's desktop user cannot read /etc/edgescreen/config.toml, and the app,
    under systemd, writes its address in its RuntimeDirectory for it (world-readable)."""
    port = free_port()
    config = write_config(tmp_path, 1, f"[app]\nport = {port}\n")
    runtime = tmp_path / "run"
    runtime.mkdir()
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--no-sync"]
    app = subprocess.Popen(command, env={**os.environ, "RUNTIME_DIRECTORY": str(runtime)}, cwd=PROJECT_ROOT)
    try:
        run = kiosk(tmp_path, tmp_path / "unreadable-config.toml", runtime)
        published = runtime / "app-url"
        assert stat.S_IMODE(published.stat().st_mode) == 0o644
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(60)
    assert run.returncode == 0, run.stderr
    assert published.read_text() == f"http://127.0.0.1:{port}/\n"
    assert run.stdout.rstrip().endswith(f"http://127.0.0.1:{port}/")


def test_the_kiosk_opens_the_app_on_the_configured_port(tmp_path):
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    try:
        port = app.server_address[1]
        config = tmp_path / "config.toml"
        config.write_text(f"[app]\nport = {port}\n")
        run = kiosk(tmp_path, config, tmp_path / "no-runtime-directory")  # a development machine
    finally:
        app.shutdown()
    assert run.returncode == 0, run.stderr
    assert "--kiosk" in run.stdout and run.stdout.rstrip().endswith(f"http://127.0.0.1:{port}/")
