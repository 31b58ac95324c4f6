"""The nurse's screen when the app cannot open its records: a page that says so, not a blank kiosk.

The records hold the operators, the patients and the outbox: without them nobody can sign in and
nothing can be recorded, so the app cannot run. Exiting left the kiosk waiting on an address that
never answered while systemd restarted the app every few seconds, the reason in the journal only.
Instead this small app answers every address with one page, in the device's language with a switch
to the other (a config that does not load and no longer says the language: English then French): the
device cannot screen, call the technician, whom the
records' own words (English, as ``doctor`` gives them) tell what went wrong. As with a refused
model, systemd is never told the app is ready: it restarts it after ``TimeoutStartSec``, and a
records file mended meanwhile (a key put back, a backup restored) is then opened; the page reloads
itself once the app answers again (``static/out_of_service.js``), so the kiosk gets the working app back.
A cause that may clear by itself (records gone while their drive is not mounted yet) is asked after
every ``RECHECK_S``: the page ends as soon as it has cleared, so that the app restarts within seconds
of the drive being mounted, not minutes; meanwhile the app is ready and pings its watchdog
(``service/records_wait.py``), as a restart would only say it all again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

import uvicorn
from jinja2 import select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from firmware_app.config import LANGUAGES, Config
from firmware_app.messages import message
from firmware_app.service.records_wait import RECHECK_S
from firmware_app.web.headers import SecurityHeaders
from firmware_app.web.server import HERE
from firmware_app.web.tablets import ServesTablets, TabletsListener


def out_of_service_app(config: Config, cause: str, problem: str, languages: tuple[str, ...] = ()) -> Starlette:
    """Every address answers the out-of-service page (HTTP 503) in ``languages`` (default: the device's),
    each in turn, or in the one ``?lang=`` chooses (a switch to the other when there is one language);
    ``cause`` (``records``, ``config``) says to the nurse what the device cannot open."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.autoescape = select_autoescape(default=True)
    said = languages or (config.device.language,)

    async def page(request: Request) -> Response:
        asked = request.query_params.get("lang", "")
        shown = (asked,) if asked in LANGUAGES else said
        language = shown[0]
        other = next(code for code in LANGUAGES if code != language)
        context = {"language": language, "shown": shown, "other": other, "cause": cause, "problem": problem}
        context["t"] = lambda key, lang=language: message(key, lang)
        return templates.TemplateResponse(request, "out_of_service.html", context, status_code=503)

    return Starlette(
        routes=[
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
            Route("/{path:path}", page),
        ],
        middleware=[Middleware(SecurityHeaders)],
    )


def serve_out_of_service(
    config: Config,
    listening: socket.socket,
    cause: str,
    problem: str,
    languages: tuple[str, ...] = (),
    cleared: Callable[[], bool] | None = None,
    tablets: TabletsListener | None = None,
) -> bool:
    """Serve the out-of-service page on the app's socket, and to ``tablets`` over HTTPS, until Ctrl-C,
    SIGTERM or a closed terminal, or until ``cleared`` (asked every ``RECHECK_S``) says its cause is gone:
    ``True`` then, for the app to start again."""
    server = ServesTablets(
        uvicorn.Config(
            out_of_service_app(config, cause, problem, languages),
            host=config.app.bind,
            port=config.app.port,
            log_level="warning",
            access_log=False,
        ),
        config.app,
        tablets,
    )
    ended = threading.Event()
    seen = threading.Event()

    def watch(cleared: Callable[[], bool]) -> None:
        while not ended.wait(RECHECK_S):
            if cleared():
                seen.set()
                server.should_exit = True
                return

    if cleared is not None:
        threading.Thread(target=watch, args=(cleared,), name="out-of-service-recheck", daemon=True).start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[listening])
    finally:
        ended.set()
    return seen.is_set()
