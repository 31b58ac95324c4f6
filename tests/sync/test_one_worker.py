"""Issue 8, point 17: two sync workers of one device never fight over its broker session; the second
stands by and takes over when the first ends. Two real ``edgescreen sync run`` processes, a real broker."""

from __future__ import annotations

import json
import signal
import time

from tests.mqtt_broker import Tap, free_port, wait_until
from tests.records.kit import open_store, record_one, small_photo, write_config
from tests.sync.kit import drain, edgescreen_process
from tests.test_cli import edgescreen


def result_ids(tap: Tap) -> list[str]:
    return [json.loads(p)["result_id"] for p in tap.on("/result")]


def test_a_second_worker_stands_by_and_takes_over(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb, 32)
    first_batch = [record_one(store, photo).result_id for _ in range(200)]
    tap = Tap(broker.port)
    workers = [edgescreen_process(config, "sync", "run") for _ in range(2)]
    try:
        wait_until(lambda: len(tap.on("/result")) >= 200, 30, "the first batch")
        time.sleep(2.0)  # long enough for session takeovers, were both connected
        assert tap.on("/status") == [b"online"]  # on main: both connect and take the session in turn
        assert result_ids(tap) == first_batch  # each once, in order
        running = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
        holder = next(w for w in workers if w.pid == int(store_pid(store)))
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


def test_edgescreen_run_hands_over_to_the_running_worker(tmp_path, retina_rgb, broker):
    config = write_config(tmp_path, broker.port)
    record_one(open_store(tmp_path), small_photo(retina_rgb, 32))
    tap = Tap(broker.port, "edgescreen/v1/+/+/status")
    service = edgescreen_process(config, "sync", "run")
    try:
        wait_until(lambda: tap.on("/status") == [b"online"], 15, "the service online")
        run = edgescreen("run", "--sync-wait", "2", config=config)
        assert run.returncode == 0, run.stderr
        assert "this device's sync service is delivering them" in run.stdout
        assert tap.on("/status") == [b"online"]  # its own worker never connected
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(15)
        tap.close()
    drain(config)


def test_edgescreen_run_beside_a_worker_the_broker_does_not_answer_says_they_wait(tmp_path, retina_rgb):
    """The service holds the sync but no broker listens: the results are kept, not "being delivered"."""
    config = write_config(tmp_path, free_port())
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb, 32))
    service = edgescreen_process(config, "sync", "run")
    try:
        wait_until(lambda: store_pid(store) == str(service.pid), 15, "the service holding the sync")
        run = edgescreen("run", "--sync-wait", "2", config=config)
        assert run.returncode == 0, run.stderr
        assert "this device's sync service is not connected to the broker at" in run.stdout, run.stdout
        assert "they are kept safely and sent when it is reachable" in run.stdout
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(15)
