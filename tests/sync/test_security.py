"""The shipped site-broker configuration (broker/mosquitto.conf + broker/acl) with certificates from
broker/make-test-certs: only the listener port and the file locations are changed for the test."""

from __future__ import annotations

import json
import logging
import re
import ssl
import subprocess
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

import firmware_app.sync.worker as worker_module
from edgescreen_wire.result import MAX_RESULT_BYTES
from firmware_app.config import load_config
from firmware_app.health.checks import check_backlog
from firmware_app.messages import message, sentence
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.sync.worker import SyncWorker, denies_this_device
from firmware_app.wording import check_sentence
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import Broker, Tap, free_port, stop_network_loop, wait_until
from tests.records.kit import DEVICE, in_language, open_store, record_one, sample_record, small_photo, write_config
from tests.sync.kit import BackgroundWorker, drain
from tests.test_cli import edgescreen, status_line

BROKER_DIR = PROJECT_ROOT / "broker"


def make_test_certs(out: Path, *clients: str) -> Path:
    """``broker/make-test-certs``' CA and certificates in ``out``: its default clients (cam-01, cam-02,
    review-ingest-1), or ``clients``."""
    subprocess.run([str(BROKER_DIR / "make-test-certs"), str(out), *clients], check=True, capture_output=True)
    return out


def started_site_broker(directory: Path, certs: Path, ingesters: Sequence[str] = ()) -> Broker:
    """The shipped site broker (``site_broker_config``) started on a free loopback port, its files in
    a new ``directory``."""
    directory.mkdir()
    port = free_port()
    return Broker(directory, site_broker_config(directory, certs, port, ingesters), port).start()


def site_broker_config(directory: Path, certs: Path, port: int, ingesters: Sequence[str] = ()) -> str:
    """The shipped config with its listener on a loopback test port and its files in ``directory``;
    the ACL with a block for each of ``ingesters`` (``broker/ingester-acl``), as install-site-broker
    installs it for further ingesters."""
    text = (BROKER_DIR / "mosquitto.conf").read_text()
    acl = (BROKER_DIR / "acl").read_text()
    if ingesters:
        blocks = subprocess.run([str(BROKER_DIR / "ingester-acl"), *ingesters], check=True, capture_output=True)
        acl += blocks.stdout.decode()
    (directory / "acl").write_text(acl)
    replacements = {
        "listener": f"listener {port} 127.0.0.1",
        "persistence_location": f"persistence_location {directory}/",
        "acl_file": f"acl_file {directory}/acl",
        "cafile": f"cafile {certs}/ca.crt",
        "certfile": f"certfile {certs}/broker.crt",
        "keyfile": f"keyfile {certs}/broker.key",
        "crlfile": f"crlfile {certs}/crl.pem",
    }
    return with_lines(text, replacements, "broker/mosquitto.conf") + f"log_dest file {directory}/mosquitto.log\n"


def with_lines(text: str, replacements: dict[str, str], named: str) -> str:
    """A shipped mosquitto file with each ``key ...`` line replaced: only what a test must change."""
    for key, line in replacements.items():
        text, count = re.subn(rf"^{key} .*$", line, text, flags=re.MULTILINE)
        assert count == 1, f"{named} has no single {key} line"
    return text


def tls_of(certs: Path, name: str | None) -> dict[str, str]:
    tls = {"ca_certs": str(certs / "ca.crt")}
    if name:
        tls |= {"certfile": str(certs / f"{name}.crt"), "keyfile": str(certs / f"{name}.key")}
    return tls


class Client:
    """A bare MQTT 5 client with a certificate, to try what a device or an intruder might. With
    ``resume``, it asks for a persistent session (``clean_start`` false, an hour's expiry) under
    ``client_id``, as the ingester and the devices do; ``session_present`` is the broker's answer."""

    def __init__(self, port: int, certs: Path, name: str | None, client_id: str = "", resume: bool = False) -> None:
        self.connected = threading.Event()
        self.session_present = False
        self.messages: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.tls_set(**tls_of(certs, name))
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, bytes(m.payload)))
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600 if resume else 0
        self.client.connect("127.0.0.1", port, clean_start=not resume, properties=properties)
        self.client.loop_start()
        assert self.connected.wait(10), f"{name} could not connect"

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, properties: Any) -> None:
        if not reason.is_failure:
            self.session_present = flags.session_present
            self.connected.set()

    def subscribe(self, topic: str) -> None:
        """Subscribe at QoS 1 and wait for the broker's SUBACK."""
        done = threading.Event()
        self.client.on_subscribe = lambda *_: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10)

    def publish(self, topic: str, payload: bytes) -> str:
        """Publish at QoS 1; the PUBACK's reason code."""
        done, reasons = threading.Event(), []

        def on_publish(client, userdata, mid, reason, properties):
            reasons.append(str(reason))
            done.set()

        self.client.on_publish = on_publish
        self.client.publish(topic, payload, qos=1)
        assert done.wait(10)
        return reasons[0]

    def close(self) -> None:
        stop_network_loop(self.client)
        self.client.disconnect()


def device_config(tmp_path: Path, certs: Path, port: int, cert_name: str = DEVICE.id) -> Path:
    return write_config(
        tmp_path,
        port,
        f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/{cert_name}.crt"\n'
        f'tls_key_file = "{certs}/{cert_name}.key"\n',
    )


def test_a_device_syncs_over_tls_and_the_review_station_receives_it(tmp_path, certs, site_broker, retina_rgb):
    station = Tap(site_broker.port, "edgescreen/v1/+/+/result", **tls_of(certs, "review-ingest-1"))
    config = device_config(tmp_path, certs, site_broker.port)
    result_id = record_one(open_store(tmp_path), small_photo(retina_rgb)).result_id
    drain(config)
    wait_until(lambda: len(station.on("/result")) == 1, 10, "the result at the review station")
    assert json.loads(station.on("/result")[0])["result_id"] == result_id
    station.close()


def test_a_device_cannot_publish_as_another_device(certs, site_broker):
    topics = ["edgescreen/v1/+/+/result", "edgescreen/v1/+/+/erasure"]
    station = Tap(site_broker.port, topics, **tls_of(certs, "review-ingest-1"))
    intruder = Client(site_broker.port, certs, "cam-01")
    assert intruder.publish("edgescreen/v1/clinic-7/cam-02/result", b'{"forged": true}') == "Not authorized"
    assert intruder.publish("edgescreen/v1/clinic-7/cam-02/review", b"{}") == "Not authorized"
    assert intruder.publish("edgescreen/v1/clinic-7/cam-02/erasure", b'{"forged": true}') == "Not authorized"
    assert intruder.publish("edgescreen/v1/clinic-7/cam-01/result", b'{"own": true}') == "Success"
    assert intruder.publish("edgescreen/v1/clinic-7/cam-01/erasure", b'{"own": true}') == "Success"
    wait_until(lambda: len(station.on("/result")) == 1, 10, "the device's own result")
    wait_until(lambda: len(station.on("/erasure")) == 1, 10, "the device's own erasure, read by the ingester")
    assert station.on("/result") == [b'{"own": true}']  # the forged ones never reached anyone
    assert station.on("/erasure") == [b'{"own": true}']
    intruder.close()
    station.close()


def test_only_the_station_publishes_a_devices_erased_notice_and_only_that_device_reads_it(certs, site_broker):
    """The station's notice of the results it erased (``erased``) is a device's order to erase: no device
    may publish one, its own or another's, and none reads another device's."""
    topic = "edgescreen/v1/clinic-7/cam-01/erased"
    device = Client(site_broker.port, certs, "cam-01")
    device.subscribe(topic)
    other = Client(site_broker.port, certs, "cam-02")
    other.subscribe("edgescreen/v1/#")
    station = Client(site_broker.port, certs, "review-ingest-1")
    try:
        assert device.publish(topic, b'{"forged": "own"}') == "Not authorized"
        assert other.publish(topic, b'{"forged": "another device"}') == "Not authorized"
        assert station.publish(topic, b'{"station": true}') == "Success"
        # A sentinel behind it that cam-02 may read: once it arrives, cam-01's notice would have too.
        assert station.publish("edgescreen/v1/clinic-7/cam-02/review", b"sentinel") == "Success"
        wait_until(lambda: any(p == b"sentinel" for _, p in other.messages), 10, "the sentinel")
        wait_until(lambda: device.messages != [], 10, "the notice at its device")
        assert device.messages == [(topic, b'{"station": true}')]
        assert [t for t, _ in other.messages] == ["edgescreen/v1/clinic-7/cam-02/review"]
    finally:
        for client in (device, other, station):
            client.close()


def test_the_site_broker_takes_no_packet_larger_than_a_result(certs, site_broker):
    """max_packet_size: the largest result (64 KiB) passes; a 60 MB message is refused at the door
    (the sender disconnected), never held by the broker nor handed to a subscriber."""
    station = Tap(site_broker.port, "edgescreen/v1/+/+/result", **tls_of(certs, "review-ingest-1"))
    device = Client(site_broker.port, certs, "cam-01")
    topic = "edgescreen/v1/clinic-7/cam-01/result"
    try:
        assert device.publish(topic, b"r" * MAX_RESULT_BYTES) == "Success"
        device.client.publish(topic, b"x" * 60 * 2**20, qos=1)
        wait_until(
            lambda: "due to oversize packet" in (site_broker.directory / "mosquitto.log").read_text(), 20, "the refusal"
        )
        assert [len(payload) for payload in station.on("/result")] == [MAX_RESULT_BYTES]
    finally:
        device.close()
        station.close()


def test_a_device_cannot_read_other_devices_results(certs, site_broker):
    snoop = Client(site_broker.port, certs, "cam-01")
    snoop.client.subscribe("edgescreen/v1/#", qos=1)
    other = Client(site_broker.port, certs, "cam-02")
    station = Client(site_broker.port, certs, "review-ingest-1")
    assert other.publish("edgescreen/v1/clinic-7/cam-02/result", b'{"result": "of cam-02"}') == "Success"
    # A sentinel behind it that cam-01 may read: once it arrives, cam-02's result would have too.
    assert station.publish("edgescreen/v1/clinic-7/cam-01/review", b"sentinel") == "Success"
    wait_until(lambda: any(p == b"sentinel" for _, p in snoop.messages), 10, "the sentinel")
    assert [t for t, _ in snoop.messages] == ["edgescreen/v1/clinic-7/cam-01/review"]
    for client in (snoop, other, station):
        client.close()


@pytest.mark.parametrize("tls", [True, False], ids=["tls-without-certificate", "plain-tcp"])
def test_a_client_without_a_certificate_cannot_connect(certs, site_broker, tls):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if tls:
        client.tls_set(ca_certs=str(certs / "ca.crt"))
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    try:
        client.connect("127.0.0.1", site_broker.port)
        client.loop_start()
        assert not connected.wait(2.0)
    except (ssl.SSLError, ConnectionError, OSError):
        pass  # the TLS handshake itself is refused
    finally:
        stop_network_loop(client)
    assert not connected.is_set()


def sync_status(config: Path) -> dict:
    return json.loads(edgescreen("sync", "status", "--json", config=config).stdout)


def test_results_the_broker_refuses_stay_queued_and_the_status_says_why(
    tmp_path, certs, site_broker, retina_rgb, caplog
):
    # Configured as cam-02 but holding cam-01's certificate: the broker refuses every publish.
    config = device_config(tmp_path, certs, site_broker.port, cert_name="cam-01")
    config.write_text(config.read_text().replace(f'id = "{DEVICE.id}"', 'id = "cam-02"'))
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb))
    caplog.set_level(logging.WARNING, logger="edgescreen")

    def attempts() -> list[int]:
        found = (re.search(r"sync\.disconnected .*attempt=(\d+)", r.getMessage()) for r in caplog.records)
        return [int(match.group(1)) for match in found if match]

    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: len(attempts()) >= 5, 30, "five refused connections")
        # Each attempt's connection is accepted before its publish is refused: read between attempts.
        wait_until(lambda: sync_status(config)["connection"] == "refused", 15, "the state between attempts")
        status = sync_status(config)
        doctor = "The site server refuses this device"
        wait_until(lambda: doctor in edgescreen("doctor", config=config).stdout, 30, "the doctor's words")
    finally:
        worker.stop()
    assert Outbox(store.records).backlog().unsent == 1
    assert "Not authorized" in status["connection_detail"]
    # Each connection is accepted and its publish refused: the backoff grows all the same, where it
    # was reset on every accepted connection (dozens of reconnections a second, each refused).
    assert attempts()[:5] == [1, 2, 3, 4, 5]


def test_only_a_refusal_of_the_device_itself_reads_refused_not_a_busy_broker():
    denied = [
        ReasonCode(PacketTypes.PUBACK, "Not authorized"),
        ReasonCode(PacketTypes.CONNACK, "Bad user name or password"),
    ]
    passing = [ReasonCode(PacketTypes.CONNACK, "Server busy"), ReasonCode(PacketTypes.PUBACK, "Quota exceeded")]
    assert all(denies_this_device(reason) for reason in denied)
    assert not any(denies_this_device(reason) for reason in passing)


def mismatched_config(tmp_path: Path, certs: Path, port: int, key: str) -> Path:
    """cam-01's certificate with another key file: as a technician who copied the wrong one."""
    return write_config(
        tmp_path,
        port,
        f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/cam-01.crt"\ntls_key_file = "{key}"\n',
    )


def test_a_key_that_is_not_the_certificates_stops_the_worker_with_the_cause_not_a_traceback(
    tmp_path, certs, site_broker, retina_rgb
):
    config = mismatched_config(tmp_path, certs, site_broker.port, f"{certs}/cam-02.key")
    record_one(open_store(tmp_path), small_photo(retina_rgb))
    run = edgescreen("sync", "run", config=config)
    assert run.returncode == 2, run.stderr  # a configuration error: edgescreen-sync.service does not restart it
    assert "Traceback" not in run.stderr
    cause = f"the key {certs}/cam-02.key does not match the certificate {certs}/cam-01.crt"
    # The device's language, as doctor says it; the cause is the logged event's, for the journal.
    assert f"edgescreen: {message('health.tls.unusable', 'en')}" in run.stderr.splitlines()
    (logged,) = [line for line in run.stderr.splitlines() if "sync.tls_unusable" in line]
    assert cause in logged
    status = sync_status(config)
    assert "tls-unusable" in status["connection"] and status["connection_detail"] == cause
    assert status["backlog"] == 1  # kept safely in the outbox
    doctor = json.loads(edgescreen("doctor", "--json", config=config).stdout)
    tls = next(check for check in doctor["checks"] if check["name"] == "tls")
    assert tls["level"] == "red" and "Install this device's own certificate and key" in tls["message"]
    assert tls["values"]["error"] == cause  # the technician's detail, which doctor also logs


def test_a_key_file_that_holds_no_key_is_red_in_the_doctor_and_stops_the_worker(tmp_path, certs, site_broker):
    junk = tmp_path / "cam-01.key"
    junk.write_text("not a key\n")
    config = mismatched_config(tmp_path, certs, site_broker.port, str(junk))
    open_store(tmp_path).records.close()
    run = edgescreen("sync", "run", "--until-drained", config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"the certificate {certs}/cam-01.crt or its key {junk} cannot be used" in run.stderr
    doctor = json.loads(edgescreen("doctor", "--json", config=config).stdout)
    assert next(check for check in doctor["checks"] if check["name"] == "tls")["level"] == "red"


def test_a_tls_key_others_can_read_is_refused_as_the_records_key_is(tmp_path, certs, site_broker):
    """The review's L3: a world-readable device key passed doctor, where the records key is refused."""
    key = tmp_path / "device.key"
    key.write_bytes((certs / f"{DEVICE.id}.key").read_bytes())
    key.chmod(0o644)
    config = mismatched_config(tmp_path, certs, site_broker.port, str(key))
    open_store(tmp_path).records.close()
    run = edgescreen("sync", "run", "--until-drained", config=config)
    cause = f"{key}: the device's TLS private key is readable by others (mode -rw-r--r--); chmod 600 it"
    assert run.returncode == 2 and cause in run.stderr, run.stderr
    doctor = json.loads(edgescreen("doctor", "--json", config=config).stdout)
    tls = next(check for check in doctor["checks"] if check["name"] == "tls")
    # Its remedy is chmod, not a new certificate: said in the device's words, the detail in the values.
    assert tls["level"] == "red" and tls["message"] == message("health.tls.exposed", "en").format(
        path=key, mode="-rw-r--r--"
    )
    assert tls["values"]["error"] == cause


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_main_job_screens_and_says_why_the_results_wait_when_the_key_is_not_the_certificates(
    tmp_path, certs, site_broker, language
):
    config = in_language(mismatched_config(tmp_path, certs, site_broker.port, f"{certs}/cam-02.key"), language)
    run = edgescreen("run", "--sync-wait", "5", config=config)
    assert run.returncode == 0, run.stderr  # the screening itself is not the sync's to stop
    assert "Traceback" not in run.stderr
    # In the device's language, as the triage lines; the cause is the technician's, as `sync status` shows it.
    cause = f"the key {certs}/cam-02.key does not match the certificate {certs}/cam-01.crt"
    said = sentence("run.sync.tls_unusable", language, count=2, detail=cause)
    assert status_line(run.stdout) == f"sync: {said}"


def test_tls_files_changed_in_place_are_read_at_the_next_connection_without_a_restart(
    tmp_path, certs, site_broker, retina_rgb
):
    """A technician renews the certificate in place (doctor's amber, 30 days before expiry): the
    running worker must present the new files at its next connection, not the ones it started with.
    Here a wrong key copied over first is reported and retried, then the right one delivers."""
    files = tmp_path / "tls"
    files.mkdir()
    key = files / "device.key"
    key.write_bytes((certs / f"{DEVICE.id}.key").read_bytes())
    key.chmod(0o600)
    config = mismatched_config(tmp_path, certs, site_broker.port, str(key))
    record_one(open_store(tmp_path), small_photo(retina_rgb))
    site_broker.stop()  # the device cannot reach the site: it retries
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: "cannot reach" in sync_status(config)["connection_detail"], 30, "a first attempt")
        key.write_bytes((certs / "cam-02.key").read_bytes())  # the wrong file, copied in place
        cause = f"TLS: the key {key} does not match the certificate {certs}/cam-01.crt"
        wait_until(lambda: sync_status(config)["connection_detail"] == cause, 60, "the new key read and refused")
        worker.check_alive()  # retried, not stopped: the technician is still at work
        key.write_bytes((certs / f"{DEVICE.id}.key").read_bytes())
        site_broker.start()
        wait_until(lambda: sync_status(config)["backlog"] == 0, 60, "the result delivered")
    finally:
        worker.stop()


def broker_without_erasures(directory: Path, certs: Path) -> Broker:
    """The shipped site broker with an ACL older than the ``erasure`` topic: it refuses every request."""
    return broker_with_acl_lines(directory, certs, lambda line: "/erasure" not in line)


def broker_with_acl_lines(directory: Path, certs: Path, keep: Callable[[str], bool]) -> Broker:
    """The shipped site broker with the lines of its ACL that ``keep`` keeps, until the technician
    installs this release's (``install_this_releases_acl``)."""
    directory.mkdir()
    port = free_port()
    text = site_broker_config(directory, certs, port)
    acl = directory / "acl"
    acl.write_text("".join(line for line in acl.read_text().splitlines(True) if keep(line)))
    return Broker(directory, text, port).start()


def install_this_releases_acl(broker: Broker) -> None:
    """What the technician does to a broker made by ``broker_without_erasures``: this release's
    broker/acl in place of its own, then a reload (SIGHUP), which keeps its clients connected."""
    (broker.directory / "acl").write_text((BROKER_DIR / "acl").read_text())
    broker.reload()


@pytest.fixture()
def quick_erasure_retry(monkeypatch) -> None:
    """The refused requests' retry on the same connection after a fraction of a second, not minutes."""
    monkeypatch.setattr(worker_module, "ERASURE_RETRY_INITIAL_S", 0.2)
    monkeypatch.setattr(worker_module, "ERASURE_RETRY_MAX_S", 1.0)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sync_run_until_drained_ends_on_erasure_requests_the_broker_refuses(tmp_path, certs, retina_rgb, language):
    """Every result sent, and the broker refusing the one request left (its ACL predates the topic):
    ``--until-drained`` waited for it for ever. It ends once nothing else is left, exit status 1, saying
    how many requests the broker refuses and what to do; the request stays queued."""
    broker = broker_without_erasures(tmp_path / "site-broker", certs)
    try:
        config = in_language(device_config(tmp_path, certs, broker.port), language)
        store = open_store(tmp_path)
        photo = small_photo(retina_rgb)
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-1")))
        drain(config)
        store.erase_patient("MRN-1")
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-2")))  # sent on the way
        run = edgescreen("sync", "run", "--until-drained", config=config)
        broker_at = f"127.0.0.1:{broker.port}"
        said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
        assert run.returncode == 1, run.stderr
        assert said == [f"edgescreen: {sentence('sync.erasures_refused', language, count=1, broker=broker_at)}"]
        backlog = Outbox(store.records).backlog()
        assert (backlog.unsent, backlog.erasure_requests) == (0, 1)
    finally:
        broker.stop()


def test_an_erasure_request_the_broker_refuses_for_a_moment_is_tried_again_not_ended_on(tmp_path, retina_rgb):
    """A refusal that passes with time ("Quota exceeded") is not the ACL's: counted refused for the
    connection, ``--until-drained`` ended on it (exit status 1, telling to install the ACL) while the
    request could still be sent. It ends the connection, to be tried again as a network fault is."""
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-1")))
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-1")
    [request] = outbox.pending_erasures(0, 10)
    config = load_config(str(write_config(tmp_path, 1)))
    worker = SyncWorker(outbox, store, config.sync, config.device, timedelta(days=30))
    worker._on_erasure_published(request.seq, ReasonCode(PacketTypes.PUBACK, "Quota exceeded"))
    assert not worker._drained() and "Quota exceeded" in worker._problem
    worker._reset_connection_state()
    worker._on_subscribe(None, None, 1, [], None)  # the broker's answer to the subscription: its verdicts came
    worker._on_erasure_published(request.seq, ReasonCode(PacketTypes.PUBACK, "Not authorized"))
    assert worker._drained() and worker.erasures_refused == 1  # the ACL's: refused at every connection


def test_a_site_broker_older_than_the_erasure_request_refuses_it_and_results_keep_flowing(
    tmp_path, certs, retina_rgb, caplog
):
    """A device of this release behind a site broker whose ACL predates the ``erasure`` topic: the
    broker refuses the request ("Not authorized"). That is the request's refusal, not the device's:
    the patients screened afterwards are sent at once, the status does not read "refused", and the
    request stays queued for when the ACL is updated (the erasure's words give the fallback)."""
    broker = broker_without_erasures(tmp_path / "site-broker", certs)
    port = broker.port
    worker = None
    try:
        station = Tap(port, "edgescreen/v1/+/+/result", **tls_of(certs, "review-ingest-1"))
        config = write_config(
            tmp_path,
            port,
            f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/cam-01.crt"\n'
            f'tls_key_file = "{certs}/cam-01.key"\n',
            backoff_max_s=300.0,
        )
        store = open_store(tmp_path)
        photo = small_photo(retina_rgb)
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-1")))
        caplog.set_level(logging.ERROR, logger="edgescreen")
        worker = BackgroundWorker(config)
        wait_until(lambda: len(station.on("/result")) == 1, 15, "the first result at the station")
        store.erase_patient("MRN-1")
        wait_until(lambda: "sync.erasure_refused" in caplog.text, 15, "the broker's refusal of the request")
        for reference in ("MRN-2", "MRN-3"):
            record_one(store, photo, sample_record(ScreeningContext(patient_ref=reference)))
        wait_until(lambda: len(station.on("/result")) == 3, 15, "the results screened after it")
        status = sync_status(config)
        assert status["connection"] == "connected" and status["erasure_requests"] == 1
        worker.stop()
        worker = None
        assert Outbox(store.records).backlog().unsent == 0
    finally:
        if worker:
            worker.stop()
        broker.stop()


def test_a_refused_erasure_request_is_sent_on_the_same_connection_once_the_broker_reloads_its_acl(
    tmp_path, certs, retina_rgb, caplog, quick_erasure_retry
):
    """The site broker refused a request (its ACL predates the ``erasure`` topic); the technician
    installs this release's broker/acl and reloads the broker (SIGHUP), which keeps its clients. The
    request waited for the connection to drop, days on a steady network: it is tried again on the same
    connection after a backoff, taken, and the refusal leaves the status as at a new connection."""
    broker = broker_without_erasures(tmp_path / "site-broker", certs)
    worker = None
    try:
        config = device_config(tmp_path, certs, broker.port)
        store = open_store(tmp_path)
        record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-1")))
        caplog.set_level(logging.INFO, logger="edgescreen")
        worker = BackgroundWorker(config)
        wait_until(lambda: sync_status(config)["backlog"] == 0, 15, "the result sent")
        store.erase_patient("MRN-1")
        wait_until(lambda: sync_status(config).get("erasures_refused") == 1, 15, "the refusal in the status")

        install_this_releases_acl(broker)
        wait_until(lambda: sync_status(config)["erasure_requests"] == 0, 15, "the request taken")
        assert sync_status(config)["erasures_refused"] == 0
        logged = [r.getMessage() for r in caplog.records]
        assert sum("sync.connected" in line for line in logged) == 1  # no reconnection took it
        assert not any("sync.disconnected" in line for line in logged)
    finally:
        if worker:
            worker.stop()
        broker.stop()


def test_a_refused_request_found_altered_on_the_retry_is_no_longer_counted_as_refused(
    tmp_path, certs, retina_rgb, caplog, quick_erasure_retry
):
    """Two requests the site broker refused; one is then altered on the card, and the retry on the same
    connection withholds it (never published). It stayed counted as refused: once the broker, its ACL
    mended, took the other, the records kept a refusal for the connection's life, and the next patient
    erased while the network was down had the backlog line send the technician to the broker's ACL."""
    broker = broker_without_erasures(tmp_path / "site-broker", certs)
    worker = None
    try:
        config = device_config(tmp_path, certs, broker.port)
        store = open_store(tmp_path)
        for patient in ("MRN-1", "MRN-2", "MRN-3"):
            record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref=patient)))
        caplog.set_level(logging.INFO, logger="edgescreen")
        worker = BackgroundWorker(config)
        wait_until(lambda: sync_status(config)["backlog"] == 0, 15, "the results sent")
        store.erase_patient("MRN-1")
        store.erase_patient("MRN-2")
        wait_until(lambda: sync_status(config).get("erasures_refused") == 2, 15, "the refusals in the status")
        store.records.connection.execute(
            "UPDATE erasure_outbox SET payload = ? WHERE seq = (SELECT min(seq) FROM erasure_outbox)",
            (b'{"altered": true}',),
        )
        wait_until(
            lambda: any("sync.erasure_withheld" in r.getMessage() for r in caplog.records),
            15,
            "the altered request withheld on the retry",
        )

        install_this_releases_acl(broker)
        wait_until(lambda: sync_status(config)["erasure_requests"] == 0, 15, "the other request taken")
        worker.stop()
        worker = None
        broker.stop()  # the network down

        store.erase_patient("MRN-3")
        status = sync_status(config)
        assert (status["erasure_requests"], status["erasures_withheld"]) == (1, 1)
        assert status["erasures_refused"] == 0  # before: 1, the withheld request's refusal
        assert check_backlog(status, 100, True).message_key == "health.backlog.erasures"
    finally:
        if worker:
            worker.stop()
        broker.stop()


def test_doctor_says_the_site_broker_refuses_the_erasure_requests_not_the_network(tmp_path, certs, retina_rgb):
    """The site broker's ACL predates the ``erasure`` topic: the request waits for a technician to
    install this release's broker/acl, not for the network, and the worker knows it. The backlog's
    amber line (``doctor``, the nurse's Ready list) said "Check the network"; it says the site server
    refuses the requests and what to install, after the worker stops too, until the broker takes them."""
    directory = tmp_path / "site-broker"
    broker = broker_without_erasures(directory, certs)
    worker = None
    try:
        config = device_config(tmp_path, certs, broker.port)
        store = open_store(tmp_path)
        record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-1")))
        worker = BackgroundWorker(config)
        wait_until(lambda: sync_status(config)["backlog"] == 0, 15, "the result sent")
        store.erase_patient("MRN-1")
        wait_until(lambda: sync_status(config).get("erasures_refused") == 1, 15, "the refusal in the status")
        worker.stop()
        worker = None
        check = check_backlog(sync_status(config), 100, True)
        assert check.message_key == "health.backlog.erasures_refused"
        english, french = check_sentence(check, "en"), check_sentence(check, "fr")
        assert "erasures the site server refuses" in english and "install this release's broker/acl" in english
        assert "refusés par le serveur du site" in french and "installe le broker/acl de cette version" in french
        assert "network" not in english and "réseau" not in french
        assert all("edgescreen wipe --unsent-erasures" in said for said in (english, french))  # no station again

        broker.stop()  # the technician installs this release's broker/acl
        broker = Broker(directory, site_broker_config(directory, certs, broker.port), broker.port).start()
        worker = BackgroundWorker(config)
        wait_until(lambda: sync_status(config)["erasure_requests"] == 0, 15, "the request taken")
        assert sync_status(config)["erasures_refused"] == 0
    finally:
        if worker:
            worker.stop()
        broker.stop()


def test_a_worker_restarted_after_the_acl_was_installed_leaves_no_refusal_for_later_requests(
    tmp_path, certs, retina_rgb
):
    """The site broker refused a request, the worker stopped, the technician installed this release's
    broker/acl, and a worker started again sent the request. Its count of refusals started at none, so
    the broker taking the request changed nothing it knew of, and the records kept the old count: the
    next patient erased while the network was down had the backlog line send the technician to the
    broker's ACL again, which was mended. The count the records hold is the one a new worker lowers."""
    directory = tmp_path / "site-broker"
    broker = broker_without_erasures(directory, certs)
    worker = None
    try:
        config = device_config(tmp_path, certs, broker.port)
        store = open_store(tmp_path)
        for patient in ("MRN-1", "MRN-2"):
            record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref=patient)))
        worker = BackgroundWorker(config)
        wait_until(lambda: sync_status(config)["backlog"] == 0, 15, "the results sent")
        store.erase_patient("MRN-1")
        wait_until(lambda: sync_status(config).get("erasures_refused") == 1, 15, "the refusal in the status")
        worker.stop()
        worker = None

        broker.stop()  # the technician installs this release's broker/acl
        broker = Broker(directory, site_broker_config(directory, certs, broker.port), broker.port).start()
        worker = BackgroundWorker(config)
        wait_until(lambda: sync_status(config)["erasure_requests"] == 0, 15, "the request taken")
        worker.stop()
        worker = None
        broker.stop()  # the network down

        store.erase_patient("MRN-2")
        status = sync_status(config)
        assert (status["erasure_requests"], status["erasures_refused"]) == (1, 0)
        assert check_backlog(status, 100, True).message_key == "health.backlog.erasures"
    finally:
        if worker:
            worker.stop()
        broker.stop()
