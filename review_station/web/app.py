"""The web app (FastAPI + Jinja2 + htmx): every page needs a session; every form carries its CSRF token.

Pages are rendered on the server; htmx (the one copy vendored with the device's app, no CDN) swaps the
worklist table when a filter changes and polls a verdict's delivery state until the device has answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy import Engine, Row, Select, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

import firmware_app.web
from edgescreen_wire import typed_text
from edgescreen_wire.review import REVIEW_V2
from firmware_app.config import LANGUAGES
from firmware_app.events import log_event
from firmware_app.web.body_limit import BodyLimit, BodyTooLarge
from firmware_app.web.headers import guard
from review_station import accounts, audit, contrary, dashboard, images, opened, undelivered
from review_station import words as catalogue
from review_station.accounts import SignedIn
from review_station.config import ReviewConfig
from review_station.devices import all_devices
from review_station.erased_notices import erased_site, unsent_notices
from review_station.export import FORMATS, ExportError, export
from review_station.heartbeats import Heard, station_heard
from review_station.ingest.broker_drops import noticed
from review_station.ingest.lost_sessions import noticed_lost_sessions
from review_station.ingest.release import enrolments_releasing
from review_station.ingest.takeovers import noticed_takeovers
from review_station.storage.tables import deliveries, quarantine, reads, results, users
from review_station.verdicts import (
    ADJUDICATORS,
    DIAGNOSES,
    ICDR_GRADES,
    MACULOPATHY,
    SUPERSEDED_DELIVERY,
    URGENCIES,
    VERDICTS,
    ReadForm,
    ReadRefused,
    record_read,
    verdict_schema,
)
from review_station.web import plots, words
from review_station.web.describe import describe, photographed
from review_station.web.inputs import InputRefused, ResultId, seen_number, typed
from review_station.web.photo import add_photo_routes
from review_station.web.worklist import QUALITY_VERDICTS, STATES, TRIAGES, Filters, next_awaiting, worklist_page

HERE = Path(__file__).resolve().parent
# The htmx both web apps use, vendored once (with its licence header) beside the device's app.
HTMX = Path(firmware_app.web.__file__).resolve().parent / "static" / "htmx.min.js"
# Keeps the read form's urgency routine beside a "no referral" (the server refuses any other).
READ_FORM_SCRIPT = HERE / "static" / "read-form.js"
# Keeps a read being written in the reader's tab until it is recorded: a session's end does not lose it.
READ_DRAFT_SCRIPT = HERE / "static" / "read-draft.js"
SESSION_COOKIE = "review_session"
SIGN_IN_COOKIE = "review_sign_in"
# The reader's language, remembered by their browser for a year: the sign-in page, before any account,
# has the switch too, and a shared desk computer keeps the language its readers use.
LANGUAGE_COOKIE = "review_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
FINAL_DELIVERY = ("stored", "duplicate", *undelivered.NEVER_DELIVERED)
# The answer after which htmx polls no more (its "every" trigger), its content swapped in as a 200's.
POLL_STOPPED = 286


class NotSignedIn(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but the role or the CSRF token does not allow this; ``why`` is the catalogue's key
    (``words``) of the sentence saying so, said in the reader's language."""

    def __init__(self, why: str, user: SignedIn | None = None, **values: str) -> None:
        super().__init__(why)
        self.user = user  # the refusal page keeps the signed-in user's navigation
        self.why, self.values = why, values


class NoSuchResult(Exception):
    """A result id naming no result, or a result of a site the account does not read: to that account
    the two are the same (a reviewer of one organisation learns nothing of another's results)."""

    def __init__(self, user: SignedIn) -> None:
        super().__init__("no such result")
        self.user = user


class ResultErased(Exception):
    """A result id naming a result of the account's sites that the station erased (its patient's
    erasure, perhaps while the reader had it open): said so, not "no such result"."""

    def __init__(self, user: SignedIn) -> None:
        super().__init__("result erased")
        self.user = user


def latest_delivery(result_id: str) -> Select:
    """The verdict that stands for a result: an amendment's, once a coordinator amended it (the latest
    ``reviewed_at``, as the device orders them; an acknowledgement of an older one, after a resend,
    may be the newest change)."""
    current = deliveries.c.state != SUPERSEDED_DELIVERY
    return (
        select(deliveries).where(deliveries.c.result_id == result_id, current).order_by(deliveries.c.reviewed_at.desc())
    )


def waits_for_ingester(delivery: Row, heard: Heard) -> bool:
    """A pending verdict with no ingester running waits for it, not for the broker (``heartbeats``): the
    delivery paragraph says so, and its token says it too, from this one rule."""
    return delivery.state == "pending" and not heard.running


def delivery_shown(delivery: Row | None, heard: Heard) -> str:
    """What the delivery paragraph (``_delivery.html``) shows of ``delivery``, as one token: the page
    polls with the token of what it shows, and the poll answers 204 when it still stands, so htmx leaves
    the live region alone and a screen reader announces a change of state, not every poll. A pending
    verdict's reason changes with the ingester's heartbeat (``waits_for_ingester``): its token too."""
    if delivery is None:
        return "none"
    waits = ".no_ingester" if waits_for_ingester(delivery, heard) else ""
    return f"{delivery.state}.{delivery.attempts}{waits}"


def sign_in_url(back: str = "/", **flags: int) -> str:
    """The sign-in page, leading back to ``back`` (a path of this station; the worklist, left unsaid)."""
    query = urlencode({**flags, "back": back} if back != "/" else flags)
    return f"/sign-in?{query}" if query else "/sign-in"


def page_of(request: Request) -> str:
    """The page a request was made from, for the sign-in to lead back to when the session had ended:
    the page asked for, or, for a form sent from a result's page (a read, a settlement), that page, where
    the read being written waits (``static/read-draft.js``); the worklist for any other form."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    on_result = re.fullmatch(r"(/results/[0-9a-f]{32})/[a-z-]+", request.url.path)
    return on_result.group(1) if on_result else "/"


def local_path(back: str) -> str:
    """``back`` if it is a path of this station, else the worklist: the language switch sends the reader
    back to the page they switched on, never to another site (``//host`` or ``https://``)."""
    return back if back.startswith("/") and not back.startswith("//") and "\\" not in back else "/"


def create_app(config: ReviewConfig, engine: Engine, count_disagreements: bool = True) -> FastAPI:
    """The station's web app. ``count_disagreements=False`` is for ``bench/review_ingest.py`` alone: its
    worklist leaves out the coordinators' disagreement count (``worklist_page``), the page the bench
    times the count against; the station always counts."""
    app = FastAPI(title="EdgeScreen review station", docs_url=None, redoc_url=None, openapi_url=None)
    # Starlette reads a form whole (up to a thousand fields of 1 MB) before the CSRF check can refuse
    # it: anyone who reaches the sign-in page made the station hold a gigabyte a request. Every form of
    # the station is a few kilobytes (a read's comment at most 1000 characters).
    app.add_middleware(BodyLimit)

    @app.get("/static/htmx.min.js", include_in_schema=False)
    def htmx() -> FileResponse:
        return FileResponse(HTMX, media_type="text/javascript")

    @app.get("/static/read-form.js", include_in_schema=False)
    def read_form_script() -> FileResponse:
        return FileResponse(READ_FORM_SCRIPT, media_type="text/javascript")

    @app.get("/static/read-draft.js", include_in_schema=False)
    def read_draft_script() -> FileResponse:
        return FileResponse(READ_DRAFT_SCRIPT, media_type="text/javascript")

    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["ADJUDICATORS"] = ADJUDICATORS  # who sees the export (base.html)
    # Stored text from outside (a topic, a comment from before the read form refused controls) shows
    # its control characters as codes, and sits in a <bdi>: it reorders none of the page's own text.
    templates.env.filters["marked"] = typed_text.marked
    templates.env.filters["delivery_shown"] = delivery_shown
    templates.env.globals["waits_for_ingester"] = waits_for_ingester
    web = config.web
    alert_h = config.dashboard.undelivered_alert_h

    # The catalogue's words in the language ``render`` put in the page's context (``lang``): the sentence
    # escaped, then filled with its values, each escaped unless the page made it markup (a <bdi>).
    @pass_context
    def t(context: Any, key: str, **values: Any) -> Markup:
        return Markup(escape(catalogue.say(key, context["lang"]))).format(**values)

    @pass_context
    def counted(context: Any, key: str, count: int, **values: Any) -> Markup:
        return t(context, catalogue.plural(key, count, context["lang"]), count=count, **values)

    def isolated(text: str) -> Markup:
        """Text from outside (an id a device chose) in a <bdi>, its control characters shown as codes."""
        return Markup("<bdi>{}</bdi>").format(typed_text.marked(text))

    @pass_context
    def code(context: Any, kind: str, value: str | None) -> str:
        return catalogue.code(kind, value, context["lang"])

    @pass_context
    def number(context: Any, value: float, places: int = 1) -> str:
        return words.number(value, context["lang"], places)

    @pass_context
    def proportion(context: Any, found: Any) -> str:
        return words.proportion(found, context["lang"])

    @pass_context
    def skin_tone(context: Any, tone: str) -> str:
        return words.skin_tone(tone, context["lang"])

    @pass_context
    def moment(context: Any, value: datetime) -> str:
        """A stored time (UTC; SQLite returns it without its zone) with its month in words."""
        return catalogue.moment(
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC), context["lang"]
        )

    @pass_context
    def unsent_reason(context: Any, reason: str, detail: str | None, heard: Heard) -> str:
        return catalogue.unsent_why(reason, detail, context["lang"], heard)

    @pass_context
    def not_heard(context: Any, heard: Heard) -> str:
        return catalogue.not_heard(heard, context["lang"])

    @pass_context
    def photographed_on(context: Any, modality: str, eye: str | None, body_site: str | None) -> str:
        """Which eye, or where on the skin, a result's photo was taken (a result page's, a worklist row's)."""
        return photographed(modality, eye, body_site, context["lang"])

    templates.env.globals.update(
        t=t,
        counted=counted,
        code=code,
        number=number,
        proportion=proportion,
        skin_tone=skin_tone,
        moment=moment,
        photographed=photographed_on,
        unsent_why=unsent_reason,
        not_heard=not_heard,
    )
    templates.env.filters["isolated"] = isolated
    templates.env.globals["LANGUAGE_NAMES"] = words.LANGUAGE_NAMES
    # What a test or a script reads off a page (``data-state``) stays in English, whatever the reader's language.
    templates.env.globals["english"] = lambda key: catalogue.say(key, "en")

    def language_of(request: Request) -> str:
        """The reader's chosen language (their browser's cookie), else the station's ``[web] language``."""
        chosen = request.cookies.get(LANGUAGE_COOKIE, "")
        return chosen if chosen in LANGUAGES else web.language

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        language = language_of(request)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        context |= {"lang": language, "disclaimer": words.disclaimer(language), "here": here}
        return templates.TemplateResponse(request, name, context, status_code=status)

    def refusal(request: Request, status: int, title: str, text: str, user: SignedIn | None) -> HTMLResponse:
        """The message page: ``title`` and ``text`` are the catalogue's keys."""
        language = language_of(request)
        said = {"title": catalogue.say(title, language), "text": catalogue.say(text, language)}
        return render(request, "message.html", status=status, user=user, **said)

    def session_user(request: Request, active: bool = True) -> SignedIn | None:
        """The request's reader; ``active``: a request of theirs, which keeps an idle session from ending
        (a page's own poll is not: a page left open would otherwise never sign its reader out)."""
        with engine.begin() as connection:
            return accounts.session_user(connection, request.cookies.get(SESSION_COOKIE), web, active)

    def signed_in(request: Request, *roles: str, active: bool = True) -> SignedIn:
        user = session_user(request, active)
        if user is None:
            raise NotSignedIn()
        if roles and user.role not in roles:
            raise Forbidden("error.role", user, roles="|".join(roles))
        return user

    def result_reader(request: Request, result_id: str, *roles: str, active: bool = True) -> SignedIn:
        """The signed-in account (of one of ``roles``, if given), if it reads the site of ``result_id``'s
        result; ``NoSuchResult`` if there is none or it is another site's (``not_here``). Every route of
        one result asks this first."""
        user = signed_in(request, *roles, active=active)
        with engine.connect() as connection:
            site = connection.execute(select(results.c.site_id).where(results.c.result_id == result_id)).scalar()
            if site is None:
                raise not_here(connection, result_id, user)
        if not user.reads_site(site):
            raise NoSuchResult(user)
        return user

    def not_here(connection: Any, result_id: str, user: SignedIn) -> Exception:
        """What a reader is told of a result the station does not hold: erased, when it erased one of the
        reader's sites' (perhaps as they read it, even as their read was being saved), else no such result."""
        erased = erased_site(connection, result_id)
        return ResultErased(user) if erased is not None and user.reads_site(erased) else NoSuchResult(user)

    async def posted(request: Request, reader: Callable[..., SignedIn], *asked: str) -> tuple[SignedIn, dict[str, str]]:
        """The reader, checked by ``reader(request, *asked)`` (``signed_in``, ``result_reader``), and the
        form they posted. A route is async for its form alone: the check, and the route's database work
        after it (``asyncio.to_thread``), run off the event loop, as a ``def`` page's do. On it, one
        waiting for the database (another read of the result, SQLite's write lock) held every other
        request of the station, every specialist's pages, reads and polls."""
        user = await asyncio.to_thread(reader, request, *asked)
        form = {key: str(value) for key, value in (await request.form()).items()}
        if not accounts.csrf_ok(user, form.get("csrf")):
            raise Forbidden("error.stale_form", user)
        return user, form

    @app.exception_handler(NotSignedIn)
    async def to_sign_in(request: Request, error: NotSignedIn) -> Response:
        """To the sign-in page, which leads back to the page the reader was on once they are signed in,
        and says why when the station ended the reader's session (``idle`` or ``expired``), or only that
        it did (``ended``) to a reader back long after; off the event loop, as ``posted``'s check: telling
        it deletes the ended session."""
        why = await asyncio.to_thread(accounts.end_told, engine, request.cookies.get(SESSION_COOKIE), web)
        flags = {why: 1} if why else {}
        if request.headers.get("HX-Request"):  # a poll: back to the page that polled
            back = urlsplit(request.headers.get("HX-Current-URL", "/"))
            signing_in = sign_in_url(back=back.path + (f"?{back.query}" if back.query else ""), **flags)
            return Response(status_code=401, headers={"HX-Redirect": signing_in})
        return RedirectResponse(sign_in_url(back=page_of(request), **flags), status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        language = language_of(request)
        values = dict(error.values)
        if "roles" in values:  # the roles in the reader's words: "coordinator or admin"
            named = [catalogue.code("role", role, language) for role in values["roles"].split("|")]
            values["roles"] = catalogue.say("error.or", language).join(named)
        text = catalogue.say(error.why, language, **values)
        title = catalogue.say("error.not_allowed", language)
        return render(request, "message.html", status=403, title=title, text=text, user=error.user)

    @app.exception_handler(NoSuchResult)
    async def no_such_result(request: Request, error: NoSuchResult) -> Response:
        return refusal(request, 404, "error.not_found", "error.no_such_result", error.user)

    @app.exception_handler(ResultErased)
    async def result_erased(request: Request, error: ResultErased) -> Response:
        return refusal(request, 410, "error.erased", "error.erased_result", error.user)

    @app.exception_handler(InputRefused)
    async def input_refused(request: Request, error: InputRefused) -> Response:
        language = language_of(request)
        title, text = catalogue.say("error.refused", language), words.input_refused(error.key, error.values, language)
        return render(request, "message.html", status=422, title=title, text=text, user=session_user(request))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, error: BodyTooLarge) -> Response:
        """A request far larger than any form: refused before it is read, nothing done."""
        log_event("review.body_too_large", path=request.url.path)
        return refusal(request, 413, "error.refused", "error.form_too_large", session_user(request))

    @app.exception_handler(StarletteHTTPException)
    async def no_such_page(request: Request, error: StarletteHTTPException) -> Response:
        """An address naming no page of the station (a mistyped or stale link, a form's address opened as
        a page): the message page in the reader's words, not the framework's English JSON."""
        if error.status_code not in (404, 405):
            return await http_exception_handler(request, error)
        page = refusal(request, error.status_code, "error.not_found", "error.no_such_page", session_user(request))
        page.headers.update(error.headers or {})  # a 405's Allow
        return page

    async def failed(request: Request, error: Exception) -> Response:
        """A failure no handler answers: the message page, not Starlette's bare English; the database's said
        to be the database's (its server stopped, a table it cannot read), not left for the reader to guess
        at. No reader looked up, as that may be what failed. The server logs the error."""
        text = "error.database_text" if isinstance(error, SQLAlchemyError) else "error.failed_text"
        return refusal(request, 500, "error.failed", text, None)

    # The nurse app's headers on every answer, a failure's too (its policy: no other site frames a page,
    # no form posts elsewhere, no script but the station's own), no Referer at all (its language switch
    # carries ``back``), and no answer kept in a shared desk computer's cache.
    guard(app, failed, more={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> Response:
        """A path that names nothing (a result id that is no id) is a 404; a malformed query, a 422."""
        if any(problem["loc"][0] == "path" for problem in error.errors()):
            return refusal(request, 404, "error.not_found", "error.no_result_id", session_user(request))
        return refusal(request, 422, "error.refused", "error.bad_query", session_user(request))

    # the reader's language

    @app.get("/language/{language}")
    def choose_language(language: str, back: str = "/") -> Response:
        """The switch on every page: the reader's language, remembered by their browser, then the page
        they were on. A language the station does not have changes nothing."""
        response = RedirectResponse(local_path(back), status_code=303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=LANGUAGE_COOKIE_AGE,
                httponly=True,
                samesite="lax",
                secure=web.secure_cookies,
            )
        return response

    # signing in and out

    @app.get("/sign-in")
    def sign_in_page(
        request: Request,
        failed: str = "",
        stale: str = "",
        idle: str = "",
        expired: str = "",
        ended: str = "",
        back: str = "/",
    ) -> Response:
        token = secrets.token_urlsafe(24)
        said = {"failed": bool(failed), "stale": bool(stale), "ended": bool(ended), "back": local_path(back)}
        said |= {"idle_minutes": web.idle_minutes if idle else 0}
        said |= {"session_minutes": web.session_minutes if expired else 0}
        response = render(request, "sign_in.html", csrf=token, user=None, **said)
        response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="strict", secure=web.secure_cookies)
        return response

    # A password is checked off the event loop (scrypt: about 0.1 s of CPU each), one at a time: checked
    # on it, a stream of wrong passwords from anyone who reached the sign-in page held every reader's
    # pages (1 to 4 s a page under four such clients); one at a time, as before, so that concurrent
    # wrong passwords are each counted towards the lockout (``accounts.sign_in`` reads, then writes, it).
    signing_in = asyncio.Lock()

    @app.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        """Every answer is a redirect to a page to GET (POST-redirect-GET): reloading what follows a
        sign-in never sends the password again. A stale or forged form signs nobody in."""
        form = await request.form()
        back = local_path(str(form.get("back", "/")))
        expected = request.cookies.get(SIGN_IN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, str(form.get("csrf", ""))):
            return RedirectResponse(sign_in_url(stale=1, back=back), status_code=303)
        try:
            username, password = str(form.get("username", "")), str(form.get("password", ""))
            async with signing_in:
                token, _ = await asyncio.to_thread(accounts.sign_in, engine, username, password, web)
        except accounts.SignInRefused:
            return RedirectResponse(sign_in_url(failed=1, back=back), status_code=303)
        response = RedirectResponse(back, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=accounts.cookie_age_s(web),  # outlives the session, to say why it ended
            httponly=True,
            samesite="strict",
            secure=web.secure_cookies,
        )
        response.delete_cookie(SIGN_IN_COOKIE)
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        await posted(request, signed_in)
        await asyncio.to_thread(accounts.sign_out, engine, request.cookies.get(SESSION_COOKIE, ""), web)
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # the worklist

    @app.get("/")
    def worklist(request: Request, page: int = 1) -> Response:
        user = signed_in(request)
        filters = Filters.from_query(dict(request.query_params))
        with engine.begin() as connection:
            found = worklist_page(connection, filters, page, web.page_size, user, count_disagreements)
            # Coordinators see, above their worklist, how many verdicts wait for them to pass on.
            lost = undelivered.undelivered(connection, alert_h, user.sites) if user.role in ADJUDICATORS else []
            # Which results a reader was shown (filters and page), not the rows: those follow from them.
            seen = {"page": "worklist", "by": user.username, "filters": filters.in_force(), "number": found.page}
            audit.append(connection, "view", seen)
        template = "_worklist_table.html" if request.headers.get("HX-Request") else "worklist.html"
        return render(
            request,
            template,
            user=user,
            filters=filters,
            found=found,
            undelivered_count=len(lost),
            states=STATES,
            triages=TRIAGES,
            qualities=QUALITY_VERDICTS,
        )

    # one result

    def result_context(
        connection: Any, result_id: str, user: SignedIn, filters: Filters, language: str
    ) -> dict[str, Any]:
        result = connection.execute(select(results).where(results.c.result_id == result_id)).first()
        if result is None:  # erased since ``result_reader`` found it: a read posted meanwhile was refused
            raise not_here(connection, result_id, user)
        if not user.reads_site(result.site_id):
            raise NoSuchResult(user)
        history = connection.execute(
            select(results.c.result_id, results.c.dated_at, results.c.triage, results.c.state)
            .where(results.c.device_id == result.device_id, results.c.result_id != result_id)
            .order_by(results.c.dated_at.desc())
            .limit(10)
        ).all()
        all_reads = connection.execute(
            select(reads, users.c.username)
            .join(users, users.c.id == reads.c.user_id)
            .where(reads.c.result_id == result_id)
            .order_by(reads.c.id)
        ).all()
        read_by_me = any(read.user_id == user.user_id for read in all_reads)
        # The first reader's own read while the second is awaited: theirs to look at again (what did I
        # send?), never another's; the second reader, who has not read, is shown no read (blind).
        awaiting_second = result.state == "awaiting_second_read"
        own_read = next((read for read in all_reads if read.user_id == user.user_id), None) if awaiting_second else None
        # Blind second read: nobody sees a verdict before the result is settled, except adjudicators
        # when the two reads disagree.
        visible = result.state == "reviewed" or (result.state == "disagreement" and user.role in ADJUDICATORS)
        may_read = (
            result.state == "awaiting_review"
            or (result.state == "awaiting_second_read" and not read_by_me)
            or (result.state in ("disagreement", "reviewed") and user.role in ADJUDICATORS)
        )
        delivery = connection.execute(latest_delivery(result_id)).first()
        heard = station_heard(connection, config.dashboard.ingester_alert_s)
        kept = contrary.of_result(connection, result_id)
        return {
            "result": result,
            "result_id": result_id,
            "rows": describe(result.payload, config.models.directory, result.received_at, result.dated_from, language),
            "photo": images.photo_state(connection, result_id, result.payload),
            "history": history,
            # Others who opened it lately, and may be reading it now (double reading): told, not stopped.
            "opened_by_others": opened.opened_by_others(connection, result_id, user.username),
            "reads": all_reads if visible else [],
            "read_count": len(all_reads),
            "read_by_me": read_by_me,
            "own_read": own_read,
            # The worklist's filters the reader came with: "Next result" and the way back keep them.
            "query": filters.query_string(),
            "last_read_id": all_reads[-1].review_id if all_reads else None,  # what an amendment replaces
            "may_read": may_read,
            # Refused contrary reads, and the newest awaiting a coordinator (0: none), which settling settles up to.
            "contrary_reads": kept,
            "open_contrary": max((read.id for read in kept if read.settlement is None), default=0),
            "delivery": delivery,
            "heard": heard,
            "final_delivery": FINAL_DELIVERY,
            "verdicts": VERDICTS,
            "urgencies": URGENCIES,
            "icdr_grades": ICDR_GRADES,
            "maculopathies": MACULOPATHY,
            "diagnoses": DIAGNOSES,
            # Whether the urgency and the grading reach the nurse, or only the verdict and comment.
            "nurse_sees_findings": verdict_schema(result.payload) == REVIEW_V2,
        }

    def shown_result(request: Request, result_id: str, user: SignedIn, filters: Filters) -> dict[str, Any]:
        """A result page's context, its view audited: a page re-shown with a refused read shows the
        result, and its reads to an adjudicator, as much as a page asked for does."""
        with engine.begin() as connection:
            context = result_context(connection, result_id, user, filters, language_of(request))
            audit.append(connection, "view", {"result": result_id, "by": user.username})
        return context

    @app.get("/results/{result_id}")
    def result_page(request: Request, result_id: ResultId) -> Response:
        user = result_reader(request, result_id)
        context = shown_result(request, result_id, user, Filters.from_query(dict(request.query_params)))
        return render(request, "result.html", user=user, **context)

    def save_read(request: Request, result_id: str, user: SignedIn, form: dict[str, str]) -> Response:
        """The posted read recorded, or the page again with why it was refused."""
        filters = Filters.from_query(dict(request.query_params))
        read = ReadForm(
            verdict=form.get("verdict", ""),
            urgency=form.get("urgency", ""),
            icdr_grade=form.get("icdr_grade") or None,
            maculopathy=form.get("maculopathy") or None,
            diagnosis=form.get("diagnosis") or None,
            comment=form.get("comment") or None,
        )
        try:
            amends = form.get("amends") or None
            settles = seen_number(form.get("settles"))
            record_read(engine, result_id, user, read, config.review.second_read_sites, amends, settles)
        except ReadRefused as error:
            context = shown_result(request, result_id, user, filters)
            entered = dataclasses.asdict(read)
            said = words.refused(error.key, error.values, language_of(request))
            return render(request, "result.html", status=422, user=user, refused=said, entered=entered, **context)
        return RedirectResponse(f"/results/{result_id}?{filters.query_string()}", status_code=303)

    @app.post("/results/{result_id}/reads")
    async def read_result(request: Request, result_id: ResultId) -> Response:
        user, form = await posted(request, result_reader, result_id)
        return await asyncio.to_thread(save_read, request, result_id, user, form)

    @app.post("/results/{result_id}/contrary-reads")
    async def confirm_standing_read(request: Request, result_id: ResultId) -> Response:
        """A coordinator confirms the read that stands against the refused contrary reads they were shown."""
        user, form = await posted(request, result_reader, result_id, *ADJUDICATORS)
        await asyncio.to_thread(contrary.confirm, engine, result_id, seen_number(form.get("seen")), user)
        query = Filters.from_query(dict(request.query_params)).query_string()
        return RedirectResponse(f"/results/{result_id}?{query}", status_code=303)

    @app.get("/results/{result_id}/next")
    def next_result(request: Request, result_id: ResultId) -> Response:
        """On to the next result awaiting the reader in their worklist's order and filters; back to the
        worklist when nothing more awaits them there."""
        user = result_reader(request, result_id)
        filters = Filters.from_query(dict(request.query_params))
        with engine.connect() as connection:
            found = next_awaiting(connection, filters, user, result_id)
        query = filters.query_string()
        return RedirectResponse(f"/results/{found}?{query}" if found else f"/?{query}", status_code=303)

    @app.get("/results/{result_id}/delivery")
    def delivery_state(request: Request, result_id: ResultId, shown: str | None = None) -> Response:
        """The delivery paragraph, or 204 (htmx swaps nothing) when it would show what the page shows.
        The page polls it by itself: not a request of its reader's (``session_user``). A result erased
        meanwhile is said so in its place, as 286, htmx's code to stop polling: its 410 page, which htmx
        swaps nowhere, left the page saying "pending" and asking every second until the reader left it."""
        try:
            result_reader(request, result_id, active=False)
        except ResultErased:
            return render(request, "_delivery.html", status=POLL_STOPPED, erased=True, result_id=result_id)
        with engine.connect() as connection:
            delivery = connection.execute(latest_delivery(result_id)).first()
            heard = station_heard(connection, config.dashboard.ingester_alert_s)
        if shown == delivery_shown(delivery, heard):
            return Response(status_code=204)
        return render(
            request,
            "_delivery.html",
            delivery=delivery,
            heard=heard,
            final_delivery=FINAL_DELIVERY,
            result_id=result_id,
        )

    # administration

    @app.get("/quarantine")
    def quarantine_page(request: Request) -> Response:
        user = signed_in(request, "admin")
        with engine.begin() as connection:
            listed = (quarantine.c.id, quarantine.c.received_at, quarantine.c.topic, quarantine.c.reason)
            shown = select(*listed, quarantine.c.payload_bytes)  # not the payloads: up to 64 KiB each
            rows = connection.execute(shown.order_by(quarantine.c.id.desc()).limit(200)).all()
            enrolments = enrolments_releasing(connection)
            audit.append(connection, "view", {"page": "quarantine", "by": user.username})
        released_by = {entry: enrolment for enrolment, entries in enrolments.items() for entry in entries}
        return render(request, "quarantine.html", user=user, rows=rows, enrolments=enrolments, released_by=released_by)

    # the dashboard

    def period(days: int) -> date:
        return datetime.now(UTC).date() - timedelta(days=min(max(days, 1), 366) - 1)

    @app.get("/dashboard")
    def dashboard_page(request: Request, site: str = "", days: int = 30) -> Response:
        user = signed_in(request)
        typed(site, "the site")
        with engine.begin() as connection:
            audit.append(connection, "view", {"page": "dashboard", "by": user.username, "site": site, "days": days})
            readable = user.sites
            quiet = dashboard.quiet_devices(connection, config.dashboard.offline_alert_h, readable=readable)
            known = [
                device
                for device in all_devices(connection)
                if (not site or device.site_id == site) and user.reads_site(device.site_id)
            ]
            performance = dashboard.model_performance(connection, site, readable=readable)
            performance_by_skin_tone = dashboard.model_performance(connection, site, True, readable)
            delays = sorted(dashboard.receipt_delays_h(connection, site, period(days), readable))
            quarantined = dashboard.quarantined(connection) if user.role == "admin" else None
            lost = undelivered.undelivered(connection, alert_h, readable)
            broker_drops = noticed(connection)
            takeovers = noticed_takeovers(connection)
            lost_sessions = noticed_lost_sessions(connection)
            unsent = unsent_notices(connection, config.dashboard.unsent_notice_alert_h, readable=readable)
            heard = station_heard(connection, config.dashboard.ingester_alert_s)
        median = delays[len(delays) // 2] if delays else None
        return render(
            request,
            "dashboard.html",
            user=user,
            site=site,
            days=days,
            quiet=quiet,
            undelivered=lost,
            quarantined=quarantined,
            broker_drops=broker_drops,
            takeovers=takeovers,
            lost_sessions=lost_sessions,
            unsent_notices=unsent,
            heard=heard,
            unsent_alert_h=config.dashboard.unsent_notice_alert_h,
            known=known,
            performance=performance,
            performance_by_skin_tone=performance_by_skin_tone,
            median_delay=median,
            alert_h=config.dashboard.offline_alert_h,
            query=urlencode({"site": site, "days": days}),
        )

    @app.post("/undelivered/{review_id}/handled")
    async def undelivered_handled(request: Request, review_id: str) -> Response:
        """A coordinator's word that an undelivered verdict reached the clinic another way."""
        user, _ = await posted(request, signed_in, *ADJUDICATORS)
        try:
            await asyncio.to_thread(undelivered.mark_handled, engine, review_id, alert_h, user)
        except undelivered.NotUndelivered:
            return refusal(request, 404, "error.not_found", "error.no_undelivered", user)
        return RedirectResponse("/dashboard#undelivered", status_code=303)

    @app.get("/dashboard/{name}.svg")
    def dashboard_plot(request: Request, name: str, site: str = "", days: int = 30) -> Response:
        user = signed_in(request)
        typed(site, "the site")
        language = language_of(request)
        with engine.connect() as connection:
            if name == "receipt-delay":
                delays = dashboard.receipt_delays_h(connection, site, period(days), user.sites)
                svg = plots.receipt_delay(delays, language)
            elif name in ("screenings", "ungradable"):
                per_day = dashboard.daily_triage(connection, site, period(days), user.sites)
                drawn = plots.screenings_per_day if name == "screenings" else plots.ungradable_rate
                svg = drawn(per_day, language)
            else:
                return Response(status_code=404)
        return Response(svg, media_type="image/svg+xml")

    add_photo_routes(app, config, engine, result_reader, render)

    def export_form(request: Request, user: SignedIn, fields: dict[str, str], refused: str | None) -> Response:
        """The export form with what was typed kept, so a refusal is corrected, not retyped."""
        with engine.connect() as connection:
            sites = sorted({device.site_id for device in all_devices(connection) if user.reads_site(device.site_id)})
        context = fields | {"formats": FORMATS, "sites": sites, "refused": refused, "user": user}
        return render(request, "export.html", status=422 if refused else 200, **context)

    @app.get("/export")
    def export_download(request: Request, format: str = "", site: str = "", start: str = "", end: str = "") -> Response:
        """The export form, or with all its fields the download (coordinators and admins)."""
        user = signed_in(request, *ADJUDICATORS)
        fields = {"format": format or FORMATS[0], "site": site, "start": start, "end": end}
        if not (format and site and start and end):
            if not any((format, site, start, end)):
                return export_form(request, user, fields | {"end": datetime.now(UTC).date().isoformat()}, None)
            return export_form(request, user, fields, catalogue.say("export.fill_in", language_of(request)))
        if not user.reads_site(site):
            why = catalogue.say("export.refused.not_yours", language_of(request), site=site)
            return export_form(request, user, fields, catalogue.say("export.refused", language_of(request), why=why))
        try:
            text = export(engine, format, site, start, end, by=user.username)
        except ExportError as error:
            why = catalogue.refusal(error, language_of(request))
            return export_form(request, user, fields, catalogue.say("export.refused", language_of(request), why=why))
        media = "application/fhir+json" if format == "fhir" else "text/csv"
        name = f"edgescreen-{site}-{start}-{end}.{'json' if format == 'fhir' else 'csv'}"
        return Response(text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return app
