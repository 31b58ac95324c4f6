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


def kiosk(
    tmp_path: Path, config: Path, runtime: Path, stand_ins: dict[str, str] | None = None, **session: str
) -> subprocess.CompletedProcess[str]:
    """device/kiosk with stand-ins for Chromium that say what they were asked to open, and for any
    command in ``stand_ins`` (name: shell body); ``session``, the desktop's variables
    (``WAYLAND_DISPLAY``), none by default."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    commands = {"chromium-browser": 'echo "$@"', "chromium": 'echo "$@"', **(stand_ins or {})}
    for name, body in commands.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    environment = {
        **{name: value for name, value in os.environ.items() if name != "WAYLAND_DISPLAY"},
        **session,
        "EDGESCREEN_CONFIG": str(config),
        "EDGESCREEN_RUNTIME_DIR": str(runtime),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    command = ["sh", str(PROJECT_ROOT / "device" / "kiosk")]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30)


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


def test_the_kiosk_asks_chromium_for_the_desktops_own_display_server(tmp_path):
    """A Pi 4 or 5 runs a Wayland desktop (labwc, Wayfire), a Pi 3 or older X11 (bookworm's default
    there, or chosen in raspi-config): the kiosk forced Wayland, where Chromium does not start on X11,
    and the nurse's screen stayed the bare desktop."""
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "config.toml"
        config.write_text(f"[app]\nport = {app.server_address[1]}\n")
        x11 = kiosk(tmp_path, config, tmp_path / "none", DISPLAY=":0")
        wayland = kiosk(tmp_path, config, tmp_path / "none", WAYLAND_DISPLAY="wayland-1")
    finally:
        app.shutdown()
    assert "--ozone-platform=x11" in x11.stdout.split(), x11.stdout + x11.stderr
    assert "--ozone-platform=wayland" in wayland.stdout.split(), wayland.stdout + wayland.stderr


class OutOfService(http.server.BaseHTTPRequestHandler):
    """The app's out-of-service page, as far as the kiosk can tell: HTTP 503 on every address."""

    def do_GET(self) -> None:
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b"This device cannot screen now")


def test_the_kiosk_opens_the_out_of_service_page_with_curl_or_with_wget(tmp_path):
    """The app's page saying the device cannot screen (records or config it cannot open) is a 503, which
    `wget -q` and `curl -f` took for no answer: on main the kiosk waited for ever, and the nurse's screen
    stayed the bare desktop. With curl, and where there is none (a stand-in that is not found), wget."""
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OutOfService)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "config.toml"
        config.write_text(f"[app]\nport = {app.server_address[1]}\n")
        with_curl = kiosk(tmp_path / "curl", config, tmp_path / "none")
        with_wget = kiosk(tmp_path / "wget", config, tmp_path / "none", {"curl": "exit 127"})
    finally:
        app.shutdown()
    for run in (with_curl, with_wget):
        assert run.returncode == 0, run.stderr
        assert run.stdout.rstrip().endswith(f"http://127.0.0.1:{app.server_address[1]}/")
