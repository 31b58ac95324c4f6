"""Why the worker cannot connect, named where the technician looks: ``doctor``'s broker line and
``sync status``, with what to do; it was only in the ``sync.disconnected`` log, doctor saying "not
reachable" whatever the cause. Each cause is made for real, against the shipped site broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_app.health.checks import check_broker
from firmware_app.messages import message
from firmware_app.wording import check_sentence
from tests.mqtt_broker import Broker, free_port, wait_until
from tests.records.kit import DEVICE, open_store, record_one, small_photo
from tests.sync.kit import BackgroundWorker
from tests.sync.test_security import device_config, make_test_certs, sync_status
from tests.test_cli import edgescreen


def client_of_another_ca(text: str, certs: Path, other: Path, broker: Broker) -> str:
    return text.replace(f"{certs}/{DEVICE.id}.", f"{other}/{DEVICE.id}.")


def trusting_another_ca(text: str, certs: Path, other: Path, broker: Broker) -> str:
    return text.replace(f"{certs}/ca.crt", f"{other}/ca.crt")


def another_devices_id(text: str, certs: Path, other: Path, broker: Broker) -> str:
    """Configured as cam-02 with cam-01's certificate: the broker's ACL refuses its publishes."""
    return text.replace(f'id = "{DEVICE.id}"', 'id = "cam-02"')


def nothing_listening(text: str, certs: Path, other: Path, broker: Broker) -> str:
    return text.replace(f"broker_port = {broker.port}", f"broker_port = {free_port()}")


def an_unknown_name(text: str, certs: Path, other: Path, broker: Broker) -> str:
    return text.replace('broker_host = "127.0.0.1"', 'broker_host = "site-broker.invalid"')  # RFC 6761: never resolves


def a_frozen_broker(text: str, certs: Path, other: Path, broker: Broker) -> str:
    broker.pause()  # the connection is accepted by the kernel, and nothing answers the TLS handshake
    return text.replace("connect_timeout_s = 5.0", "connect_timeout_s = 1.0")


# Each cause: the config edit that makes it, and what doctor's English line must say.
CAUSES = [
    (client_of_another_ca, "tls_refused", "refuses this device's certificate"),
    (trusting_another_ca, "tls_verify", "certificate verify failed"),
    (another_devices_id, "not_authorised", "not authorised"),
    (nothing_listening, "connection_refused", "Connection refused"),
    (an_unknown_name, "name_unresolved", "Name not resolved"),
    (a_frozen_broker, "timed_out", "Timed out"),
]


@pytest.mark.parametrize(("edit", "cause", "said"), CAUSES, ids=[cause for _, cause, _ in CAUSES])
def test_doctor_and_sync_status_name_why_the_worker_cannot_connect(
    tmp_path, certs, site_broker, retina_rgb, edit, cause, said
):
    """A result waits to be sent: the broker's ACL refuses its publish (``not_authorised``)."""
    other = make_test_certs(tmp_path / "another-ca", DEVICE.id)
    config = device_config(tmp_path, certs, site_broker.port)
    record_one(open_store(tmp_path), small_photo(retina_rgb))
    config.write_text(edit(config.read_text(), certs, other, site_broker))
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


def test_a_connection_made_clears_the_last_failure(tmp_path, certs, site_broker):
    """Once connected, the cause is history: doctor is green and the status names no failure."""
    config = device_config(tmp_path, certs, site_broker.port)
    listening = config.read_text()
    config.write_text(nothing_listening(listening, certs, certs, site_broker))
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
