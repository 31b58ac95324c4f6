"""Today's worklist, and a patient's records: find, view, export, erase (each audited by the records)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edgescreen_wire.result import could_not_photograph
from firmware_app.events import log_event
from firmware_app.records.images import JPEG
from firmware_app.records.screening import MAX_PATIENT_REF
from firmware_app.records.store import Erasure, UnknownResult, same_reference
from firmware_app.records.worklist import entries_of, image_count, midnight, worklist
from firmware_app.web.pages_session import status
from firmware_app.web.photos import inline_kept_photo
from firmware_app.web.server import WebApp, over_https
from firmware_app.web.sessions import Session
from firmware_app.wording import exports_said

# The record's photo beside its details (app.css, .record-photo): enough to tell two lesions apart.
RECORD_PHOTO_BOX = (240, 180)
# A patient's screenings shown at a time under the search, newest first (records.html): with the
# search, the found line and the erase button, what fits the 800x480 screen; the older ones a page on.
RECORDS_PAGE = 3
# Set on the exported photo's answer: the page that asked for it (app.js) then says it was exported,
# which a kiosk's browser does not (no download bar); never before the browser has the file.
EXPORTED = "edgescreen_exported"


def export_file(result_id: str) -> str:
    """The exported photo's file name, as the download gives it and the line after it names it."""
    return f"edgescreen-{result_id}.jpg"


def page_asked(request: Request, pages: int) -> int:
    """The page of a patient's list the address asks for (``?page=``, the older and newer buttons'), kept
    within the list: an old page's link may ask past its end once screenings were erased."""
    asked = request.query_params.get("page", "")
    return min(pages, int(asked)) if asked.isascii() and asked.isdigit() and int(asked) > 0 else 1


def erased_text(web: WebApp, session: Session, erasure: Erasure) -> str:
    """What an erasure removed and what it could not, in the session's language: the nurse acts on
    it (what was left, what the station is asked to erase), so a language switch says it again."""
    done = web.text(
        session,
        "records.erased",
        screenings=web.counted(session, "count.screenings", erasure.results),
        photos=web.counted(session, "count.photos", erasure.images),
        withdrawn=web.counted(session, "count.withdrawn", erasure.unsent_withdrawn),
    )
    if erasure.unsent_in_flight:
        done += " " + web.counted(session, "records.erased_in_flight", erasure.unsent_in_flight)
    if erasure.left_on_disk:
        done += " " + web.text(session, f"records.erased_left_on_disk.{erasure.left_on_disk.cause}")
    if erasure.at_the_station:  # the sync service asks the station to erase its copies
        done += " " + web.counted(session, "records.erased_at_station", len(erasure.at_the_station))
    if erasure.exported.count:  # decrypted copies downloaded before: the erasure does not reach them
        done += " " + exports_said("records.erased_exported", erasure.exported, session.language)
    return done


def not_held(web: WebApp, request: Request, session: Session, result_id: str) -> Response:
    """A record asked for that the records do not hold: erased in another tab, then opened from an old
    page, a bookmark or the back button. Normal use, so no error in the log nor "call the technician":
    said in the nurse's words, with the way back to Records."""
    log_event("app.record_not_held", path=request.url.path, result_id=result_id[:64])  # a forged one may be long
    back = {"path": "/records", "text_key": "records.back"}
    return web.render(request, session, "message.html", 404, text_key="records.gone", back=back)


def routes(web: WebApp) -> list[Route]:
    device = web.device

    @web.page()
    async def today(request: Request, session: Session) -> Response:
        shown = request.query_params.get("filter", "all")
        since = midnight()
        mine = session.operator if shown == "mine" else None

        def read() -> tuple[list, dict]:
            return worklist(device.store.records, since, shown == "verdict", mine), status(web)

        entries, bar = await device.run(read)
        # A screening dated after today (on this boot, by a clock not set: ``worklist``) is no more
        # today's than one dated before it: its date is said too.
        tomorrow = midnight(since.date() + timedelta(days=1))
        context = {"entries": entries, "shown": shown, "status": bar, "midnight": since, "tomorrow": tomorrow}
        return web.render(request, session, "today.html", **context)

    async def _records_page(request: Request, session: Session, status_code: int = 200, **extra: object) -> Response:
        reference = session.records_query

        def read() -> tuple[list, dict[str, int], dict]:
            if not reference:
                return [], {}, status(web)
            search = device.store.search_patient(reference)
            ids = list(search.result_ids)
            return (entries_of(device.store.records, ids) if ids else []), search.close, status(web)

        entries, close, bar = await device.run(read)
        pages = max(1, -(-len(entries) // RECORDS_PAGE))
        ids = [entry.result_id for entry in entries]
        opened = session.records_viewed if extra.get("detail") and session.records_viewed in ids else None
        # A record opened: "See the list" under it goes back to the page that holds it, not the newest.
        shown = ids.index(opened) // RECORDS_PAGE + 1 if opened else page_asked(request, pages)
        context = {"entries": entries, "close": close, "reference": reference, "status": bar}
        context |= {"shown": entries[(shown - 1) * RECORDS_PAGE : shown * RECORDS_PAGE], "page": shown, "pages": pages}
        context |= {"export_file": export_file}
        context |= {"detail": None, "confirm": None}
        return web.render(request, session, "records.html", status_code, **(context | extra))

    @web.page()
    async def records(request: Request, session: Session) -> Response:
        if request.method == "POST":
            typed = str((await request.form()).get("reference", ""))
            session.records_viewed, session.records_erased = None, None
            if why := web.typed_refusal(session, typed, "reference"):
                session.records_query = None  # no search: the reference stays in the field, to be corrected
                return await _records_page(request, session, 400, reference=typed, refusal=why)
            session.records_query = typed.strip()[:MAX_PATIENT_REF] or None
        return await _records_page(request, session)

    @web.page()
    async def view(request: Request, session: Session) -> Response:
        """One screening in words: opened by its row's post, shown again by a load of the same
        address (the language switch reloads the page it was on)."""
        if request.method == "POST":
            session.records_viewed = str((await request.form()).get("result_id", ""))
        result_id = session.records_viewed
        if result_id is None:
            return RedirectResponse("/records", 303)
        try:
            detail = await device.run(lambda: device.store.view(result_id, with_photo=True))
        except UnknownResult:
            return not_held(web, request, session, result_id)
        # The search under the record is its patient's: opened from Today after a search of another
        # patient, the record sat above that one's screenings, and its "Erase this patient" button.
        session.records_query = detail["patient_ref"] or None
        kept = detail.pop("photo")
        photo = None
        if detail["modality"] == "dermoscopy":  # an eye names its photo; a coarse body site does not
            photo = await asyncio.to_thread(inline_kept_photo, kept, RECORD_PHOTO_BOX) if kept else ""
        unphotographable = could_not_photograph(detail["quality"])
        return await _records_page(request, session, detail=detail, photo=photo, unphotographable=unphotographable)

    @web.page()
    async def export(request: Request, session: Session) -> Response:
        if request.method != "POST":  # the language switch reloads the page a refused export left her on
            return RedirectResponse("/records", 303)
        result_id = str((await request.form()).get("result_id", ""))
        try:
            images = await device.run(lambda: device.store.export_images(result_id))
        except UnknownResult:
            return not_held(web, request, session, result_id)
        jpegs = [data for media_type, data in images if media_type == JPEG]
        if not jpegs:  # deleted after its retention period: said, where the page came back unchanged
            gone = web.text(session, "records.photo_gone")
            return await _records_page(request, session, 404, export_gone=gone)
        headers = {"Content-Disposition": f'attachment; filename="{export_file(result_id)}"'}
        answer = Response(jpegs[0], media_type=JPEG, headers=headers)
        answer.set_cookie(
            EXPORTED, result_id, max_age=60, samesite="strict", path="/records", secure=over_https(request)
        )
        return answer

    @web.page()
    async def erase(request: Request, session: Session) -> Response:
        reference = session.records_query
        if not reference and request.method != "POST" and session.records_erased is not None:
            # The page an erasure left her on, loaded again (the language switch): what it did, in words.
            return await _records_page(request, session, done=erased_text(web, session, session.records_erased))
        if not reference:
            return RedirectResponse("/records", 303)
        # A patient being screened, on this screen or another: erased, the visit went on, its screens
        # showing and printing what was erased, and its next eye recorded the patient again.
        if any(same_reference(visit.reference, reference) for visit in web.sessions.visits()):
            refusal = web.text(session, "records.erase_visit_open")
            return await _records_page(request, session, 409, refusal=refusal)
        # A load of the address (the language switch) asks again; only a confirming post erases.
        form = await request.form() if request.method == "POST" else {}
        # Erased only when the patient confirmed is the one on the records screen now: another tab
        # of the session may have searched another patient since the question was asked.
        if form.get("confirmed") != "yes" or form.get("reference") != reference:

            def count() -> dict[str, object]:
                search = device.store.search_patient(reference)
                ids = list(search.result_ids)
                images = image_count(device.store.records, ids) if ids else 0
                # Close references are named, not erased: the nurse opens and erases one that is the same patient.
                return {"results": len(ids), "images": images, "close": search.close}

            confirm = await device.run(count)
            return await _records_page(request, session, confirm=confirm | {"reference": reference})
        erasure = await device.run(lambda: device.store.erase_patient(reference))
        session.records_query, session.records_viewed, session.records_erased = None, None, erasure
        return await _records_page(request, session, done=erased_text(web, session, erasure))

    return [
        Route("/today", today),
        Route("/records", records, methods=["GET", "POST"]),
        Route("/records/view", view, methods=["GET", "POST"]),
        Route("/records/export", export, methods=["GET", "POST"]),
        Route("/records/erase", erase, methods=["GET", "POST"]),
    ]
