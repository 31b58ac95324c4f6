"""A uvicorn server (the nurse's app or the review station) run in a thread of the test process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from tests.mqtt_broker import wait_until


@contextmanager
def running(server: uvicorn.Server, start_timeout_s: float, stop_timeout_s: float) -> Iterator[threading.Thread]:
    """Serve until the block ends, then ask uvicorn to stop and wait for it; yields the serving
    thread so that a caller can check it did stop."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, start_timeout_s, "the web server to start")
    try:
        yield thread
    finally:
        server.should_exit = True
        thread.join(stop_timeout_s)
