"""A closed terminal stops a web server as SIGTERM does, through uvicorn's graceful shutdown.

uvicorn hears SIGINT and SIGTERM only. Started from a terminal (a technician's ssh session,
``scripts/run``), ``edgescreen app`` and the station's web servers were killed where they stood by
the SIGHUP of the terminal closing: no stop line, and none of the app's shutdown (``Device.stop``:
the camera closed, the sync worker stopped, the records closed with their last witness written).
The commands without a server hear it through ``stop_on_termination`` (``termination.py``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

import uvicorn


class HangUpStopsServer(uvicorn.Server):
    """uvicorn's server, which takes SIGHUP for SIGTERM while it serves: the same graceful shutdown,
    the same exit status (uvicorn ends the process with the signal it stopped for, once shut down), so
    systemd, a shell and the logs see one way of stopping. A second SIGHUP (the terminal's shell sends
    one too) is no one insisting, as SIGTERM again is not. A SIGHUP that is ignored stays ignored:
    ``nohup`` asked the server to outlive its terminal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        replaced = signal.getsignal(signal.SIGHUP)
        # The main thread is the one place a handler can be installed, and where uvicorn installs its own.
        hears = threading.current_thread() is threading.main_thread() and replaced is not signal.SIG_IGN
        if hears:
            signal.signal(signal.SIGHUP, lambda _, frame: self.handle_exit(signal.SIGTERM, frame))
        try:
            with super().capture_signals():
                yield
        finally:
            if hears:
                signal.signal(signal.SIGHUP, replaced)
