"""Issue 8, point 17: two sync workers of one device never fight over its broker session; the second
stands by and takes over when the first ends. Two real ``edgescreen sync run`` processes, a real broker."""

from __future__ import annotations

import json
import signal

import pytest

from firmware_app.messages import message, sentence
from tests.mqtt_broker import Tap, free_port, wait_until
from tests.records.kit import in_language, open_store, record_one, small_photo, write_config
from tests.sync.kit import ProcessLog, drain, edgescreen_process
from tests.test_cli import edgescreen, status_line


def result_ids(tap: Tap) -> list[str]:
    return [json.loads(p)["result_id"] for p in tap.on("/result")]


def test_a_second_worker_stands_by_and_takes_over(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb, 32)
    first_batch = [record_one(store, photo).result_id for _ in range(200)]
    tap = Tap(broker.port)
    workers = [edgescreen_process(config, "sync", "run") for _ in range(2)]
    logs = [ProcessLog(worker) for worker in workers]
    try:
        wait_until(lambda: len(tap.on("/result")) >= 200, 30, "the first batch")
        # The other worker has come to the session and stood by, however slowly it started; or a
        # second "online" says it connected (on main: both connect and take the session in turn).
        stood_by = lambda: sum(log.count("sync.standby") for log in logs) == 1  # noqa: E731
        wait_until(lambda: stood_by() or len(tap.on("/status")) > 1, 30, "the second worker standing by")
        assert tap.on("/status") == [b"online"]
        assert result_ids(tap) == first_batch  # each once, in order
        running = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
        holder = next(w for w in workers if w.pid == int(store_pid(store)))
        assert logs[workers.index(holder)].count("sync.standby") == 0  # the one standing by is the other
        holder.send_signal(signal.SIGTERM)
        assert holder.wait(15) == 0
        second_batch = [record_one(store, photo).result_id for _ in range(50)]
        wait_until(lambda: len(tap.on("/result")) >= 250, 30, "the second batch, through the standby worker")
        assert result_ids(tap) == first_batch + second_batch
        assert tap.on("/status")[-1] == b"online" and tap.on("/status").count(b"online") == 2
        assert running["connection"] == "connected"
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(15)
        tap.close()


def store_pid(store) -> str:
    """The pid of the worker holding the device's sync ("" before any worker started)."""
    return dict(store.records.connection.execute("SELECT key, value FROM sync_state")).get("worker_pid", "")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_edgescreen_run_hands_over_to_the_running_worker(tmp_path, retina_rgb, broker, language):
    config = in_language(write_config(tmp_path, broker.port), language)
    record_one(open_store(tmp_path), small_photo(retina_rgb, 32))
    tap = Tap(broker.port, "edgescreen/v1/+/+/status")
    service = edgescreen_process(config, "sync", "run")
    try:
        wait_until(lambda: tap.on("/status") == [b"online"], 15, "the service online")
        run = edgescreen("run", "--sync-wait", "2", config=config)
        assert run.returncode == 0, run.stderr
        # In the device's language, as the triage lines: however many the service has left to send.
        said = {f"sync: {sentence('run.sync.held_delivering', language, count=n)}" for n in range(4)}
        assert status_line(run.stdout) in said, run.stdout
        assert tap.on("/status") == [b"online"]  # its own worker never connected
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(15)
        tap.close()
    drain(config)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_edgescreen_run_beside_a_worker_the_broker_does_not_answer_says_they_wait(tmp_path, retina_rgb, language):
    """The service holds the sync but no broker listens: the results are kept, not "being delivered". Its
    state in the device's language, as ``sync status`` says it: French said "(connecting)"."""
    port = free_port()
    config = in_language(write_config(tmp_path, port), language)
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb, 32))
    service = edgescreen_process(config, "sync", "run")
    try:
        wait_until(lambda: store_pid(store) == str(service.pid), 15, "the service holding the sync")
        run = edgescreen("run", "--sync-wait", "2", config=config)
        assert run.returncode == 0, run.stderr
        broker = f"127.0.0.1:{port}"
        said = {
            f"sync: {sentence('run.sync.held_waiting', language, count=3, broker=broker, state=state)}"
            for state in (
                message(f"sync.state.{code}", language) for code in ("starting", "connecting", "disconnected")
            )
        }
        assert status_line(run.stdout) in said, run.stdout
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(15)
