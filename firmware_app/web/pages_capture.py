"""Capture, check before submit, result and hand-out: one patient's screening, slot by slot.

The live picture is MJPEG from the camera owner; the preview verdict and guidance of the same frames
come as server-sent events. The shutter takes a burst (camera thread), the full quality check picks
its best frame (records thread), the nurse checks it, and only "Use this photo" triages and records.
The shutter and "Use this photo" are htmx posts answered with the next screen itself (``moved_to``):
between the tap and the result there is no redirect and no page load, only the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from firmware_app.events import log_event
from firmware_app.quality.guidance import guidance, way_out
from firmware_app.quality.verdict import QualityReport
from firmware_app.records.open_visits import visit_finished, visit_recorded
from firmware_app.records.store import PatientErased
from firmware_app.records.worklist import not_photographed_event
from firmware_app.report import lesion_line
from firmware_app.web.answer_time import burst_allowance_s
from firmware_app.web.camera_owner import PreviewFrame
from firmware_app.web.device import Device
from firmware_app.web.pages_session import erased_since, patient_erased, refused, status
from firmware_app.web.photos import inline_photo, jpeg
from firmware_app.web.server import WebApp, moved_to, sent_to
from firmware_app.web.sessions import Session
from firmware_app.web.visit import Visit
from firmware_app.wording import readable_date

BOUNDARY = "frame"
# The verdict stream says something at least this often: a verdict when it changes, a camera failure,
# else a beat. A still picture that passes sends no new verdict for minutes, and the page could not
# tell that from an app stopped, restarting or hung under a frozen picture (app.js, startCapture).
BEAT_S = 1.0
# Silent this long, the capture screen says the device does not answer. The stream's longest quiet
# while the app answers is two beats (a beat just missed by a frame, then a whole wait with none);
# twice that leaves a busy device room, and still tells the nurse within seconds, before a frozen
# picture reads as a live one (a preview refreshes several times a second).
SILENT_AFTER_S = 4 * BEAT_S
# The check screen's photo box (app.css, .preview): the photo is sent at that size; zooming loads it full.
CHECK_PHOTO_BOX = (400, 300)


def verdict_lines(report: QualityReport, web: WebApp, session: Session, aiming: bool = False) -> list[str]:
    """The verdict, one instruction per cause of defects and, where no retake may fix it, when to stop
    retaking, in the nurse's language (no codes). ``aiming`` (the capture screen's live box): the
    verdict and the worst defect's instruction alone (reasons come worst first; the next shows once
    it is fixed). Every reason at 800x480 ran past the box beside the shutter, the last ones out of
    sight while the nurse's hands are on the camera; the check screen reads them all."""
    last = None if aiming else way_out(report, session.language)
    return [
        web.text(session, f"quality.verdict.{report.verdict.value}"),
        *guidance(report.reasons, report.modality, session.language)[: 1 if aiming else None],
        *([last] if last else []),
    ]


def routes(web: WebApp) -> list[Route]:
    device = web.device
    config = device.config

    @web.page()
    async def capture(request: Request, session: Session) -> Response:
        if blocked := await refused(web, request, in_visit=True):  # before the photo, not after it
            return blocked
        visit: Visit | None = session.visit
        if visit is None:
            return RedirectResponse("/patient", 303)
        # The patient erased: the visit closed, said; a result the station erased: said, not offered to keep.
        if closed := await erased_since(web, request, session, visit):
            return closed
        if visit.screened_already:  # Back from its result: the camera stays closed
            return screened_already(request, session, visit)
        token = device.camera.claim(visit.modality, owner=session.id)  # this session's old screen hands over
        bar = await device.run(lambda: status(web))
        if token is None:
            return web.render(request, session, "message.html", 409, text_key="capture.in_use", retry="/capture")
        silent_after_ms = round(SILENT_AFTER_S * 1000)
        return web.render(
            request, session, "capture.html", token=token, visit=visit, status=bar, silent_after_ms=silent_after_ms
        )

    @web.page(activity=False)
    async def stream(request: Request, session: Session) -> Response:
        token = request.query_params.get("token", "")

        async def frames() -> AsyncIterator[bytes]:
            async for frame in _published(device, token):
                yield (
                    (
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame.jpeg)}\r\n"
                        f"X-Frame-Seq: {frame.seq}\r\n\r\n"
                    ).encode()
                    + frame.jpeg
                    + b"\r\n"
                )

        return StreamingResponse(frames(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}")

    @web.page(activity=False)
    async def events(request: Request, session: Session) -> Response:
        token = request.query_params.get("token", "")

        async def verdicts() -> AsyncIterator[str]:
            shown = said = None
            sent = time.monotonic()
            async for frame in _published(device, token, idle=True):
                failure = device.camera.error
                if frame is None and failure is not None and failure is not said:  # once each failure
                    said = failure
                    error = web.camera_text(session, failure, "banner.camera_lost")
                    yield f"event: camera\ndata: {json.dumps({'error': error})}\n\n"
                    sent = time.monotonic()
                elif frame is not None and frame.report is not None:  # a scanning screen's has no verdict
                    lines = verdict_lines(frame.report, web, session, aiming=True)
                    if lines != shown:
                        shown = lines
                        data = {"seq": frame.seq, "verdict": frame.report.verdict.value, "lines": lines}
                        yield f"event: verdict\ndata: {json.dumps(data)}\n\n"
                        sent = time.monotonic()
                if time.monotonic() - sent >= BEAT_S:
                    yield "event: beat\ndata: {}\n\n"
                    sent = time.monotonic()
            if not device.closing.is_set() and device.camera.in_use:  # another screen has the camera now
                yield f"event: lost\ndata: {json.dumps({'error': web.text(session, 'capture.lost')})}\n\n"

        return StreamingResponse(verdicts(), media_type="text/event-stream")

    @web.page()
    async def scan(request: Request, session: Session) -> Response:
        token = device.camera.claim(config.device.modality, scanning=True, owner=session.id)
        if token is None:
            return web.render(request, session, "message.html", 409, text_key="capture.in_use", retry="/patient/scan")
        return web.render(request, session, "scan.html", token=token, status=await device.run(lambda: status(web)))

    @web.page(activity=False)
    async def scan_events(request: Request, session: Session) -> Response:
        token = request.query_params.get("token", "")

        async def found() -> AsyncIterator[str]:
            async for frame in _published(device, token):
                if frame.code:  # kept in the session: the page is only told to move on
                    session.scanned_reference = frame.code
                    device.camera.release(token)
                    yield "event: found\ndata: {}\n\n"
                    return

        return StreamingResponse(found(), media_type="text/event-stream")

    def screened_already(request: Request, session: Session, visit: Visit, http_status: int = 200) -> Response:
        """The camera (or its shutter, "Cannot photograph this eye") of a slot with a result, not chosen
        to photograph again (``Visit.screened_already``): said, with the way to its result, where "Retake
        this one" is the one way to photograph it again. No camera claimed, nothing taken."""
        return web.render(request, session, "screened_already.html", http_status, visit=visit)

    def other_visit(request: Request, session: Session) -> Response:
        """A post from a screen opened for another visit than the one open now."""
        return web.render(request, session, "message.html", 409, text_key="capture.other_visit", retry="/capture")

    def posted_visit(request: Request, session: Session, form: FormData) -> Visit | Response:
        """The visit a screen's post is for, or the screen that refuses it, one rule for every post
        that names its visit: with none open (closed meanwhile, in another tab) the patient screen
        loaded as a page, and for a screen opened for another visit than the one open now,
        ``other_visit``: never filed under the patient open now."""
        visit: Visit | None = session.visit
        if visit is None:
            return sent_to(request, "/patient")
        if form.get("visit") != visit.id:
            return other_visit(request, session)
        return visit

    def photo_waiting(request: Request, session: Session) -> Response:
        """A post from a screen opened before the photo waiting now was taken (another tab): the photo
        is kept, and she is sent to see it first."""
        return web.render(request, session, "message.html", 409, text_key="capture.photo_waiting", retry="/check")

    # The shutter, "Use this photo" and "Retake" read the form (and ask the readiness interlock)
    # before the session's visit: while a post awaits, another tab may open another patient or use
    # the photo, and what is checked must be what is then done, with no await in between.
    async def shutter_visit(request: Request, session: Session, form: FormData, token: str) -> Visit | Response:
        """The visit a shutter press photographs for, or the screen that refuses the press: every
        refusal takes the same way out of ``shoot``, which hands the camera back at once (a refusal
        that kept it left the next screen "in use on another screen" until the lease lapsed)."""
        if blocked := await refused(web, request, in_visit=True):
            return blocked
        visit = posted_visit(request, session, form)
        if isinstance(visit, Response):
            return visit
        if visit.screened_already:  # a capture screen kept from before its result, posted again
            return screened_already(request, session, visit, 409)
        camera = device.camera
        if camera.error is None and camera.in_use and not camera.holds(token):  # this session's newer screen has it
            return web.render(request, session, "message.html", 409, text_key="capture.lost", retry="/capture")
        return visit

    @web.page()
    async def shoot(request: Request, session: Session) -> Response:
        form = await request.form()
        token = str(form.get("token", ""))
        visit = await shutter_visit(request, session, form, token)
        if isinstance(visit, Response):
            device.camera.release(token)  # a token that no longer holds the camera releases nothing
            return visit
        slot = visit.slot  # as the press came: another tab may move the visit on during the burst
        allowance = burst_allowance_s(config.camera)
        started = time.perf_counter()
        try:
            burst = await asyncio.to_thread(device.camera.take_burst, token, config.camera.burst, allowance)
        finally:
            device.camera.release(token)
        taken = time.perf_counter()
        checked = await device.run(lambda: device.pipeline.check_burst(burst, visit.modality))
        checked_at = time.perf_counter()
        visit.hold(checked, slot, await asyncio.to_thread(inline_photo, checked.frame.pixels, CHECK_PHOTO_BOX))
        log_event(
            "app.burst_checked",
            frames=len(burst),
            burst_ms=round((taken - started) * 1000),
            check_ms=round((checked_at - taken) * 1000),
        )
        return await moved_to(request, "/check", lambda: check_screen(request, session))

    @web.page(activity=False)
    async def release(request: Request, session: Session) -> Response:
        device.camera.release(str((await request.form()).get("token", "")))
        return Response(status_code=204)

    async def check_screen(request: Request, session: Session, with_status: bool = False) -> Response:
        """The check screen; its status bar only when it is loaded as a page (a swap keeps the bar). What
        was erased of the visit meanwhile is said (``erased_since``), as the result screen says it: the
        shutter's check screen, of a patient erased while the camera was open, offers no photo to use."""
        visit: Visit | None = session.visit
        if visit is None or visit.pending is None:
            return RedirectResponse("/capture", 303)
        if closed := await erased_since(web, request, session, visit):
            return closed
        bar = await device.run(lambda: status(web)) if with_status else None
        lines = verdict_lines(visit.pending.quality, web, session)
        return web.render(request, session, "check.html", visit=visit, lines=lines, status=bar)

    @web.page()
    async def check(request: Request, session: Session) -> Response:
        return await check_screen(request, session, with_status=True)

    @web.page()
    async def photo(request: Request, session: Session) -> Response:
        """The checked photo at full size, for zooming in on it."""
        visit: Visit | None = session.visit
        if visit is None or visit.pending is None:
            return Response(status_code=404)
        return Response(await asyncio.to_thread(jpeg, visit.pending.frame.pixels), media_type="image/jpeg")

    @web.page()
    async def use(request: Request, session: Session) -> Response:
        form = await request.form()
        if blocked := await refused(web, request, in_visit=True):  # the photo waits to be used once fixed
            return blocked
        visit = posted_visit(request, session, form)
        if isinstance(visit, Response):
            return visit
        photo_id = str(form.get("photo", ""))
        if photo_id in visit.used:  # a photo's id is its visit's alone: its screen posted this visit's id
            # Used already: the first post's answer was lost (a dropped connection) and she tapped
            # again. Its result screen, as the first answer was, where the camera for the same eye
            # said nothing of it; nothing is recorded again. The photo's own result, as recorded,
            # though the eye was photographed again since (another tab): not where the eye stands now.
            visit.show_used(photo_id)  # a reload of the result screen shows it too
            return await moved_to(request, "/result", lambda: result_screen(request, session))
        # No photo waiting (given up or used in another tab), or a screen of a photo no longer waiting,
        # not the one waiting now: the camera loaded as a page (``sent_to``), as Retake does; swapped
        # in, its live preview never started.
        if visit.pending is None or photo_id != visit.pending_id:
            return sent_to(request, "/capture")
        # Screened and recorded as the slot the photo was taken for, not the one the visit stands at
        # now: another tab may have moved on (a lost answer asked for again shows an earlier slot).
        checked, photo, slot = visit.pending, visit.pending_photo, visit.pending_slot
        context = visit.context(session.operator, slot)
        # Taken before the screening runs, not after: a second post meanwhile (another tab, a retry
        # of a slow answer) finds no photo to use, where it recorded the same photo a second time.
        visit.hold(None)
        started = time.perf_counter()
        try:
            result = await device.run(lambda: device.pipeline.screen_checked(checked, context))
        except PatientErased:
            return await patient_erased(web, request, session, visit)
        except BaseException:
            visit.hold(checked, slot, photo, photo_id)  # nothing recorded: the photo waits to be used again
            raise
        log_event("app.screened", outcome=result.triage.outcome.value, ms=round((time.perf_counter() - started) * 1000))
        visit.record(result, slot, photo, photo_id)
        await device.run(lambda: visit_recorded(device.store, visit.id, result.result_id))
        return await moved_to(request, "/result", lambda: result_screen(request, session))

    @web.page()
    async def retake(request: Request, session: Session) -> Response:
        """Back to the camera for the slot posted; nothing is recorded. The check screen's Retake
        posts the slot its photo was taken for and the photo's id, and gives that photo up; the
        result screen's "Retake this one" and "Next" post the slot to photograph. They are posted
        with htmx, so an unanswered one says so (app.js, sayNoAnswer) where the browser showed its
        own error page; the capture screen is loaded as a page (``sent_to``): its live preview starts
        as a page loads."""
        form = await request.form()
        visit = posted_visit(request, session, form)
        if isinstance(visit, Response):
            return visit
        # A photo waiting is given up by its own check screen alone: a screen opened before it was
        # taken (a result screen, the check screen of a photo used since, in another tab) threw it
        # away unseen, the other eye's photo too. It is kept, and she is sent to see it.
        if visit.pending is not None and form.get("photo") != visit.pending_id:
            return photo_waiting(request, session)
        visit.photograph(str(form.get("slot", visit.slot)))
        return sent_to(request, "/capture")

    @web.page()
    async def keep_earlier(request: Request, session: Session) -> Response:
        """The capture screen's "Keep the earlier photo" (``Visit.retaking``): "Retake this one" was
        pressed by mistake, and the eye's result, recorded and standing, is shown again as it was, its
        camera closed; nothing is recorded. Posted with htmx, as Retake is; the result screen loaded
        as a page (``sent_to``)."""
        form = await request.form()
        visit = posted_visit(request, session, form)
        if isinstance(visit, Response):
            return visit
        if visit.pending is not None:  # a photo taken meanwhile (another tab) is not dropped unseen
            return photo_waiting(request, session)
        visit.keep_earlier(str(form.get("slot", "")))
        return sent_to(request, "/result")

    @web.page()
    async def not_photographed_question(request: Request, session: Session) -> Response:
        """The capture screen's "Cannot photograph this eye": asked first, a page of its own (switching
        the language keeps the question), for the eye the capture screen was for. A patient erased since
        the camera opened closes the visit as the camera would (``erased_since``): asked again, the
        question offered to record an eye its post refuses."""
        visit: Visit | None = session.visit
        if visit is None or visit.modality != "fundus":
            return RedirectResponse("/capture" if visit else "/patient", 303)
        if closed := await erased_since(web, request, session, visit):
            return closed
        if visit.screened_already:  # Back from the eye's result: asked again, it recorded the eye twice
            return screened_already(request, session, visit)
        bar = await device.run(lambda: status(web))
        taken = len(visit.taken.get(visit.slot, []))
        return web.render(request, session, "not_photographed.html", visit=visit, taken=taken, status=bar)

    @web.page()
    async def not_photographed(request: Request, session: Session) -> Response:
        """Record the eye as not photographed, confirmed, as "Record as not gradable" records a photo
        (``use``): an ungradable result (``ScreeningPipeline.record_not_photographed``), then its result
        screen and the next eye as usual. ``taken``, the eye's results as the question was asked: a
        second post of it (a double tap, a lost answer tapped again) records nothing more."""
        form = await request.form()
        if blocked := await refused(web, request, in_visit=True):
            return blocked
        visit = posted_visit(request, session, form)
        if isinstance(visit, Response):
            return visit
        slot = str(form.get("slot", ""))
        if visit.modality != "fundus" or slot not in visit.slots:
            return sent_to(request, "/capture")
        if visit.pending is not None:  # a photo taken meanwhile (another tab) waits: it is kept, and seen first
            return photo_waiting(request, session)
        context, taken = visit.context(session.operator, slot), form.get("taken")

        def recorded() -> None:  # on the records thread, one post at a time: the second finds it recorded
            if str(len(visit.taken.get(slot, []))) == taken:
                result = device.pipeline.record_not_photographed(visit.modality, context)
                visit.record(result, slot)
                visit_recorded(device.store, visit.id, result.result_id)

        try:
            await device.run(recorded)
        except PatientErased:
            return await patient_erased(web, request, session, visit)
        visit.turn_to(slot)
        return await moved_to(request, "/result", lambda: result_screen(request, session))

    async def result_screen(
        request: Request,
        session: Session,
        with_status: bool = False,
        confirm_finish: bool = False,
    ) -> Response:
        """The result screen (of the photo ``Visit.on_screen``); ``confirm_finish``: asking whether to
        finish with an eye not photographed."""
        visit: Visit | None = session.visit
        if visit is not None and (closed := await erased_since(web, request, session, visit)):
            return closed
        slot = visit.on_screen[0] if visit else ""
        if visit is None or (slot not in visit.results and slot not in visit.erased):
            return RedirectResponse("/capture" if visit else "/patient", 303)
        bar = await device.run(lambda: status(web)) if with_status else None
        view = _result_view(visit, session, *visit.on_screen)
        return web.render(
            request, session, "result.html", visit=visit, status=bar, confirm_finish=confirm_finish, **view
        )

    @web.page()
    async def result(request: Request, session: Session) -> Response:
        return await result_screen(request, session, with_status=True)

    @web.page()
    async def handout(request: Request, session: Session) -> Response:
        visit: Visit | None = session.visit
        if visit is not None and (closed := await erased_since(web, request, session, visit)):
            return closed
        if visit is None or not visit.results:  # every result erased by the station: its screen says so
            return RedirectResponse("/result" if visit else "/patient", 303)
        draft = session.draft_of("/handout")
        if request.method == "POST":
            with_reference = (await request.form()).get("with_reference") == "yes"
        else:  # as the language switch left it, else without
            with_reference = draft is not None and draft["with_reference"]
        return web.render(
            request,
            session,
            "handout.html",
            visit=visit,
            with_reference=with_reference,
            date=readable_date(datetime.now(UTC), session.language, with_time=False),
            **_result_view(visit, session, visit.slot),
        )

    @web.page()
    async def finish_question(request: Request, session: Session) -> Response:
        """The result screen asking whether to finish with an eye not photographed (a page of its
        own, so switching the language keeps the question on the screen)."""
        visit: Visit | None = session.visit
        if visit is None or not visit.eyes_not_photographed:  # a lesion erased by the station is no eye
            return RedirectResponse("/result" if visit else "/patient", 303)
        return await result_screen(request, session, with_status=True, confirm_finish=True)

    @web.page()
    async def finish(request: Request, session: Session) -> Response:
        """Close the visit; with an eye still to photograph, only once the nurse has confirmed it,
        and the eye then goes on the day's worklist as not photographed (audited). The result
        screen posts it with htmx, so an unanswered one says so (app.js, sayNoAnswer) where the
        browser showed its own error page; the next screen is loaded as a page (``sent_to``). A patient
        erased since the question was asked (``edgescreen erase``) has no eye to call back for: asked in
        the audit's own step on the records thread, as a screening's ``_require_held`` is, the visit closed
        first, so a second post still finds none to close while the first one's audit waits."""
        form = await request.form()
        visit = posted_visit(request, session, form)  # a screen of another patient's: not asked of this one
        if isinstance(visit, Response):
            return visit
        missing = visit.eyes_not_photographed
        if missing and form.get("confirmed") != "yes":
            return sent_to(request, "/finish")
        # Closed before the audit runs, not after: a second post meanwhile (a double tap on "Finish
        # anyway") finds no visit to close, where it listed the eye on Today as not photographed twice.
        session.visit = None
        records = device.store.records

        def audited() -> None:  # dated by the clock as a screening is, and its state kept as theirs
            if device.store.gone(visit.beside).with_the_patient:
                raise PatientErased("the visit's patient was erased since: no eye of theirs to call back for")
            clock = records.clock_state(records.clock()).value
            event = not_photographed_event(missing, session.operator, clock, records.boot(), visit.result_ids)
            visit_finished(device.store, visit.id, event if missing else None)

        try:
            await device.run(audited)
        except PatientErased:
            return await patient_erased(web, request, session, visit, "records.patient_erased_shown")
        except BaseException:
            session.visit = visit  # nothing audited: the visit stays open
            raise
        if form.get("another") == "yes" and visit.modality == "dermoscopy":
            session.another_lesion = visit.reference
        return sent_to(request, "/patient")

    return [
        Route("/capture", capture),
        Route("/capture/stream", stream),
        Route("/capture/events", events),
        Route("/capture/shoot", shoot, methods=["POST"]),
        Route("/patient/scan", scan),
        Route("/patient/scan/events", scan_events),
        Route("/capture/release", release, methods=["POST"]),
        Route("/capture/not-photographed", not_photographed_question, methods=["GET"]),
        Route("/capture/not-photographed", not_photographed, methods=["POST"]),
        Route("/check", check),
        Route("/check/photo", photo),
        Route("/check/use", use, methods=["POST"]),
        Route("/retake", retake, methods=["POST"]),
        Route("/capture/keep", keep_earlier, methods=["POST"]),
        Route("/result", result),
        Route("/handout", handout, methods=["GET", "POST"]),
        Route("/finish", finish_question, methods=["GET"]),
        Route("/finish", finish, methods=["POST"]),
    ]


def _result_view(visit: Visit, session: Session, slot: str, count: int | None = None) -> dict:
    """What the result screen and the hand-out add to the visit: the ``slot`` shown, its result shown
    (``shown``) and the one it stands at (``standing``), the lesion measurements in words, the slot
    still to photograph, the outcome an earlier photo of the slot holds it at when the photo just
    used does not (``Visit.standing``), and the slots a result of which the review station erased
    (``Visit.forget``), but for the one shown with none left (it says so itself). ``count``: the
    slot's results as the photo that made the first ``count`` of them was recorded (its lost answer,
    asked for again); the patient's outcome and what is left to photograph are the visit's now:
    ``next_slot`` the first slot to photograph, ``next_other`` the first but ``slot`` (the screen's Next)."""
    outcome = visit.outcome
    taken = visit.taken.get(slot, [])[:count]
    shown = taken[-1] if taken else None
    standing = visit.standing(slot, count) if shown else None
    return {
        "slot": slot,
        "shown": shown,
        "standing": standing,
        "patient_outcome": outcome.value if outcome else "pending",
        "earlier_stands": standing.triage.outcome.value if standing and standing is not shown else None,
        "lesion_text": lesion_line(shown.lesion, session.language) if shown and shown.lesion else None,
        "next_slot": visit.next_slot,
        "next_other": visit.next_slot_besides(slot),
        "erased_notes": [erased for erased in visit.erased if erased != slot or shown],
    }


async def _published(device: Device, token: str, idle: bool = False) -> AsyncIterator[PreviewFrame | None]:
    """Each new preview frame while ``token`` holds the camera; reading it keeps the lease alive, and a
    closed page lets it lapse. Asked ``idle``, also ``None`` whenever no new frame is there, at least
    each ``BEAT_S`` (the camera failed, or is slow): the reader's turn to say so, or that it answers."""
    camera = device.camera
    event = camera.subscribe()
    seq = -1
    try:
        while camera.holds(token) and not device.closing.is_set():
            camera.touch(token)
            event.clear()
            frame = camera.latest
            if frame is not None and frame.seq != seq:
                seq = frame.seq
                yield frame
                continue
            if idle:
                yield None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), BEAT_S)
    finally:
        camera.unsubscribe(event)
