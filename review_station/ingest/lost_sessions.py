"""Sessions the broker lost, made visible: while an ingester has no session at the broker, results
match no subscription, and mosquitto drops them (PUBACK "No matching subscribers") while their
devices mark them sent.

A session the broker keeps survives its restarts with the ingester's plain subscriptions
(``ingester.subscriptions``). It is gone when the broker starts without its persistence file (a new
or reinstalled broker, a lost or deleted ``mosquitto.db``, ``persistence false``) or when the
ingester stayed away longer than its ``session_expiry_s``: the broker then answers the ingester's
CONNECT without a session. For an ingester that never had one (its first start, or a new client id)
that is expected; for one that had, results sent since the broker lost it may be gone. The station
keeps in ``meta`` (one row, JSON) the client ids that have had a session and the losses noticed,
which the ingester logs as an error and the dashboard shows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection

from review_station.storage.meta_rows import ATTEMPTS, stored_value, written

KEY = "broker_sessions_lost"


@dataclass(frozen=True)
class LostSessions:
    total: int = 0  # connections of an ingester that had a session, answered without it
    last_at: str | None = None  # ISO time of the last one
    client_id: str | None = None  # the ingester, the last time
    known: list[str] = field(default_factory=list)  # the client ids that have had a session


def noticed_lost_sessions(connection: Connection) -> LostSessions:
    """The lost sessions counted so far."""
    return _stored(connection)[1]


def _stored(connection: Connection) -> tuple[str | None, LostSessions]:
    """The row as stored (to write it back only if unchanged) and what it says."""
    stored = stored_value(connection, KEY)
    return stored, LostSessions() if stored is None else LostSessions(**json.loads(stored))


def record_connection(
    connection: Connection, client_id: str, session_present: bool, now: datetime | None = None
) -> LostSessions | None:
    """Take in the broker's answer to ``client_id``'s CONNECT; the count with it when it says the
    broker lost a session this ingester had, else None."""
    for _ in range(ATTEMPTS):
        stored, before = _stored(connection)
        had_one = client_id in before.known
        if had_one and session_present:
            return None
        if had_one:  # and the broker answered without it
            after = LostSessions(before.total + 1, (now or datetime.now(UTC)).isoformat(), client_id, before.known)
        else:
            after = LostSessions(before.total, before.last_at, before.client_id, sorted({*before.known, client_id}))
        if written(connection, KEY, stored, json.dumps(asdict(after))):
            return after if had_one else None
    return None
