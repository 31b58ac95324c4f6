"""``edgescreen-review uploads``: the devices' HTTPS endpoint for shared photos, with client certificates.

uvicorn terminates TLS itself (``ssl_cert_reqs=CERT_REQUIRED``, ``ssl_ca_certs`` = the CA that signs
device certificates), so no proxy sits between the device's certificate and the check that its
common name is the result's device. uvicorn does not hand the peer certificate to the application
(the ASGI TLS extension is not in the released versions), so ``PeerCertificateH11`` reads it once per
connection and puts the common name in each request's scope.

One resource, ``/api/v1/results/<result_id>/image``. ``PUT``: the sealed bytes as the body (at most
``max_upload_mb``). 201 stored, 200 already held, 400 cut short or altered, 403 another device's
result, 404 result not received yet (the device tries again later), 410 result erased here at the
patient's request (the device sets the photo aside), 413 too large, 422 the result announced no photo.
``HEAD`` and ``PATCH``: the same photo uploaded resumably (``resumable.py``), with the same rules.
Nothing is decrypted here: the station's private key is not even read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from firmware_app.events import log_event
from firmware_app.service.hang_up import HangUpStopsServer
from review_station import images, resumable
from review_station.config import ConfigError, ReviewConfig

CLIENT_DEVICE = "edgescreen.client_device"
IMAGE_PATH = "/api/v1/results/{result_id}/image"
PURGE_SECONDS = 3600.0
# ``Upload-Offset`` is a Structured Field integer (RFC 8941: at most 15 decimal digits) in the draft:
# anything else, a superscript digit or a number of thousands of digits included, is not an offset.
OFFSET = re.compile(r"[0-9]{1,15}")


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


@dataclass(frozen=True)
class Body:
    """What a request delivered: every byte read, and whether the client left before the end."""

    data: bytes
    cut: bool = False
    too_large: bool = False


async def _body(request: Request, limit: int) -> Body:
    """The body as far as it came; nothing past ``limit`` bytes is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return Body(b"", too_large=True)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return Body(b"", too_large=True)
            chunks.append(chunk)
    except ClientDisconnect:
        return Body(b"".join(chunks), cut=True)
    return Body(b"".join(chunks))


def _progress_headers(progress: resumable.Progress) -> dict[str, str]:
    return {
        "Upload-Offset": str(progress.offset),
        "Upload-Complete": "?1" if progress.complete else "?0",
        "Upload-Length": str(progress.length),
        "Cache-Control": "no-store",
    }


def create_upload_app(config: ReviewConfig, engine: Engine) -> Starlette:
    limit = config.uploads.max_upload_mb * 2**20
    too_large = PlainTextResponse(f"larger than {config.uploads.max_upload_mb} MB", status_code=413)

    async def upload(request: Request) -> Response:
        result_id = request.path_params["result_id"]
        device = request.scope.get(CLIENT_DEVICE)
        body = await _body(request, limit)
        if body.cut:  # cut off mid-upload: nothing was stored
            log_event("review.upload_cut", result_id=result_id, device=device)
            return PlainTextResponse("the upload was cut off", status_code=400)
        if body.too_large:
            return too_large
        answer = await asyncio.to_thread(images.receive, engine, result_id, device, body.data)
        log_event("review.upload", result_id=result_id, device=device, status=answer.status, reason=answer.reason)
        return PlainTextResponse(answer.body, status_code=answer.status)

    async def offset(request: Request) -> Response:
        result_id = request.path_params["result_id"]
        progress = await asyncio.to_thread(resumable.offset, engine, result_id, request.scope.get(CLIENT_DEVICE))
        if progress.answer.status != 204:
            return Response(status_code=progress.answer.status)
        return Response(status_code=204, headers=_progress_headers(progress))

    async def append(request: Request) -> Response:
        result_id = request.path_params["result_id"]
        device = request.scope.get(CLIENT_DEVICE)
        at = request.headers.get("upload-offset", "")
        if not OFFSET.fullmatch(at):
            return PlainTextResponse("Upload-Offset (the bytes already sent) is required", status_code=400)
        # The limit is the photo's, not each request's: the bytes held and these together stay under it.
        body = await _body(request, limit - int(at))
        if body.too_large:
            return too_large
        last = request.headers.get("upload-complete") == "?1" and not body.cut
        # What arrived before a cut is kept: the device resumes from there.
        progress = await asyncio.to_thread(resumable.append, engine, result_id, device, int(at), body.data, last)
        answer = progress.answer
        log_event(
            "review.upload_part",
            result_id=result_id,
            device=device,
            offset=at,
            bytes=len(body.data),
            cut=body.cut,
            status=answer.status,
            reason=answer.reason,
        )
        if answer.status == 204:
            return Response(status_code=204, headers=_progress_headers(progress))
        return PlainTextResponse(answer.body, status_code=answer.status, headers=_progress_headers(progress))

    async def purge_now_and_hourly() -> None:
        while True:
            purged = await asyncio.to_thread(images.purge, engine, config.images.retention_days)
            if purged:
                log_event("review.images_purged", images=purged, days=config.images.retention_days)
            dropped = await asyncio.to_thread(resumable.purge, engine, config.uploads.partial_max_age_hours)
            if dropped:
                log_event("review.partial_uploads_purged", uploads=dropped, hours=config.uploads.partial_max_age_hours)
            await asyncio.sleep(PURGE_SECONDS)

    @contextlib.asynccontextmanager
    async def purging(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_now_and_hourly())
        yield
        task.cancel()

    routes = [
        Route(IMAGE_PATH, upload, methods=["PUT"]),
        Route(IMAGE_PATH, offset, methods=["HEAD"]),
        Route(IMAGE_PATH, append, methods=["PATCH"]),
    ]
    return Starlette(routes=routes, lifespan=purging)


class RevocationCheckingConfig(uvicorn.Config):
    """uvicorn's settings, its TLS context also refusing a client certificate the CA revoked, when
    given the certificate revocation list (PEM) the site broker reads too (``broker/revoke-certs``).
    uvicorn has no setting for one: the context it builds is completed here, before the server
    listens. Only the device's own certificate is looked up (``VERIFY_CRL_CHECK_LEAF``): the CA signs
    no other CA."""

    def __init__(self, app: Any, crl_file: Path | None, **settings: Any) -> None:
        super().__init__(app, **settings)
        self.crl_file = crl_file

    def load(self) -> None:
        super().load()
        if self.crl_file is None:
            return
        assert self.ssl is not None  # the TLS files are required (upload_server)
        try:
            self.ssl.load_verify_locations(cafile=str(self.crl_file))
        except (ssl.SSLError, OSError) as error:
            raise ConfigError(f"[uploads] tls_crl_file {self.crl_file} cannot be used: {error}") from error
        self.ssl.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF


def upload_server(config: ReviewConfig, app: Any) -> uvicorn.Server:
    """The server ``edgescreen-review uploads`` runs ``app`` (``create_upload_app``) in; refuses to
    start without its TLS files. Without a revocation list it warns: a lost device's certificate would
    still upload. A closed terminal stops it as SIGTERM does (``HangUpStopsServer``)."""
    settings = config.uploads
    missing = [name for name in ("tls_cert_file", "tls_key_file", "tls_ca_file") if getattr(settings, name) is None]
    if missing:
        raise ConfigError(
            f"[uploads] {missing[0]} is required: photos are received over HTTPS with client certificates"
        )
    if settings.tls_crl_file is None:
        log_event(
            "review.uploads_without_crl",
            level=logging.WARNING,
            why="[uploads] tls_crl_file is not set: a revoked device certificate is still accepted",
        )
    return HangUpStopsServer(
        RevocationCheckingConfig(
            app,
            settings.tls_crl_file,
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
