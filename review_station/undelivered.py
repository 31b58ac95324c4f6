"""Verdicts that have not reached a nurse, listed for a coordinator to pass on another way.

A verdict the device never shows is a referral nobody acts on, so it must not end quietly in a
delivery state on one result's page. The verdict that stands for a result (not one an amendment
replaced) is undelivered when:

- its device answered ``unknown_result``: it does not hold the result (erased on the patient's
  request, restored from an older backup, or replaced), and never will;
- it no longer passes the wire checks (queued by a station of an earlier version): the device would
  refuse it, so it is set aside unsent (``verdicts.UNSENDABLE_DELIVERY``);
- its device is retired: nothing more is sent to it (a lost or stolen device's broker session is no
  place for a patient's verdict);
- it has waited unacknowledged longer than ``[dashboard] undelivered_alert_h`` (a device dead,
  broken or away for good).

Each is listed with what the clinic needs to find the patient in its own visit register (site,
device, time of capture, eye, body site) until a coordinator marks it handled, which is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, exists, or_, select, update

from review_station import audit
from review_station.accounts import SignedIn
from review_station.storage.tables import deliveries, devices, reads, results
from review_station.verdicts import UNSENDABLE_DELIVERY, UNSETTLED_DELIVERY, urgency_of
from review_station.words import say

# The states of a verdict that will not reach its device, however long it waits.
NEVER_DELIVERED = ("unknown_result", UNSENDABLE_DELIVERY)


class NotUndelivered(LookupError):
    """No undelivered verdict of that id that the account may handle."""


@dataclass(frozen=True)
class Undelivered:
    review_id: str
    result_id: str
    site_id: str
    device_id: str
    dated_at: datetime  # the station's time of the result (``review_station.dating``)
    dated_from: str
    # Where on the patient the photo was taken, as the worklist reads it (``describe.photographed``).
    modality: str
    eye: str | None
    body_site: str | None
    verdict: str
    urgency: str
    why: str  # in English, as the audit log keeps it
    # what the dashboard says, in the reader's language: "unknown_result", "unsendable", "retired" or "unacknowledged"
    reason: str
    waited_h: int  # since it was queued


def _reason(state: str, retired: bool) -> str:
    """Why a verdict is listed, as a code."""
    return state if state in NEVER_DELIVERED else "retired" if retired else "unacknowledged"


def _why(reason: str, waited_h: int) -> str:
    """The dashboard's own words for ``reason``, in English, as the audit log keeps them."""
    return say(f"dashboard.why.{reason}", "en", hours=waited_h)


def undelivered(
    connection: Connection,
    alert_h: float,
    readable: frozenset[str] | None = None,
    now: datetime | None = None,
    review_id: str | None = None,
) -> list[Undelivered]:
    """The undelivered verdicts of the sites ``readable`` (None: every site), ``refer`` first, then
    oldest first; with ``review_id``, that verdict alone if it is one. A verdict an amendment replaced
    is not one: the amendment is listed instead."""
    now = now or datetime.now(UTC)
    unsettled = deliveries.c.state.in_(UNSETTLED_DELIVERY)
    # Since it was queued, or queued again (``resend_verdicts``): not since the decision, or every
    # verdict resent to a restored device would be listed before it had a chance to answer.
    waited_too_long = and_(unsettled, deliveries.c.updated_at < now - timedelta(hours=alert_h))
    retired = devices.c.retired_at.is_not(None)
    sites = [] if readable is None else [results.c.site_id.in_(sorted(readable))]
    only = [] if review_id is None else [deliveries.c.review_id == review_id]
    # The verdict that stands for the result: none decided after it (an amendment replaces it).
    later = deliveries.alias("later")
    replaced = exists().where(
        later.c.result_id == deliveries.c.result_id, later.c.reviewed_at > deliveries.c.reviewed_at
    )
    # What the clinic is to be told: the standing read's verdict and urgency (a device sent
    # ``edgescreen.review/1`` is not sent the urgency, but the clinic must hear it), an old "no referral"
    # stored "soon" told as routine, as the station counts it (``urgency_of``).
    of_result = reads.alias("of_result")
    last_read = (
        select(of_result.c.id)
        .where(of_result.c.result_id == results.c.result_id)
        .order_by(of_result.c.id.desc())
        .limit(1)
        .correlate(results)
    )
    rows = connection.execute(
        select(
            deliveries.c.review_id,
            deliveries.c.state,
            deliveries.c.updated_at,
            reads.c.verdict,
            reads.c.urgency,
            results.c.result_id,
            results.c.site_id,
            results.c.device_id,
            results.c.dated_at,
            results.c.dated_from,
            results.c.modality,
            results.c.eye,
            results.c.body_site,
            retired.label("retired"),
        )
        .join(results, results.c.result_id == deliveries.c.result_id)
        .outerjoin(devices, devices.c.device_id == results.c.device_id)
        .join(reads, reads.c.id == last_read.scalar_subquery())
        .where(
            ~replaced,
            deliveries.c.handled_at.is_(None),
            deliveries.c.state.in_((*UNSETTLED_DELIVERY, *NEVER_DELIVERED)),  # deliveries_state: few rows
            or_(deliveries.c.state.in_(NEVER_DELIVERED), and_(unsettled, retired), waited_too_long),
            *sites,
            *only,
        )
        .order_by(deliveries.c.reviewed_at)
    ).all()
    found = []
    for row in rows:
        reason = _reason(row.state, row.retired)
        waited_h = round((now - row.updated_at).total_seconds() / 3600)
        found.append(
            Undelivered(
                row.review_id,
                row.result_id,
                row.site_id,
                row.device_id,
                row.dated_at,
                row.dated_from,
                row.modality,
                row.eye,
                row.body_site,
                row.verdict,
                urgency_of(row),
                _why(reason, waited_h),
                reason,
                waited_h,
            )
        )
    return sorted(found, key=lambda item: item.verdict != "refer")


def mark_handled(engine: Engine, review_id: str, alert_h: float, user: SignedIn) -> None:
    """A coordinator's word that the verdict reached the clinic another way (telephone, letter). Once
    only: of two coordinators marking it at once, the second finds it handled, as a second click does
    (the mark is conditional, not decided on the listing read before it)."""
    with engine.begin() as connection:
        listed = undelivered(connection, alert_h, user.sites, review_id=review_id)
        mark = (
            update(deliveries)
            .where(deliveries.c.review_id == review_id, deliveries.c.handled_at.is_(None))
            .values(handled_at=datetime.now(UTC), handled_by=user.username)
        )
        if not listed or connection.execute(mark).rowcount != 1:
            raise NotUndelivered(review_id)
        (item,) = listed
        details = {"review": review_id, "result": item.result_id, "why": item.why, "by": user.username}
        audit.append(connection, "undelivered_handled", details)
