"""A real mosquitto broker for tests, on a free loopback port, a tap that records what it carries, and a
relay that can hold back what it answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_network_loop(client: mqtt.Client) -> None:
    """Stop the network thread of ``loop_start``, which may have ended by itself (after a disconnect,
    or just as it saw the stop): paho 2.2's ``loop_stop`` reads its thread three times and raises
    AttributeError when the thread clears it in between (eclipse-paho/paho.mqtt.python#872, open).
    Only that AttributeError can come out of it, and it means the thread is already gone."""
    with contextlib.suppress(AttributeError):
        client.loop_stop()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


# mosquitto started by root drops to the "mosquitto" user, which cannot read a test's temp files.
RUN_AS = "user root\n" if os.geteuid() == 0 else ""


class Broker:
    """``mosquitto -c <conf>``; persistence on, so a restart keeps its sessions like a site broker."""

    def __init__(self, directory: Path, config: str | None = None, port: int | None = None) -> None:
        if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
            pytest.fail("mosquitto is not installed: run scripts/setup --test (Debian package mosquitto)")
        self.directory = directory
        self.port = port or free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file = directory / "mosquitto.conf"
        plain = (
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {directory}/\nlog_dest file {directory}/mosquitto.log\n"
        )
        self.config_file.write_text(RUN_AS + (config or plain))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        executable = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._process = subprocess.Popen([executable, "-c", str(self.config_file)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self._process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open, nothing is acknowledged."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def reload(self) -> None:
        """Have mosquitto read its configuration again (SIGHUP), its ACL file with it, as a technician
        reloads a site broker: its clients stay connected."""
        assert self._process is not None
        self._process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()  # SIGTERM: mosquitto saves its persistence file
            self._process.wait(timeout=10)
        self._process = None


class Tap:
    """A subscriber that keeps every (topic, payload bytes) it receives, in arrival order."""

    def __init__(self, port: int, topic: str | Sequence[str] = "#", client_id: str = "", **tls: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        # With a client id the tap keeps a persistent session: nothing is missed across a broker restart.
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not client_id)
        if tls:
            self.client.tls_set(**tls)
        self.subscribed = threading.Event()
        topics = [topic] if isinstance(topic, str) else list(topic)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(each, 1) for each in topics])
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._keep
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the tap could not subscribe"

    def _keep(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def on(self, suffix: str) -> list[bytes]:
        with self._lock:
            return [payload for topic, payload in self.messages if topic.endswith(suffix)]

    def close(self) -> None:
        stop_network_loop(self.client)
        self.client.disconnect()


class Relay:
    """The network between clients and a broker on this machine (a TCP relay at ``port``): what the
    broker sends can be held back (``hold``) and then delivered at once (``release``), one write for
    each connection, as a network that delays a broker's answers hands them over together."""

    def __init__(self, broker_port: int) -> None:
        self._broker_port = broker_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._held: dict[socket.socket, bytearray] | None = None  # by the client it is for; None: not holding
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # the listener closed
            while True:
                client = self._listener.accept()[0]
                broker = socket.create_connection(("127.0.0.1", self._broker_port))
                self._sockets += [client, broker]
                threading.Thread(target=self._carry, args=(client, broker, False), daemon=True).start()
                threading.Thread(target=self._carry, args=(broker, client, True), daemon=True).start()

    def _carry(self, source: socket.socket, target: socket.socket, from_broker: bool) -> None:
        """Pass on what ``source`` sends until either end closes, then close both."""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                with self._lock:
                    if from_broker and self._held is not None:
                        self._held.setdefault(target, bytearray()).extend(data)
                    else:
                        target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def hold(self) -> None:
        with self._lock:
            self._held = {}

    def held_bytes(self) -> int:
        with self._lock:
            return sum(map(len, (self._held or {}).values()))

    def release(self) -> None:
        with self._lock:
            for client, data in (self._held or {}).items():
                with contextlib.suppress(OSError):  # that client has gone
                    client.sendall(data)
            self._held = None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept, which a close alone leaves waiting
        self._listener.close()
        for each in self._sockets:
            each.close()
