"""A real notification socket standing in for systemd's: what a service tells it, datagram by datagram."""

from __future__ import annotations

import socket
import time
from pathlib import Path


class NotifySocket:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "notify.sock"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(self.path))
        self._socket.settimeout(0.2)
        self.messages: list[str] = []

    def environment(self, watchdog_s: float | None = None) -> dict[str, str]:
        extra = {"WATCHDOG_USEC": str(int(watchdog_s * 1e6))} if watchdog_s else {}
        return {"NOTIFY_SOCKET": str(self.path), **extra}

    def receive(self, seconds: float) -> list[str]:
        """Every datagram received within ``seconds`` (also kept in ``messages``)."""
        deadline, got = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            try:
                got.append(self._socket.recv(4096).decode())
            except TimeoutError:
                continue
        self.messages += got
        return got

    def wait_for(self, text: str, seconds: float) -> list[str]:
        """Datagrams up to and including the first that contains ``text``; fail after ``seconds``."""
        deadline, got = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            try:
                got.append(self._socket.recv(4096).decode())
            except TimeoutError:
                continue
            self.messages.append(got[-1])
            if text in got[-1]:
                return got
        raise AssertionError(f"no {text!r} within {seconds} s; got {got}")

    def close(self) -> None:
        self._socket.close()
