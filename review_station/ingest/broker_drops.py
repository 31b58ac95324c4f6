"""Messages the broker dropped, made visible: results a full queue lost are otherwise silent (the
device counts them delivered, since the broker acknowledged them).

mosquitto publishes one broker-wide counter, ``$SYS/broker/publish/messages/dropped``: QoS 1 and 2
messages it dropped since it started because a client's queue was past ``max_queued_messages`` or
``max_queued_bytes``. It is published at start (0) and then only when it changes, retained but with a
60 s message expiry (mosquitto 2.0.11, measured): a subscriber that comes more than a minute after
the last change gets nothing, so silence means "no drop since", not "unreadable". What proves the
$SYS tree is readable is ``$SYS/broker/uptime`` (``LIVE_TOPIC``), published every ``sys_interval``
whatever happens; the ACL grants both, and only when neither arrives is the counter unwatched.

The counter names no client and no topic, so it cannot say whether results (the ingester's queue)
or verdicts (an offline device's) were lost, nor how many of each; and it starts again at 0 when
mosquitto restarts, so drops followed by a restart before an ingester saw the counter are not counted
here (mosquitto's log still has them).

The station keeps the drops it has noticed in ``meta`` (one row, JSON): the counter as last seen,
the running total noticed (a counter lower than the last one is a broker restart, and counts from 0),
and when it last grew. Every ingester sees the same counter; the update is conditional on the row it
read, so two ingesters do not count one increase twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from review_station.storage.meta_rows import ATTEMPTS, stored_value, written

DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
LIVE_TOPIC = "$SYS/broker/uptime"  # every sys_interval: seeing it shows the ACL lets the station read $SYS
KEY = "broker_dropped_messages"


@dataclass(frozen=True)
class BrokerDrops:
    counter: int  # the broker's counter as last seen (since it last started)
    total: int  # every drop the station has noticed
    last_at: str | None  # ISO time the total last grew

    def after(self, counter: int, now: datetime) -> BrokerDrops:
        """The drops once the broker says ``counter``: what it dropped since the counter last seen."""
        grown = counter - self.counter if counter >= self.counter else counter
        return BrokerDrops(counter, self.total + grown, now.isoformat() if grown else self.last_at)


NONE_YET = BrokerDrops(0, 0, None)


def parse_counter(payload: bytes) -> int | None:
    """The counter's value from its $SYS message, or None if it is not a whole number."""
    text = payload.decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None


def noticed(connection: Connection) -> BrokerDrops:
    """The drops the station has noticed so far (none before the first counter was seen)."""
    return _stored(connection)[1]


def _stored(connection: Connection) -> tuple[str | None, BrokerDrops]:
    """The row as stored (to write it back only if unchanged) and what it says."""
    stored = stored_value(connection, KEY)
    return stored, NONE_YET if stored is None else BrokerDrops(**json.loads(stored))


def record_counter(connection: Connection, counter: int, now: datetime | None = None) -> int:
    """Take in the broker's counter; returns how many drops it adds to the station's total (0 when
    another ingester counted them already or nothing new was dropped)."""
    for _ in range(ATTEMPTS):
        stored, before = _stored(connection)
        if before.counter == counter:
            return 0
        after = before.after(counter, now or datetime.now(UTC))
        if written(connection, KEY, stored, json.dumps(asdict(after))):
            return after.total - before.total
    return 0
