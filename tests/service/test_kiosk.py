"""device/kiosk: waits for the app on the config's [app] port, then opens it in Chromium's kiosk mode."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading

from tests.conftest import PROJECT_ROOT


def test_the_kiosk_opens_the_app_on_the_configured_port(tmp_path):
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    try:
        port = app.server_address[1]
        config = tmp_path / "config.toml"
        config.write_text(f"[app]\nport = {port}\n")
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name in ("chromium-browser", "chromium"):  # stand-ins for Chromium: they say what they were asked to open
            (bin_dir / name).write_text('#!/bin/sh\necho "$@"\n')
            (bin_dir / name).chmod(0o755)
        environment = {**os.environ, "EDGESCREEN_CONFIG": str(config), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        run = subprocess.run(
            ["sh", str(PROJECT_ROOT / "device" / "kiosk")], env=environment, capture_output=True, text=True, timeout=30
        )
    finally:
        app.shutdown()
    assert run.returncode == 0, run.stderr
    assert "--kiosk" in run.stdout and run.stdout.rstrip().endswith(f"http://127.0.0.1:{port}/")
