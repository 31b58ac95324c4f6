"""Running the sync worker for tests: in a thread of this process, or as a real ``edgescreen`` process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from firmware_app.app import run_sync
from firmware_app.config import load_config
from firmware_app.health.heartbeat import Heartbeat
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import Tap, wait_until


def drain(config_path: Path, timeout: float = 60.0) -> None:
    """``sync run --until-drained`` in a thread; fails the test if it does not finish in time."""
    stop = threading.Event()
    worker = threading.Thread(target=run_sync, args=(load_config(str(config_path)), stop, True), daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        stop.set()
        worker.join(10)
        raise AssertionError(f"the outbox did not drain within {timeout}s")


class BackgroundWorker:
    """The worker running in a thread until ``stop()``, as the device app will run it."""

    def __init__(self, config_path: Path, heartbeats: list[Heartbeat] | None = None) -> None:
        """``heartbeats``: the worker's loops join it as they start, as a watchdog reads them."""
        self._stop = threading.Event()
        config, heartbeats = load_config(str(config_path)), heartbeats if heartbeats is not None else []
        self._thread = threading.Thread(
            target=run_sync, args=(config, self._stop), kwargs={"heartbeats": heartbeats}, daemon=True
        )
        self._thread.start()

    def check_alive(self) -> None:
        assert self._thread.is_alive(), "the worker died"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        assert not self._thread.is_alive(), "the worker did not stop"


def review_acks(config_path: Path, port: int, count: int) -> list[dict[str, Any]]:
    """Run the worker until it has answered ``count`` verdicts on ``review_ack`` (those the station sent
    before, held for it by the broker); its answers, in order. A verdict it refuses is never answered."""
    tap = Tap(port, "edgescreen/v1/+/+/review_ack")
    worker = BackgroundWorker(config_path)
    try:
        wait_until(lambda: len(tap.on("/review_ack")) >= count, 15, f"{count} review acknowledgements")
    finally:
        worker.stop()
        tap.close()
    return [json.loads(payload) for payload in tap.on("/review_ack")]


def edgescreen_process(config_path: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "firmware_app", "--config", str(config_path), *args]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class ProcessLog:
    """The log lines a process writes to stderr, read by a thread as they come: a test waits for an
    event the process logs, with a timeout, where a blocking read would wait for ever on a process
    that never logs it (and a pipe nobody reads stops a process that logs much). The stderr is this
    reader's alone from then on: ``communicate`` gives it whole with the stdout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process, stderr = process, process.stderr
        process.stderr = None  # Popen.communicate, which would read it too, now reads the stdout alone
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._ended = threading.Event()
        threading.Thread(target=self._read, args=(stderr,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                self._lines.append(line)
        self._ended.set()

    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def count(self, event: str) -> int:
        """How many lines of ``event`` the process has logged so far."""
        with self._lock:
            return sum(f" {event} " in line for line in self._lines)

    def wait_for(self, event: str, count: int = 1, timeout: float = 30.0) -> None:
        """Until the process has logged ``event`` ``count`` times; fails, with its log, if it ends first
        or the time is up."""
        try:
            wait_until(lambda: self.count(event) >= count or self._ended.is_set(), timeout, f"{count} x {event}")
        except AssertionError as error:
            raise AssertionError(f"{error}; the process logged:\n{self.text()}") from None
        if self.count(event) < count:
            raise AssertionError(f"the process ended before logging {event} {count} times:\n{self.text()}")

    def communicate(self, timeout: float) -> tuple[str, str]:
        """``Popen.communicate``'s (stdout, stderr) once the process has ended: its whole log, the lines
        a test waited for included."""
        output = self._process.communicate(timeout=timeout)[0]
        assert self._ended.wait(timeout), f"the process ended but its stderr stayed open:\n{self.text()}"
        return output, self.text()


def most_overdue_while_locked(records: Path, seconds: float, heartbeat: Heartbeat, first: str = "") -> float:
    """The most ``heartbeat`` was overdue while a second real connection to the ``records`` database
    held its write lock for ``seconds``, as another process's long write (an erasure's checkpoint, a
    backup's) holds it; ``first``, a statement that connection commits just before it takes the lock."""
    holder = sqlite3.connect(records, isolation_level=None)
    most = 0.0
    try:
        if first:
            holder.execute(first)
        holder.execute("BEGIN IMMEDIATE")
        held_until = time.monotonic() + seconds
        while time.monotonic() < held_until:
            most = max(most, heartbeat.overdue_s())
            time.sleep(0.01)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    return most
