"""The tablets' HTTPS listener (``[app] tls_cert_file``, ``tls_key_file``, ``tls_port``) beside the kiosk's
plain HTTP. One uvicorn server gives every socket the same TLS, and the kiosk's must stay plain, so the
tablets get a second server on the same loop, which the kiosk's starts once its own start-up has run and
stops first. The working app (``run.AppServer``) and its out-of-service page (``out_of_service``) both
serve it: a tablet's nurse sees what the kiosk shows, not a refused connection."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from firmware_app.config import AppConfig
from firmware_app.service.hang_up import HangUpStopsServer


@dataclass(frozen=True)
class TabletsListener:
    """Where the tablets' listener serves (``socket``, bound by the caller; ``None``: uvicorn binds
    ``bind:tls_port``), with the TLS context read from ``[app]``'s files (``tls_files.tls_context``: uvicorn
    reads no file), and who says why when it cannot start (``refused``, given the error)."""

    socket: socket.socket | None
    context: ssl.SSLContext
    refused: Callable[[BaseException | None], None]


class TabletsServer(uvicorn.Server):
    """The tablets' server: the kiosk's server hears the signals for both, and stops this one first; it
    runs no lifespan of its own, which would start the device twice."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the kiosk's server hears them, and stops this one first


class ServesTablets(HangUpStopsServer):
    """The kiosk's uvicorn server, which serves the same app to tablets over HTTPS when given their
    ``listener``; a tablets' listener that ends before it starts stops both (``tablets_failed``): the
    kiosk served alone under a start line that gave the tablets' address."""

    def __init__(self, config: uvicorn.Config, settings: AppConfig, listener: TabletsListener | None) -> None:
        super().__init__(config)
        self.tablets = TabletsServer(_tablets_config(config, settings, listener.context)) if listener else None
        self._listener = listener
        self._tablets_serving: asyncio.Task[None] | None = None
        self.tablets_failed = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit or self.tablets is None or self._listener is None:
            return
        given = [self._listener.socket] if self._listener.socket else None
        self._tablets_serving = asyncio.create_task(_serve(self.tablets, given))
        while not (self.tablets.started or self._tablets_serving.done()):
            await asyncio.sleep(0.05)
        if not self.tablets.started:
            error = self._tablets_serving.exception()
            self._tablets_serving = None  # its failure is taken here: the shutdown has nothing to wait for
            self._listener.refused(error)
            self.tablets_failed = True
            self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.tablets is not None and self._tablets_serving is not None:
            self.tablets.should_exit = True  # its pages use the device, which the kiosk's shutdown stops
            await self._tablets_serving
        await super().shutdown(sockets=sockets)


async def _serve(tablets: TabletsServer, sockets: list[socket.socket] | None) -> None:
    """The tablets' server until it stops. A port uvicorn binds itself and cannot (another program holds
    it, the address is not this machine's) is its ``sys.exit``, which ended the kiosk's loop too (status 3,
    which says a model was refused, and nothing said): the ``OSError`` it exits on, which ``refused`` says."""
    try:
        await tablets.serve(sockets=sockets)
    except SystemExit as exit:
        cause = exit.__context__
        raise (cause if isinstance(cause, OSError) else RuntimeError(f"exit status {exit.code}")) from None


def _tablets_config(kiosk: uvicorn.Config, settings: AppConfig, context: ssl.SSLContext) -> uvicorn.Config:
    """The kiosk's server's settings for the tablets: the same app, over HTTPS with ``context`` on
    ``bind:tls_port``."""
    return uvicorn.Config(
        kiosk.app,
        host=settings.bind,
        port=settings.tls_port,
        ssl_context_factory=lambda _config, _default: context,
        lifespan="off",
        # No proxy speaks for a client here: X-Forwarded-* from loopback would make a tablet the
        # device's screen, or its connection plain HTTP (``server.on_the_device``).
        proxy_headers=False,
        log_level=kiosk.log_level,
        access_log=kiosk.access_log,
        timeout_graceful_shutdown=kiosk.timeout_graceful_shutdown,
    )
