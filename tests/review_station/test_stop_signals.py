"""The station's long-running commands, started from a terminal, stop on its SIGHUP as on SIGTERM."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from review_station.storage.database import open_database
from tests.conftest import as_from_a_terminal
from tests.mqtt_broker import free_port, wait_until
from tests.review_station.kit import review_process, roomy_broker, station_config
from tests.sharing.site import make_certs


@pytest.fixture()
def station(tmp_path: Path) -> Iterator[tuple[Path, int, int]]:
    """A station config (SQLite, a loopback broker, TLS files for uploads) and its web and upload ports."""
    broker = roomy_broker(tmp_path / "broker").start()
    certs = make_certs(tmp_path / "certs")
    web, uploads = free_port(), free_port()
    engine = open_database(f"sqlite:///{tmp_path / 'review.sqlite3'}")
    try:
        config = station_config(
            tmp_path / "station",
            engine,
            broker.port,
            extra=f'port = {web}\n[uploads]\nhost = "127.0.0.1"\nport = {uploads}\n'
            f'tls_cert_file = "{certs}/station.crt"\ntls_key_file = "{certs}/station.key"\n'
            f'tls_ca_file = "{certs}/ca.crt"\ntls_crl_file = "{certs}/crl.pem"\n',
        )
        yield config, web, uploads
    finally:
        engine.dispose()
        broker.stop()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return False
    return True


def _stopped_by(signum: signal.Signals, config: Path, command: str, ready: str | int, log: Path) -> tuple[int, str]:
    """``edgescreen-review command`` started as from a terminal, stopped by ``signum`` once ``ready`` (a
    port it listens on, or a line it logs): its exit status and what it logged."""
    with log.open("w") as sink:
        process = review_process(config, command, stderr=sink, preexec_fn=as_from_a_terminal)
    try:
        if isinstance(ready, int):
            wait_until(lambda: _listening(ready), 60, f"{command} to listen")
        else:
            wait_until(lambda: ready in log.read_text(), 60, f"{command} to log {ready}")
        process.send_signal(signum)
        status = process.wait(30)
    finally:
        process.kill()
    said = log.read_text()
    assert "Traceback" not in said, said
    return status, said


@pytest.mark.parametrize("command", ["serve", "uploads"])
def test_a_closed_terminal_stops_the_stations_servers_as_sigterm_does(tmp_path, station, command):
    """``serve`` and ``uploads`` were killed by the terminal's SIGHUP where SIGTERM has uvicorn shut
    them down (and re-raise it): they now stop as SIGTERM stops them, with its exit status."""
    config, web, uploads = station
    port = web if command == "serve" else uploads
    statuses = [
        _stopped_by(signum, config, command, port, tmp_path / f"{signum.name}.log")[0]
        for signum in (signal.SIGTERM, signal.SIGHUP)
    ]
    assert statuses == [-signal.SIGTERM, -signal.SIGTERM]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_closed_terminal_stops_the_ingester_as_sigterm_does(tmp_path, station, signum):
    """The ingester heard SIGTERM and Ctrl-C only: the terminal's SIGHUP killed it (status -SIGHUP) with
    no ``review.ingest_stop`` saying what it had stored. Either now stops it at once, said, status 0."""
    config, _, _ = station
    status, said = _stopped_by(signum, config, "ingest", "review.ingest_subscribed", tmp_path / "ingest.log")
    assert status == 0
    assert said.count(" service.stop_requested ") == 1 and f"service.stop_requested signal={signum.name}\n" in said
    assert said.count(" review.ingest_stop ") == 1
