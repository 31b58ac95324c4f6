"""``edgescreen app`` as the device runs it: a process that prints its URL, serves the pages, and on
Ctrl-C closes the camera mid-stream, stops sync and closes the records, then exits 0."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from firmware_app.messages import message, sentence
from firmware_app.records.witness import read_witness, witness_path
from tests.absent_runtimes import shadow_runtimes
from tests.conftest import PROJECT_ROOT, as_from_a_terminal
from tests.mqtt_broker import free_port, wait_until
from tests.records.kit import DEVICE, in_language, write_config
from tests.web.conftest import OPERATOR, PIN


class Browser:
    """Just enough of a browser for a smoke test: cookies and the CSRF token of the last page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def _keep_csrf(self, page: str) -> str:
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return page

    def get(self, path: str) -> str:
        return self._keep_csrf(self.opener.open(self.url + path, timeout=60).read().decode())

    def post(self, path: str, **fields: str) -> str:
        data = urllib.parse.urlencode({"csrf": self.csrf, **fields}).encode()
        return self._keep_csrf(self.opener.open(self.url + path, data, timeout=60).read().decode())


def _answers(browser: Browser) -> bool:
    try:
        browser.get("/signin")
    except OSError:
        return False
    return True


def test_app_prints_its_url_and_ctrl_c_closes_camera_sync_and_records(tmp_path, retina_jpeg):
    port = free_port()  # given on the command line, over the config's
    config = write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n[app]\nport = {free_port()}\n')
    command = [sys.executable, "-m", "firmware_app", "--config", str(config)]
    added = subprocess.run(
        [*command, "operators", "add", OPERATOR, "--pin-stdin"], input=PIN, text=True, capture_output=True
    )
    assert added.returncode == 0, added.stderr
    refused = subprocess.run([*command, "app", "--port", "70000"], text=True, capture_output=True)
    assert refused.returncode == 2 and "'70000' is not a port number (1 to 65535)" in refused.stderr
    app = subprocess.Popen(
        [*command, "app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert app.stdout.readline().strip() == f"EdgeScreen app: open http://127.0.0.1:{port}/ (Ctrl-C stops it)"
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until(lambda: _answers(browser), 60, "the app to listen")
        assert "Ready to screen?" in browser.post("/signin", operator=OPERATOR, pin=PIN)
        capture = browser.post("/patient", reference="P-1", modality="fundus", eyes="R", consent="yes")
        token = re.search(r'data-token="([^"]+)"', capture).group(1)
        stream = browser.opener.open(f"{browser.url}/capture/stream?token={token}", timeout=60)
        assert stream.read(200).startswith(b"--frame")  # the camera is open and streaming
        threading.Thread(target=stream.read, daemon=True).start()  # a page still watching
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 0
    finally:
        app.kill()
    log = app.stderr.read()
    for event in ("camera.opened", "camera.closed", "app.sync_stopped alive=False", "app.stopped"):
        assert event in log, log
    assert log.rindex("camera.closed") < log.index("app.stopped")
    assert "Traceback" not in log and "P-1" not in log


def test_systemds_sigterm_right_after_a_screening_leaves_it_recorded_whole_and_witnessed(tmp_path, retina_jpeg):
    """The app as ``edgescreen-app.service`` runs it (``--no-sync``), stopped by SIGTERM as soon as a
    screening is shown: its photo is in the records, and the witness on disk names the last event."""
    port = free_port()
    config = write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n')
    command = [sys.executable, "-m", "firmware_app", "--config", str(config)]
    subprocess.run(
        [*command, "operators", "add", OPERATOR, "--pin-stdin"], input=PIN, text=True, check=True, capture_output=True
    )
    app = subprocess.Popen(
        [*command, "app", "--port", str(port), "--no-sync"], cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True
    )
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until(lambda: _answers(browser), 60, "the app to listen")
        browser.post("/signin", operator=OPERATOR, pin=PIN)
        capture = browser.post("/patient", reference="P-1", modality="fundus", eyes="R", consent="yes")
        token = re.search(r'data-token="([^"]+)"', capture).group(1)
        visit = re.search(r'name="visit" value="([^"]+)"', capture).group(1)
        check = browser.post("/capture/shoot", token=token, visit=visit)
        photo = re.search(r'name="photo" value="([^"]+)"', check).group(1)
        assert 'data-test="finish"' in browser.post("/check/use", visit=visit, photo=photo)  # the result screen
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) in (0, -signal.SIGTERM)
    finally:
        app.kill()
    assert "app.stopped" in app.stderr.read()
    database = tmp_path / "records.sqlite3"
    with sqlite3.connect(database) as db:
        (head,), (screenings,), (photos,) = (
            db.execute(query).fetchone()
            for query in ("SELECT max(seq) FROM audit", "SELECT count(*) FROM screening", "SELECT count(*) FROM image")
        )
    witness = read_witness(witness_path(database))
    assert (screenings, photos) == (1, 1)
    assert witness is not None and (witness.event, witness.screenings) == (head, 1)


def _stopped_by(signum: signal.Signals, folder: Path, retina_jpeg: Path) -> tuple[int, int, bool, bool]:
    """``edgescreen app`` (with its sync worker) started as from a terminal in ``folder``, stopped by
    ``signum`` once it answers: its exit status, how many times it logged its stop, whether its sync
    worker was stopped, and whether the records' write-ahead log was left behind (closing the records
    checkpoints and removes it)."""
    port = free_port()
    folder.mkdir()
    config = write_config(folder, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n')
    app = subprocess.Popen(
        [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_from_a_terminal,
    )
    try:
        wait_until(lambda: _answers(Browser(f"http://127.0.0.1:{port}")), 60, "the app to answer")
        app.send_signal(signum)
        _, errors = app.communicate(timeout=60)
    finally:
        app.kill()
    assert "Traceback" not in errors
    wal_left = (folder / "records.sqlite3-wal").exists()
    return app.returncode, errors.count(" app.stopped"), "app.sync_stopped alive=False" in errors, wal_left


def test_a_closed_terminal_stops_the_app_as_sigterm_does(tmp_path, retina_jpeg):
    """Started from a terminal (a technician's ssh session, ``scripts/run``), the app was killed where it
    stood by the terminal's SIGHUP: no stop line, the sync worker and the records never closed (the
    write-ahead log left beside them). It now stops as SIGTERM stops it: the same exit status, its stop
    logged once, its records closed."""
    terminated = _stopped_by(signal.SIGTERM, tmp_path / "sigterm", retina_jpeg)
    assert terminated == (-signal.SIGTERM, 1, True, False)
    assert _stopped_by(signal.SIGHUP, tmp_path / "sighup", retina_jpeg) == terminated


def test_the_demos_start_says_once_that_it_runs_on_the_demos_ids(tmp_path, retina_jpeg):
    """``scripts/run`` starts the app on the embedded defaults, whose ``demo-device`` / ``demo-site``
    a campaign's device must not keep: the start says so once, in doctor's words, then where to open it."""
    config = write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n')
    config.write_text(config.read_text().replace(f'"{DEVICE.id}"', '"demo-device"').replace(DEVICE.site, "demo-site"))
    port = free_port()
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--port", str(port)]
    app = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [app.stdout.readline().strip()]
        while "open http" not in lines[-1] and lines[-1]:  # up to where to open it ("": the app ended)
            lines.append(app.stdout.readline().strip())
        wait_until(lambda: _answers(Browser(f"http://127.0.0.1:{port}")), 60, "the app to listen")
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 0
    finally:
        app.kill()
    assert lines[-1] == f"EdgeScreen app: open http://127.0.0.1:{port}/ (Ctrl-C stops it)", lines
    demo = [line for line in lines if "demo-device" in line]
    assert len(demo) == 1 and "set [device] id and site" in demo[0], lines


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_port_another_program_holds_is_told_before_anything_starts(tmp_path, retina_jpeg, language):
    """The port is bound first: no "open ..." for an address that is not the app's, no camera or sync
    started for nothing, and exit status 2 (set another port), not 3 (which says a model was refused).
    Why, in the device's language: a French device said "Address already in use" inside its French."""
    config = in_language(write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n'), language)
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--port", str(port)],
            text=True,
            capture_output=True,
            timeout=60,
        )
    assert run.returncode == 2, run.stderr
    why = message("system.EADDRINUSE", language)
    said = sentence("app.cannot_listen", language, address=f"http://127.0.0.1:{port}/", error=why)
    assert f"edgescreen: {said}\n" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert "open http" not in run.stdout and "app.started" not in run.stderr


def test_without_any_tflite_runtime_the_app_serves_and_says_no_model_can_run(tmp_path, retina_jpeg):
    """Both runtimes shadowed by packages that say they are not installed: the app keeps serving (its checks say
    why no model runs) and stops cleanly, with no traceback."""
    port = free_port()
    config = write_config(tmp_path, 1, f'[camera]\nfiles = ["{retina_jpeg}"]\n')
    app = subprocess.Popen(
        [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--port", str(port), "--no-sync"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}:{shadow_runtimes(tmp_path)}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _answers(Browser(f"http://127.0.0.1:{port}")), 60, "the app to answer")
    finally:
        app.send_signal(signal.SIGINT)
        _, errors = app.communicate(timeout=60)
    assert app.returncode == 0, errors
    assert "Traceback" not in errors
    assert "service.not_ready" in errors and "no TFLite runtime is installed" in errors
