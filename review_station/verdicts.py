"""Specialists' reads of a result, the second read and adjudication, and the verdict sent to the device.

A result's ``state`` moves: ``awaiting_review`` -> (first read) -> ``reviewed``, or, at a site with a
second read, -> ``awaiting_second_read`` -> (a different reader, blind to the first read) ->
``reviewed`` when both reads agree on what the patient gets (``care_of``), else ``disagreement`` -> (a
coordinator adjudicates) -> ``reviewed``. Reaching ``reviewed`` queues the verdict for the device as
``edgescreen.review/1`` or ``/2`` (signed as ``/3`` as it is sent, ``ingest.ingester``); the ingester
sends it until the device acknowledges it, under a new review id when the device answers
``conflict``. Each read is audited in its own transaction.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, exists, func, insert, or_, select, update

from edgescreen_wire import typed_text
from edgescreen_wire.checks import WireError, utc_seconds
from edgescreen_wire.result import could_not_photograph
from edgescreen_wire.review import (
    DIAGNOSES,
    ICDR_GRADES,
    MACULOPATHY,
    MAX_COMMENT,
    REVIEW_V1,
    REVIEW_V2,
    REVIEW_V3,
    URGENCIES,
    parse_review_document,
)
from edgescreen_wire.topics import REVIEW, device_topic
from firmware_app.events import log_event
from firmware_app.inference.triage import Outcome
from review_station import audit, contrary
from review_station.accounts import SignedIn
from review_station.joint_comment import joint_comment
from review_station.storage import tallies
from review_station.storage.locks import for_update
from review_station.storage.tables import deliveries, images, queue_rank_of, reads, results

VERDICTS = tuple(outcome.value for outcome in Outcome)
# What the reader's own grading makes referable whatever else is seen (the device's definition,
# models/dr-referable's card: moderate NPDR or worse, or any maculopathy), and the dermoscopy
# diagnoses no reader may send home: a "no referral" beside them is a slip, not a judgement.
REFERABLE_GRADES = ("moderate", "severe", "proliferative")
MALIGNANT = ("melanoma", "basal_cell_carcinoma", "squamous_cell_carcinoma")
ADJUDICATORS = ("coordinator", "admin")
# A delivery the device has not answered yet; the ingester sends these until it does.
UNSETTLED_DELIVERY = ("pending", "sent")
SUPERSEDED_DELIVERY = "superseded"  # an amendment replaced it before the device acknowledged it
# A verdict queued before a wire check it fails (a station of an earlier version queued it): the device
# would refuse it, and sending it again and again raised in the ingester, whose crash under systemd
# stopped every result and verdict. Set aside, it is listed undelivered for a coordinator to pass on.
UNSENDABLE_DELIVERY = "unsendable"
# What a refusal of an incomplete grading adds when the reader had no photo: the grading may be left out.
_OR_NEITHER = {True: "", False: ", or neither when the grading is not assessed (no photo)"}
# The one urgency a "no referral" takes: it refers no one, so the device shows no urgency beside it
# (firmware_app/records/verdicts.py, the Today screen and the record), and a "soon" or "urgent" one
# would reach nobody. Urgency is for a referral or a photo the reader could not grade.
ROUTINE = "routine"


# A read's grading: a fundus read's grade and maculopathy, or a dermoscopy read's diagnosis.
GRADING = ("icdr_grade", "maculopathy", "diagnosis")
# Grades and diagnoses that change nothing the patient gets, whichever of them a reader chose: neither
# grade is referable (the device's definition), and none of these lesions is treated for itself. Not
# among them: an actinic keratosis, premalignant and usually treated, and "other", which names no lesion
# the reader recognised; each counts as itself, as a malignant diagnosis and "ungradable" do.
NOT_REFERABLE_GRADES = ("none", "mild")
BENIGN = ("naevus", "seborrhoeic_keratosis", "dermatofibroma", "vascular_lesion")


def read_graded(read: Any) -> bool:
    """Whether a read (a form, or a stored read's row) graded the photo; one made without a photo may
    leave its grading "not assessed", and is then no independent check of the model (the dashboard)."""
    return any(getattr(read, name) for name in GRADING)


def care_of(read: Any) -> tuple[str | None, ...]:
    """What of a read (a form, or a stored read's row) decides what the patient gets, which a blind
    second read must agree on to settle the result without a coordinator: the verdict, the urgency, the
    ICDR grade (none and mild as one), the maculopathy, and a dermoscopy diagnosis (the benign ones as
    one). The verdict alone is not enough: two "refer" reads, one urgent for a proliferative
    retinopathy, the other routine, would send the nurse only the second, and the urgent finding would
    reach nobody. A read not assessed (no photo) agrees with no graded one: its grading is not there
    to compare. Reads that agree on all of it differ in nothing the device acts on, so the second
    read's is sent, with both readers' comments (``joint_comment``). A "no referral" counts as routine
    whatever its urgency: the device shows none beside it, and a read stored before ``ReadForm.checked``
    refused one "soon" or "urgent" must not set it against a new read that can only say routine
    (``urgency_of``)."""
    grade = "not referable" if read.icdr_grade in NOT_REFERABLE_GRADES else read.icdr_grade
    diagnosis = "benign" if read.diagnosis in BENIGN else read.diagnosis
    return (read.verdict, urgency_of(read), grade, read.maculopathy, diagnosis)


def urgency_of(read: Any) -> str:
    """A read's urgency as the station counts and shows it (a form, or a stored read's row): routine for
    a "no referral", which the device shows with none and ``ReadForm.checked`` now refuses otherwise,
    so a read stored "no referral, soon" before that says what a new one would."""
    return ROUTINE if read.verdict == Outcome.NO_REFER else read.urgency


# ``read_graded`` of a stored read, as a query's condition.
GRADED_READ = or_(*(reads.c[name].is_not(None) for name in GRADING))


class ReadRefused(ValueError):
    """A read the workflow does not accept now; the message says why, in words for the reader. ``key``
    names the page's sentence for it (``review_station/words.py``: "refused.<key>"), ``values`` what
    it says, codes left codes (the page words them in the reader's language)."""

    def __init__(self, why: str, key: str, **values: str | None) -> None:
        super().__init__(why)
        self.key, self.values = key, values


class ReadOutOfTurn(ReadRefused):
    """A complete, consistent read that the result's state does not take: most often the loser of two
    readers who submitted at once, whose contrary read would otherwise live only on their own page.
    ``record_read`` audits it (``read_refused``) for a coordinator to find."""


@dataclass(frozen=True)
class ReadForm:
    verdict: str
    urgency: str
    icdr_grade: str | None = None
    maculopathy: str | None = None
    diagnosis: str | None = None
    comment: str | None = None

    def checked(self, modality: str, photo: bool = True, photographed: bool = True) -> ReadForm:
        """The form, or ``ReadRefused`` naming the first field the reader must correct.

        ``photo``: whether the station holds the result's photo. The grading is read off the photo, so
        it is required beside one; without one (the device shares none, or it has not arrived) the
        reader records the verdict and urgency and may leave the grading out: "not assessed".
        ``photographed`` false: an eye the nurse could not photograph, of which no photo exists
        anywhere; a grading of it would reach the nurse's record as a finding nobody saw, so it has none."""
        if self.verdict not in VERDICTS:
            raise ReadRefused(f"choose a verdict: {', '.join(VERDICTS)}", "no_verdict")
        if self.urgency not in URGENCIES:
            raise ReadRefused(f"choose an urgency: {', '.join(URGENCIES)}", "no_urgency")
        if not photographed and self.graded:
            why = "this eye could not be photographed: its grading stays not assessed (no photo)"
            raise ReadRefused(why, "unphotographed_graded")
        if modality == "fundus":
            if self.diagnosis:
                raise ReadRefused("a fundus read has no dermoscopy diagnosis", "fundus_diagnosis")
            if (photo or self.graded) and (self.icdr_grade not in ICDR_GRADES or self.maculopathy not in MACULOPATHY):
                why = f"a fundus read needs the ICDR grade and the maculopathy{_OR_NEITHER[photo]}"
                raise ReadRefused(why, "fundus_grading" if photo else "fundus_grading_or_neither")
        else:
            if self.icdr_grade or self.maculopathy:
                raise ReadRefused("a dermoscopy read has no ICDR grade nor maculopathy", "dermoscopy_grade")
            if (photo or self.graded) and self.diagnosis not in DIAGNOSES:
                why = f"a dermoscopy read needs a diagnosis category{_OR_NEITHER[photo]}"
                raise ReadRefused(why, "dermoscopy_diagnosis" if photo else "dermoscopy_diagnosis_or_neither")
        if self.comment is not None and len(self.comment) > MAX_COMMENT:
            raise ReadRefused(
                f"the comment is longer than {MAX_COMMENT} characters", "long_comment", most=str(MAX_COMMENT)
            )
        if self.comment is not None and (why := typed_text.refusal(self.comment, "the comment")):
            code, place = typed_text.first_refused(self.comment) or ("", 0)
            raise ReadRefused(why, "comment_control", code=code, place=str(place))
        if self.graded:
            self._consistent(modality)
        if self.verdict == Outcome.NO_REFER and self.urgency != ROUTINE:
            why = (
                "a no-refer verdict refers no one, so its urgency is routine: refer if the patient is to be seen sooner"
            )
            raise ReadRefused(why, "no_refer_urgency")
        return self

    @property
    def graded(self) -> bool:
        """Whether the reader graded the photo at all (a read without a photo need not: "not assessed")."""
        return read_graded(self)

    @property
    def findings(self) -> dict[str, str | None] | None:
        """The read's findings as ``edgescreen.review/2`` carries them (a checked form's: one modality's),
        or ``None`` when the grading was not assessed, which the document then leaves out."""
        if not self.graded:
            return None
        if self.diagnosis:
            return {"diagnosis": self.diagnosis}
        return {"icdr_grade": self.icdr_grade, "maculopathy": self.maculopathy}

    def _consistent(self, modality: str) -> None:
        """Refuse a verdict the read's own grading contradicts: "no refer" beside a referable grade,
        maculopathy or a malignant diagnosis, or beside a photo graded ungradable; "ungradable"
        beside a grade or diagnosis read off the photo. "Refer" stands beside any grading: a reader
        may refer for what the grade does not cover (a suspected glaucoma, a lesion's history)."""
        if modality == "fundus":
            graded_ungradable = "ungradable" in (self.icdr_grade, self.maculopathy)
            referable = self.icdr_grade in REFERABLE_GRADES or self.maculopathy == "present"
            finding = f"ICDR grade {self.icdr_grade}, maculopathy {self.maculopathy}"
            codes = {"icdr": self.icdr_grade, "maculopathy": self.maculopathy}
        else:
            graded_ungradable = self.diagnosis == "ungradable"
            referable = self.diagnosis in MALIGNANT
            finding = f"diagnosis {(self.diagnosis or '').replace('_', ' ')}"
            codes = {"diagnosis": self.diagnosis}
        if self.verdict == Outcome.NO_REFER and referable:
            why = f"a no-refer verdict contradicts the {finding}, which is referable: refer, or correct it"
            raise ReadRefused(why, "no_refer_referable", **codes)
        if self.verdict == Outcome.NO_REFER and graded_ungradable:
            raise ReadRefused(
                f"a no-refer verdict needs a photo that could be graded ({finding})", "no_refer_ungradable", **codes
            )
        if self.verdict == Outcome.UNGRADABLE and not graded_ungradable:
            raise ReadRefused(
                f"an ungradable verdict contradicts the {finding} read off the photo", "ungradable_graded", **codes
            )


def review_schema_read(result_payload: Mapping[str, Any]) -> str:
    """The verdict schema a result says its device reads (``edgescreen.result/3``), else ``/1``."""
    return result_payload.get("review_schema", REVIEW_V1)


def verdict_schema(result_payload: Mapping[str, Any]) -> str:
    """The review document a result's verdicts are queued as: the one the result names, else ``/1``:
    a device refuses what it cannot read, and the verdict would be lost. A device that reads ``/3`` is
    queued ``/2``, which the ingester signs as it sends it (``/3`` wraps it)."""
    schema = review_schema_read(result_payload)
    return REVIEW_V2 if schema == REVIEW_V3 else schema


def _decision_time(connection: Connection, result_id: str, now: datetime) -> datetime:
    """When a result's new verdict was decided, to the second as the wire carries it: now, or one
    second after the latest verdict already queued for the result when that is as late or later
    (decided earlier in the same second, or this station's clock was ahead then). A device takes the
    verdict with the latest time as the one that stands, and one of equal time by its arrival, so an
    amendment must be strictly later than what it amends, whatever order the two arrive in."""
    latest = connection.execute(
        select(func.max(deliveries.c.reviewed_at)).where(deliveries.c.result_id == result_id)
    ).scalar()
    now = now.replace(microsecond=0)
    return now if latest is None or now > latest else latest + timedelta(seconds=1)


def _queue_delivery(
    connection: Connection, result: Any, review_id: str, form: ReadForm, reader: str, comment: str | None
) -> None:
    """Queue the verdict of ``form`` for the result's device, with ``comment`` (the read's own, or both
    agreeing readers')."""
    now = datetime.now(UTC)
    schema = verdict_schema(result.payload)
    reviewed_at = _decision_time(connection, result.result_id, now)
    document: dict[str, Any] = {
        "schema": schema,
        "review_id": review_id,
        "result_id": result.result_id,
        "verdict": form.verdict,
        "reviewed_at": utc_seconds(reviewed_at),
        "reviewer": reader,
    }
    if comment:
        document["comment"] = comment
    if schema == REVIEW_V2:
        document["urgency"] = form.urgency
        if form.findings is not None:  # a grading not assessed travels as no findings at all
            document["findings"] = form.findings
    connection.execute(
        insert(deliveries).values(
            review_id=review_id,
            result_id=result.result_id,
            topic=device_topic(result.site_id, result.device_id, REVIEW),
            payload=_review_payload(document),
            state="pending",
            attempts=0,
            updated_at=now,
            reviewed_at=reviewed_at,
        )
    )


def _review_payload(document: dict[str, Any]) -> bytes:
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    parse_review_document(payload)  # the wire check the device applies: never queue what it would refuse
    return payload


def _new_review_id() -> str:
    return f"rv-{uuid.uuid4().hex}"


def resend_under_new_id(connection: Connection, review_id: str, result_id: str, topic: str, at: datetime) -> None:
    """Queue again, under a new id, the verdict a device answered ``conflict``: that device holds the
    id for another review, so it stored nothing, and the same id would be refused for ever. The read
    keeps its id; the delivery carries the one the device will hold."""
    unsettled = connection.execute(
        select(deliveries.c.payload).where(
            deliveries.c.review_id == review_id,
            deliveries.c.result_id == result_id,
            deliveries.c.topic == topic,
            deliveries.c.state.in_(UNSETTLED_DELIVERY),
        )
    ).first()
    if unsettled is None:
        return  # a repeated answer to an attempt already renamed, or not this device's verdict
    try:
        checked = parse_review_document(unsettled.payload)
    except WireError as error:
        set_aside(connection, review_id, error, at)
        return
    renamed = _new_review_id()
    document = {**checked, "review_id": renamed}
    connection.execute(
        update(deliveries)
        .where(deliveries.c.review_id == review_id)
        .values(review_id=renamed, payload=_review_payload(document), state="pending", last_sent_at=None, updated_at=at)
    )
    log_event("review.verdict_renamed", result_id=result_id, review_id=review_id, new_review_id=renamed)


def set_aside(connection: Connection, review_id: str, error: WireError, at: datetime) -> None:
    """Stop sending a queued verdict that no longer passes the wire checks (``UNSENDABLE_DELIVERY``):
    the one verdict is listed undelivered (``review_station.undelivered``) and the rest go on."""
    connection.execute(
        update(deliveries)
        .where(deliveries.c.review_id == review_id, deliveries.c.state.in_(UNSETTLED_DELIVERY))
        .values(state=UNSENDABLE_DELIVERY, updated_at=at)
    )
    log_event("review.verdict_unsendable", level=logging.ERROR, review_id=review_id, error=str(error))


def record_read(
    engine: Engine,
    result_id: str,
    reader: SignedIn,
    form: ReadForm,
    second_read_sites: tuple[str, ...],
    amends: str | None = None,
    settles: int = 0,
) -> str:
    """Store one read; returns the result's new state. A refused read changes no read nor result: one
    refused out of turn is audited with its verdict, urgency and grading (codes, as every read's audit
    event), and kept whole, comment included, for a coordinator when it differs in care from the read
    that stands (``contrary``).

    ``amends``: the read an amendment replaces, as the coordinator saw it last. Without it, or when
    another read came since, a read of a reviewed result is refused: a coordinator's first read,
    saved after another reader's, must not become an amendment nobody meant. ``settles``: the newest
    refused contrary read the coordinator was shown; the amendment settles it and those before it."""
    try:
        return _store_read(engine, result_id, reader, form, second_read_sites, amends, settles)
    except ReadOutOfTurn:
        with engine.begin() as connection:
            read = {name: getattr(form, name) for name in ("verdict", "urgency", *GRADING)}
            read["contrary"] = _keep_if_contrary(connection, result_id, reader, form)
            audit.append(connection, "read_refused", {"result": result_id, **read, "by": reader.username})
        raise


def _keep_if_contrary(connection: Connection, result_id: str, reader: SignedIn, form: ReadForm) -> int | None:
    """Keep a read refused out of turn for a coordinator when the result is settled and the read
    differs in care (``care_of``) from the read that stands, its last; its id, else ``None``. (Out of
    turn before a result is settled, a read is a reader's own twice over, or a third beside a
    disagreement a coordinator adjudicates anyway.)"""
    locked = for_update(connection, select(results.c.state).where(results.c.result_id == result_id))
    if connection.execute(locked).scalar() != "reviewed":
        return None
    standing = connection.execute(
        select(reads).where(reads.c.result_id == result_id).order_by(reads.c.id.desc()).limit(1)
    ).one()
    if care_of(standing) == care_of(form):
        return None
    return contrary.keep(connection, result_id, reader.user_id, dataclasses.asdict(form), standing.review_id)


def _store_read(
    engine: Engine,
    result_id: str,
    reader: SignedIn,
    form: ReadForm,
    second_read_sites: tuple[str, ...],
    amends: str | None,
    settles: int,
) -> str:
    with engine.begin() as connection:
        photo = exists().where(images.c.result_id == results.c.result_id).label("photo")  # to grade from
        # Held until the read commits: a second read saved at the same moment finds this one recorded.
        locked = for_update(connection, select(results, photo).where(results.c.result_id == result_id), of=results)
        result = connection.execute(locked).first()
        if result is None:
            raise ReadRefused("no such result", "no_result")
        form = form.checked(
            result.modality, photo=bool(result.photo), photographed=not could_not_photograph(result.payload["quality"])
        )
        earlier = connection.execute(select(reads).where(reads.c.result_id == result_id).order_by(reads.c.id)).all()
        if result.state == "awaiting_review":
            kind = "first"
            new_state = "awaiting_second_read" if result.site_id in second_read_sites else "reviewed"
        elif result.state == "awaiting_second_read":
            if any(read.user_id == reader.user_id for read in earlier):
                raise ReadOutOfTurn("the second read must be by another reader", "same_reader")
            kind = "second"
            new_state = "reviewed" if care_of(earlier[0]) == care_of(form) else "disagreement"
        elif result.state == "disagreement":
            if reader.role not in ADJUDICATORS:
                raise ReadOutOfTurn("a disagreement is adjudicated by a coordinator", "adjudication")
            kind, new_state = "adjudication", "reviewed"
        elif reader.role in ADJUDICATORS and amends is not None:
            if amends != earlier[-1].review_id:
                why = "the result was read again meanwhile (its reads are shown): amend it again if need be"
                raise ReadOutOfTurn(why, "read_meanwhile")
            # A verdict sent in error is corrected, never edited: the amendment is the last read, so it
            # settles the result (dashboard, export), and goes to the device as a new verdict.
            kind, new_state = "amendment", "reviewed"
        else:
            raise ReadOutOfTurn(
                "this result has been reviewed already (its reads are shown): a coordinator can amend the verdict "
                "from this page",
                "reviewed_already",
            )
        review_id = _new_review_id()
        connection.execute(
            insert(reads).values(
                review_id=review_id,
                result_id=result_id,
                user_id=reader.user_id,
                kind=kind,
                verdict=form.verdict,
                icdr_grade=form.icdr_grade,
                maculopathy=form.maculopathy,
                diagnosis=form.diagnosis,
                urgency=form.urgency,
                comment=form.comment,
                created_at=datetime.now(UTC),
            )
        )
        moved = {"state": new_state, "queue_rank": queue_rank_of(new_state)}
        connection.execute(update(results).where(results.c.result_id == result_id).values(**moved))
        if kind == "amendment":  # the verdict in error is no longer sent; one the device holds stays as it is
            connection.execute(
                update(deliveries)
                .where(deliveries.c.result_id == result_id, deliveries.c.state.in_(UNSETTLED_DELIVERY))
                .values(state=SUPERSEDED_DELIVERY, updated_at=datetime.now(UTC))
            )
        if new_state == "reviewed":
            # Two agreeing reads: the nurse gets both comments, the first reader's too.
            both = kind == "second"
            comment = joint_comment(earlier[0].comment, form.comment) if both else form.comment
            _queue_delivery(connection, result, review_id, form, reader.username, comment)
        audit.append(
            connection,
            "verdict",
            {"result": result_id, "review": review_id, "kind": kind, "verdict": form.verdict, "by": reader.username},
        )
        # The tallies after the audit's lock, as every writer takes them (``erasure.erase_in``, an ingest
        # batch that audits an erasure, then counts its new results): before it, a batch holding the lock
        # waited for the tally this read held, and the read for the lock, and PostgreSQL failed one.
        tallies.move(connection, result._mapping, new_state)
        if kind == "amendment":  # it replaces the read the refused contrary reads were compared with
            contrary.settle(connection, result_id, settles, "amended", review_id, reader)
    return new_state


def resend_verdicts(engine: Engine, device_id: str, by: str) -> int:
    """Send a device again the verdict that stands for each of its results, once acknowledged, e.g.
    after its records were restored from a backup older than some of them: it stores the ones it lost
    and answers ``duplicate`` for the rest. A verdict an amendment replaced is left out, acknowledged
    or not: the device, had it lost both, would otherwise be told the verdict in error again. Returns
    how many are queued again."""
    later = deliveries.alias("later")
    replaced = exists().where(
        later.c.result_id == deliveries.c.result_id, later.c.reviewed_at > deliveries.c.reviewed_at
    )
    with engine.begin() as connection:
        of_device = select(results.c.result_id).where(results.c.device_id == device_id)
        settled = connection.execute(
            update(deliveries)
            .where(
                deliveries.c.result_id.in_(of_device),
                deliveries.c.state.not_in((*UNSETTLED_DELIVERY, SUPERSEDED_DELIVERY)),
                ~replaced,
            )
            .values(state="pending", last_sent_at=None, updated_at=datetime.now(UTC))
        ).rowcount
        audit.append(connection, "verdicts_resent", {"device": device_id, "verdicts": settled, "by": by})
    return settled
