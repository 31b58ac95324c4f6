"""Writing one batch of received messages in one transaction.

The ingester acknowledges a batch's messages to the broker only after this transaction commits, so
a crash anywhere before leaves them unacknowledged and the broker delivers them again; a result
already stored is then skipped (``ON CONFLICT DO NOTHING`` on ``result_id``), so each is stored once,
and a refused message already quarantined is skipped by its digest. The same holds between ingesters,
each of which receives every message (``ingester.subscriptions``).
A copy whose content differs from the one stored (or met earlier in the batch) is no duplicate: it
goes to the quarantine, logged with its device and result id.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, or_, select, text, update
from sqlalchemy.dialects import sqlite

from edgescreen_wire.checks import WireError
from edgescreen_wire.erasure import parse_erasure
from edgescreen_wire.review import parse_review_ack
from edgescreen_wire.topics import ERASURE, REVIEW_ACK, STATUS, DeviceTopic, parse_device_topic
from firmware_app.events import log_event
from review_station.erasure import (
    ForeignResults,
    erase_for_device,
    erase_waiting,
    hold_off_erasures,
    sent_by,
    tombstoned,
)
from review_station.ingest.classify import Refused, Unenrolled, result_row
from review_station.ingest.quarantine_budget import OVER_BUDGET, AwaitingBudget
from review_station.storage import tallies
from review_station.storage.conflicts import insert_into
from review_station.storage.locks import for_update
from review_station.storage.tables import deliveries, devices, quarantine, results
from review_station.verdicts import UNSETTLED_DELIVERY, resend_under_new_id, review_schema_read

T = TypeVar("T")
QUARANTINE_HEAD_BYTES = 1024
QUARANTINE_REASON_CHARS = 2000
OFFLINE = "offline"  # a device's last will on its status topic
STATUSES = ("online", OFFLINE)


@dataclass(frozen=True)
class Incoming:
    """One message as received, before anything is decided about it."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    qos: int = 0


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    acks: int = 0
    statuses: int = 0
    erasures: int = 0  # devices' erasure requests carried out
    erased_before: int = 0  # results refused because they were erased before they arrived
    reasons: list[str] = field(default_factory=list)


def _quarantine_row(message: Incoming, refusal: Refused | str, budget: AwaitingBudget | None = None) -> dict[str, Any]:
    """A refused message's quarantine row: its first bytes, or the whole of a valid result that only
    waits for its device's enrolment (validation bounded it to MAX_RESULT_BYTES) while the device's
    ``budget`` admits it."""
    awaiting, reason = None, str(refusal)
    result_id = refusal.result_id if isinstance(refusal, Refused) else None
    if isinstance(refusal, Unenrolled) and budget is not None:
        if budget.admits(refusal.device_id, len(message.payload)):
            awaiting = refusal.device_id
        else:
            reason += OVER_BUDGET
    return {
        "received_at": message.received_at,
        "topic": message.topic[:512],
        "reason": reason[:QUARANTINE_REASON_CHARS],
        "payload": message.payload if awaiting else message.payload[:QUARANTINE_HEAD_BYTES],
        "payload_bytes": len(message.payload),
        "awaiting_device": awaiting,
        "message_sha256": message_digest(message),
        "result_id": result_id,
    }


def message_digest(message: Incoming) -> str:
    """What makes a quarantined message the same one: its topic and its whole payload. Every ingester
    receives every message (plain subscriptions), and a device re-sends the bytes it queued."""
    return hashlib.sha256(message.topic.encode() + b"\0" + message.payload).hexdigest()


def insert_quarantined(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Quarantine ``rows``, each message once: one another ingester (or this one) quarantined already
    is skipped by its digest."""
    statement = insert_into(connection, quarantine).on_conflict_do_nothing(index_elements=["message_sha256"])
    connection.execute(statement, rows)


def insert_new_results(connection: Connection, rows: dict[str, dict[str, Any]]) -> list[str]:
    """Insert the rows whose ``result_id`` is new, in one statement, and count them in the worklist's
    tallies; returns the ids that were new."""
    if connection.dialect.name == "postgresql":
        parameters = {"rows": json.dumps(list(rows.values()), default=_iso)}
        new = connection.execute(_POSTGRES_INSERT, parameters).scalars().all()
    else:
        # One compiled statement executed for many rows (SQLAlchemy batches it as "insertmanyvalues").
        statement = sqlite.insert(results).on_conflict_do_nothing(index_elements=["result_id"])
        new = connection.execute(statement.returning(results.c.result_id), list(rows.values())).scalars().all()
    tallies.add(connection, (rows[result_id] for result_id in new))
    return list(new)


# On PostgreSQL the batch travels as one JSON parameter of one constant statement, which the server
# parses once per connection: a multi-VALUES statement of a few thousand parameters is new text for
# every batch, and psycopg re-parses text over 4 KB each time, which cost more than the insert itself.
_POSTGRES_INSERT = text(
    "INSERT INTO results SELECT * FROM json_populate_recordset(NULL::results, CAST(:rows AS json)) "
    "ON CONFLICT (result_id) DO NOTHING RETURNING result_id"
)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _conflict(message: Incoming, row: dict[str, Any]) -> dict[str, Any]:
    """The quarantine row of a result whose id was stored before with another content, and the warning:
    the first copy stays the result, and this one, which a device should never send (it re-sends the
    bytes it queued), is kept for an admin to look into rather than counted a duplicate silently."""
    device_id, result_id = row["device_id"], row["result_id"]
    log_event("review.result_conflict", level=logging.WARNING, device_id=device_id, result_id=result_id)
    why = f"result {result_id} from device {device_id} was received before with another content: the first is kept"
    return _quarantine_row(message, Refused(why, result_id))


def _copies_again(
    connection: Connection,
    copies: dict[str, list[tuple[Incoming, dict[str, Any]]]],
    outcome: BatchOutcome,
    announced: dict[str, str],
) -> list[dict[str, Any]]:
    """Store the first copy of each new result; count the other copies with the same document as the
    one kept duplicates, and return the quarantine rows of those with another. Same content is the same
    document, not the same bytes: a device re-sends the bytes it queued (no field of a result is set at
    sending), but the station keeps the document."""
    firsts = {result_id: received[0][1] for result_id, received in copies.items()}
    new = set(insert_new_results(connection, firsts))
    outcome.stored = len(new)
    # Arrival order (``copies`` keeps it): a device's latest result says what it reads now. An old one
    # sent again (a redelivery) is no news: only new results count.
    for result_id, received in copies.items():
        if result_id in new:
            row = received[0][1]
            announced[row["device_id"]] = review_schema_read(row["payload"])
    kept = {result_id: firsts[result_id]["payload"] for result_id in new}
    if stored_before := sorted(firsts.keys() - new):
        query = select(results.c.result_id, results.c.payload).where(results.c.result_id.in_(stored_before))
        kept |= dict(connection.execute(query).all())
    conflicts = []
    for result_id, received in copies.items():
        for message, row in received[1:] if result_id in new else received:
            if row["payload"] == kept[result_id]:
                outcome.duplicates += 1
            else:
                conflicts.append(_conflict(message, row))
    return conflicts


def _erasure_refusal(
    connection: Connection, message: Incoming, where: DeviceTopic, registry: dict[str, str]
) -> str | None:
    """Carry out a device's erasure request, or say why it is refused (then quarantined, nothing erased):
    not a valid document, another device's id, a device not enrolled at that site, or a result of
    another device named. A request carried out again (a redelivery) erases nothing more. A device not
    enrolled (yet, or retired) erases what waits for its enrolment (``erase_waiting``)."""
    try:
        request = parse_erasure(message.payload)
    except WireError as error:
        return f"invalid erasure: {error}"
    if request.device_id != where.device_id:
        return f"the erasure says device {request.device_id}, the topic {where.device_id}: a device erases its own only"
    if where.device_id not in registry:
        if stored := erase_waiting(connection, request):
            named = ", ".join(stored)
            return f"device {where.device_id} is not enrolled (or is retired): the results here it names stay: {named}"
        return None
    if registry[where.device_id] != where.site_id:
        return f"device {where.device_id} is not enrolled at {where.site_id}: its erasure is not carried out"
    try:
        erase_for_device(connection, request)
    except ForeignResults as refusal:
        log_event("review.erasure_refused", level=logging.ERROR, device_id=where.device_id, results=refusal.foreign)
        return str(refusal)
    return None


def _not_erased(copies: dict[str, list[tuple[Incoming, dict[str, Any]]]], connection: Connection) -> int:
    """Take out of ``copies`` the results erased here before they arrived (``erasure.tombstoned``): a
    copy in flight or queued at a bridge when its device's erasure came. Not quarantined (that would
    keep it), only logged, and acknowledged with the batch so that the device stops sending it."""
    gone = tombstoned(connection, [(result_id, received[0][1]["device_id"]) for result_id, received in copies.items()])
    for result_id in gone:
        del copies[result_id]
    return len(gone)


def _not_quarantined(refused: list[dict[str, Any]], connection: Connection) -> int:
    """Take out of ``refused`` the results erased here before (in this batch or earlier): quarantined,
    whatever the reason, a copy would outlive its patient's erasure, and one waiting for its device's
    enrolment would be released by it. Only logged, as ``_not_erased`` does for a live result; the
    tombstone is its device's, the one on whose topic it came."""
    keys = {index: (row["result_id"], sent_by(row["topic"])) for index, row in enumerate(refused) if row["result_id"]}
    gone = tombstoned(connection, sorted(set(keys.values())))
    refused[:] = [row for index, row in enumerate(refused) if index not in keys or keys[index][0] not in gone]
    return sum(1 for result_id, _ in keys.values() if result_id in gone)


def _documents(messages: Sequence[Incoming], leaf: str, parse: Callable[[bytes], T]) -> Iterator[tuple[str, T]]:
    """(device id, document) of each message on a device's ``leaf`` topic that parses; one that does
    not is left out (the batch quarantines it, holding nothing for it)."""
    for message in messages:
        where = parse_device_topic(message.topic)
        if where is None or where.leaf != leaf:
            continue
        try:
            yield where.device_id, parse(message.payload)
        except WireError:
            continue


def _hold_erased(connection: Connection, messages: Sequence[Incoming]) -> None:
    """Hold the results the batch's erasure requests name before its first erasure audits (the audit's
    lock): an upload holds its photo's result, then waits for the audit's lock to audit the photo, so
    a batch that audited one erasure, then held that result to erase it, closed a cycle with it. Each
    device's own results only, as ``erase_for_device`` erases."""
    named: dict[str, set[str]] = defaultdict(set)
    for device, request in _documents(messages, ERASURE, parse_erasure):
        named[device].update(request.result_ids)
    if named:
        theirs = [
            and_(results.c.device_id == device, results.c.result_id.in_(sorted(ids))) for device, ids in named.items()
        ]
        held = select(results.c.result_id).where(or_(*theirs)).order_by(results.c.result_id)
        connection.execute(for_update(connection, held))


def _hold_answered(connection: Connection, messages: Sequence[Incoming]) -> None:
    """Hold the deliveries the batch's answers to verdicts settle or rename (``resend_under_new_id``)
    before its first erasure audits: an amendment holds its result's deliveries (superseded), then
    waits for the audit's lock to audit itself, so a batch that audited an erasure, then waited for
    a delivery the amendment held, closed a cycle with it (PostgreSQL failed one of the two). After
    the results, as an amendment holds its result first."""
    answered = sorted({ack["review_id"] for _, ack in _documents(messages, REVIEW_ACK, parse_review_ack)})
    if answered:
        held = (
            select(deliveries.c.review_id).where(deliveries.c.review_id.in_(answered)).order_by(deliveries.c.review_id)
        )
        connection.execute(for_update(connection, held))


def store_batch(connection: Connection, messages: Sequence[Incoming], registry: dict[str, str]) -> BatchOutcome:
    """Store results, quarantine what is refused, note device status and verdict acks: one transaction."""
    hold_off_erasures(connection)  # before the tombstones are read (``_not_erased``)
    _hold_erased(connection, messages)
    _hold_answered(connection, messages)
    outcome = BatchOutcome()
    copies: dict[str, list[tuple[Incoming, dict[str, Any]]]] = defaultdict(list)  # by result id
    refused: list[dict[str, Any]] = []
    last_seen: dict[str, datetime] = {}  # one UPDATE per device and batch, not one per message
    noted: dict[str, dict[str, Any]] = {}  # by device: its last status in the batch, written with last_seen
    budget = AwaitingBudget(connection)
    for message in messages:
        where = parse_device_topic(message.topic)
        enrolled = where is not None and registry.get(where.device_id) == where.site_id
        if where is not None and enrolled:
            last_seen[where.device_id] = max(message.received_at, last_seen.get(where.device_id, message.received_at))
        if where is not None and where.leaf == STATUS:
            status = message.payload.decode("utf-8", "replace")
            if enrolled and status in STATUSES:
                noted[where.device_id] = {"status": status, "status_at": message.received_at}
                outcome.statuses += 1
            continue
        if where is not None and where.leaf == ERASURE:
            if refusal := _erasure_refusal(connection, message, where, registry):
                refused.append(_quarantine_row(message, refusal))
                outcome.reasons.append(refusal)
            else:
                outcome.erasures += 1
            continue
        if where is not None and where.leaf == REVIEW_ACK:
            try:
                ack = parse_review_ack(message.payload)
            except WireError as error:
                refused.append(_quarantine_row(message, f"invalid review_ack: {error}"))
                continue
            review_topic = message.topic.removesuffix("_ack")
            if ack["status"] == "conflict":
                resend_under_new_id(connection, ack["review_id"], ack["result_id"], review_topic, message.received_at)
            else:
                connection.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.review_id == ack["review_id"],
                        deliveries.c.result_id == ack["result_id"],
                        deliveries.c.topic == review_topic,
                        # settled once: a late or repeated ack neither revives a superseded verdict
                        # nor makes an older verdict look like the last one sent
                        deliveries.c.state.in_(UNSETTLED_DELIVERY),
                    )
                    .values(state=ack["status"], updated_at=message.received_at)
                )
            outcome.acks += 1
            continue
        try:
            row = result_row(message.topic, message.payload, registry, message.received_at)
        except Refused as reason:
            refused.append(_quarantine_row(message, reason, budget))
            outcome.reasons.append(str(reason))
            continue
        copies[row["result_id"]].append((message, row))
    announced: dict[str, str] = {}  # by device: what its latest new result says it reads
    outcome.erased_before = _not_erased(copies, connection)
    if copies:
        refused.extend(_copies_again(connection, copies, outcome, announced))
    outcome.erased_before += _not_quarantined(refused, connection)
    if refused:
        insert_quarantined(connection, refused)
        outcome.quarantined = len(refused)
        log_event("review.quarantined", level=logging.WARNING, count=len(refused), first=refused[0]["reason"])
    # Shared rows last and in one order (tallies by key, then devices by id): two ingesters then wait
    # for each other briefly instead of deadlocking. The devices' statuses too, after the erasures'
    # audit: a retirement takes the audit's lock, then its device's row (``devices.retire``).
    for device_id, seen in sorted(last_seen.items()):
        reads = {"review_schema": announced[device_id]} if device_id in announced else {}
        values = {"last_seen_at": seen, **reads, **noted.get(device_id, {})}
        connection.execute(update(devices).where(devices.c.device_id == device_id).values(**values))
    return outcome
