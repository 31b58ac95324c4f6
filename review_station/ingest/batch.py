"""Writing one batch of received messages in one transaction.

The ingester acknowledges a batch's messages to the broker only after this transaction commits, so
a crash anywhere before leaves them unacknowledged and the broker delivers them again; a result
already stored is then skipped (``ON CONFLICT DO NOTHING`` on ``result_id``), so each is stored once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text, update
from sqlalchemy.dialects import sqlite

from edgescreen_wire.checks import WireError
from edgescreen_wire.review import parse_review_ack
from edgescreen_wire.topics import REVIEW_ACK, STATUS, parse_device_topic
from firmware_app.events import log_event
from review_station.ingest.classify import Refused, Unenrolled, result_row
from review_station.storage import tallies
from review_station.storage.tables import deliveries, devices, quarantine, results
from review_station.verdicts import UNSETTLED_DELIVERY, resend_under_new_id

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
    reasons: list[str] = field(default_factory=list)


def _quarantine_row(message: Incoming, refusal: Refused | str) -> dict[str, Any]:
    """A refused message's quarantine row: its first bytes, or the whole of a valid result that only
    waits for its device's enrolment (validation bounded it to MAX_RESULT_BYTES)."""
    awaiting = refusal.device_id if isinstance(refusal, Unenrolled) else None
    return {
        "received_at": message.received_at,
        "topic": message.topic[:512],
        "reason": str(refusal)[:QUARANTINE_REASON_CHARS],
        "payload": message.payload if awaiting else message.payload[:QUARANTINE_HEAD_BYTES],
        "payload_bytes": len(message.payload),
        "awaiting_device": awaiting,
    }


def insert_new_results(connection: Connection, rows: dict[str, dict[str, Any]]) -> int:
    """Insert the rows whose ``result_id`` is new, in one statement, and count them in the worklist's
    tallies; returns how many were new."""
    if connection.dialect.name == "postgresql":
        parameters = {"rows": json.dumps(list(rows.values()), default=_iso)}
        new = connection.execute(_POSTGRES_INSERT, parameters).scalars().all()
    else:
        # One compiled statement executed for many rows (SQLAlchemy batches it as "insertmanyvalues").
        statement = sqlite.insert(results).on_conflict_do_nothing(index_elements=["result_id"])
        new = connection.execute(statement.returning(results.c.result_id), list(rows.values())).scalars().all()
    tallies.add(connection, (rows[result_id] for result_id in new))
    return len(new)


# On PostgreSQL the batch travels as one JSON parameter of one constant statement, which the server
# parses once per connection: a multi-VALUES statement of a few thousand parameters is new text for
# every batch, and psycopg re-parses text over 4 KB each time, which cost more than the insert itself.
_POSTGRES_INSERT = text(
    "INSERT INTO results SELECT * FROM json_populate_recordset(NULL::results, CAST(:rows AS json)) "
    "ON CONFLICT (result_id) DO NOTHING RETURNING result_id"
)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def store_batch(connection: Connection, messages: Sequence[Incoming], registry: dict[str, str]) -> BatchOutcome:
    """Store results, quarantine what is refused, note device status and verdict acks: one transaction."""
    outcome = BatchOutcome()
    new_results: dict[str, dict[str, Any]] = {}
    refused: list[dict[str, Any]] = []
    last_seen: dict[str, datetime] = {}  # one UPDATE per device and batch, not one per message
    for message in messages:
        where = parse_device_topic(message.topic)
        enrolled = where is not None and registry.get(where.device_id) == where.site_id
        if where is not None and enrolled:
            last_seen[where.device_id] = max(message.received_at, last_seen.get(where.device_id, message.received_at))
        if where is not None and where.leaf == STATUS:
            status = message.payload.decode("utf-8", "replace")
            if enrolled and status in STATUSES:
                connection.execute(
                    update(devices)
                    .where(devices.c.device_id == where.device_id)
                    .values(status=status, status_at=message.received_at)
                )
                outcome.statuses += 1
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
            refused.append(_quarantine_row(message, reason))
            outcome.reasons.append(str(reason))
            continue
        if row["result_id"] in new_results:
            outcome.duplicates += 1
        new_results.setdefault(row["result_id"], row)
    if new_results:
        outcome.stored = insert_new_results(connection, new_results)
        outcome.duplicates += len(new_results) - outcome.stored
    if refused:
        connection.execute(insert(quarantine), refused)
        outcome.quarantined = len(refused)
        log_event("review.quarantined", level=logging.WARNING, count=len(refused), first=refused[0]["reason"])
    # Shared rows last and in one order (tallies by key, then devices by id): two ingesters then wait
    # for each other briefly instead of deadlocking.
    for device_id, seen in sorted(last_seen.items()):
        connection.execute(update(devices).where(devices.c.device_id == device_id).values(last_seen_at=seen))
    return outcome
