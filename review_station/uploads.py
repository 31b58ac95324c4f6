"""``edgescreen-review uploads``: the devices' HTTPS endpoint for shared photos, with client certificates.

uvicorn terminates TLS itself (``ssl_cert_reqs=CERT_REQUIRED``, ``ssl_ca_certs`` = the CA that signs
device certificates), so no proxy sits between the device's certificate and the check that its
common name is the result's device. uvicorn does not hand the peer certificate to the application
(the ASGI TLS extension is not in the released versions), so ``PeerCertificateH11`` reads it once per
connection and puts the common name in each request's scope.

One route: ``PUT /api/v1/results/<result_id>/image``, the sealed bytes as the body (at most
``max_upload_mb``). 201 stored, 200 already held, 400 cut short or altered, 403 another device's
result, 404 result not received yet (the device tries again later), 413 too large, 422 the result
announced no photo. Nothing is decrypted here: the station's private key is not even read.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from firmware_app.events import log_event
from review_station import images
from review_station.config import ConfigError, ReviewConfig

CLIENT_DEVICE = "edgescreen.client_device"
PURGE_SECONDS = 3600.0


def common_name(certificate: dict[str, Any] | None) -> str | None:
    """The subject's CN of a certificate as ``ssl.SSLSocket.getpeercert()`` gives it."""
    for entry in (certificate or {}).get("subject", ()):
        for key, value in entry:
            if key == "commonName":
                return str(value)
    return None


class PeerCertificateH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, telling the application which device's certificate the
    connection was opened with (verified by TLS before any byte of a request is read)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        device = common_name(ssl_object.getpeercert()) if ssl_object is not None else None
        app = self.app

        async def with_device(scope: dict[str, Any], receive: Any, send: Any) -> None:
            scope[CLIENT_DEVICE] = device
            await app(scope, receive, send)

        self.app = with_device


async def _body(request: Request, limit: int) -> bytes | None:
    """The whole body, or ``None`` once it passes ``limit`` bytes (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_upload_app(config: ReviewConfig, engine: Engine) -> Starlette:
    limit = config.uploads.max_upload_mb * 2**20

    async def upload(request: Request) -> PlainTextResponse:
        result_id = request.path_params["result_id"]
        device = request.scope.get(CLIENT_DEVICE)
        try:
            body = await _body(request, limit)
        except ClientDisconnect:  # cut off mid-upload: nothing was stored
            log_event("review.upload_cut", result_id=result_id, device=device)
            return PlainTextResponse("the upload was cut off", status_code=400)
        if body is None:
            return PlainTextResponse(f"larger than {config.uploads.max_upload_mb} MB", status_code=413)
        answer = await asyncio.to_thread(images.receive, engine, result_id, device, body)
        log_event("review.upload", result_id=result_id, device=device, status=answer.status, reason=answer.reason)
        return PlainTextResponse(answer.reason, status_code=answer.status)

    async def purge_now_and_hourly() -> None:
        while True:
            purged = await asyncio.to_thread(images.purge, engine, config.images.retention_days)
            if purged:
                log_event("review.images_purged", images=purged, days=config.images.retention_days)
            await asyncio.sleep(PURGE_SECONDS)

    @contextlib.asynccontextmanager
    async def purging(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_now_and_hourly())
        yield
        task.cancel()

    return Starlette(routes=[Route("/api/v1/results/{result_id}/image", upload, methods=["PUT"])], lifespan=purging)


def upload_server(config: ReviewConfig, app: Any) -> uvicorn.Server:
    """The server ``edgescreen-review uploads`` runs ``app`` (``create_upload_app``) in; refuses to
    start without its TLS files."""
    settings = config.uploads
    missing = [name for name in ("tls_cert_file", "tls_key_file", "tls_ca_file") if getattr(settings, name) is None]
    if missing:
        raise ConfigError(
            f"[uploads] {missing[0]} is required: photos are received over HTTPS with client certificates"
        )
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            ssl_certfile=str(settings.tls_cert_file),
            ssl_keyfile=str(settings.tls_key_file),
            ssl_ca_certs=str(settings.tls_ca_file),
            ssl_cert_reqs=ssl.CERT_REQUIRED,
            http=PeerCertificateH11,
            log_level="warning",
        )
    )
