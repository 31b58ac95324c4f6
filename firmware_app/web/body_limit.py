"""A cap on request bodies, enforced as they arrive.

Every form the app posts is a few hundred bytes, but Starlette reads a form whole into memory (up to
a thousand fields of 1 MB each) before the CSRF check can refuse it, so any client that reaches the
app could make it hold tens of megabytes per request, on a device whose whole app aims at 250 MB.
A body is refused on its declared ``Content-Length`` before any of it is read, or, sent without one
(chunked), as soon as what arrived passes the cap. The page that reads the form answers 413 in the
nurse's language (``WebApp._answer``). The review station's web app uses it too, for the same reason
(its handler for ``BodyTooLarge`` answers 413 in the reader's language).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The request's body is over ``MAX_BODY_BYTES``; the rest of it is never read."""


class BodyLimit:
    """ASGI middleware: the app's ``receive`` raises ``BodyTooLarge`` instead of passing the cap."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self._app, self._limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and int(declared) > self._limit:
                raise BodyTooLarge()
            message = await receive()
            received += len(message.get("body", b""))
            if received > self._limit:
                raise BodyTooLarge()
            return message

        await self._app(scope, limited, send)
