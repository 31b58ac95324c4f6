"""Whether the ingester runs, for the pages: it alone sends the specialists' verdicts and the erasure
notices, so with it stopped a verdict waits and a patient is not called back, while every page looked
as if the broker were to blame.

Each ingester keeps one row in ``ingesters`` (migration 0027): its client id, host and pid, when it
started, its last heartbeat (one UPDATE every ``HEARTBEAT_SECONDS``, on a thread of its own: it beats
while the MQTT thread waits to reconnect) and whether it is connected to the broker. A row is one
ingester: a restart on the same host under the same client id takes over its row; two ingesters (the
README says run one) each have theirs. One not heard from for longer than ``[dashboard]
ingester_alert_s``, or stopped, does not run. The database's clock writes the beat and judges it: the
ingester and the web app may run on hosts whose clocks differ (README, "Scale beyond one machine").
One not heard from for ``FORGOTTEN_AFTER`` is no longer listed, unless none was heard from since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from review_station.storage.tables import database_now, ingesters

HEARTBEAT_SECONDS = 5.0
# A week in red on the dashboard was its alert; after it, an ingester gone for good (moved to another host,
# run under another client id: no restart takes over its row) would stay there in red for ever.
FORGOTTEN_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Instance:
    """One ingester process: its row's key is (client id, host, pid)."""

    client_id: str
    host: str
    pid: int


@dataclass(frozen=True)
class IngesterState:
    """One row as the pages show it."""

    client_id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    running: bool  # heard from within the window, and not stopped
    connected: bool  # running, and connected to the broker when last heard from


@dataclass(frozen=True)
class Heard:
    """What the station knows of its ingesters."""

    ingesters: list[IngesterState] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return any(ingester.running for ingester in self.ingesters)

    @property
    def connected(self) -> bool:
        return any(ingester.connected for ingester in self.ingesters)

    @property
    def last_at(self) -> datetime | None:
        """The last heartbeat of any (None: no ingester ever ran here)."""
        return max((ingester.heartbeat_at for ingester in self.ingesters), default=None)


def _mine(me: Instance) -> list:
    return [ingesters.c.client_id == me.client_id, ingesters.c.host == me.host, ingesters.c.pid == me.pid]


def beat(
    connection: Connection, me: Instance, connected: bool, now: datetime | None = None, first: bool = False
) -> None:
    """One heartbeat: an UPDATE of this ingester's row. Its ``first`` beat writes the row in place of the
    earlier runs' under its client id on this host (a restart takes over its row); a row gone since (a
    second ingester under that client id on this host started) is written again: both show, neither
    overwrites the other for longer than a beat. ``now``: a time of the test's instead of the database's."""
    at = now or database_now()
    if first:
        connection.execute(delete(ingesters).where(ingesters.c.client_id == me.client_id, ingesters.c.host == me.host))
    else:
        changed = connection.execute(update(ingesters).where(*_mine(me)).values(heartbeat_at=at, connected=connected))
        if changed.rowcount == 1:
            return
    # Started when the database first heard from it, by the clock of its beats: the host's may be ahead.
    row = {"client_id": me.client_id, "host": me.host, "pid": me.pid, "started_at": at, "heartbeat_at": at}
    connection.execute(insert(ingesters).values(**row, connected=connected, stopped=False))


def stopped(connection: Connection, me: Instance) -> None:
    """Stopped on purpose: not running from now, without waiting for the window to pass."""
    connection.execute(update(ingesters).where(*_mine(me)).values(stopped=True, connected=False))


def station_heard(connection: Connection, window_s: float, now: datetime | None = None) -> Heard:
    """Every ingester heard from within ``FORGOTTEN_AFTER`` (the last heard from at least, to say since
    when none ran), the last heard from first, judged at the database's time read with the rows (``now``: a
    time of the test's instead)."""
    found = []
    query = select(ingesters, database_now().label("judged_at")).order_by(ingesters.c.heartbeat_at.desc())
    for row in connection.execute(query).all():  # fetched whole: the loop may stop early
        judged_at = now or row.judged_at
        if found and row.heartbeat_at < judged_at - FORGOTTEN_AFTER:
            break  # the rows after it were heard from earlier still
        running = not row.stopped and row.heartbeat_at >= judged_at - timedelta(seconds=window_s)
        state = (row.started_at, row.heartbeat_at, running, running and row.connected)
        found.append(IngesterState(row.client_id, row.host, row.pid, *state))
    return Heard(found)
