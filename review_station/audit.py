"""The station's audit log: every sign-in, view, verdict, export and administrative change.

Append-only and hash-chained by the device's own chain rule (``firmware_app.records.audit``), so the
same checker finds an edited, deleted, reordered or truncated event. An event is appended inside the
transaction of the change it records. Several processes may write (web workers, the CLI), each
event numbered after the last: the last is read under a lock held until the transaction ends, on
PostgreSQL a transaction-scoped advisory lock, on SQLite its one write lock (``hold_the_writer``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from firmware_app.records.audit import HEAD_KEY, ChainCheck, broken_chain, chain_event, check_chain
from review_station.storage.locks import advisory_lock
from review_station.storage.tables import audit, meta

AUDIT_LOCK = 0x65646765  # any constant: the one advisory lock the audit log takes
STATION_KINDS = (
    "sign_in",
    "sign_in_refused",
    "sign_out",
    "view",
    "verdict",
    "read_refused",
    "contrary_settled",
    "export",
    "user_change",
    "device_change",
    "image",
    "quarantine_release",
    "verdicts_resent",
    "undelivered_handled",
    "result_erased",
)


def hold(connection: Connection) -> None:
    """Take the log's lock now, until the transaction ends, for a change that will audit itself after
    it writes rows others lock: an ingest batch takes this lock (its erasures' events), then updates its
    devices' rows, so a transaction holding such a row while it waits here closes a cycle."""
    advisory_lock(connection, AUDIT_LOCK)


def append(connection: Connection, kind: str, details: Mapping[str, Any], at: datetime | None = None) -> int:
    """Append one event in ``connection``'s transaction; the details hold ids and codes, never free text."""
    hold(connection)
    last = connection.execute(select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)).first()
    moment = at or datetime.now(UTC)
    event = chain_event(tuple(last) if last else None, kind, details, moment, STATION_KINDS)
    connection.execute(
        insert(audit).values(
            seq=event.seq,
            at=event.at,
            at_utc=moment,
            kind=event.kind,
            details=event.details,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
    )
    if last is None:
        connection.execute(insert(meta).values(key=HEAD_KEY, value=event.head))
    else:
        connection.execute(update(meta).where(meta.c.key == HEAD_KEY).values(value=event.head))
    return event.seq


def result_views(connection: Connection, result_id: str, since: datetime) -> list[tuple[datetime, str]]:
    """(when, by whom) each opening of ``result_id``'s page since ``since``, as ``view`` events
    recorded it: one statement, read through ``audit_recent`` (kind, time), so it scans the recent
    views, not the log. Compared as times (``at_utc``), not as the ISO text the chain keeps, whose
    offsets and precision vary. The details are the chain's canonical JSON (sorted keys, no spaces), so
    the result's own key and id are found in the text as written."""
    named = json.dumps({"result": result_id}, separators=(",", ":"))[1:-1]
    rows = connection.execute(
        select(audit.c.at_utc, audit.c.details).where(
            audit.c.kind == "view",
            audit.c.at_utc >= since,
            audit.c.details.contains(named, autoescape=True),
        )
    )
    return [(at, json.loads(details)["by"]) for at, details in rows]


def last_sign_ins(connection: Connection) -> dict[str, datetime]:
    """Each account's latest sign-in by name, as its ``sign_in`` events record it (the station keeps it
    nowhere else): one statement for every account, never one per account, read through
    ``audit_recent`` (kind, time). A sign-in's details are the account's name alone, in the chain's
    canonical JSON, so grouping on their text groups by account."""
    latest = select(audit.c.details, func.max(audit.c.at_utc)).where(audit.c.kind == "sign_in")
    return {json.loads(details)["user"]: at for details, at in connection.execute(latest.group_by(audit.c.details))}


def _instant(at: str) -> datetime | None:
    """The moment an event's chained text ``at`` names, in UTC, as ``append`` stores it in ``at_utc``;
    ``None`` for a text that names no moment."""
    try:
        return datetime.fromisoformat(at).astimezone(UTC)
    except ValueError:
        return None


def verify(connection: Connection) -> ChainCheck:
    """The chain rule's check of the log (``check_chain``), and of each event's ``at_utc``: outside the
    hashes, it is the time the station compares ("who else opened this result lately"), so an edited one
    would change what a page says with the chain intact. The first event not to trust is reported,
    whichever check finds it."""
    rows = connection.execute(
        select(
            audit.c.seq, audit.c.at, audit.c.kind, audit.c.details, audit.c.prev_hash, audit.c.hash, audit.c.at_utc
        ).order_by(audit.c.seq)
    )
    mistimed: list[ChainCheck] = []  # the first such event's finding

    def chained() -> Iterator[tuple[Any, ...]]:
        for seq, at, kind, details, prev_hash, hash_, at_utc in rows:
            if not mistimed and _instant(at) != at_utc:
                values = {"event": seq, "kind": kind, "stored": at_utc.isoformat(), "at": at}
                mistimed.append(broken_chain(seq - 1, seq, "audit.problem.mistimed", **values))
            yield seq, at, kind, details, prev_hash, hash_

    head = connection.execute(select(meta.c.value).where(meta.c.key == HEAD_KEY)).scalar_one_or_none()
    check = check_chain(chained(), head)
    if mistimed and (check.first_bad is None or mistimed[0].first_bad < check.first_bad):
        return mistimed[0]
    return check
