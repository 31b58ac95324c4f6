"""Why the worker cannot connect, named where the technician looks: ``doctor``'s broker line and
``sync status``, with what to do; it was only in the ``sync.disconnected`` log, doctor saying "not
reachable" whatever the cause. Each cause is made for real, against the shipped site broker."""

from __future__ import annotations

import json
import logging
import re
import socket
import sqlite3
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_app.config import load_config
from firmware_app.health.checks import Check, check_broker
from firmware_app.messages import message
from firmware_app.records import database
from firmware_app.sync.failure import cause_of
from firmware_app.sync.tls import client_context
from firmware_app.wording import check_sentence
from tests.mqtt_broker import Broker, Relay, Tap, free_port, wait_until
from tests.records.kit import DEVICE, in_language, open_store, record_one, small_photo, write_config
from tests.sync.kit import BackgroundWorker
from tests.sync.test_security import (
    BROKER_DIR,
    broker_with_acl_lines,
    device_config,
    install_this_releases_acl,
    make_test_certs,
    started_site_broker,
    sync_status,
    tls_of,
)
from tests.test_cli import edgescreen


@dataclass(frozen=True)
class Site:
    """What a config edit may use: the site CA's certificates, another CA's, the shipped site broker
    (TLS), and a broker's plain listener (mosquitto's default, port 1883 on a real one)."""

    certs: Path
    other: Path
    broker: Broker
    plain: Broker


def client_of_another_ca(text: str, site: Site) -> str:
    return text.replace(f"{site.certs}/{DEVICE.id}.", f"{site.other}/{DEVICE.id}.")


def trusting_another_ca(text: str, site: Site) -> str:
    return text.replace(f"{site.certs}/ca.crt", f"{site.other}/ca.crt")


def another_devices_id(text: str, site: Site) -> str:
    """Configured as cam-02 with cam-01's certificate: the broker's ACL refuses its publishes."""
    return text.replace(f'id = "{DEVICE.id}"', 'id = "cam-02"')


def the_plain_port(text: str, site: Site) -> str:
    """TLS configured, and broker_port left at the plain listener's (the config's default, 1883)."""
    return text.replace(f"broker_port = {site.broker.port}", f"broker_port = {site.plain.port}")


def without_a_certificate(text: str, site: Site) -> str:
    return re.sub(r"^tls_(cert|key)_file = .*\n", "", text, flags=re.MULTILINE)


def nothing_listening(text: str, site: Site) -> str:
    return text.replace(f"broker_port = {site.broker.port}", f"broker_port = {free_port()}")


def an_unknown_name(text: str, site: Site) -> str:
    return text.replace('broker_host = "127.0.0.1"', 'broker_host = "site-broker.invalid"')  # RFC 6761: never resolves


def a_frozen_broker(text: str, site: Site) -> str:
    site.broker.pause()  # the connection is accepted by the kernel, and nothing answers the TLS handshake
    return text.replace("connect_timeout_s = 5.0", "connect_timeout_s = 1.0")


# Each cause: the config edit that makes it, and what doctor's English line must say.
CAUSES = [
    (client_of_another_ca, "tls_refused", "refuses this device's certificate"),
    (trusting_another_ca, "tls_verify", "certificate verify failed"),
    (another_devices_id, "not_authorised", "not authorised"),
    (the_plain_port, "tls_handshake", "cut the connection before any TLS answer on that port"),
    (nothing_listening, "connection_refused", "Connection refused"),
    (an_unknown_name, "name_unresolved", "Name not resolved"),
    (a_frozen_broker, "timed_out", "Timed out"),
]


@pytest.mark.parametrize(("edit", "cause", "said"), CAUSES, ids=[cause for _, cause, _ in CAUSES])
def test_doctor_and_sync_status_name_why_the_worker_cannot_connect(
    tmp_path, certs, site_broker, broker, retina_rgb, edit, cause, said
):
    """A result waits to be sent: the broker's ACL refuses its publish (``not_authorised``)."""
    other = make_test_certs(tmp_path / "another-ca", DEVICE.id)
    config = device_config(tmp_path, certs, site_broker.port)
    record_one(open_store(tmp_path), small_photo(retina_rgb))
    config.write_text(edit(config.read_text(), Site(certs, other, site_broker, broker)))
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config).get("last_failure") == cause, 30, f"the cause {cause} recorded")
        # Refused results are refused on a connection accepted first: read between its attempts.
        named = "doctor's amber broker line naming the cause"
        wait_until(lambda: said in (line := broker_line(config))["message"] and line["level"] == "amber", 30, named)
        shown = edgescreen("sync", "status", config=config).stdout
        status = sync_status(config)
    finally:
        worker.stop()
        site_broker.resume()
    assert message(f"sync.failure.{cause}", "en") in shown  # the cause and what to do
    assert status["last_failure"] == cause and status["what_to_do"] == message(f"sync.failure.{cause}", "en")
    # The nurse's readiness list reads the same check, her one line (its cause and remedy are doctor's,
    # the technician's: they would push her list past the screen); in French too.
    check = check_broker(status | {"connection": "disconnected"})
    assert (check.message_key, check.values["failure"]) == ("health.broker.amber", cause)
    for language in ("en", "fr"):
        nurse = message("health.broker.amber", language)
        assert check_sentence(check, language) == f"{nurse} {message(f'sync.failure.{cause}', language)}"


def broker_line(config: Path) -> dict:
    """doctor's broker check, as ``doctor --json`` gives it."""
    doctor = json.loads(edgescreen("doctor", "--json", config=config).stdout)
    return next(check for check in doctor["checks"] if check["name"] == "broker")


# A handshake made for real, with what it raises and the cause it is filed under. mosquitto refuses a
# certificate with an alert within the client's handshake at TLS 1.2; at TLS 1.3 (the shipped broker's
# and this device's choice) after it, and the worker sees the connection closed (the cases above).
HANDSHAKES = [
    (client_of_another_ca, ssl.TLSVersion.TLSv1_2, "tls_refused"),  # alert unknown ca
    (without_a_certificate, ssl.TLSVersion.TLSv1_2, "tls_refused"),  # alert handshake failure
    (the_plain_port, ssl.TLSVersion.TLSv1_2, "tls_handshake"),  # the plain listener resets the connection
    (the_plain_port, ssl.TLSVersion.TLSv1_3, "tls_handshake"),
]


@pytest.mark.parametrize(
    ("edit", "version", "cause"), HANDSHAKES, ids=[f"{edit.__name__}-{version.name}" for edit, version, _ in HANDSHAKES]
)
def test_a_certificate_refused_is_told_from_a_port_that_does_not_speak_tls(
    tmp_path, certs, site_broker, broker, edit, version, cause
):
    """A device configured for TLS and left on the broker's plain port (1883) was told its certificate
    was refused (its handshake's "reset by peer" as no cause at all), and the technician chased
    certificates: the port is the fault, and it is named."""
    config = device_config(tmp_path, certs, site_broker.port)
    config.write_text(
        edit(config.read_text(), Site(certs, make_test_certs(tmp_path / "another-ca"), site_broker, broker))
    )
    assert cause_of(handshake_error(config, version), tls=True) == cause


def test_a_revoked_certificate_is_a_refusal(tmp_path):
    revoking = make_test_certs(tmp_path / "certs", DEVICE.id)
    subprocess.run([str(BROKER_DIR / "revoke-certs"), str(revoking), DEVICE.id], check=True, capture_output=True)
    site_broker = started_site_broker(tmp_path / "site-broker", revoking)
    try:
        error = handshake_error(device_config(tmp_path, revoking, site_broker.port), ssl.TLSVersion.TLSv1_2)
    finally:
        site_broker.stop()
    assert cause_of(error, tls=True) == "tls_refused"  # alert certificate revoked


def handshake_error(config: Path, version: ssl.TLSVersion) -> OSError:
    """What the device's TLS context (its config's files) raises on a handshake with its broker, at
    most ``version``: the handshake paho's connect makes, whose error the worker files."""
    settings = load_config(str(config)).sync
    context = client_context(settings)
    context.maximum_version = version
    address = (settings.broker_host, settings.broker_port)
    with socket.create_connection(address, timeout=5) as connection, pytest.raises(OSError) as raised:
        context.wrap_socket(connection, server_hostname=settings.broker_host).close()
    return raised.value


def test_a_connection_made_clears_the_last_failure(tmp_path, certs, site_broker, broker):
    """Once connected, a cause of the connection is history: doctor is green and the status names no
    failure (a refusal of the results waits for a result taken: ``test_a_refusal_lifted_...``)."""
    config = device_config(tmp_path, certs, site_broker.port)
    listening = config.read_text()
    config.write_text(nothing_listening(listening, Site(certs, certs, site_broker, broker)))
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config).get("last_failure") == "connection_refused", 30, "the refusal")
    finally:
        worker.stop()
    config.write_text(listening)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config)["connection"].startswith("connected"), 30, "the connection")
        assert sync_status(config)["last_failure"] is None
    finally:
        worker.stop()


class AtEachConnection(logging.Handler):
    """What ``sync status`` says (and doctor's broker line, read from it) the moment each connection of
    a worker in this process is made: on the worker's own thread as it logs ``sync.connected``, after
    the CONNACK and before the broker answers its first publication. A refusal of this device's
    results read as none there, between each reconnection and the next refusal. Or, with ``event``
    ``sync.disconnected``, as each ends: logged once the worker recorded how."""

    def __init__(self, config: Path, event: str = "sync.connected") -> None:
        super().__init__()
        self._config, self._event = config, f"{event} "
        self.seen: list[tuple[str | None, Check]] = []
        self.statuses: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self._event):
            status = sync_status(self._config)
            self.seen.append((status["last_failure"], check_broker(status)))
            self.statuses.append(status)

    def __enter__(self) -> AtEachConnection:
        logging.getLogger("edgescreen").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("edgescreen").removeHandler(self)


def refused_results(tmp_path: Path, certs: Path, site_broker: Broker, broker: Broker, retina_rgb) -> Path:
    """A device whose result waits, configured as another device than its certificate's: the broker's
    ACL accepts each connection and refuses each publication of its results."""
    config = device_config(tmp_path, certs, site_broker.port)
    record_one(open_store(tmp_path), small_photo(retina_rgb))
    config.write_text(another_devices_id(config.read_text(), Site(certs, certs, site_broker, broker)))
    return config


def test_a_refusal_of_the_results_stands_across_reconnections(tmp_path, certs, site_broker, broker, retina_rgb, caplog):
    """Each connection made cleared the cause, and the broker's refusal of the result set it again: a
    technician reading ``sync status`` or doctor in between was told of no failure (and doctor green,
    "connected"), where nothing had changed. From the second connection on, the refusal stands."""
    caplog.set_level(logging.INFO, logger="edgescreen")
    config = refused_results(tmp_path, certs, site_broker, broker, retina_rgb)
    with AtEachConnection(config) as connections:
        worker = BackgroundWorker(config)
        try:
            wait_until(lambda: len(connections.seen) >= 4, 60, "four connections")
        finally:
            worker.stop()
    assert connections.seen[0][0] is None  # the first: nothing was refused yet
    for failure, line in connections.seen[1:]:
        assert failure == "not_authorised"
        assert (line.level, line.message_key, line.values["failure"]) == ("amber", "health.broker.refused", failure)


def test_a_refusal_lifted_is_cleared_by_the_first_result_the_broker_takes(
    tmp_path, certs, site_broker, broker, retina_rgb, caplog
):
    """The technician gives the device its own identity back (its certificate's) and restarts it: the
    refusal stands at the connection, which has shown nothing yet, and is history once the broker takes
    the waiting result; doctor is green and the status names no failure, on that same connection."""
    caplog.set_level(logging.INFO, logger="edgescreen")
    config = refused_results(tmp_path, certs, site_broker, broker, retina_rgb)
    refused = config.read_text()
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config).get("last_failure") == "not_authorised", 30, "the refusal")
    finally:
        worker.stop()
    config.write_text(refused.replace('id = "cam-02"', f'id = "{DEVICE.id}"'))
    caplog.clear()
    with AtEachConnection(config) as connections:
        worker = BackgroundWorker(config)
        try:
            wait_until(lambda: sync_status(config)["backlog"] == 0, 30, "the result taken")
            wait_until(lambda: sync_status(config)["connection"] == "connected", 30, "the connection shown working")
            status = sync_status(config)
        finally:
            worker.stop()
    assert connections.seen[0][0] == "not_authorised"
    assert status["last_failure"] is None and check_broker(status).level == "green"
    assert "sync.disconnected" not in caplog.text  # cleared by the connection that delivered, not a later one


def test_the_last_problem_is_history_once_the_broker_takes_a_result(tmp_path, broker, retina_rgb):
    """Back from days offline, the device drains its backlog: the connection's problem before (the
    broker out of reach) was still named in ``sync status`` after every result was delivered, on a
    connection that may stay up for days, and sent the technician looking for a fault gone."""
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config)["connection"] == "connected", 30, "the first connection")
        broker.stop()
        wait_until(lambda: sync_status(config)["connection"] == "disconnected", 30, "the broker gone")
        record_one(store, small_photo(retina_rgb))
        broker.start()
        wait_until(lambda: sync_status(config)["backlog"] == 0, 30, "the result taken")
        wait_until(lambda: sync_status(config)["connection"] == "connected", 30, "the connection shown working")
        detail = sync_status(config)["connection_detail"]
    finally:
        worker.stop()
    assert detail == f"127.0.0.1:{broker.port}"


def broker_refusing_results(directory: Path, certs: Path) -> Broker:
    """The shipped site broker whose ACL lets no device publish a result (the ingester still reads them):
    it refuses each, "Not authorized", until the technician installs this release's and reloads it."""
    return broker_with_acl_lines(
        directory, certs, lambda line: not line.startswith("pattern write edgescreen/v1/+/%u/result")
    )


def test_a_refusal_answered_while_the_records_are_locked_is_cleared_by_their_next_write(
    tmp_path, certs, retina_rgb, caplog, monkeypatch
):
    """The site broker refused this device's results; the ACL mended and reloaded, it takes the waiting
    one while another process holds the records' write lock (a backup, a large erasure). The state could
    not be written then, and the records kept saying "refused", not authorised, with doctor amber, for
    the connection's life (days on a steady network): nothing wrote it again. It is written once the
    records take a write, on that connection."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.2)  # each write the lock refuses, refused at once
    broker = broker_refusing_results(tmp_path / "site-broker", certs)
    try:
        config = device_config(tmp_path, certs, broker.port)
        record_one(open_store(tmp_path), small_photo(retina_rgb))
        caplog.set_level(logging.INFO, logger="edgescreen")
        worker = BackgroundWorker(config)
        try:
            wait_until(lambda: sync_status(config)["connection"] == "refused", 30, "the refusal")
            holder = sqlite3.connect(tmp_path / "records.sqlite3", isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                install_this_releases_acl(broker)
                taken = "the result taken, and its state refused by the lock"
                wait_until(lambda: "sync.state_not_recorded state=connected " in caplog.text, 30, taken)
                connections = caplog.text.count("sync.connected ")
            finally:
                holder.close()  # its transaction rolled back: the lock released
            wait_until(lambda: sync_status(config)["connection"] == "connected", 20, "the state written")
            status = sync_status(config)
            assert caplog.text.count("sync.connected ") == connections  # on the connection that took it
        finally:
            worker.stop()
    finally:
        broker.stop()
    assert status["backlog"] == 0 and status["last_failure"] is None and check_broker(status).level == "green"
    assert status["connection_detail"] == f"127.0.0.1:{broker.port}"  # the refusal is history


def test_a_connection_whose_state_the_locked_records_refused_is_written_with_nothing_to_send(
    tmp_path, broker, caplog, monkeypatch
):
    """The broker back after an outage while another process holds the records' write lock: the new
    connection's state could not be written, and only a batch of results taken wrote it again. With
    nothing recorded to send, none came, and ``sync status`` and doctor said "disconnected" for the
    connection's life, days on a steady network. The worker's loop writes it once the records take it."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.2)  # each write the lock refuses, refused at once
    config = write_config(tmp_path, broker.port)
    caplog.set_level(logging.INFO, logger="edgescreen")
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: sync_status(config)["connection"] == "connected", 30, "the first connection")
        broker.stop()
        wait_until(lambda: sync_status(config)["connection"] == "disconnected", 30, "the broker gone")
        holder = sqlite3.connect(tmp_path / "records.sqlite3", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            broker.start()
            refused = "the connection made, and its state refused by the lock"
            wait_until(lambda: "sync.state_not_recorded state=connected " in caplog.text, 30, refused)
            connections = caplog.text.count("sync.connected ")
        finally:
            holder.close()  # its transaction rolled back: the lock released
        wait_until(lambda: sync_status(config)["connection"] == "connected", 20, "the state written")
        status = sync_status(config)
        assert caplog.text.count("sync.connected ") == connections  # on the connection it was refused for
    finally:
        worker.stop()
    assert status["backlog"] == 0 and status["last_failure"] is None and check_broker(status).level == "green"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_result_taken_after_one_refused_on_the_same_connection_ends_the_refusal(
    tmp_path, certs, retina_rgb, caplog, language
):
    """The broker refused one result and, its ACL mended and reloaded meanwhile, took the next, both
    answers read together. The records said "connected" yet not authorised, then "refused" as the
    connection ended, and the worker backed off as from a refusal: a broker that takes this device's
    results does not refuse the device. The connection ends as a network fault's does, to publish the
    refused result again at once, its refusal named as the last problem, no cause, no longer backoff."""
    broker = broker_refusing_results(tmp_path / "site-broker", certs)
    relay = Relay(broker.port)
    station = Tap(
        broker.port, [f"edgescreen/v1/+/+/{leaf}" for leaf in ("result", "status")], **tls_of(certs, "review-ingest-1")
    )
    try:
        config = in_language(device_config(tmp_path, certs, relay.port), language)
        store = open_store(tmp_path)
        caplog.set_level(logging.INFO, logger="edgescreen")
        with AtEachConnection(config) as starts, AtEachConnection(config, "sync.disconnected") as ends:
            worker = BackgroundWorker(config)
            try:
                wait_until(lambda: station.on("/status") == [b"online"], 15, "the device connected")
                relay.hold()  # the broker's answers held by the network, then handed over together
                refused = record_one(store, small_photo(retina_rgb)).result_id
                wait_until(lambda: relay.held_bytes() > 0, 15, "the broker's refusal, held")
                install_this_releases_acl(broker)
                wait_until(
                    lambda: "Reloading config." in (broker.directory / "mosquitto.log").read_text(), 15, "the reload"
                )
                held = relay.held_bytes()
                taken = record_one(store, small_photo(retina_rgb)).result_id
                wait_until(lambda: relay.held_bytes() > held, 15, "the broker taking the next, held")
                relay.release()  # one read: the refusal, then the result taken
                wait_until(lambda: ends.statuses, 15, "the connection ended")
                wait_until(lambda: sync_status(config)["backlog"] == 0, 30, "the refused result sent again")
                wait_until(lambda: sync_status(config)["connection"] == "connected", 15, "the connection shown working")
                status = sync_status(config)
            finally:
                worker.stop()
    finally:
        station.close()
        relay.close()
        broker.stop()
    [ended, *_] = ends.statuses
    refusal = "the broker refused result row 1: Not authorized"
    assert (ended["connection"], ended["last_failure"], ended["connection_detail"]) == ("disconnected", None, refusal)
    check = check_broker(ended)
    assert check_sentence(check, language) == message("health.broker.amber", language)  # no technician's remedy
    assert re.search(r"sync\.disconnected .*attempt=0 ", caplog.text)  # retried at once, not backed off
    again = starts.statuses[1]  # the next connection, before the refused result is published again
    assert (again["last_failure"], again["connection_detail"]) == (
        None,
        f"127.0.0.1:{relay.port}; last problem: {refusal}",
    )
    results = [json.loads(payload)["result_id"] for payload in station.on("/result")]
    assert results.count(taken) == 1 and results.count(refused) == 1
    assert status["last_failure"] is None and check_broker(status).level == "green"
