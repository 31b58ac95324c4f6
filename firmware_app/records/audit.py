"""The audit log: append-only, each event chained to the one before by a SHA-256 hash.

An event's hash covers its sequence number, time, kind, details and the previous event's hash, so
editing, deleting or reordering any event breaks the chain at that event. The newest event's number
and hash are also kept in ``meta`` (updated in the same transaction), so cutting events off the end
is caught too. Details never hold a patient reference or free text: only ids, counts and codes.

Walking the whole chain costs as much as the log is long. A verification that finds it intact leaves
its last event's ``seq:hash`` in ``meta`` (``VERIFIED_KEY``, ``keep_mark``); a verification
``verify_chain`` given that mark walks only the events after it, from its hash, once it has found the
mark's own event still holding that hash. The mark is never taken on trust: one that cannot be read
(absent, from a release before it, garbled) makes the walk start from the first event, and one whose
event is gone or holds another hash is a broken chain. What such a walk cannot see is what lies
before the mark: an event edited there with its stored hash left alone, and the results, queued
payloads and specialists' verdicts recorded with those events (the sync worker checks each payload
again before it publishes it). The full walk (``edgescreen audit verify``, ``edgescreen doctor``, the app's "Ready
to screen?" and its background scans) sees them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firmware_app.messages import message, sentence
from firmware_app.records.database import read_meta, write_meta

KINDS = (
    "screening",
    "view",
    "export",
    "erasure",
    "retention",
    "config_change",
    "model_change",
    "sync",
    "review",
    "operator",
    # A visit the nurse finished with an eye never photographed (firmware_app/records/worklist.py).
    "visit",
    # Records put back from a backup (firmware_app/backup.py): what happened after it is not in them.
    "restore",
    # Committed screenings (or an erasure) the records lost, seen against their witness (records/witness.py).
    "loss",
    # A photo file a batch skipped as screened before (cli.py ``_screened_before``): the result it matched,
    # never the file's name, which may be the patient's.
    "already_screened",
)
GENESIS = "0" * 64
# A result row SQLite cannot read (``store._verify_audit``): the chain holds, and which result the row
# holds cannot be told, so what cannot be trusted is that row, not a result named.
ROW_UNREADABLE = "audit.problem.row_unreadable"
HEAD_KEY = "audit_head"
# ``seq:hash`` of the last event a verification found intact (``keep_mark``).
VERIFIED_KEY = "audit_verified"


def _event_hash(prev_hash: str, seq: int, at: str, kind: str, details: str) -> str:
    body = json.dumps([seq, at, kind, details], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    """One event ready to store: its row, and the head (``seq:hash``) to keep beside the log."""

    seq: int
    at: str
    kind: str
    details: str
    prev_hash: str
    hash: str

    @property
    def head(self) -> str:
        return f"{self.seq}:{self.hash}"


def chain_event(
    last: tuple[int, str] | None,
    kind: str,
    details: Mapping[str, Any],
    at: datetime,
    kinds: tuple[str, ...] = KINDS,
) -> ChainedEvent:
    """The next event after ``last`` (its seq and hash; None for the first): the chain's one rule,
    shared by every store that keeps such a log (the device's SQLite, the review station's tables)."""
    if kind not in kinds:
        raise ValueError(f"unknown audit event kind {kind!r}")
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    when = at.isoformat()
    text = json.dumps(dict(details), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return ChainedEvent(seq, when, kind, text, prev_hash, _event_hash(prev_hash, seq, when, kind, text))


def append_event(connection: sqlite3.Connection, kind: str, details: Mapping[str, Any], at: datetime) -> int:
    """Append one event; call inside the transaction whose change it records."""
    last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    event = chain_event(last, kind, details, at)
    connection.execute(
        "INSERT INTO audit (seq, at, kind, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
        (event.seq, event.at, event.kind, event.details, event.prev_hash, event.hash),
    )
    write_meta(connection, HEAD_KEY, event.head)
    return event.seq


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of ``verify_chain``: ``first_bad`` is the number of the first event not to trust."""

    events: int
    first_bad: int | None = None
    # Set when the chain holds but this result (row or queued payload) differs from its event.
    altered_result: str | None = None
    # The hash of event ``events`` when the chain holds (``GENESIS`` for an empty log).
    last_hash: str = GENESIS
    # What broke the chain as the catalogue says it ("audit.problem.<...>", ``broken_chain``), with its values.
    finding: str = ""
    values: Mapping[str, int | str] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return self.first_bad is None

    @property
    def mark(self) -> tuple[int, str] | None:
        """The seq and hash to keep as the verified mark (``keep_mark``); ``None`` unless the chain
        holds and has an event."""
        return (self.events, self.last_hash) if self.intact and self.events else None

    @property
    def problem(self) -> str:
        """What broke the chain in English, as a backup's refusal gives it ("" when it holds)."""
        return self.problem_in("en")

    def problem_in(self, language: str) -> str:
        """What broke the chain in ``language`` ("" when it holds)."""
        return sentence(self.finding, language, **self.values) if self.finding else ""

    def sentences(self, language: str) -> list[str]:
        """What the check proves, in ``language``: the log intact, or where it broke, what broke it and
        what can still be trusted. The device's and the review station's ``audit verify`` both say it so;
        a backup's refusal gives ``problem``, its English."""
        if self.intact:  # no count for an empty log: French counts 0 as 1 ("0 événement, le premier")
            return [
                sentence("audit.intact", language, count=self.events)
                if self.events
                else message("audit.intact_empty", language)
            ]
        broken = sentence("audit.broken", language, event=self.first_bad, problem=self.problem_in(language))
        if self.finding == ROW_UNREADABLE:
            trusted = sentence("audit.row_unreadable_trusted", language, count=self.events)
        elif self.altered_result:
            trusted = sentence("audit.result_altered", language, count=self.events, result=self.altered_result)
        elif self.first_bad == 1:
            trusted = sentence("audit.trusted_none", language)
        else:
            trusted = sentence("audit.trusted_until", language, count=self.first_bad - 1, event=self.first_bad)
        return [broken, trusted]


def broken_chain(
    events: int, first_bad: int, finding: str, *, altered_result: str | None = None, **values: int | str
) -> ChainCheck:
    """The chain broken at ``first_bad`` after ``events`` events that hold (or, with ``altered_result``,
    holding but that result differing from its event), by the catalogue's ``finding`` with ``values``,
    which each ``audit verify`` says in its language."""
    return ChainCheck(events, first_bad, altered_result, finding=finding, values=values)


def _text(value: bytes | str | None) -> str | None:
    """A column read as bytes, so that a byte flipped into invalid UTF-8 is reported, not raised."""
    return value if value is None or isinstance(value, str) else bytes(value).decode("utf-8")


def check_chain(
    rows: Iterable[tuple[Any, ...]], head: bytes | str | None, after: tuple[int, str] = (0, GENESIS)
) -> ChainCheck:
    """Walk the chain from the event after ``after`` (a verified event's seq and hash; by default the
    start of the log) over rows of seq, at, kind, details, prev_hash, hash in seq order, as text or
    as bytes, and report the first one that does not hold; ``head`` is the stored ``seq:hash``. The
    review station checks its own audit table with this too."""
    prev_hash, expected = after[1], after[0] + 1
    for seq, *raw in rows:
        try:
            at, kind, details, stored_prev, stored_hash = map(_text, raw)
        except UnicodeDecodeError:
            return broken_chain(expected - 1, seq, "audit.problem.not_text", event=seq)
        if seq != expected:
            return broken_chain(expected - 1, expected, "audit.problem.missing", event=expected, next=seq)
        if stored_prev != prev_hash:
            return broken_chain(expected - 1, seq, "audit.problem.out_of_order", event=seq, previous=seq - 1)
        if _event_hash(prev_hash, seq, at, kind, details) != stored_hash:
            return broken_chain(expected - 1, seq, "audit.problem.altered", event=seq, kind=kind)
        prev_hash, expected = stored_hash, expected + 1
    count = expected - 1
    if head is not None:
        head_text = head if isinstance(head, str) else bytes(head).decode("utf-8", "replace")
        head_seq, _, head_hash = head_text.partition(":")
        if not head_seq.isdigit() or int(head_seq) != count or head_hash != prev_hash:
            last = int(head_seq) if head_seq.isdigit() else count
            return broken_chain(count, min(last, count) + 1, "audit.problem.cut_off", end=count, last=head_seq)
    return ChainCheck(count, last_hash=prev_hash)


def _mark(value: str | None) -> tuple[int, str] | None:
    """A stored ``seq:hash`` as a verified point, or ``None`` when it cannot be one."""
    seq, _, hash_ = (value or "").partition(":")
    if not seq.isdigit() or int(seq) < 1 or len(hash_) != len(GENESIS):
        return None
    return int(seq), hash_


def verified_mark(connection: sqlite3.Connection) -> tuple[int, str] | None:
    """The last verified event's seq and hash; ``None`` when none was kept or it cannot be read."""
    return _mark(read_meta(connection, VERIFIED_KEY))


def audit_head(connection: sqlite3.Connection) -> tuple[int, str]:
    """The last event's seq and hash as ``meta`` keeps them; ``(0, GENESIS)`` before the first (or
    for a head that cannot be one)."""
    return _mark(read_meta(connection, HEAD_KEY)) or (0, GENESIS)


def keep_mark(connection: sqlite3.Connection, mark: tuple[int, str] | None) -> None:
    """Keep ``mark`` as the verified mark (``None``: none, the next walk starts from the first event);
    call inside a write transaction of its own, so that a power cut leaves the mark as it was before
    or after it, never half of it."""
    if mark is None:
        connection.execute("DELETE FROM meta WHERE key = ?", (VERIFIED_KEY,))
        return
    write_meta(connection, VERIFIED_KEY, f"{mark[0]}:{mark[1]}")


def verify_chain(connection: sqlite3.Connection, after: tuple[int, str] | None = None) -> ChainCheck:
    """Walk the chain and report the first event that does not hold: from the first event, or from
    the verified mark ``after`` (``verified_mark``) once its own event is found still holding its
    hash. Call inside one read transaction: the rows and the head must be of the same moment."""
    if after is not None:
        seq, hash_ = after
        row = connection.execute("SELECT CAST(hash AS BLOB) FROM audit WHERE seq = ?", (seq,)).fetchone()
        if row is None or _text_or_none(row[0]) != hash_:
            return broken_chain(seq - 1, seq, "audit.problem.changed_since_verified", event=seq)
    rows = connection.execute(
        "SELECT seq, CAST(at AS BLOB), CAST(kind AS BLOB), CAST(details AS BLOB), CAST(prev_hash AS BLOB), "
        "CAST(hash AS BLOB) FROM audit WHERE seq > ? ORDER BY seq",
        (after[0] if after else 0,),
    )
    head = connection.execute("SELECT CAST(value AS BLOB) FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    return check_chain(rows, head[0] if head else None, after or (0, GENESIS))


def _text_or_none(value: bytes) -> str | None:
    try:
        return _text(value)
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Exports:
    """The decrypted copies of results made off the records (``export`` events naming a result: the nurse
    app's download, ``records export``): no erasure or wipe reaches them, so those say how many were made
    and when, for the technician to find and delete them. The audit keeps no folder: a technician's
    ``--out`` may name the patient, which the audit never does."""

    count: int = 0
    first: str | None = None
    last: str | None = None


NO_EXPORTS = Exports()


def exports(connection: sqlite3.Connection, result_ids: Iterable[str] | None = None) -> Exports:
    """The exports of ``result_ids`` (all results when ``None``); a backup's ``export`` names none."""
    query = (
        "SELECT COUNT(*), MIN(at), MAX(at) FROM audit WHERE kind = 'export' AND json_extract(details, '$.result_id')"
    )
    if result_ids is None:
        row = connection.execute(f"{query} IS NOT NULL").fetchone()
    else:
        named = list(result_ids)
        row = connection.execute(f"{query} IN ({','.join('?' * len(named))})", named).fetchone()
    return Exports(*row)
