"""HTTPS for tablets (``[app] tls_cert_file``, ``tls_key_file``): with them, tablets sign in over HTTPS at
``tls_port`` with the site's CA, and the kiosk keeps plain HTTP on loopback at ``port``, the one app in one
process. The tablets' listener is the network whatever the address it is reached at: a connection there
from loopback (a proxy on the device, say) is no device's screen.

Real listeners on this machine's own network address, certificates made by the test's CA
(``tests/tls_files``), and Debian's Chromium for one page over HTTPS."""

from __future__ import annotations

import errno
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest

from firmware_app.config import load_config
from firmware_app.messages import sentence
from firmware_app.web import run
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import free_port, wait_until
from tests.records.kit import in_language, open_store, write_config
from tests.tls_files import SiteTls, site_tls
from tests.web.conftest import (
    OPERATOR,
    PIN,
    SCREEN,
    RunningApp,
    answer_status,
    answers_over_https,
    app_process,
    enter_pin,
    network_address,
    snap,
    start_app,
    unscrolled,
)


@dataclass
class TabletsApp:
    kiosk: RunningApp
    tablets_url: str  # https://<this machine's network address>:<tls_port>
    tls_port: int
    tls: SiteTls

    def client(self) -> httpx2.Client:
        """A tablet that trusts the site's CA (installed on it, as the README says)."""
        return httpx2.Client(verify=ssl.create_default_context(cafile=str(self.tls.ca)), timeout=60)


@pytest.fixture()
def tablets_app(tmp_path) -> Iterator[TabletsApp]:
    address = network_address()
    tls = site_tls(tmp_path / "tls", ("127.0.0.1", address))
    tls_port = free_port()
    running = start_app(tmp_path, app=f'bind = "0.0.0.0"\n{tls.app_lines(tls_port)}')
    kiosk = next(running)
    wait_until(lambda: answers_over_https(f"https://127.0.0.1:{tls_port}/", tls), 60, "the tablets' listener")
    yield TabletsApp(kiosk, f"https://{address}:{tls_port}", tls_port, tls)
    next(running, None)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _names_listed(page: str) -> bool:
    """Whether the sign-in page lists the operators to tap: the device's own screen's alone."""
    return (
        re.search(r'<input[^>]*type="radio"[^>]*name="operator"|<input[^>]*name="operator"[^>]*type="radio"', page)
        is not None
    )


def test_a_tablet_signs_in_over_https_and_its_session_cookie_is_secure(tablets_app):
    with tablets_app.client() as tablet:
        form = tablet.get(f"{tablets_app.tablets_url}/signin")
        assert form.status_code == 200 and not _names_listed(form.text) and OPERATOR not in form.text
        assert "secure" in form.headers["set-cookie"].lower().split("; ")
        signed_in = tablet.post(
            f"{tablets_app.tablets_url}/signin",
            data={"csrf": _csrf(form.text), "operator": OPERATOR, "pin": PIN},
            follow_redirects=True,
        )
    assert signed_in.status_code == 200 and "Ready to screen?" in signed_in.text
    assert str(signed_in.url) == f"{tablets_app.tablets_url}/ready"


def test_plain_http_on_the_tablets_port_is_refused(tablets_app):
    address = tablets_app.tablets_url.removeprefix("https://")
    with tablets_app.client() as tablet:
        assert tablet.get(f"{tablets_app.tablets_url}/signin").status_code == 200  # it listens, for HTTPS
    with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
        httpx2.get(f"http://{address}/signin", timeout=30)


def test_the_kiosk_keeps_plain_http_on_loopback_and_is_the_devices_screen(tablets_app):
    kiosk = httpx2.get(f"{tablets_app.kiosk.url}/signin", timeout=60)
    assert kiosk.status_code == 200 and _names_listed(kiosk.text)
    assert "secure" not in kiosk.headers["set-cookie"].lower().split("; ")
    # Only on loopback: the plain listener is not opened to the network once tablets have HTTPS.
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(tablets_app.kiosk.url.replace("127.0.0.1", network_address()) + "/signin", timeout=30)


def test_the_tablets_listener_reached_from_loopback_is_still_the_network(tablets_app):
    with tablets_app.client() as tablet:
        form = tablet.get(f"https://127.0.0.1:{tablets_app.tls_port}/signin")
    assert form.status_code == 200 and not _names_listed(form.text) and OPERATOR not in form.text


def test_a_tablets_browser_signs_in_over_https(browser, tablets_app):
    """Chromium told to take the site's certificate (a tablet with the site's CA installed)."""
    context = browser.new_context(ignore_https_errors=True, viewport=SCREEN)
    try:
        page = context.new_page()
        page.goto(f"{tablets_app.tablets_url}/signin")
        assert page.locator("input[name=operator][type=radio]").count() == 0
        page.locator("#operator").fill(OPERATOR)
        enter_pin(page, PIN)
        page.wait_for_url(f"{tablets_app.tablets_url}/ready")
        assert page.get_by_text("Ready to screen?").count() >= 1
    finally:
        context.close()


def test_records_that_cannot_be_opened_give_a_tablet_the_out_of_service_page_in_its_language(tmp_path):
    """The page saying the device cannot screen answered on the kiosk's port only: a tablet's nurse, on
    the HTTPS port, got a refused connection and no reason. She gets the same page, in the device's
    language with the switch to the other."""
    address = network_address()
    tls = site_tls(tmp_path / "tls", (address,))
    port, tls_port = free_port(), free_port()
    config = write_config(tmp_path, 1, f'[app]\nbind = "0.0.0.0"\nport = {port}\n{tls.app_lines(tls_port)}')
    config.write_text(config.read_text().replace("[device]\n", '[device]\nlanguage = "fr"\n', 1))
    open_store(tmp_path).records.close()
    (tmp_path / "records.key").unlink()
    app = app_process(config, port)
    url = f"https://{address}:{tls_port}/"
    try:
        wait_until(lambda: answers_over_https(url, tls), 60, "the tablets' out-of-service page")
        with httpx2.Client(verify=ssl.create_default_context(cafile=str(tls.ca)), timeout=60) as tablet:
            said = tablet.get(f"{url}signin")
            english = tablet.get(f"{url}signin?lang=en")
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 5
    assert said.status_code == 503 and "Cet appareil ne peut pas dépister" in said.text
    assert "records.key" in said.text and 'href="?lang=en"' in said.text
    assert english.status_code == 503 and "This device cannot screen now" in english.text


def test_a_key_that_is_not_the_certificates_is_refused_at_the_start_naming_it(tmp_path):
    """The app does not start on it: its out-of-service page says why, and it stops with status 2 as for
    any other config error."""
    tls = site_tls(tmp_path / "tls")
    other = site_tls(tmp_path / "other")
    port = free_port()
    lines = f'[app]\nport = {port}\ntls_cert_file = "{tls.certificate}"\ntls_key_file = "{other.key}"\n'
    config = write_config(tmp_path, 1, lines)
    app = app_process(config, port)
    try:
        said = httpx2.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert said.status_code == 503 and str(other.key) in said.text
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2
    stderr = app.stderr.read() if app.stderr else ""
    assert f"[app].tls_key_file: {other.key} does not match the certificate {tls.certificate}" in stderr


@pytest.mark.parametrize(("language", "bind"), [("en", "0.0.0.0"), ("fr", "::")])
def test_an_app_opened_to_the_network_without_tls_files_is_refused_at_the_start_naming_what_to_set(
    tmp_path, language, bind
):
    """``bind = "0.0.0.0"`` (or ``"::"``, which takes IPv4 too) without TLS files served every page,
    patient references, results and photos with them, and the PINs typed on tablets, in clear on the
    network: ``doctor`` only said amber. The app now listens on loopback alone, for its out-of-service
    page saying why (the nurse's screen is not left blank), and stops with status 2 as for any other
    config error: its words are ``doctor``'s."""
    port = free_port()
    config = write_config(tmp_path, 1, f'[app]\nbind = "{bind}"\nport = {port}\n')
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    refusal = sentence("health.app_tls.red", language, bind=bind)
    app = app_process(config, port)
    try:
        with pytest.raises(httpx2.ConnectError):  # nothing answers on the network
            httpx2.get(f"http://{network_address()}:{port}/", timeout=30)
        said = httpx2.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert said.status_code == 503 and "tls_cert_file" in said.text
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2
    stderr = app.stderr.read() if app.stderr else ""
    assert f"edgescreen: {refusal}" in stderr.splitlines(), stderr


def test_the_app_says_the_tablets_https_address_and_gives_the_kiosk_its_loopback_http(tmp_path):
    address = network_address()
    tls = site_tls(tmp_path / "tls", (address,))
    port, tls_port = free_port(), free_port()
    config = write_config(tmp_path, 1, f'[app]\nbind = "{address}"\nport = {port}\n{tls.app_lines(tls_port)}')
    runtime = tmp_path / "run"
    runtime.mkdir()
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--no-sync"]
    app = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, "RUNTIME_DIRECTORY": str(runtime)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: answers_over_https(f"https://{address}:{tls_port}/", tls), 60, "the tablets' listener")
        wait_until((runtime / "app-url").exists, 60, "the kiosk's address")
        assert (runtime / "app-url").read_text() == f"http://127.0.0.1:{port}/\n"
        app.send_signal(signal.SIGINT)
        said, stderr = app.communicate(timeout=30)
    finally:
        app.kill()
    assert app.returncode == 0 and "Traceback" not in stderr
    assert said.splitlines()[1:] == [
        f"EdgeScreen app: open http://127.0.0.1:{port}/ (Ctrl-C stops it)",
        f"Tablets: open https://{address}:{tls_port}/ (HTTPS; install the site's CA on each tablet)",
    ], said


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_port_given_on_the_command_line_that_is_the_tablets_port_is_refused_in_one_line(tmp_path, language):
    """Said in the device's language: a French device said the config's English ("tls_port: expected
    another port than port"), of a port the technician gave on the command line."""
    tls = site_tls(tmp_path / "tls")
    tls_port = free_port()
    config = in_language(write_config(tmp_path, 1, f"[app]\n{tls.app_lines(tls_port)}"), language)
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "app", "--port", str(tls_port)]
    run = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr == f"edgescreen: {sentence('app.port_is_tablets', language, port=tls_port)}\n"


def test_a_tablets_listener_that_cannot_start_stops_the_app_saying_why(tmp_path, monkeypatch, capsys, caplog):
    """A tablets' listener that ends before it starts (its socket gone, here): the app served the kiosk
    alone under a start line that gave the tablets' address, the failure a traceback at its stop. It says
    so in the device's language, the cause in the log line, and stops with status 2, never ready."""
    tls = site_tls(tmp_path / "tls")
    port, tls_port = free_port(), free_port()
    config = load_config(str(write_config(tmp_path, 1, f"[app]\nport = {port}\n{tls.app_lines(tls_port)}")))
    servers: list[run.AppServer] = []
    made = run.make_server

    def with_the_tablets_socket_closed(config, with_sync, tablets):
        tablets.socket.close()
        servers.append(made(config, with_sync, tablets))
        return servers[-1]

    monkeypatch.setattr(run, "make_server", with_the_tablets_socket_closed)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    status: list[int] = []
    serving = threading.Thread(target=lambda: status.append(run.serve(config, with_sync=False)), daemon=True)
    serving.start()
    try:
        wait_until(lambda: not serving.is_alive(), 60, "the app to stop")
    finally:
        if serving.is_alive():  # serving the kiosk alone: stopped, as Ctrl-C would
            servers[0].should_exit = True
            serving.join()
    assert status == [2]
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr, stderr
    address = run.tablets_url(config.app)
    assert f"edgescreen: the tablets' HTTPS listener ({address}) could not start" in stderr, stderr
    (logged,) = [record for record in caplog.records if record.getMessage().startswith("app.tablets_failed")]
    assert logged.levelno == logging.ERROR and "error=" in logged.getMessage()
    assert servers[0].should_exit and servers[0].tablets is not None and not servers[0].tablets.started


@pytest.mark.parametrize("broken", ["certificate removed", "key replaced"])
def test_tls_files_broken_after_the_configs_check_stop_the_app_naming_the_file(tmp_path, capsys, broken):
    """uvicorn read the files again once the device had started: a file removed or replaced between the
    config's check and the start was told by the SSL library's words (no file named), after the start
    lines had given both addresses. The app reads them once, before anything starts, and says which file
    as the config's check does, stopping with status 2."""
    tls = site_tls(tmp_path / "tls")
    port, tls_port = free_port(), free_port()
    config = load_config(str(write_config(tmp_path, 1, f"[app]\nport = {port}\n{tls.app_lines(tls_port)}")))
    if broken == "certificate removed":
        tls.certificate.unlink()
        said = f"[app].tls_cert_file: {tls.certificate} cannot be read (No such file or directory)"
    else:
        tls.key.write_text("not a key\n")
        said = f"[app].tls_key_file: {tls.key}: not a PEM private key"
    status: list[int] = []
    serving = threading.Thread(target=lambda: status.append(run.serve(config, with_sync=False)), daemon=True)
    serving.start()
    wait_until(lambda: not serving.is_alive(), 60, "the app to stop")
    assert status == [2]
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "open" not in out, (out, err)
    assert f"edgescreen: configuration error: {said}" in err, err


def test_a_tablets_port_another_program_holds_is_said_with_its_address_and_the_systems_words(tmp_path, capsys, caplog):
    """The files are checked before the listener starts, so its failure is another cause: the words told
    the technician to check the TLS files, for a port another program held. They say the address it could
    not listen on and the system's error, and what sets them."""
    tls = site_tls(tmp_path / "tls")
    port, tls_port = free_port(), free_port()
    config = load_config(str(write_config(tmp_path, 1, f"[app]\nport = {port}\n{tls.app_lines(tls_port)}")))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", tls_port))
        holder.listen()
        server = run.make_server(config, with_sync=False)
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        serving.join(60)
    assert not serving.is_alive() and server.tablets_failed
    stderr = capsys.readouterr().err
    address = f"https://127.0.0.1:{tls_port}/"
    said = sentence("app.tablets_failed", "en", address=address, error=os.strerror(errno.EADDRINUSE))
    assert f"edgescreen: {said}\n" in stderr, stderr
    assert "[app] bind and tls_port" in said and "tls_cert_file" not in said
    (logged,) = [record for record in caplog.records if record.getMessage().startswith("app.tablets_failed")]
    assert f"[Errno {errno.EADDRINUSE}]" in logged.getMessage(), logged.getMessage()


def test_the_out_of_service_line_names_the_tablets_address_beside_the_kiosks(tmp_path):
    """The page answers on the tablets' port too, yet the line said the kiosk's address alone: a
    technician reading the journal for a tablet's nurse was not told where she reaches it."""
    tls = site_tls(tmp_path / "tls")
    port, tls_port = free_port(), free_port()
    config = write_config(tmp_path, 1, f"[app]\nport = {port}\n{tls.app_lines(tls_port)}")
    open_store(tmp_path).records.close()
    (tmp_path / "records.key").unlink()
    app = app_process(config, port)
    try:
        wait_until(
            lambda: answers_over_https(f"https://127.0.0.1:{tls_port}/", tls), 60, "the tablets' out-of-service page"
        )
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 5
    stderr = app.stderr.read() if app.stderr else ""
    kiosk, tablets = f"http://127.0.0.1:{port}/", f"https://127.0.0.1:{tls_port}/"
    said = f"edgescreen: serving the out-of-service page on {kiosk} and, for tablets, on {tablets}\n"
    assert said in stderr, stderr


def test_a_config_that_does_not_load_gives_a_tablet_the_out_of_service_page_when_its_app_table_holds(tmp_path, browser):
    """A config that did not load served the page on the kiosk's loopback alone: a tablet's nurse got a
    refused connection and no reason. Its ``[app]`` table, when it builds alone with the same checks (the
    TLS files read, the key the certificate's), says where tablets reach the app: the page answers there
    too, in the language the file still says, and the line names both addresses."""
    tls = site_tls(tmp_path / "tls")
    port, tls_port = free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "fr"\n[camera]\nbackend = "picamera3"\n[app]\n{tls.app_lines(tls_port)}')
    app = app_process(config, port)
    url = f"https://127.0.0.1:{tls_port}/"
    context = browser.new_context(ignore_https_errors=True, viewport=SCREEN)
    try:
        wait_until(lambda: answers_over_https(url, tls), 30, "the tablets' out-of-service page")
        with httpx2.Client(verify=ssl.create_default_context(cafile=str(tls.ca)), timeout=60) as tablet:
            said = tablet.get(f"{url}signin")
        page = context.new_page()
        for language, words in (("fr", "Ses réglages ne peuvent pas être lus"), ("en", "Its settings cannot be read")):
            page.goto(f"{url}?lang={language}")
            assert words in page.inner_text("body") and unscrolled(page)
            snap(page, "out-of-service-config-tablet")
    finally:
        context.close()
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2
    assert said.status_code == 503 and "Ses réglages ne peuvent pas être lus" in said.text and "picamera3" in said.text
    stderr = app.stderr.read() if app.stderr else ""
    kiosk = f"http://127.0.0.1:{port}/"
    said = sentence("app.out_of_service_tablets", "fr", address=kiosk, tablets=url)
    assert f"edgescreen: {said}\n" in stderr, stderr


def test_a_config_whose_app_table_is_the_error_serves_no_tablet(tmp_path):
    """An ``[app]`` that does not build (here its key is not the certificate's) cannot say where tablets
    are, nor with which certificate: the page is served on the kiosk's loopback alone, as it says."""
    tls = site_tls(tmp_path / "tls")
    other = site_tls(tmp_path / "other")
    port, tls_port = free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(f"[app]\n{tls.app_lines(tls_port).replace(str(tls.key), str(other.key))}")
    app = app_process(config, port)
    try:
        assert answer_status(f"http://127.0.0.1:{port}/") == 503
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(f"https://127.0.0.1:{tls_port}/", verify=False, timeout=30)
    finally:
        app.send_signal(signal.SIGINT)
        assert app.wait(30) == 2
    stderr = app.stderr.read() if app.stderr else ""
    assert f"edgescreen: serving the out-of-service page on http://127.0.0.1:{port}/\n" in stderr, stderr
