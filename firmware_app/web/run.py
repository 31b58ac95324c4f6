"""``edgescreen app``: serve the touchscreen app with uvicorn until Ctrl-C, SIGTERM or a closed terminal.

uvicorn turns each into a graceful shutdown (a closed terminal's SIGHUP as SIGTERM: ``service/hang_up``);
the app's lifespan then closes the camera, stops the sync worker and closes the records
(``Device.stop``), so nothing is left half-written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from firmware_app.app import open_store
from firmware_app.config import AppConfig, Config, ConfigError
from firmware_app.events import log_event
from firmware_app.health.checks import Level, check_app_tls, check_identity, records_unusable
from firmware_app.messages import Worded, message, said, sentence, system_reason
from firmware_app.operators import Operators
from firmware_app.records.database import RecordsError, RequestRefused
from firmware_app.records.identity import Identity
from firmware_app.records.presence import RECORDS_GONE_EXIT, RecordsGone
from firmware_app.service.records_wait import records_back
from firmware_app.web import pages_capture, pages_records, pages_session
from firmware_app.web.body_limit import BodyLimit
from firmware_app.web.device import Device
from firmware_app.web.headers import guard
from firmware_app.web.out_of_service import serve_out_of_service
from firmware_app.web.server import HERE, WebApp
from firmware_app.web.tablets import ServesTablets, TabletsListener
from firmware_app.wording import check_sentence

# The file, in systemd's RuntimeDirectory (/run/edgescreen), the kiosk reads the app's address from.
APP_URL_FILE = "app-url"
# Live streams (preview, verdicts) never end on their own: give them this long at shutdown.
GRACEFUL_SHUTDOWN_S = 3


class AppServer(ServesTablets):
    """uvicorn's server of the app, which first tells the app's live streams to end when asked to stop,
    and says the device is ready once the tablets' listener, when there is one, has started too."""

    def __init__(
        self, config: uvicorn.Config, settings: AppConfig, listener: TabletsListener | None, device: Device
    ) -> None:
        super().__init__(config, settings, listener)
        self._device = device

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            await self._device.announce_ready()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._device.closing.set()
        super().handle_exit(sig, frame)


def create_app(device: Device) -> Starlette:
    """The ASGI app: every page, the static files, and the device started and stopped with it."""
    web = WebApp(device)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        device.start()
        try:
            yield
        finally:
            device.stop()

    routes: list[Route | Mount] = [
        *pages_session.routes(web),
        *pages_capture.routes(web),
        *pages_records.routes(web),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    missing = web.missing()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit)],
        exception_handlers={404: missing, 405: missing},
    )
    guard(app, web.failed())
    return app


def make_server(config: Config, with_sync: bool = True, tablets: TabletsListener | None = None) -> AppServer:
    """The uvicorn server of the app (tests run it in a thread; ``serve`` in the foreground), with the
    tablets' HTTPS listener when ``[app]`` has TLS files (``tablets``; when not given, uvicorn binds it,
    with the files read now)."""
    device = Device(config, with_sync)
    app = create_app(device)
    served = {
        "log_level": "warning",
        "access_log": False,  # the app logs its own events; paths carry no patient data, but keep logs lean
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }
    settings = config.app
    if settings.tls and tablets is None:
        tablets = TabletsListener(None, _tablets_context(settings), _tablets_refused(config, (config.device.language,)))
    plain = uvicorn.Config(app, host=kiosk_bind(settings), port=settings.port, **served)
    return AppServer(plain, settings, tablets, device)


def _tablets_context(settings: AppConfig) -> ssl.SSLContext:
    """The tablets' TLS context from ``[app]``'s files (``tls_files.tls_context``); ``ConfigError`` as the
    config's check says it, the section named."""
    from firmware_app.web.tls_files import tls_context  # cryptography, for a config with TLS only

    assert settings.tls_cert_file is not None and settings.tls_key_file is not None
    try:
        return tls_context(settings.tls_cert_file, settings.tls_key_file)
    except ConfigError as error:
        raise ConfigError(f"[app].{error}") from None


def _tablets_refused(config: Config, languages: tuple[str, ...]) -> Callable[[BaseException | None], None]:
    """What the app says when the tablets' listener ended before it started: the address it could not
    listen on and the system's reason (``system_reason``), with what sets them, in ``languages``, the error
    whole in the log line; the app then stops (``serve``: status 2), never ready. Its TLS files were read
    before it started (``_tablets_context``): the cause is elsewhere (a port another program holds, an
    address not this machine's)."""

    def refused(error: BaseException | None) -> None:
        log_event("app.tablets_failed", logging.ERROR, error=f"{type(error).__name__}: {error}")
        # The errno's reason: asyncio's own words repeat the address, in a tuple.
        address = app_url(config.app.bind, config.app.tls_port, "https")
        _say("app.tablets_failed", languages, address=address, error=partial(system_reason, error))

    return refused


def kiosk_bind(settings: AppConfig) -> str:
    """The plain HTTP listener's address: ``bind``, or loopback alone once tablets have their HTTPS
    listener, where the network reaches the app: PINs then never cross it in clear."""
    return "127.0.0.1" if settings.tls else settings.bind


def app_url(host: str, port: int, scheme: str = "http") -> str:
    """The app's address on ``host`` (an IPv6 address in brackets), as a browser opens it."""
    return f"{scheme}://[{host}]:{port}/" if ":" in host else f"{scheme}://{host}:{port}/"


def tablets_url(settings: AppConfig) -> str:
    """Where tablets open the app over HTTPS (``bind``; every interface: this device's name)."""
    host = socket.gethostname() if settings.bind in ("0.0.0.0", "::") else settings.bind
    return app_url(host, settings.tls_port, "https")


def publish_url(config: Config) -> None:
    """Under systemd, write the app's address where the kiosk reads it (``APP_URL_FILE`` in the
    unit's RuntimeDirectory, world-readable): the kiosk runs as the desktop's user, who cannot read
    the config (0640 root:edgescreen), and guessing 8080 left the nurse's screen blank whenever
    ``[app] port`` was changed. The kiosk is on the device: loopback, unless the app listens on one
    address only."""
    folder = os.environ.get("RUNTIME_DIRECTORY")
    if not folder:
        return
    bind = kiosk_bind(config.app)
    url = app_url("127.0.0.1" if bind in ("0.0.0.0", "::") else bind, config.app.port)
    path = Path(folder.split(":")[0]) / APP_URL_FILE
    written = path.with_name(f".{APP_URL_FILE}.new")
    descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o644)  # the unit's UMask=0077 would leave it the app's alone
        file.write(f"{url}\n")
    os.replace(written, path)


def listening_socket(host: str, port: int) -> socket.socket:
    """The app's socket, bound before anything else starts. uvicorn binds only after the app's
    start-up (camera, sync worker), so a port another program holds was told after "open ..." was
    printed, and as exit status 3, which says a model was refused."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
    except OSError:
        listening.close()
        raise
    return listening


def _say(key: str, languages: tuple[str, ...], **values: str | Worded) -> None:
    """One line to the technician (stderr, the journal) in each of ``languages``: the device's, or, for a
    config that does not load, those its error was said in (``config.config_error_languages``)."""
    for language in languages:
        print(f"edgescreen: {said(key, language, values)}", file=sys.stderr)


def _listen_or_say(host: str, port: int, languages: tuple[str, ...], scheme: str = "http") -> socket.socket | None:
    """The app's socket; ``None``, and the reason said in ``languages`` (the system's, ``system_reason``),
    when another program holds the port or the address is not this machine's."""
    try:
        return listening_socket(host, port)
    except OSError as error:
        address = app_url(host, port, scheme)
        _say("app.cannot_listen", languages, address=address, error=partial(system_reason, error))
        return None


def _out_of_service(
    config: Config,
    listening: socket.socket,
    cause: str,
    problem: str,
    languages: tuple[str, ...],
    cleared: Callable[[], bool] | None = None,
    tablets: TabletsListener | None = None,
) -> bool:
    """The nurse's screen, and a tablet's on ``tablets`` (the HTTPS listener), says why the
    device cannot screen instead of staying blank, until stopped: never READY, so systemd restarts the
    app after ``TimeoutStartSec`` and it tries again; or, sooner, until ``cleared`` says the cause is gone
    (``True``): records gone, for which the app is ready meanwhile and pings its watchdog at each look
    (``records_wait.records_back``)."""
    address = app_url(kiosk_bind(config.app), config.app.port)
    if tablets is None:
        _say("app.out_of_service", languages, address=address)
    else:  # the page answers there too: where a tablet's nurse reads it
        _say("app.out_of_service_tablets", languages, address=address, tablets=tablets_url(config.app))
    publish_url(config)
    return serve_out_of_service(config, listening, cause, problem, languages, cleared, tablets)


def serve_unconfigured(
    problem: str, port: int | None, languages: tuple[str, ...], settings: AppConfig | None = None
) -> int:
    """``edgescreen app`` on a config that does not load: the out-of-service page on the embedded
    defaults' address (``--port`` still chosen), published to the kiosk, in ``languages``
    (``config.config_error_languages``: the device's, when the file still says it, else English then
    French), and to tablets over HTTPS when the file's ``[app]`` still builds alone (``settings``:
    ``config.config_error_app``); exit status 2 once stopped. Exiting at once left the kiosk blank while
    systemd restarted the app every few seconds (exit 2 cannot keep it from restarting: a port another
    program holds, also 2, clears itself), and a config mended meanwhile is taken up at the next start."""
    defaults = Config()
    if port is not None:
        defaults = replace(defaults, app=replace(defaults.app, port=port))
    listening = _listen_or_say(defaults.app.bind, defaults.app.port, languages)
    if listening is not None:
        config, tablets = _unconfigured_tablets(defaults, settings, languages)
        _out_of_service(config, listening, "config", problem, languages, tablets=tablets)
    return 2


def _unconfigured_tablets(
    defaults: Config, settings: AppConfig | None, languages: tuple[str, ...]
) -> tuple[Config, TabletsListener | None]:
    """The tablets' listener of a config that does not load, from its ``[app]`` (``settings``) with the
    kiosk kept on ``defaults``' port, and the config that serves both; ``defaults`` alone when ``[app]``
    has no TLS files (its plain ``bind`` is the kiosk's: the defaults' loopback is safer for a page
    nobody set up), when they cannot serve HTTPS now, or when the port cannot be had (said)."""
    if settings is None or not settings.tls:
        return defaults, None
    try:  # a --port that is the file's tls_port, or files broken since the file was read
        settings = replace(settings, port=defaults.app.port)
        context = _tablets_context(settings)
    except ConfigError as error:
        _say("config.error", languages, problem=str(error))
        return defaults, None
    listening = _listen_or_say(settings.bind, settings.tls_port, languages, "https")
    if listening is None:
        return defaults, None
    config = replace(defaults, app=settings)
    return config, TabletsListener(listening, context, _tablets_refused(config, languages))


def _records_said(error: RecordsError | RequestRefused, language: str) -> str:
    """Why the app cannot open its records, as ``doctor`` says it; records gone from their path (a
    drive not mounted: ``records/presence.py``) by their refusal, which asks whether it is mounted."""
    if isinstance(error, RequestRefused):
        return error.said_in(language)
    return check_sentence(records_unusable(error), language)


def serve(config: Config, with_sync: bool = True) -> int:
    """The app until Ctrl-C, SIGTERM or a closed terminal, its start said in the device's language: where
    to open it, and who can sign in when nobody can yet. Records it cannot open are said as ``doctor`` says them, the
    records' own words in the log line above and on the nurse's out-of-service page. A ``bind`` open to the
    network without TLS files is refused as a config that does not load is (``serve_unconfigured``, loopback
    alone): its pages would carry patient data in clear."""
    language = config.device.language
    settings = config.app
    exposed = check_app_tls(settings)
    if exposed.level is Level.RED:  # plain HTTP on the network: its out-of-service page on loopback alone
        problem = check_sentence(exposed, language)
        print(f"edgescreen: {problem}", file=sys.stderr)
        return serve_unconfigured(problem, settings.port, (language,))
    try:  # the files the config's check read may have been removed or replaced since
        context = _tablets_context(settings) if settings.tls else None
    except ConfigError as error:
        _say("config.error", (language,), problem=str(error))
        return 2
    listening = _listen_or_say(kiosk_bind(settings), settings.port, (language,))
    if listening is None:
        return 2
    tablets = None
    if context is not None:
        tablets_socket = _listen_or_say(settings.bind, settings.tls_port, (language,), "https")
        if tablets_socket is None:
            listening.close()
            return 2
        tablets = TabletsListener(tablets_socket, context, _tablets_refused(config, (language,)))
    try:
        server = make_server(config, with_sync, tablets)
        store = open_store(config)
    except (RecordsError, RequestRefused) as error:
        log_event("records.unusable", logging.ERROR, error=error)
        print(f"edgescreen: {_records_said(error, language)}", file=sys.stderr)
        # Records gone come back by themselves when their drive is mounted: then the app exits, and
        # systemd (Restart=always) starts it on them; the kiosk's page reloads once it answers. Until
        # then it is ready: a start timed out (TimeoutStartSec=) only said it all again every 3 minutes.
        waiting = f"out of service, waiting for the records: {error}"
        back = records_back(config.records.database, waiting) if isinstance(error, RecordsGone) else None
        if _out_of_service(config, listening, "records", str(error), (language,), back, tablets):
            log_event("records.back", path=config.records.database)
            return RECORDS_GONE_EXIT
        # Stopped while waiting: a stop as the working app's (Ctrl-C 0; SIGTERM ends it by the signal, which
        # uvicorn raises again), not the 5 of records that cannot be opened: they may be fine, on a drive.
        return 5 if back is None else 0
    try:
        enabled, anyone = Operators(store.records).who_may_sign_in()
        if not anyone:
            print(message("app.no_operator_yet", language), flush=True)
        elif not enabled:
            print(message("app.no_operator_enabled", language), flush=True)
    finally:
        store.records.close()
    # Ids a campaign's device must not keep (the demo's, the installer's) are said once at the start, in
    # doctor's words: the demo's own lines never say it is one.
    identity = check_identity(Identity(config.device.id, config.device.site))
    if identity.level is not Level.GREEN:
        print(check_sentence(identity, language), flush=True)
    print(sentence("app.open", language, address=app_url(kiosk_bind(settings), settings.port)), flush=True)
    if settings.tls:
        print(sentence("app.open_tablets", language, address=tablets_url(settings)), flush=True)
    publish_url(config)
    # uvicorn hands Ctrl-C back once its graceful shutdown (and the device's) has run.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[listening])
    return 2 if server.tablets_failed else 0
