"""Running the sync worker for tests: in a thread of this process, or as a real ``edgescreen`` process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from firmware_app.app import run_sync
from firmware_app.config import load_config
from firmware_app.health.heartbeat import Heartbeat
from tests.conftest import PROJECT_ROOT


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


def edgescreen_process(config_path: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "firmware_app", "--config", str(config_path), *args]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
