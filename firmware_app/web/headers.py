"""The headers every answer of the nurse's app carries, pages, static files and errors alike.

The app may be opened to the network for tablets (``[app] bind``), and its pages show patients'
results: a script slipped into one (a verdict's comment, a name) must not run, and no other site may
show the app inside a frame of its own, where a nurse's taps (the PIN keypad, "Erase this patient")
could be steered by what is drawn over it. So only the app's own scripts run (none inline: app.js
wires every handler), and no page may be framed. Styles may be inline: htmx adds its own.

The review station's pages show the same results and its readers' verdicts: it sends the same
headers through this middleware, with its own additions (``more``), not a second, thinner copy.

Starlette answers an exception nothing caught from its outermost middleware (``ServerErrorMiddleware``),
outside every middleware an app adds: that 500 went out without the headers. ``guard`` gives an app
both, the middleware and its failure page with the same headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers older than CSP 2
    "X-Content-Type-Options": "nosniff",
    # The app's own pages still get the Referer its "back" answers use (pages_session.back).
    "Referrer-Policy": "same-origin",
}


def security_headers(more: Mapping[str, str] | None = None) -> dict[str, str]:
    """``HEADERS``, then ``more`` (added or in their place)."""
    return {**HEADERS, **(more or {})}


class SecurityHeaders:
    """ASGI middleware: ``HEADERS``, then ``more`` (added or in their place), on every HTTP answer's start."""

    def __init__(self, app: ASGIApp, more: Mapping[str, str] | None = None) -> None:
        self._app = app
        self._headers = security_headers(more)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(self._headers)
            await send(message)

        await self._app(scope, receive, with_headers)


def guard(
    app: Starlette,
    failed: Callable[[Request, Exception], Awaitable[Response]],
    more: Mapping[str, str] | None = None,
) -> None:
    """``app``'s every answer with the headers (and ``more``): ``SecurityHeaders`` outermost of its own
    middleware, and ``failed``, its page for an exception nothing caught, answered from outside them
    (``ServerErrorMiddleware``), given the same headers."""
    headers = security_headers(more)

    async def failure(request: Request, error: Exception) -> Response:
        response = await failed(request, error)
        response.headers.update(headers)
        return response

    app.add_middleware(SecurityHeaders, more=more)
    app.add_exception_handler(Exception, failure)
