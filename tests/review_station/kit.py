"""The review station for tests: its config file, results as devices build them, and its processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine, event, func, select, text, update

from edgescreen_wire.result import RESULT_V1, encode_result
from edgescreen_wire.topics import RESULT, device_topic
from firmware_app.sync.payload import result_payload
from review_station import audit
from review_station.config import load_review_config
from review_station.ingest.ingester import Ingester, verdict_signer
from review_station.storage.tables import devices, quarantine, results
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import RUN_AS, Broker, stop_network_loop, wait_until
from tests.records.kit import sample_record


def station_config(directory: Path, engine: Engine, port: int, broker: str = "", extra: str = "") -> Path:
    """A station config on ``engine``'s database and a loopback broker; quick retries for tests."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "review.toml"
    path.write_text(
        f'[database]\nurl = "{engine.url.render_as_string(hide_password=False)}"\n'
        f'[broker]\nhost = "127.0.0.1"\nport = {port}\nreview_retry_s = 2.0\n{broker}'
        f"[web]\nsecure_cookies = false\n{extra}"
    )
    return path


def result_bytes(
    device: str,
    site: str,
    score: float = 0.72,
    payload: dict[str, object] | None = None,
    schema: str = RESULT_V1,
    **record: object,
) -> tuple[str, bytes]:
    """One result as the device builds it (its own builder and validator): (result_id, payload bytes).
    ``payload`` overrides fields the test record cannot produce (an ungradable photo, dermoscopy)."""
    document = result_payload(sample_record(score=score, **record), device, site, schema)  # type: ignore[arg-type]
    document.update(payload or {})
    return document["result_id"], encode_result(document)


# The ``results`` columns each later migration added: a row a station stored before it has none of them.
ADDED_TO_RESULTS = {
    "0003": ("lesion_diameter_mm", "skin_tone", "operating_point", "quality_reference"),
    "0009": ("queue_rank",),
    "0010": ("dated_at", "dated_from"),
    "0017": ("eye", "body_site"),
}


def stored_at(revision: str, row: dict[str, Any]) -> dict[str, Any]:
    """A ``result_row`` as a station migrated to ``revision`` stored it: without the columns added since."""
    later = {name for added, names in ADDED_TO_RESULTS.items() if added > revision for name in names}
    return {name: value for name, value in row.items() if name not in later}


def result_topic(site: str, device: str) -> str:
    return device_topic(site, device, RESULT)


def roomy_broker(directory: Path) -> Broker:
    """A loopback broker whose queues do not overflow while an ingester is down (as broker/ sets it)."""
    broker = Broker(directory)
    broker.config_file.write_text(
        RUN_AS + f"listener {broker.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {directory}/\nlog_dest file {directory}/mosquitto.log\n"
        "max_queued_messages 100000\nmax_inflight_messages 0\n"
    )
    return broker


class Publisher:
    """A device-like client that publishes QoS 1 and waits for every PUBACK."""

    def __init__(self, port: int, client_id: str = "", **tls: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if tls:
            self.client.tls_set(**tls)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish_all(self, messages: Iterable[tuple[str, bytes]], timeout: float = 120.0) -> None:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout)
            assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        stop_network_loop(self.client)


class IngesterThread:
    """The ingester in a thread of this process, as ``edgescreen-review ingest`` runs it."""

    def __init__(self, config_path: Path, engine: Engine) -> None:
        """Started, and subscribed: a result published earlier would reach no subscriber."""
        config = load_review_config(str(config_path))
        self.ingester = Ingester(engine, config.broker, signer=verdict_signer(config.verdicts.private_key_file))
        self._thread = threading.Thread(target=self.ingester.run, daemon=True)
        self._thread.start()
        wait_until(self.ingester.subscribed.is_set, 30, "the ingester to subscribe")

    def stop(self) -> None:
        self.ingester.stop()
        self._thread.join(15)
        assert not self._thread.is_alive(), "the ingester did not stop"


@dataclass(frozen=True)
class RunningStation:
    """A station a test runs on a real broker: it starts the ingesters and hands over the device-side
    clients it starts beside them, so that ``running_station`` stops each of them at the end."""

    directory: Path
    engine: Engine
    broker: Broker
    _ingesters: ExitStack
    _clients: ExitStack

    def start_ingester(self, config: Path | None = None) -> IngesterThread:
        """An ingester on ``config`` (by default a plain station config in ``directory / "station"``),
        subscribed. It is stopped at the end even if the test stopped it before: stopping twice is harmless."""
        config = config or station_config(self.directory / "station", self.engine, self.broker.port)
        ingester = IngesterThread(config, self.engine)
        self._ingesters.callback(ingester.stop)
        return ingester

    def at_the_end(self, stop: Callable[[], object]) -> None:
        """``stop`` (a worker's, a tap's or a publisher's) called at the end, the newest first, before the
        ingesters stop: the devices' side goes before the station it talks to."""
        self._clients.callback(stop)


@contextmanager
def running_station(directory: Path, engine: Engine) -> Iterator[RunningStation]:
    """A roomy broker in ``directory / "broker"`` started for a station on ``engine``; at the end, however
    the test ends, the clients it handed over stop, then its ingesters, then the broker."""
    with ExitStack() as at_the_end:
        broker = roomy_broker(directory / "broker").start()
        at_the_end.callback(broker.stop)
        ingesters = at_the_end.enter_context(ExitStack())
        clients = at_the_end.enter_context(ExitStack())
        yield RunningStation(directory, engine, broker, ingesters, clients)


def review_process(
    config_path: Path, *args: str, module: str = "review_station", **popen: object
) -> subprocess.Popen[str]:
    """The station's command line as a process (``module``: a test's wrapper of it, run the same way)."""
    command = [sys.executable, "-m", module, "--config", str(config_path), *args]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, text=True, **popen)  # type: ignore[call-overload]


def connected_ingester(config_path: Path, log: Path, timeout: float = 60.0, **more: Any) -> subprocess.Popen[str]:
    """``edgescreen-review ingest`` as a process, once its subscriptions hold (its stderr goes to ``log``;
    ``more``: more of ``review_process``'s arguments)."""
    with log.open("a") as sink:
        start = log.stat().st_size
        process = review_process(config_path, "ingest", stderr=sink, **more)
    wait_until(lambda: "review.ingest_subscribed" in log.read_text()[start:], timeout, "the ingester to subscribe")
    return process


def counts(engine: Engine) -> tuple[int, int, int]:
    """(result rows, distinct result ids, quarantined messages)."""
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(results)).scalar_one()
        distinct = connection.execute(select(func.count(results.c.result_id.distinct()))).scalar_one()
        quarantined = connection.execute(select(func.count()).select_from(quarantine)).scalar_one()
    return stored, distinct, quarantined


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the engine sends meanwhile, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(engine: Engine, statement: str, parameters: Any) -> str:
    """The database's plan for a statement. PostgreSQL is told to avoid a sequential scan, which it
    prefers on a table this small, so the plan shows which index it would read and how."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            found = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(row[-1] for row in found)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))


@contextmanager
def batch_auditing_then_noting_its_device(engine: Engine, device_id: str = "cam-01") -> Iterator[threading.Event]:
    """An ingest batch's lock order, held open: it audits the device's erasure request (the audit's
    lock), waits a second while the caller's action reaches its own locks, then notes the device's last
    message (its row). Entered once the batch holds the audit's lock; yields the event set when the
    batch committed, which it must have by the time the block is left (else a deadlock broke it)."""
    audited, committed = threading.Event(), threading.Event()

    def batch() -> None:
        with engine.begin() as connection:
            audit.append(connection, "result_erased", {"results": [], "by": device_id})
            audited.set()
            time.sleep(1)  # the caller's action meanwhile takes its locks, then reaches the audit's
            noted = update(devices).where(devices.c.device_id == device_id).values(last_seen_at=datetime.now(UTC))
            connection.execute(noted)
        committed.set()

    ingester = threading.Thread(target=batch)
    ingester.start()
    audited.wait(10)
    yield committed
    ingester.join(20)


def waiting_on_a_lock(engine: Engine) -> bool:
    """Whether some transaction waits on a lock (PostgreSQL's ``pg_locks``); SQLite's busy wait shows
    nowhere, so there a moment is given instead."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return True
    with engine.connect() as connection:
        return bool(connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one())
