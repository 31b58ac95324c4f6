"""The app's pages and the plumbing every page shares: session, CSRF, sign-in, errors, rendering.

Every endpoint goes through ``page``: it finds (or starts) the session behind the cookie, refuses a
POST whose CSRF token does not match, sends a signed-out or locked screen to sign-in, and turns any
failure into a sentence and what to do (the details go to the log, never to the screen). No patient
data goes in a URL: forms POST it, and pages about a patient have generic titles.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import select_autoescape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from edgescreen_wire import typed_text
from firmware_app import __version__
from firmware_app.app import profile_misfit
from firmware_app.calibration.profile import ProfileError
from firmware_app.capture.camera import CameraError, CameraMisconfigured
from firmware_app.config import LANGUAGES
from firmware_app.events import log_event
from firmware_app.health.checks import model_refused, records_unusable
from firmware_app.inference.errors import ModelError
from firmware_app.memory import MESSAGE_KEY as MEMORY_MESSAGE
from firmware_app.memory import OutOfMemory
from firmware_app.messages import message, plural_key
from firmware_app.operators import MAX_NAME, MAX_PIN, MIN_PIN
from firmware_app.records.database import RecordsError
from firmware_app.records.open_visits import close_visit_not_finished
from firmware_app.records.screening import MAX_PATIENT_REF, ContextError
from firmware_app.records.store import ScreeningRefused
from firmware_app.web.answer_time import answer_timeout_ms
from firmware_app.web.body_limit import BodyTooLarge
from firmware_app.web.device import Device
from firmware_app.web.sessions import COOKIE, FORGET_AFTER_S, LANGUAGE_COOKIE, Session, Sessions
from firmware_app.wording import (
    check_key,
    check_sentence,
    check_values,
    decimal,
    duration,
    gigabytes,
    local_clock,
    model_names,
    readable_date,
)

HERE = Path(__file__).resolve().parent
# The event a swapped screen raises (``moved_to``) for the status bar to refresh (base.html).
STATUS_CHANGED = "status-changed"
Handler = Callable[[Request, Session], Awaitable[Response]]


def swapped(request: Request) -> bool:
    """Whether htmx asked: the answer is swapped into the page instead of loaded as a new one."""
    return request.headers.get("HX-Request") == "true"


async def moved_to(request: Request, path: str, show: Callable[[], Awaitable[Response]]) -> Response:
    """The screen after a POST that moved the nurse on. htmx gets that screen at once (swapped in,
    its address pushed, so refresh and back load it as a page): one request instead of a redirect,
    a full page load and its status bar, which the swap asks to refresh at once (a photo used has
    one more result to send). A plain form post gets the redirect."""
    if not swapped(request):
        return RedirectResponse(path, 303)
    response = await show()
    response.headers["HX-Push-Url"] = path
    response.headers["HX-Trigger"] = STATUS_CHANGED
    return response


def client_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client's address, ``None`` for a host that is none. With ``bind = "::"`` the app's socket
    takes IPv4 too, and an IPv4 client arrives as ``::ffff:192.0.2.10``: the IPv4 address it is, which
    Python < 3.13 does not look through (its ``::ffff:127.0.0.1`` not loopback, for one)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def over_https(request: Request) -> bool:
    """Whether the request came to the tablets' HTTPS listener (``[app] tls_cert_file``): the kiosk's
    listener is plain HTTP, and the tablets' one believes no proxy's headers (``run.make_server``)."""
    return request.url.scheme == "https"


def carried_language(request: Request) -> str | None:
    """The language the browser carries (the language switch's cookie, kept past a restart that forgot
    its session), if it is one the app speaks."""
    carried = request.cookies.get(LANGUAGE_COOKIE)
    return carried if carried in LANGUAGES else None


def on_the_device(request: Request) -> bool:
    """Whether the request comes from the device itself (its kiosk browser): the only place a fresh
    device's first operator may be made, and the sessions no stranger's requests evict. With ``[app]
    bind`` opened to the network for tablets, a stranger on the network must not get to make the
    first operator before the nurse does. The kiosk's 127.0.0.1 arriving as ``::ffff:127.0.0.1``
    (``client_address``) was taken for the network (no names to tap, the network's lock on it).
    The tablets' HTTPS listener is the network whatever the address: the kiosk never uses it, and a
    proxy on the device in front of it would otherwise make every tablet the device's screen."""
    if request.client is None or over_https(request):
        return False
    address = client_address(request.client.host)
    return address is not None and address.is_loopback


def sent_to(request: Request, path: str) -> Response:
    """Away from this screen to ``path`` loaded as a page: htmx would put that page inside this one,
    so it is told to load it instead; a plain request gets the redirect."""
    if swapped(request):
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, 303)


# The nurse's words for a camera set up wrong (a missing folder, video file or driver): no cable fixes it.
CAMERA_NOT_SET_UP = "app.camera_not_set_up"


def camera_words(error: CameraError, otherwise: str) -> str:
    """The message key a nurse reads for a camera failure: the technician's for one set up wrong,
    else ``otherwise`` (the screen's own words for a camera that stopped answering)."""
    return CAMERA_NOT_SET_UP if isinstance(error, CameraMisconfigured) else otherwise


class WebApp:
    """What the pages share: the device, the sessions and the templates."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.sessions = Sessions(device.config.app.lock_after_s, device.config.device.language, self._forgotten)
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.autoescape = select_autoescape(default=True)
        self.templates.env.globals["STATUS_CHANGED"] = STATUS_CHANGED
        self.templates.env.globals["clock"] = local_clock
        # A name's, a PIN's and a patient reference's longest, as each is checked against it: their
        # fields hold as many. A PIN's fewest digits too: its label says both, and the first-run form's
        # PIN step refuses a shorter one at once (app.js, data-least), not after it was typed twice.
        self.templates.env.globals["MAX_NAME"] = MAX_NAME
        self.templates.env.globals["MIN_PIN"] = MIN_PIN
        self.templates.env.globals["MAX_PIN"] = MAX_PIN
        self.templates.env.globals["MAX_PATIENT_REF"] = MAX_PATIENT_REF
        # How long an unused session is kept: a screen signed out for it says how long that was.
        self.templates.env.globals["FORGET_AFTER_S"] = FORGET_AFTER_S
        # htmx's timeout for the screen's requests (base.html): the page never gives up on an answer
        # the app may still be working on.
        self.templates.env.globals["answer_timeout_ms"] = answer_timeout_ms(device.config.camera)
        # A verdict's comment stored before the device took control characters out of it shows them as
        # codes (``edgescreen_wire.typed_text``): it hides and reorders nothing on the nurse's screen.
        self.templates.env.filters["marked"] = typed_text.marked

    @staticmethod
    def text(session: Session, key: str, **values: Any) -> str:
        """A catalogue sentence in the session's language, its ``{placeholders}`` filled in."""
        text = message(key, session.language)
        return text.format(**values) if values else text

    def camera_text(self, session: Session, error: CameraError, otherwise: str) -> str:
        """A camera failure in the nurse's words: ``otherwise`` saying what happened (``{what}``,
        ``CameraError.sentence``) and what to do, or for a camera set up wrong the technician's call
        (``camera_words``). The camera's own words (paths, a driver's message) stay in the log."""
        return self.text(session, camera_words(error, otherwise), what=error.sentence(session.language))

    @staticmethod
    def failure_text(session: Session, error: Exception) -> str:
        """An unexpected failure in the nurse's language: a model's or the records' as the readiness
        list words it (what to tell the technician), anything else as "something went wrong". Never
        the error's class or message, which are the technician's and go to the log: "(ModelError)"
        told a French nurse nothing."""
        if isinstance(error, ModelError):
            return check_sentence(model_refused(error), session.language)
        if isinstance(error, RecordsError):
            return check_sentence(records_unusable(error), session.language)
        return message("app.error", session.language)

    def counted(self, session: Session, key: str, count: int, **values: Any) -> str:
        """The form of ``key`` for ``count`` (``key.one`` or ``key.other``), filled in."""
        return self.text(session, plural_key(key, count, session.language), count=count, **values)

    def typed_refusal(self, session: Session, text: str, what: str) -> str | None:
        """Why the nurse's typed ``text`` cannot be taken, in the session's language, or ``None`` when it
        can: by the one rule the station's forms hold typed text to (``edgescreen_wire.typed_text``), a
        NUL, a C1 or a bidirectional control pasted or scanned in is refused with the form kept, and
        named by its code and place since it is invisible. ``what`` names the field ("typed.what.*")."""
        if (found := typed_text.first_refused(text)) is None:
            return None
        code, place = found
        what_text = self.text(session, f"typed.what.{what}")
        return self.text(session, "typed.control", what=what_text, code=code, place=place)

    def render(
        self, request: Request, session: Session, template: str, http_status: int = 200, **context: Any
    ) -> Response:
        def t(key: str, **values: Any) -> str:
            return self.text(session, key, **values)

        def when(moment: datetime | str, with_time: bool = True) -> str:
            return readable_date(moment, session.language, with_time)

        def tn(key: str, count: int, **values: Any) -> str:
            return self.counted(session, key, count, **values)

        def number(value: float, places: int = 1) -> str:
            return decimal(value, session.language, places)

        context |= {"t": t, "tn": tn, "when": when, "number": number, "session": session}
        context |= {
            "gigabytes": lambda size_bytes: gigabytes(size_bytes, session.language),
            "duration": lambda minutes: duration(minutes, session.language),
            "models_named": lambda names: model_names(names, session.language),
            "shown_values": lambda values: check_values(values, session.language),
            "check_key": lambda check: check_key(check, session.language),
        }
        context |= {"version": __version__, "device": self.device}
        return self.templates.TemplateResponse(request, template, context, status_code=http_status)

    def missing(self) -> Callable[[Request, Exception], Awaitable[Response]]:
        """The answer to an address the app has no page for (a mistyped one, or a form's address
        loaded again): a sentence in the nurse's language and a way back, never a bare "Not Found"."""

        @self.page(public=True)
        async def page(request: Request, session: Session) -> Response:
            # A form's own address loaded as a page (405) is no mistyped address: it opens from its button.
            status_code = getattr(request.state, "missing_status", 404)
            text_key = "app.form_only" if status_code == 405 else "app.not_found"
            return self.render(request, session, "message.html", status_code, text_key=text_key)

        async def handler(request: Request, error: Exception) -> Response:
            request.state.missing_status = getattr(error, "status_code", 404)
            return await page(request)

        return handler

    def failed(self) -> Callable[[Request, Exception], Awaitable[Response]]:
        """The answer to a failure outside every page's own handling (``page``), a static file the card
        cannot read: the page ``page`` gives a failure, in the nurse's language, not Starlette's bare
        "Internal Server Error".

        Not logged here: Starlette raises the failure again after this page, and the server logs it,
        with its traceback (as the station's failures are); logged here too, each was there twice. Said
        in the session's language when the request has one, else the one the browser carries, else the
        device's: a request without a session (a static file's) opened one that no answer handed out,
        kept for hours, so none is kept."""

        async def handler(request: Request, error: Exception) -> Response:
            session = self.sessions.find(request.cookies.get(COOKIE)) or self.sessions.unkept(carried_language(request))
            return self.failure_said(request, session, error)

        return handler

    def failure_page(self, request: Request, session: Session, error: Exception) -> Response:
        """An unexpected failure of a page logged, and said on the screen (``failure_said``)."""
        log_event("app.failed", level=40, path=request.url.path, error=f"{type(error).__name__}: {error}")
        return self.failure_said(request, session, error)

    def failure_said(self, request: Request, session: Session, error: Exception) -> Response:
        """An unexpected failure said on the screen as ``failure_text`` words it (HTTP 500)."""
        return self.render(request, session, "message.html", 500, text=self.failure_text(session, error))

    def _forgotten(self, session: Session) -> None:
        """Close the visit a session forgotten idle (``FORGET_AFTER_S``) drops unfinished, as a sign-out
        closes it (pages_session's ``drop_visit``): its eye not photographed reached Today only at the
        app's next start, days later on a device left running. Queued on the records thread, not
        awaited: forgetting happens as any request looks up or makes a session, which must not wait on
        it; a failure leaves the visit open in the records, closed at the next start."""
        visit, session.visit = session.visit, None
        if visit is not None:
            self.device.run_later(partial(close_visit_not_finished, self.device.store.records, visit.id))

    def session_of(self, request: Request) -> Session:
        """The session behind the request's cookie, else a new one (``forgotten`` when the cookie named
        one this process no longer holds)."""
        cookie = request.cookies.get(COOKIE)
        return self.sessions.find(cookie) or self.new_session(request, forgotten=cookie is not None)

    def new_session(self, request: Request, forgotten: bool = False) -> Session:
        """A session nobody has signed in to, for ``request``: the kiosk's kept outside the cap; in the
        language the browser carries (the switch's cookie), so a restart keeps the nurse's."""
        language = carried_language(request)
        return self.sessions.new(local=on_the_device(request), forgotten=forgotten, language=language)

    def page(self, public: bool = False, activity: bool = True) -> Callable[[Handler], Callable]:
        """Wrap a handler with the session, CSRF, sign-in and error handling every page needs.

        ``activity`` false: the request (a poll, a stream) does not count as the nurse using the
        screen, so it does not hold off the idle lock.
        """

        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                session = self.session_of(request)
                request.state.session = session
                response = await self._answer(request, session, handler, public, activity)
                current: Session = request.state.session
                if request.cookies.get(COOKIE) != current.id:
                    response.set_cookie(
                        COOKIE, current.id, httponly=True, samesite="strict", path="/", secure=over_https(request)
                    )
                response.headers["Cache-Control"] = "no-store"
                return response

            return endpoint

        return wrap

    async def _answer(
        self, request: Request, session: Session, handler: Handler, public: bool, activity: bool
    ) -> Response:
        if request.method == "POST":
            try:
                form = await request.form()
            except BodyTooLarge:
                log_event("app.body_too_large", path=request.url.path)
                return self.render(request, session, "message.html", 413, text_key="app.form_too_large")
            token = form.get("csrf") or request.headers.get("x-csrf-token")
            if not session.csrf_ok(token if isinstance(token, str) else None):
                log_event("app.csrf_refused", path=request.url.path)
                if session.forgotten:
                    # A page from before a restart (its token the old process's, never taken): "This page
                    # had expired" was a dead end. Straight to a fresh sign-in, which says the app restarted.
                    return sent_to(request, "/signin")
                return self.render(request, session, "message.html", 403, text_key="app.form_expired")
        if not public and not session.signed_in:
            return sent_to(request, "/signin")
        if activity and session.signed_in:
            session.last_active = time.monotonic()
        try:
            return await handler(request, session)
        except ScreeningRefused as error:
            log_event("app.screening_refused", error=error)
            return self.render(request, session, "message.html", 507, text_key=error.message_key)
        except (CameraError, ProfileError) as raised:
            # A profile that does not fit a still (the preview fitted it) is the camera set up wrong.
            error = profile_misfit(raised) if isinstance(raised, ProfileError) else raised
            log_event("app.camera_failed", level=40, error=error)  # the cause is the technician's: logged only
            return self.render(
                request, session, "message.html", 503, text=self.camera_text(session, error, "app.camera_failed")
            )
        except ContextError as error:  # a request that skipped the form's checks: its English is the log's
            log_event("app.context_refused", error=error)
            return self.render(request, session, "message.html", 400, text=error.said_in(session.language))
        except (OutOfMemory, MemoryError) as error:  # nothing recorded; a restart gives the memory back
            log_event("app.out_of_memory", level=40, path=request.url.path, error=str(error) or type(error).__name__)
            return self.render(request, session, "message.html", 503, text_key=MEMORY_MESSAGE)
        except Exception as error:  # never a stack trace on the screen: the log has the details
            return self.failure_page(request, session, error)
