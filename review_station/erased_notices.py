"""Which results each device is to be told the station erased (``edgescreen.erased/1``).

An erasure here must reach the device too: a device whose records were restored from a backup taken
before a patient's erasure holds the patient again, and an administrator's erasure
(``edgescreen-review results erase``) never reached the device at all. Each erasure (``erasure.erase_in``,
``erasure.erase_waiting``) owes the results' devices a notice in its own transaction
(``owe_notices``); the ingester publishes each device's whole list, retained and signed, and marks it
taken on the broker's acknowledgement (``noticed``). A notice names every result the station ever
erased for its device, so the one retained at the broker is all a device restored later needs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, false, select, update

from review_station.storage.conflicts import insert_into
from review_station.storage.tables import devices, erased_notices


@dataclass(frozen=True)
class DueNotice:
    """One device's notice to publish: every result erased for it, some not yet noticed."""

    site_id: str
    device_id: str
    result_ids: tuple[str, ...]


def owe_notices(connection: Connection, rows: Sequence[tuple[str, str]]) -> None:
    """(result id, device id): named in the device's next notice, which is now due (again, for a
    result erased twice: its device may have lost the first notice's effect with a restore)."""
    if not rows:
        return
    statement = insert_into(connection, erased_notices)
    statement = statement.on_conflict_do_update(index_elements=["result_id"], set_={"noticed": False})
    connection.execute(
        statement, [{"result_id": result_id, "device_id": device_id, "noticed": False} for result_id, device_id in rows]
    )


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
        .values(noticed=True)
    )
