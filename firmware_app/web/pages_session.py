"""Sign-in, lock, language, the status bar, "Ready to screen?" and the patient screen."""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from firmware_app.capture.camera import CameraError
from firmware_app.config import LANGUAGES
from firmware_app.events import log_event
from firmware_app.health.checks import CAMERA_MISCONFIGURED, Check, Level, blocking
from firmware_app.operators import MAX_NAME, Operator, OperatorError
from firmware_app.protocol import FUNDUS_SLOTS
from firmware_app.records.open_visits import close_visit_not_finished, visit_finished, visit_started
from firmware_app.records.outbox import REFUSED
from firmware_app.records.screening import BODY_SITES, MAX_PATIENT_REF
from firmware_app.records.store import PatientErased, true_age
from firmware_app.records.worklist import lost_visit_listed, midnight, verdicts_to_act_on
from firmware_app.records_cli import sync_status
from firmware_app.web.server import CAMERA_NOT_SET_UP, WebApp, camera_words, on_the_device, over_https, sent_to
from firmware_app.web.sessions import LANGUAGE_COOKIE, LANGUAGE_KEPT_S, Session
from firmware_app.web.sign_in_limit import SignInLimit
from firmware_app.web.visit import Visit
from firmware_app.wording import duration, french_of

# How long a refused sign-in from the network takes to answer, from its arrival: longer than the
# work of any refusal (a scrypt hash, about 50 ms on a Pi, and the count of wrong PINs written), so a
# name that does not exist (no hash, nothing written) answers no sooner than a wrong PIN.
REMOTE_REFUSAL_S = 1.0


@dataclass(frozen=True)
class Leaving:
    """A way out of an open visit that asks first (templates/leave_visit.html): one question, said in
    its own words (the message keys), whose "go on" posts to ``action`` confirmed; its way back, "Back
    to the patient in progress" whichever way out was asked for, leads to the visit where it was.
    ``erased_not_photographed``: ``not_photographed`` of an eye whose result the review station erased,
    said in one line. ``nav``: the nav button it stands for, if any."""

    action: str
    question: str
    not_photographed: str
    erased_not_photographed: str
    go_on: str
    nav: str = ""


# "New patient": the visit is finished as "Finish anyway" finishes it, then the form opens.
NEW_PATIENT = Leaving(
    "/finish", "leave.question", "leave.not_photographed", "leave.erased_not_photographed", "leave.start", "patient"
)
# "Sign out": the visit is closed as not finished (``drop_visit``), then the session ends.
SIGN_OUT = Leaving(
    "/signout",
    "leave.signout_question",
    "leave.signout_not_photographed",
    "leave.signout_erased_not_photographed",
    "leave.sign_out",
)


def home(session: Session) -> str:
    """Where a signed-in nurse resumes: the patient in progress, or the start-of-session check."""
    visit: Visit | None = session.visit
    if visit is None:
        return "/ready"
    if visit.pending is not None:
        return "/check"
    return "/result" if visit.on_screen[0] in visit.results else "/capture"


def back(request: Request) -> Response:
    """Back to the page the nurse was on, with its filter (its path and query only: never another site)."""
    referer = urlsplit(request.headers.get("referer", "/"))
    if not referer.path.startswith("/") or referer.path.startswith("//"):
        return RedirectResponse("/", 303)
    return RedirectResponse(f"{referer.path}?{referer.query}" if referer.query else referer.path, 303)


def patient_draft(form: Any, offered: tuple[str, ...]) -> dict[str, Any]:
    """The patient form as the language switch's post carries it (``draft.*``, app.js), kept to what
    the form offers. The patient answers in the other language: the form came back empty at its first
    step, the reference typed again."""
    modality = str(form.get("draft.modality", ""))
    site = str(form.get("draft.body_site", ""))
    fields = {"reference": str(form.get("draft.reference", ""))[:MAX_PATIENT_REF]}
    fields |= {"modality": modality} if modality in offered else {}
    fields |= {"body_site": site} if site in BODY_SITES else {}
    eyes = tuple(eye for eye in FUNDUS_SLOTS if eye in form.getlist("draft.eyes"))
    return {"form": fields, "eyes": eyes, "step": 2 if form.get("draft.step") == "2" else 1}


def setup_draft(form: Any) -> dict[str, Any]:
    """The first operator's form as the language switch's post carries it: the name and the PIN step
    once a name is there. The PINs stay behind (a secret is not kept for a reload): typed again."""
    name = str(form.get("draft.name", ""))[:MAX_NAME]
    return {"name": name, "step": 2 if name.strip() and form.get("draft.step") in ("2", "3") else 1}


def drafted(form: Any, offered: tuple[str, ...]) -> dict[str, Any] | None:
    """The form the language switch was tapped on, as its post carries it (app.js), with the form it
    is of; ``None`` on a screen without one."""
    of = form.get("draft.form")
    if of == "/patient":
        return {"of": of} | patient_draft(form, offered)
    if of == "/setup":
        return {"of": of} | setup_draft(form)
    if of == "/signin":  # the name typed on a tablet, or tapped at the device; the PIN, a secret, is typed again
        return {"of": of, "name": str(form.get("draft.operator", ""))[:MAX_NAME]}
    if of == "/handout":  # switched to the patient's language to print it: the reference as ticked
        return {"of": of, "with_reference": form.get("draft.with_reference") == "yes"}
    return None


def status(web: WebApp) -> dict[str, Any]:
    """What the status bar shows (records thread): connection, backlog, disk, models, banners."""
    device, config = web.device, web.device.config
    sync = sync_status(device.store.records)
    online = sync["connection"] == "connected"
    # Offline since the last success, but not before this start (the worker has had no chance yet)
    # and never from a last success dated after now by a fast clock: that hid the banner for good.
    offline = timedelta(seconds=time.time() - device.started_at)
    success = sync["last_success"]
    since_success = true_age(datetime.fromisoformat(success), device.store.records.clock()) if success else None
    if since_success is not None:
        offline = min(offline, since_success)
    # Refused is not unreachable: the readiness list says so, and the banner would contradict it.
    long_offline = (
        not online and sync["connection"] != REFUSED and offline.total_seconds() > config.app.offline_banner_after_s
    )
    waiting = sync["oldest_unsent_age_s"]
    return {
        "online": online,
        "backlog": sync["backlog"],
        "disk_free_bytes": shutil.disk_usage(config.records.database.parent).free,
        "models": ", ".join(device.model_names) or ", ".join((config.models.fundus, config.models.dermoscopy)),
        "offline": long_offline,
        # How long results have waited on the device (the oldest unsent one, kept in the records: a
        # device switched off each night says days, not the minutes since it was switched on);
        # ``None`` when none waits or none has an age (dated by a wrong clock).
        "waiting_minutes": waiting // 60 if long_offline and waiting is not None else None,
        "camera_banner": camera_banner_key(device.camera.error),
        "to_call_back": verdicts_to_act_on(device.store),
    }


def camera_banner_key(error: CameraError | None) -> str | None:
    """What the banner tells the nurse of a camera failure: no cable fixes a camera set up wrong."""
    return None if error is None else camera_words(error, "banner.camera_lost")


def waiting(seconds: float, language: str) -> str:
    """How long to wait before signing in again, rounded up (in hours once long: a lock doubles with
    each round of wrong PINs): a clock time in UTC means nothing to a nurse who reads the local time."""
    return duration(max(1, math.ceil(seconds / 60)), language, round_up=True)


def locked_text(web: WebApp, session: Session, name: str, until: datetime) -> str:
    """Why a locked account is refused, and for how long (``waiting``)."""
    wait = waiting((until - datetime.now(UTC)).total_seconds(), session.language)
    return web.text(session, "signin.locked", name=name, of_name=french_of(name), wait=wait)


def for_the_nurse(check: Check) -> Check:
    """A failed camera check in the nurse's words: its cause (a driver's message, a file path) is for
    the technician, so it goes to the log (and ``edgescreen doctor`` shows it), never on the screen."""
    if check.name != "camera" or check.level is not Level.RED:
        return check
    log_event("app.camera_check_failed", level=40, error=check.values.get("error"))
    set_up_wrong = check.message_key == CAMERA_MISCONFIGURED  # the technician's to fix, not the cable
    return Check(check.name, check.level, CAMERA_NOT_SET_UP if set_up_wrong else "health.camera.lost")


async def refused(web: WebApp, request: Request, in_visit: bool = False) -> Response | None:
    """``None`` when a screening may start (or, ``in_visit``, go on); else the nurse is sent to
    "Ready to screen?", which lists the red checks and says screening is blocked until they are
    fixed. This is the interlock, not the hidden Start button: every page that starts a patient,
    opens the camera for one or records a photo asks it. Starting a patient runs the full checks
    (``Device.readiness``); a step of a visit is held to their last run and the disk measured now
    (``Device.visit_checks``), so the shutter never waits on the audit chain or a camera probe.
    In a visit a red camera is left to the capture screen, which answers a lost camera itself
    (its banner and Retry, in the same words)."""
    device = web.device
    checks = await asyncio.to_thread(device.visit_checks) if in_visit else await device.run(device.readiness)
    red = [check for check in blocking(checks) if not (in_visit and check.name == "camera")]
    if not red:
        return None
    log_event("app.screening_blocked", path=request.url.path, checks=",".join(check.name for check in red))
    return sent_to(request, "/ready")


async def patient_erased(
    web: WebApp, request: Request, session: Session, visit: Visit, said: str = PatientErased.message_key
) -> Response:
    """The visit's patient erased while it was open (``PatientErased``: the result was not recorded,
    or "Finish anyway" listed no eye; or ``erased_since``: a screen of the visit was loading). The
    visit is closed, as nothing more may be recorded for them, with no eye listed to call back
    (nobody to call), and the nurse told (``said``): where the erasure came from the command line,
    she is the first to know."""
    device = web.device
    if session.visit is visit:
        session.visit = None
    await device.run(lambda: visit_finished(device.store, visit.id, None))
    log_event("app.visit_patient_erased", level=30, modality=visit.modality)
    return web.render(request, session, "message.html", 409, text_key=said)


async def erased_since(web: WebApp, request: Request, session: Session, visit: Visit) -> Response | None:
    """What another process erased of the visit since it was recorded (``edgescreen erase``, the
    sync service taking the review station's notice), which the visit, held in memory, showed still
    as standing, the hand-out printed and the question of leaving it promised kept: the patient erased,
    the visit closed and the nurse told (``patient_erased``), as its next result would be refused; a
    result the station erased alone, forgotten (``Visit.forget``), the screens saying so and its slot to
    photograph again. Every screen of the visit asks as it loads, the camera, the check screen and the
    "Cannot photograph this eye" question too: they offered the shutter, "Use this photo" and the eye's
    recording for an erased patient, who was said erased only once a photo was used or the eye recorded.
    ``None``: the visit goes on, as the records now hold it."""
    device = web.device
    gone = await device.run(lambda: device.store.gone(visit.beside))
    if gone.with_the_patient:
        return await patient_erased(web, request, session, visit, "records.patient_erased_shown")
    visit.forget(gone.by_the_station)
    return None


def routes(
    web: WebApp, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> list[Route]:
    """``clock`` and ``sleep`` time a refusal from the network (``REMOTE_REFUSAL_S``): a test gives its
    own, to see the answer padded to the same time whatever the work took, on a machine of any speed."""
    device = web.device
    # Sign-ins from the network are checked one at a time. Each holds the records thread for a scrypt's
    # time, a name that does not exist or is locked included (``Operators.sign_in``), and a flood of them
    # queued there ahead of the device's own screen, every page of which waits on that thread.
    network_sign_in = asyncio.Semaphore()
    # How often each client on the network may try, counted before any of them waits for that turn.
    attempts = SignInLimit()

    @web.page(public=True)
    async def root(request: Request, session: Session) -> Response:
        return RedirectResponse(home(session) if session.signed_in else "/signin", 303)

    def signed_in(request: Request, session: Session, name: str, resuming: bool = False) -> Session:
        """The session of an operator who just proved who they are: a new id (``Sessions.rotate``)."""
        fresh = web.sessions.rotate(session)
        fresh.operator = name
        fresh.visit = session.visit if resuming else None
        request.state.session = fresh
        return fresh

    async def drop_visit(session: Session) -> None:
        """Close the visit a session leaves unfinished (a sign-out, another operator at the locked
        screen) as the app's start closes a lost one: its row stayed open until the next start, maybe
        days later, and its eye not photographed reached Today only then. Taken from the session
        before the records are written, as Finish takes it: a Finish posted meanwhile finds none."""
        visit, session.visit = session.visit, None
        if visit is None:
            return
        try:
            await device.run(lambda: close_visit_not_finished(device.store.records, visit.id))
        except BaseException:
            session.visit = visit  # nothing recorded: the visit stays open
            raise

    async def lost_on_today(session: Session) -> bool:
        """Whether the sign-in screen of a session this process does not hold (``Session.forgotten``)
        sends the nurse to Today: only when Today lists an eye of a visit lost since the app started (a
        restart's, closed as it started; or one forgotten idle, closed then). The process cannot tell
        which screen's visit it was, only that Today has one to call back."""
        if not session.forgotten:
            return False
        lost_from = datetime.fromtimestamp(device.started_at, UTC)
        return await device.run(lambda: lost_visit_listed(device.store.records, midnight(), lost_from))

    async def signin_page(
        request: Request,
        session: Session,
        sign_in_list: tuple[list[Operator], bool],
        http_status: int = 200,
        refusal: Callable[[], str] | None = None,
        chosen: str = "",
    ) -> Response:
        """The sign-in page: at the device, the operators to tap (``Operators.who_may_sign_in``); on
        another client (the app opened to the network), none listed and the name typed, so that
        nobody there learns the names to guess PINs for, or to lock. ``refusal`` says why the last
        attempt was refused, in the session's language: kept for the language switch."""
        operators, anyone = sign_in_list
        session.refusal = refusal
        remote = not on_the_device(request)
        return web.render(
            request,
            session,
            "signin.html",
            http_status,
            operators=[] if remote else operators,
            anyone=anyone,
            remote=remote,
            error=refusal() if refusal else None,
            chosen=chosen,
            lost_on_today=await lost_on_today(session),
        )

    async def to_tap(request: Request) -> tuple[list[Operator], bool]:
        """The sign-in page's list after a refusal (``Operators.who_may_sign_in``): read at the device
        only. Another client lists no name (nor says none exists), and a refusal from the network read
        the list all the same, on the records thread the device's own screen waits on, for a page that
        never shows it."""
        if not on_the_device(request):
            return [], True
        return await device.run(device.operators.who_may_sign_in)

    @web.page(public=True)
    async def signin_form(request: Request, session: Session) -> Response:
        sign_in_list = await device.run(device.operators.who_may_sign_in)
        if not sign_in_list[1]:  # a fresh device: its first run creates the first operator
            return RedirectResponse("/setup", 303)
        draft = session.draft_of("/signin")  # the name typed or tapped before the language switch, kept in memory
        refusal = session.refusal if draft else None  # and the refusal it was switched on
        return await signin_page(request, session, sign_in_list, 200, refusal, draft["name"] if draft else "")

    @web.page(public=True)
    async def setup_form(request: Request, session: Session) -> Response:
        if await device.run(device.operators.list):
            return RedirectResponse("/signin", 303)
        if not on_the_device(request):
            return web.render(request, session, "message.html", 403, text_key="setup.on_device_only")
        draft = session.draft_of("/setup") or {"name": "", "step": 1}  # as the language switch left it
        return web.render(request, session, "setup.html", error=None, name=draft["name"], step=draft["step"])

    @web.page(public=True)
    async def setup(request: Request, session: Session) -> Response:
        """The first operator, made from the touchscreen; refused once any operator exists."""
        if not on_the_device(request):
            return web.render(request, session, "message.html", 403, text_key="setup.on_device_only")
        form = await request.form()
        typed = str(form.get("name", ""))
        name, pin = typed.strip(), str(form.get("pin", ""))
        if why := web.typed_refusal(session, typed, "name"):
            return web.render(request, session, "setup.html", 400, error="typed.control", refusal=why, name=name)
        if pin != form.get("pin_again"):
            return web.render(request, session, "setup.html", 400, error="setup.mismatch", name=name)
        try:
            await device.run(lambda: device.operators.add(name, pin, first=True))
        except OperatorError as error:
            if error.message_key == "setup.closed":
                return web.render(request, session, "message.html", 403, text_key=error.message_key)
            said = error.sentence(session.language)
            return web.render(request, session, "setup.html", 400, error=error.message_key, refusal=said, name=name)
        signed_in(request, session, name)
        return RedirectResponse("/ready", 303)

    @web.page(public=True)
    async def signin(request: Request, session: Session) -> Response:
        started = clock()
        form = await request.form()
        remote = not on_the_device(request)
        name, pin = str(form.get("operator", "")), str(form.get("pin", ""))
        if remote:  # typed on the tablet's keyboard, which may add a space after a word
            name = name.strip()
        locked_screen = bool(session.locked and session.operator)  # the name fixed, only the PIN asked
        if locked_screen:
            name = session.operator
        if not name or not pin:  # what is missing, said before any PIN is checked (none is counted wrong)
            sign_in_list = await to_tap(request)
            operators = sign_in_list[0]
            # With no name to tap (every account disabled), the screen's own alert already says why.
            missing = "signin.pin_needed" if name else "setup.name_needed" if remote else "signin.choose"
            refusal = partial(web.text, session, missing) if name or remote or operators else None
            return await signin_page(request, session, sign_in_list, 400, refusal, name)
        # Past its address's limit a client is refused at once, nothing hashed: the same answer whatever
        # name it typed, so it needs no refusal's second (``REMOTE_REFUSAL_S``) to hide which exist.
        if remote and (wait := attempts.wait(request.client.host if request.client else "")):

            def limited_said() -> str:
                return web.text(session, "signin.limited_remote", wait=waiting(wait, session.language))

            limited = await signin_page(request, session, await to_tap(request), 429, limited_said, name)
            limited.headers["Retry-After"] = str(math.ceil(wait))
            return limited
        async with network_sign_in if remote else contextlib.nullcontext():
            outcome = await device.run(lambda: device.operators.sign_in(name, pin, remote))
        if not outcome.accepted:
            sign_in_list = await to_tap(request)
            if remote:  # one answer, at one time, for a name that does not exist, a wrong PIN or a lock
                await sleep(started + REMOTE_REFUSAL_S - clock())
                refusal = partial(
                    web.text, session, "signin.refused_remote_pin" if locked_screen else "signin.refused_remote"
                )
            elif outcome.locked_until:
                refusal = partial(locked_text, web, session, name, outcome.locked_until)
            else:
                refusal = partial(web.text, session, "signin.wrong")
            return await signin_page(request, session, sign_in_list, 401, refusal, name)
        resuming = session.locked and session.operator == outcome.operator
        if not resuming:  # another operator at the locked screen: the visit left is not theirs to go on
            await drop_visit(session)
        fresh = signed_in(request, session, str(outcome.operator), resuming)
        return RedirectResponse(home(fresh) if resuming else "/ready", 303)

    @web.page()
    async def lock(request: Request, session: Session) -> Response:
        session.locked, session.locked_idle = True, False
        device.camera.release_owned(session.id)  # the screen left for the PIN gives the camera back
        return RedirectResponse("/signin", 303)

    @web.page(public=True)  # a locked screen too: another operator signs the locked one out
    async def signout(request: Request, session: Session) -> Response:
        # The nurse's own Sign out with a patient in progress asks first, as New patient does, and
        # goes on once confirmed for this visit (another tab may have opened another since). Not at
        # the locked screen: the visit is not the other operator's to go back to (their sign-in
        # closes it unasked too).
        form, visit = await request.form(), session.visit
        confirmed = visit is not None and form.get("confirmed") == "yes" and form.get("visit") == visit.id
        if visit is not None and session.signed_in and not confirmed:
            return RedirectResponse("/signout", 303)
        device.camera.release_owned(session.id)
        await drop_visit(session)
        web.sessions.end(session)
        request.state.session = web.new_session(request)
        return RedirectResponse("/signin", 303)

    @web.page(public=True)
    async def language(request: Request, session: Session) -> Response:
        # The language the button names, not the other one: a tab the session's other tab switched
        # meanwhile still names it, and a toggle switched the session back under it (its page unchanged).
        form = await request.form()
        if (wanted := form.get("to")) in LANGUAGES:
            session.language = str(wanted)
        session.draft = drafted(form, device.config.screened_modalities)
        answer = back(request)
        # Carried by the browser as well: the session is the process's memory, which a restart loses.
        answer.set_cookie(
            LANGUAGE_COOKIE,
            session.language,
            max_age=LANGUAGE_KEPT_S,
            httponly=True,
            samesite="strict",
            path="/",
            secure=over_https(request),
        )
        return answer

    @web.page(activity=False)
    async def status_bar(request: Request, session: Session) -> Response:
        # In the language of the page that polls (its header): another tab's switch put this bar in the
        # other language above a page in its own.
        shown = request.headers.get("x-page-language")
        said = replace(session, language=shown) if shown in LANGUAGES else session
        return web.render(request, said, "status.html", status=await device.run(lambda: status(web)))

    @web.page()
    async def camera_retry(request: Request, session: Session) -> Response:
        device.camera.retry()
        return back(request)

    @web.page()
    async def ready(request: Request, session: Session) -> Response:
        def run() -> tuple[list, dict[str, Any]]:
            checks = device.readiness(fresh=True)
            return [for_the_nurse(check) for check in checks], status(web)

        checks, bar = await device.run(run)
        return web.render(request, session, "ready.html", checks=checks, blocked=blocking(checks), status=bar)

    async def visit_open(
        request: Request, session: Session, http_status: int = 200, leaving: Leaving = NEW_PATIENT
    ) -> Response:
        """A new patient (or, ``leaving``, a sign-out) asked for while a visit is open: what leaving
        does to it first (the photo waiting is not used, the eyes not photographed are listed on
        Today), the way back to it the default, and the other choice posting the leaving confirmed:
        for a new patient, the finish of "Finish anyway" (``pages_capture.finish``), which then opens
        the form. Opening the form at once dropped the visit: its photo waiting was lost and its
        missing eye never went on Today; a sign-out closed it unasked. What was erased of it since
        (``erased_since``) is said as it now stands: the kept results and the eyes listed were those
        the visit held in memory, erased results and an erased patient's among them."""
        visit = session.visit
        if visit is not None and (closed := await erased_since(web, request, session, visit)):
            return closed
        bar = await device.run(lambda: status(web))
        return web.render(request, session, "leave_visit.html", http_status, visit=visit, leaving=leaving, status=bar)

    @web.page()
    async def signout_question(request: Request, session: Session) -> Response:
        """Sign out's question, a page of its own (switching the language keeps it on the screen); with
        no visit open (finished meanwhile in another tab), nothing to ask: back to the screen."""
        if session.visit is None:
            return RedirectResponse("/", 303)
        return await visit_open(request, session, leaving=SIGN_OUT)

    @web.page()
    async def patient_form(request: Request, session: Session) -> Response:
        # What this load was to fill the form with, taken before anything refuses it: kept past a refusal
        # (a check turned red), it came back at a later patient's "New patient", the kept form and another
        # lesion's at the second step, where the earlier patient's reference is not shown (a scanned
        # code at the first, where it is shown, but under the later patient's name if not looked at).
        another, session.another_lesion = session.another_lesion, None
        draft = session.draft_of("/patient")
        scanned, session.scanned_reference = session.scanned_reference, None
        if session.visit is not None:
            return await visit_open(request, session)
        if blocked := await refused(web, request):
            return blocked
        bar = await device.run(lambda: status(web))
        # The device's own camera is the likely choice: offered first, a dermatoscope's photos are
        # not sent to the retinopathy model because the nurse left the form as it came.
        form = {"modality": device.config.device.modality} | ({"reference": scanned} if scanned else {})
        step, eyes = 1, FUNDUS_SLOTS
        if another:  # the same patient's next lesion: straight to where it is
            form, step = {"modality": "dermoscopy", "reference": another}, 2
        elif draft:  # as the language switch left it
            form, step, eyes = form | draft["form"], draft["step"], draft["eyes"]
        return web.render(
            request,
            session,
            "patient.html",
            status=bar,
            error=None,
            step=step,
            body_sites=BODY_SITES,
            form=form,
            eyes=eyes,
            modalities=device.config.screened_modalities,
        )

    @web.page()
    async def patient(request: Request, session: Session) -> Response:
        if session.visit is not None:  # a form opened before (another tab): the open visit is not dropped
            return await visit_open(request, session, 409)
        if blocked := await refused(web, request):
            return blocked
        form = await request.form()
        typed = str(form.get("reference", ""))
        reference = typed.strip()[:MAX_PATIENT_REF]
        offered = device.config.screened_modalities
        modality = str(form.get("modality")) if form.get("modality") in offered else device.config.device.modality
        site = str(form.get("body_site", "")) or None
        eyes = tuple(eye for eye in FUNDUS_SLOTS if eye in form.getlist("eyes"))
        error, why = None, web.typed_refusal(session, typed, "reference")
        if why:
            error = "typed.control"
        elif not reference:
            error = "patient.need_reference"
        elif modality == "dermoscopy" and site not in BODY_SITES:
            error = "patient.need_site"
        elif modality == "fundus" and not eyes:
            error = "patient.need_eye"
        elif form.get("consent") != "yes":
            error = "patient.need_consent"
        if error:
            bar = await device.run(lambda: status(web))
            return web.render(
                request,
                session,
                "patient.html",
                400,
                status=bar,
                error=error,
                refusal=why,
                body_sites=BODY_SITES,
                form=form,
                eyes=eyes,
                modalities=offered,
            )
        # Asked again after the waits above, and the visit taken before the records are: a second post
        # (a double tap) opened a visit in place of this one, its eyes kept open in the records for good.
        if session.visit is not None:
            return await visit_open(request, session, 409)
        visit = Visit(reference, modality, site) if modality == "dermoscopy" else Visit(reference, modality, eyes=eyes)
        session.visit = visit
        # Kept in the records too (its eyes, and its patient keyed): a restart before it is finished lists
        # the eyes it left on Today, to call back, and ``edgescreen erase`` of the patient says it is open.
        eyes_kept = visit.eyes_not_photographed

        def opened() -> tuple[str, ...]:
            held = device.store.search_patient(reference).result_ids  # first: a search refused keeps no visit
            visit_started(device.store, visit.id, reference, eyes_kept, session.operator)
            return held

        try:
            visit.held = await device.run(opened)
        except BaseException:
            session.visit = None  # nothing kept: no visit open
            raise
        return RedirectResponse("/capture", 303)

    return [
        Route("/", root),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/setup", setup_form, methods=["GET"]),
        Route("/setup", setup, methods=["POST"]),
        Route("/lock", lock, methods=["POST"]),
        Route("/signout", signout_question, methods=["GET"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/language", language, methods=["POST"]),
        Route("/status", status_bar),
        Route("/camera/retry", camera_retry, methods=["POST"]),
        Route("/ready", ready),
        Route("/patient", patient_form, methods=["GET"]),
        Route("/patient", patient, methods=["POST"]),
    ]
