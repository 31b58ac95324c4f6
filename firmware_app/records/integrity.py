"""Binding each recorded result, its queued payload and its specialists' verdicts to their audit events.

The ``screening`` event carries a SHA-256 of the result row (the columns a reviewer relies on), of
each column bound since (``BOUND_COLUMNS``: its photo key, its operator) and of the payload queued
for the broker; each ``review`` event carries its verdict's ids, verdict and
urgency, what decides whether the nurse calls the patient back (``records/verdicts.py``), and a
SHA-256 of the rest of its row (findings, and the times that decide which verdict stands). An SQL
edit of any of them no longer matches its event, and the event cannot be edited without breaking
the hash chain: ``audit verify`` compares them, and the sync worker checks the payload against its
event before publishing it. A verdict is marked seen (off the nurse's call-back list) only by an
audited view of its record, and goes from the records only with its result, by a patient's erasure,
whose event names the result: one marked or gone otherwise was so by hand.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The columns of ``screening`` fixed when it is recorded (``synced_at`` changes later; sealed
# columns are bound to their row by their own authentication tag).
RESULT_COLUMNS = (
    "result_id",
    "recorded_at",
    "captured_at",
    "modality",
    "eye",
    "body_site",
    "outcome",
    "score",
    "threshold",
    "operating_point",
    "model_id",
    "model_version",
    "model_sha256",
    "research_only",
    "quality",
    "calibration_id",
    "clock",
)
ROW_DIGEST = "row_sha256"
PAYLOAD_DIGEST = "payload_sha256"
# The columns of ``screening`` bound to its event after results were, each by its own digest under its own
# detail: an event recorded before a column was bound holds none of it and verifies on the rest
# (``_bound_column_altered``), so each column added here keeps the events of the releases before it verifying.
BOUND_COLUMNS = {
    # The photo key, by which a batch knows a photo file it screened (``ScreeningStore.screened_before``):
    # cleared, the photo is screened again; set on another result, a photo never screened is skipped.
    "photo_key_sha256": "photo_key",
    # Who took the photo (the touchscreen app's operator, kept on the device only), which the records
    # are the one witness of: changed or cleared, they name a colleague, or no one.
    "operator_sha256": "operator",
}
# The mark of a row the worker withheld (``outbox.Outbox.withhold``, on a payload that fails ``check_queued``):
# the one record of that decision, which the worker's queue passes over, ``sync status`` counts and
# Today shows as never sent, and the backlog's age leaves out; nothing reads the payload again to decide it.
# (Today also shows as never sent an unsent payload that fails ``payload_altered`` before the worker marks it;
# offline, the worker checks the queue a batch a second while it waits for the broker: ``SyncWorker._sweep``.)
WITHHELD = "withheld IS NOT NULL"


# The columns of ``review`` fixed when a verdict arrives (``opened_at`` changes later, when a view of
# its record sets it; the comment is sealed to its review id): the verdict's findings, and the times
# that order a result's verdicts and so decide which one stands (``records/verdicts.py``).
REVIEW_COLUMNS = (
    "review_id",
    "result_id",
    "verdict",
    "reviewer",
    "reviewed_at",
    "received_at",
    "urgency",
    "icdr_grade",
    "maculopathy",
    "diagnosis",
)


def _blob(value: object) -> dict[str, str]:
    """A column an SQL edit made a blob, digested as one (never as text: it no longer matches its event)
    rather than failing the verification."""
    if not isinstance(value, bytes):
        raise TypeError(f"{type(value).__name__} is not a column value")
    return {"blob": value.hex()}


def row_digest(row: Mapping[str, Any], columns: tuple[str, ...] = RESULT_COLUMNS) -> str:
    values = [row[column] for column in columns]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=_blob)
    return hashlib.sha256(text.encode()).hexdigest()


def bound_digests(row: Mapping[str, Any]) -> dict[str, str]:
    """The digests of a result's ``BOUND_COLUMNS``, by the detail its screening event holds each under."""
    return {detail: row_digest(row, (column,)) for detail, column in BOUND_COLUMNS.items()}


def payload_digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


# The screening event an outbox row ``o`` was queued with, joined as ``a``: ``CAST(a.details AS BLOB)``
# holds the digest its payload must still have (``bound_digest``).
QUEUED_WITH = "LEFT JOIN audit a ON a.seq = o.audit_seq AND a.kind = 'screening'"


def bound_digest(details: bytes | None) -> str | None:
    """The payload digest in a screening event's details (``QUEUED_WITH``); ``None`` for a row queued
    before payloads were bound to their events. An unreadable event binds to nothing a payload can match."""
    if details is None:
        return None
    try:
        return str(json.loads(bytes(details)).get(PAYLOAD_DIGEST))
    except (ValueError, AttributeError):
        return "unreadable"


def payload_altered(payload: bytes, bound: str | None) -> bool:
    """Whether a queued payload is no longer byte for byte what its screening's event recorded: the
    sync worker withholds it before publishing, and Today says so before the worker comes to it."""
    return bound is not None and payload_digest(payload) != bound


def stored_bytes(value: bytes | str) -> bytes:
    """A BLOB column as bytes, even when an SQL edit (``replace()``) turned it into text."""
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


@dataclass(frozen=True)
class Mismatch:
    """A result whose row, payload or verdict does not match its audit event ``event`` (``None``: it has none):
    what differs is the catalogue's ``finding`` ("audit.problem.<...>", naming ``result_id`` as ``result``)
    with ``values``, so that ``audit verify`` says it in the device's language and the log in English."""

    result_id: str
    event: int | None
    finding: str
    values: Mapping[str, str] = field(default_factory=dict)


def _events(
    connection: sqlite3.Connection, kind: str = "screening", key: str = "result_id", after: int = 0
) -> dict[str, tuple[int, dict[str, Any]]]:
    """The events of ``kind`` after event ``after``, by their ``key`` detail, in recording order."""
    events = {}
    query = "SELECT seq, CAST(details AS BLOB) FROM audit WHERE seq > ? AND kind = ? ORDER BY seq"
    for seq, details in connection.execute(query, (after, kind)):
        document = json.loads(bytes(details))  # the chain was verified first: it is the text it was
        events[document[key]] = (seq, document)
    return events


_ROWS = "SELECT s.*, o.payload FROM screening s LEFT JOIN outbox o USING (result_id)"


def first_mismatch(connection: sqlite3.Connection, after: int = 0) -> Mismatch | None:
    """The first result (in recording order) that differs from what its audit event recorded; with
    ``after``, only the results of the ``screening`` events after event ``after`` (rows recorded
    without an event, and earlier results, are left to a check of them all)."""
    events = _events(connection, after=after)
    if after:
        rows: Iterable[sqlite3.Row] = [
            row for result_id in events for row in connection.execute(f"{_ROWS} WHERE result_id = ?", (result_id,))
        ]
    else:
        rows = connection.execute(f"{_ROWS} ORDER BY s.rowid")
    for row in rows:
        result_id = row["result_id"]
        if result_id not in events:
            return Mismatch(result_id, None, "audit.problem.result_unrecorded")
        seq, event = events[result_id]
        if ROW_DIGEST not in event:
            continue  # recorded before results were bound to their events
        if (
            event.get("outcome") != row["outcome"]
            or event[ROW_DIGEST] != row_digest(row)
            or _bound_column_altered(row, event)
        ):
            return Mismatch(result_id, seq, "audit.problem.row_altered")
        if row["payload"] is not None and event[PAYLOAD_DIGEST] != payload_digest(stored_bytes(row["payload"])):
            return Mismatch(result_id, seq, "audit.problem.payload_altered")
    return None


def _bound_column_altered(row: sqlite3.Row, event: Mapping[str, Any]) -> bool:
    """Whether one of a result's ``BOUND_COLUMNS`` differs from the digest its event holds. An event
    recorded before a column was bound holds none of it (from before the column or after it), and its
    row verifies on the rest, as verdicts from before their digest do."""
    return any(detail in event and event[detail] != digest for detail, digest in bound_digests(row).items())


def _verdict_altered(row: sqlite3.Row, event: Mapping[str, Any]) -> bool:
    """Whether a verdict's row differs from its ``review`` event: from the result, verdict and urgency
    every such event holds (``Store.add_review`` leaves out an empty urgency), and from the digest of
    its ``REVIEW_COLUMNS`` that the events hold since they were added."""
    if (row["result_id"], row["verdict"], row["urgency"] or None) != (
        event["result_id"],
        event["verdict"],
        event.get("urgency"),
    ):
        return True
    return ROW_DIGEST in event and event[ROW_DIGEST] != row_digest(row, REVIEW_COLUMNS)


def _erased_after(connection: sqlite3.Connection, result_id: str, seq: int) -> bool:
    """Whether an ``erasure`` event after event ``seq`` names ``result_id`` (its verdicts went with it)."""
    query = "SELECT CAST(details AS BLOB) FROM audit WHERE seq > ? AND kind = 'erasure'"
    return any(
        result_id in json.loads(bytes(details))["result_ids"] for (details,) in connection.execute(query, (seq,))
    )


def _views(connection: sqlite3.Connection, after: int) -> dict[str, list[tuple[int, str]]]:
    """The ``view`` events after event ``after``, as (seq, time) by result."""
    views: dict[str, list[tuple[int, str]]] = {}
    query = "SELECT seq, CAST(at AS BLOB), CAST(details AS BLOB) FROM audit WHERE seq > ? AND kind = 'view'"
    for seq, at, details in connection.execute(query, (after,)):
        views.setdefault(json.loads(bytes(details))["result_id"], []).append((seq, bytes(at).decode()))
    return views


def _opened_by_a_view(row: sqlite3.Row, seq: int, views: dict[str, list[tuple[int, str]]]) -> bool:
    """Whether the time a verdict was marked seen is that of a view of its result after the verdict
    arrived: its event's seq for ``Store.view``, its time for the migration that filled ``opened_at``
    from the views of the release before it (``records/database.py``)."""
    return any(
        at == row["opened_at"] and (view > seq or at >= row["received_at"])
        for view, at in views.get(row["result_id"], ())
    )


def first_review_mismatch(connection: sqlite3.Connection, after: int = 0) -> Mismatch | None:
    """The first specialist's verdict (in the order they arrived) that differs from its ``review``
    event, is marked seen with no view of its record to mark it (which takes a call-back off the
    nurse's list), or is gone without its result's erasure; with ``after``, only those of the events
    after event ``after``. A check of them all also finds a verdict that has no event."""
    events = _events(connection, "review", "review_id", after)
    views = _views(connection, after)
    for review_id, (seq, event) in events.items():
        result_id = event["result_id"]
        row = connection.execute(
            f"SELECT {', '.join(REVIEW_COLUMNS)}, opened_at FROM review WHERE review_id = ?", (review_id,)
        ).fetchone()
        verdict = {"review": review_id}
        if row is None:
            if _erased_after(connection, result_id, seq):
                continue
            return Mismatch(result_id, seq, "audit.problem.verdict_deleted", verdict)
        if _verdict_altered(row, event):
            return Mismatch(result_id, seq, "audit.problem.verdict_altered", verdict)
        if row["opened_at"] is not None and not _opened_by_a_view(row, seq, views):
            return Mismatch(result_id, seq, "audit.problem.verdict_marked_seen", verdict)
    if after:
        return None
    for review_id, result_id in connection.execute("SELECT review_id, result_id FROM review ORDER BY rowid"):
        if review_id not in events:
            return Mismatch(result_id, None, "audit.problem.verdict_unreceived", {"review": review_id})
    return None
