"""Which results each device is to be told the station erased (``edgescreen.erased/1``).

An erasure here must reach the device too: a device whose records were restored from a backup taken
before a patient's erasure holds the patient again, and an administrator's erasure
(``edgescreen-review results erase``) never reached the device at all. Each erasure (``erasure.erase_in``,
``erasure.erase_waiting``) owes the results' devices a notice in its own transaction
(``owe_notices``); the ingester publishes each device's whole list, retained and signed, and marks it
taken on the broker's acknowledgement (``noticed``). A notice names every result the station ever
erased for its device, so the one retained at the broker is all a device restored later needs.

A notice the ingester cannot send keeps the reason it last could not (``not_sent``): one owed longer
than ``[dashboard] unsent_notice_alert_h`` is the administrator's to see (``unsent_notices``: the
dashboard, ``devices list``), not only the log's, as its device keeps the patients the station erased.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, false, func, select, true, update

from review_station.storage.conflicts import insert_into
from review_station.storage.tables import devices, erased_notices


@dataclass(frozen=True)
class DueNotice:
    """One device's notice to publish: every result erased for it, some not yet noticed."""

    site_id: str
    device_id: str
    result_ids: tuple[str, ...]


@dataclass(frozen=True)
class Unsent:
    """A device owed a notice too long: how many results it is not told of, since when, and why the
    ingester last could not send it (``reason`` "unknown" when it never said: is it running?)."""

    device_id: str
    site_id: str
    results: int
    since: datetime
    reason: str
    detail: str | None  # the broker's or the library's own words, as they gave them


def owe_notices(connection: Connection, rows: Sequence[tuple[str, str]]) -> None:
    """(result id, device id): named in the device's next notice, which is now due (again, for a
    result erased twice: its device may have lost the first notice's effect with a restore; owed
    since the first erasure while no notice took it)."""
    if not rows:
        return
    now = datetime.now(UTC)
    statement = insert_into(connection, erased_notices)
    owed_at = case((erased_notices.c.noticed == true(), statement.excluded.owed_at), else_=erased_notices.c.owed_at)
    statement = statement.on_conflict_do_update(
        index_elements=["result_id"], set_={"noticed": False, "owed_at": owed_at}
    )
    connection.execute(
        statement,
        [
            {"result_id": result_id, "device_id": device_id, "noticed": False, "owed_at": now}
            for result_id, device_id in rows
        ],
    )


def erased_site(connection: Connection, result_id: str) -> str | None:
    """The site of the device whose result ``result_id`` the station erased (None: none it erased): a
    reader who had it open is told it was erased, not that no such result exists. The notices are kept
    for good and name the device that sent it, which an administrator's tombstone does not."""
    return connection.execute(
        select(devices.c.site_id)
        .join(erased_notices, erased_notices.c.device_id == devices.c.device_id)
        .where(erased_notices.c.result_id == result_id)
    ).scalar()


def due_notices(connection: Connection, passed: Collection[str] = (), limit: int = 100) -> list[DueNotice]:
    """The notices owed to enrolled devices not retired (a retired one, perhaps stolen, is told nothing
    more), each naming all the device's erased results. A device not enrolled (yet) is told once it is.
    ``passed``: devices left out (a notice on its way, or withheld on this connection), left out
    before the ``limit``, which would otherwise be theirs every time, starving the devices after them."""
    owed = (
        select(devices.c.site_id, devices.c.device_id)
        .join(erased_notices, erased_notices.c.device_id == devices.c.device_id)
        .where(
            erased_notices.c.noticed == false(),
            devices.c.retired_at.is_(None),
            devices.c.device_id.not_in(sorted(passed)),
        )
        .distinct()
        .order_by(devices.c.device_id)
        .limit(limit)
    )
    due = []
    for site_id, device_id in connection.execute(owed).all():
        named = select(erased_notices.c.result_id).where(erased_notices.c.device_id == device_id)
        due.append(DueNotice(site_id, device_id, tuple(sorted(connection.execute(named).scalars()))))
    return due


def noticed(connection: Connection, notice: DueNotice) -> None:
    """The broker took ``notice``: the results it names are told (one erased since waits for the next)."""
    connection.execute(
        update(erased_notices)
        .where(erased_notices.c.device_id == notice.device_id, erased_notices.c.result_id.in_(notice.result_ids))
        .values(noticed=True, unsent_reason=None, unsent_detail=None)
    )


def not_sent(connection: Connection, device_id: str, reason: str, detail: str | None = None) -> None:
    """The ingester could not send ``device_id`` its notice, for ``reason``: "no_key" (none to sign it),
    "not_encoded" (more ids than a notice carries), "refused" (by the broker: its ACL) or "not_published"
    (by the client), ``detail`` in the broker's or the library's words. Kept on every result the device is
    owed, each of which the next notice names."""
    connection.execute(
        update(erased_notices)
        .where(erased_notices.c.device_id == device_id, erased_notices.c.noticed == false())
        .values(unsent_reason=reason, unsent_detail=detail)
    )


def unsent_notices(
    connection: Connection, alert_h: float, now: datetime | None = None, readable: frozenset[str] | None = None
) -> list[Unsent]:
    """The devices of the sites ``readable`` (None: every site) owed a notice for longer than ``alert_h``
    hours, the longest owed first: enrolled and not retired, as only those are sent one (``due_notices``).
    Every result a device is owed carries the reason of the ingester's last failure (``not_sent``), or none
    when owed since."""
    since = func.min(erased_notices.c.owed_at)
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=alert_h)
    sites = [] if readable is None else [devices.c.site_id.in_(sorted(readable))]
    rows = connection.execute(
        select(
            devices.c.device_id,
            devices.c.site_id,
            func.count().label("results"),
            since.label("since"),
            func.max(erased_notices.c.unsent_reason).label("reason"),
            func.max(erased_notices.c.unsent_detail).label("detail"),
        )
        .join(erased_notices, erased_notices.c.device_id == devices.c.device_id)
        .where(erased_notices.c.noticed == false(), devices.c.retired_at.is_(None), *sites)
        .group_by(devices.c.device_id, devices.c.site_id)
        .having(since < cutoff)
        .order_by(since, devices.c.device_id)
    )
    return [
        Unsent(row.device_id, row.site_id, row.results, row.since, row.reason or "unknown", row.detail) for row in rows
    ]
