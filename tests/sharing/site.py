"""A whole site for image-sharing tests, all real: the shipped TLS broker config with test
certificates, the station's ingester and its HTTPS upload server (client certificates required),
and a device configured to share photos. The upload server records every request it receives."""

from __future__ import annotations

import asyncio
import http.client
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V2
from edgescreen_wire.sealed_image import open_image, read_private_key
from firmware_app.config import SyncConfig
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.sharing.uploader import Sent, StationClient
from review_station.config import load_review_config
from review_station.storage.tables import images
from review_station.uploads import OFFSET, create_upload_app, upload_server
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import Broker, Tap, free_port
from tests.review_station.kit import IngesterThread, station_config
from tests.sharing.kit import station_keys
from tests.sync.test_security import site_broker_config
from tests.web_server import running

# A device reported lost: its certificate is revoked.
LOST = "cam-lost"
# The ingester, and a tap reading what devices publish with an ingester's rights (a certificate of its
# own: the broker names a client's session after its certificate, so one would knock the other off).
CLIENTS = ("cam-01", "cam-02", "review-ingest-1", "review-tap", LOST)
LEAVES = ("result", "status", "review_ack")


def make_certs(directory: Path) -> Path:
    """The test CA's certificates, ``LOST``'s revoked in its revocation list (``crl.pem``)."""
    subprocess.run([str(PROJECT_ROOT / "broker" / "make-test-certs"), str(directory), *CLIENTS], check=True)
    subprocess.run([str(PROJECT_ROOT / "broker" / "revoke-certs"), str(directory), LOST], check=True)
    return directory


def tls(certs: Path, name: str) -> str:
    return (
        f'tls_ca_file = "{certs}/ca.crt"\ntls_cert_file = "{certs}/{name}.crt"\ntls_key_file = "{certs}/{name}.key"\n'
    )


class Received(NamedTuple):
    """One request as the upload server took it: method, path, ``Upload-Offset``, every body byte read,
    and the status answered (``None`` for a request cut off before its answer)."""

    method: str
    path: str
    offset: int | None
    body: bytes
    status: int | None = None


class RecordingApp:
    """The upload app behind a tap that keeps every request it receives (``Received``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[Received] = []
        self.started = 0  # requests begun, finished or not
        # A slow uplink (a clinic's mobile connection): each chunk of a body is taken this late.
        self.chunk_delay_s = 0.0
        # A station (or a proxy before it) answering nonsense: ``Upload-Offset`` made unreadable.
        self.garble_offsets = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: list[bytes] = []
        status: list[int] = []
        self.started += 1

        async def tapped() -> dict[str, Any]:
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
            message = await receive()
            body.append(message.get("body", b""))
            return message

        async def answered(message: dict[str, Any]) -> None:
            if self.garble_offsets and message["type"] == "http.response.start":
                headers = [(k, b"soon" if k == b"upload-offset" else v) for k, v in message["headers"]]
                message = message | {"headers": headers}
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, tapped, answered)
        finally:
            offset = dict(scope["headers"]).get(b"upload-offset")
            at = int(offset) if offset is not None and OFFSET.fullmatch(offset.decode("latin-1")) else None
            answer = status[0] if status else None
            self.requests.append(Received(scope["method"], scope["path"], at, b"".join(body), answer))


@dataclass
class Site:
    directory: Path
    certs: Path
    broker: Broker
    engine: Engine
    upload_port: int
    public_key: Path
    private_key: Path
    uploads: RecordingApp
    tap: Tap

    def device_config(self, share: str, name: str = "cam-01", extra: str = "") -> str:
        """``[sync]`` lines for a device sharing ``share`` with this site's station."""
        return (
            tls(self.certs, name)
            + f'result_schema = "{RESULT_V2}"\nshare_images = "{share}"\nstation_url = "https://127.0.0.1:{self.upload_port}"\n'
            f'station_public_key = "{self.public_key}"\n{extra}'
        )

    def client(self, name: str) -> StationClient:
        """An HTTPS client with ``name``'s certificate, as a device's uploader is."""
        return StationClient(
            SyncConfig(
                station_url=f"https://127.0.0.1:{self.upload_port}",
                tls_ca_file=self.certs / "ca.crt",
                tls_cert_file=self.certs / f"{name}.crt",
                tls_key_file=self.certs / f"{name}.key",
            )
        )

    def connection(self, name: str) -> http.client.HTTPSConnection:
        """A TLS connection to the upload server with ``name``'s certificate, for requests written by hand."""
        context = ssl.create_default_context(cafile=str(self.certs / "ca.crt"))
        context.load_cert_chain(str(self.certs / f"{name}.crt"), str(self.certs / f"{name}.key"))
        return http.client.HTTPSConnection("127.0.0.1", self.upload_port, context=context, timeout=10)

    def upload(self, name: str, result_id: str, sealed: bytes) -> Sent:
        """``sealed`` uploaded as ``name``'s uploader does it (resumably)."""
        return self.client(name).upload(result_id, sealed, Heartbeat("test upload"))

    def stored(self) -> dict[str, bytes]:
        """Result id -> the photo the station holds for it, opened with its key."""
        key = read_private_key(self.private_key)
        with self.engine.connect() as connection:
            rows = connection.execute(select(images.c.result_id, images.c.sealed)).all()
        return {rid: open_image(bytes(sealed), key, rid) for rid, sealed in rows}

    def broker_bytes(self) -> bytes:
        """Every topic and payload a device published (the ACL lets a device publish only these leaves)."""
        return b"\n".join(topic.encode() + b" " + payload for topic, payload in self.tap.messages)

    def results_at_broker(self) -> list[bytes]:
        return self.tap.on("/result")


@contextmanager
def site(directory: Path, certs: Path, engine: Engine, max_upload_mb: int = 16) -> Iterator[Site]:
    """Broker, ingester and upload server running; the device's own folder is ``directory/device``."""
    port = free_port()
    (directory / "broker").mkdir(parents=True)
    broker_config = site_broker_config(directory / "broker", certs, port, ingesters=["review-tap"])
    broker = Broker(directory / "broker", broker_config, port).start()
    private, public = station_keys(directory / "station-keys")
    upload_port = free_port()
    config_path = station_config(
        directory / "station",
        engine,
        port,
        broker=tls(certs, "review-ingest-1"),
        extra=(
            f'[uploads]\nhost = "127.0.0.1"\nport = {upload_port}\ntls_cert_file = "{certs}/station.crt"\n'
            f'tls_key_file = "{certs}/station.key"\ntls_ca_file = "{certs}/ca.crt"\ntls_crl_file = "{certs}/crl.pem"\n'
            f"max_upload_mb = {max_upload_mb}\n"
            f'[images]\nprivate_key_file = "{private}"\n'
        ),
    )
    config = load_review_config(str(config_path))
    uploads = RecordingApp(create_upload_app(config, engine))
    ingester = IngesterThread(config_path, engine)
    # Every leaf a device may publish (the ACL: result, status, review_ack), read with an ingester's rights.
    tap = Tap(port, [f"edgescreen/v1/+/+/{leaf}" for leaf in LEAVES], **tls_files(certs, "review-tap"))
    (directory / "device").mkdir()
    try:
        with running(upload_server(config, uploads), 20, 10):
            yield Site(directory, certs, broker, engine, upload_port, public, private, uploads, tap)
    finally:
        tap.close()
        ingester.stop()
        broker.stop()


def tls_files(certs: Path, name: str) -> dict[str, str]:
    return {
        "ca_certs": str(certs / "ca.crt"),
        "certfile": str(certs / f"{name}.crt"),
        "keyfile": str(certs / f"{name}.key"),
    }
