"""Sessions the broker took from this station's ingesters, made visible.

The broker ends a connection with reason 0x8E "Session taken over" when another client connects
under the same client id. The site broker makes a client's id its certificate's CN
(``use_username_as_clientid``), so for an ingester that means another client holds its certificate:
two ingesters given one certificate, or a copy of it in someone else's hands. Either way the two knock
each other off, and each reconnection interrupts the results. The ingester logs each one as an error;
the station counts them in ``meta`` (one row, JSON) for the dashboard, which says so until an admin
has looked into it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from review_station.storage.meta_rows import ATTEMPTS, stored_value, written

KEY = "broker_session_takeovers"


@dataclass(frozen=True)
class Takeovers:
    total: int  # every takeover an ingester of this station was told of
    last_at: str | None  # ISO time of the last one
    client_id: str | None  # the ingester it was taken from, the last time


NONE_YET = Takeovers(0, None, None)


def noticed_takeovers(connection: Connection) -> Takeovers:
    """The takeovers counted so far."""
    return _stored(connection)[1]


def _stored(connection: Connection) -> tuple[str | None, Takeovers]:
    """The row as stored (to write it back only if unchanged) and what it says."""
    stored = stored_value(connection, KEY)
    return stored, NONE_YET if stored is None else Takeovers(**json.loads(stored))


def record_takeover(connection: Connection, client_id: str, now: datetime | None = None) -> Takeovers:
    """Count one takeover of ``client_id``'s session; the count with it."""
    stored, before = _stored(connection)
    for _ in range(ATTEMPTS):
        after = Takeovers(before.total + 1, (now or datetime.now(UTC)).isoformat(), client_id)
        if written(connection, KEY, stored, json.dumps(asdict(after))):
            return after
        stored, before = _stored(connection)  # another ingester counted one meanwhile
    return before
