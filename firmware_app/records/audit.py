"""The audit log: append-only, each event chained to the one before by a SHA-256 hash.

An event's hash covers its sequence number, time, kind, details and the previous event's hash, so
editing, deleting or reordering any event breaks the chain at that event. The newest event's number
and hash are also kept in ``meta`` (updated in the same transaction), so cutting events off the end
is caught too. Details never hold a patient reference or free text: only ids, counts and codes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
)
GENESIS = "0" * 64
HEAD_KEY = "audit_head"


def _event_hash(prev_hash: str, seq: int, at: str, kind: str, details: str) -> str:
    body = json.dumps([seq, at, kind, details], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append_event(connection: sqlite3.Connection, kind: str, details: Mapping[str, Any], at: datetime) -> int:
    """Append one event; call inside the transaction whose change it records."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    when = at.isoformat()
    text = json.dumps(dict(details), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = _event_hash(prev_hash, seq, when, kind, text)
    connection.execute(
        "INSERT INTO audit (seq, at, kind, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
        (seq, when, kind, text, prev_hash, digest),
    )
    connection.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, f"{seq}:{digest}"),
    )
    return seq


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of ``verify_chain``: ``first_bad`` is the number of the first event not to trust."""

    events: int
    first_bad: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad is None


def verify_chain(connection: sqlite3.Connection) -> ChainCheck:
    """Walk the chain from the first event and report the first one that does not hold."""
    prev_hash, expected = GENESIS, 1
    rows = connection.execute("SELECT seq, at, kind, details, prev_hash, hash FROM audit ORDER BY seq")
    for seq, at, kind, details, stored_prev, stored_hash in rows:
        if seq != expected:
            return ChainCheck(expected - 1, expected, f"event {expected} is missing (next is {seq})")
        if stored_prev != prev_hash:
            return ChainCheck(expected - 1, seq, f"event {seq} does not follow event {seq - 1}: deleted or reordered")
        if _event_hash(prev_hash, seq, at, kind, details) != stored_hash:
            return ChainCheck(expected - 1, seq, f"event {seq} ({kind}) was altered: its hash does not match")
        prev_hash, expected = stored_hash, expected + 1
    count = expected - 1
    head = connection.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    if head is not None:
        head_seq, head_hash = head[0].split(":")
        if int(head_seq) != count or head_hash != prev_hash:
            first_bad = min(int(head_seq), count) + 1
            return ChainCheck(count, first_bad, f"the log ends at event {count}, but event {head_seq} was its last")
    return ChainCheck(count)
