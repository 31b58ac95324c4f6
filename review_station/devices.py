"""The device registry: which device may file results for which site.

The broker's ACL pins a device's id (its certificate) but not the site in its topic, so the station
only trusts a result whose device is enrolled here, not retired, at the site its topic and payload
name; what a device sends before its enrolment waits in quarantine until then. Enrolment and
retirement are administrative acts: both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

from edgescreen_wire.checks import IDENTIFIER
from review_station import audit
from review_station.erasure import hold_off_erasures
from review_station.ingest.release import Released, release
from review_station.refused import Refused
from review_station.storage.conflicts import insert_into
from review_station.storage.locks import advisory_lock
from review_station.storage.tables import devices


class DeviceError(Refused):
    """An enrolment or retirement the registry refuses: "device.refused.<key>" says why (``Refused``)."""

    topic = "device"


@dataclass(frozen=True)
class Device:
    device_id: str
    site_id: str
    enrolled_at: datetime
    retired_at: datetime | None
    status: str | None
    status_at: datetime | None
    last_seen_at: datetime | None

    @property
    def active(self) -> bool:
        return self.retired_at is None


def _check_id(value: str, what: str) -> None:
    """``value`` as the wire carries an id; ``what`` ("device", "site") names it and its refusal."""
    if not IDENTIFIER.fullmatch(value):
        why = f"{what} id {value!r}: expected letters, digits, '.', '_' or '-' (at most 64)"
        raise DeviceError(why, f"bad_{what}", id=repr(value))


def enrol(engine: Engine, device_id: str, site_id: str, by: str) -> Released:
    """Enrol a new device at a site (a retired id cannot come back: give the new device its own), and
    release the results it sent before, which wait in quarantine: the device counts them delivered."""
    _check_id(device_id, "device")
    _check_id(site_id, "site")
    with engine.begin() as connection:
        # The insert itself tells an id enrolled already, one committed meanwhile too: looked for first,
        # a second ``devices add`` of the id at once ended on the registry's key, with a traceback.
        enrolled = connection.execute(
            insert_into(connection, devices)
            .values(device_id=device_id, site_id=site_id, enrolled_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=[devices.c.device_id])
            .returning(devices.c.device_id)
        ).first()
        if enrolled is None:
            why = f"device {device_id!r} is already enrolled (retired devices stay on record)"
            raise DeviceError(why, "enrolled", device=repr(device_id))
        # The release below holds off erasures: taken after the audit's lock, it deadlocked with an
        # administrator's erasure, which holds them off first and then writes its audit event.
        hold_off_erasures(connection)
        audit.append(connection, "device_change", {"action": "enrol", "device": device_id, "site": site_id, "by": by})
        return release(connection, [device_id], {device_id: site_id}, by)


# PostgreSQL's advisory lock between a retirement and the uploads of photos (``hold_off_retirements``).
RETIRING = 0x52455449


def hold_off_retirements(connection: Connection, shared: bool = True) -> None:
    """Keep a retirement (``retire``) from committing between this transaction's look at its device
    (``is_active``) and its commit: a photo checked for an active device was stored after the device
    was retired as lost or stolen. Taken before anything else, shared by the uploads (a device's
    uploads do not wait for each other), the retirement's exclusive. Not the device's row (``FOR
    SHARE``): an ingest batch, which takes the audit's lock before it updates its devices' rows,
    deadlocked with an upload holding the row and waiting for the audit's lock to audit its photo."""
    advisory_lock(connection, RETIRING, shared)


def retire(engine: Engine, device_id: str, by: str) -> None:
    """From now on this device's results go to quarantine; what it sent before stays. Photos being
    uploaded are stored first, or refused (``hold_off_retirements``). The audit's lock is taken before
    the device's row, in an ingest batch's order (``audit.hold``)."""
    with engine.begin() as connection:
        hold_off_retirements(connection, shared=False)
        audit.hold(connection)
        done = connection.execute(
            update(devices)
            .where(devices.c.device_id == device_id, devices.c.retired_at.is_(None))
            .values(retired_at=datetime.now(UTC))
        )
        if done.rowcount != 1:
            raise DeviceError(
                f"device {device_id!r} is not an enrolled, active device", "not_active", device=repr(device_id)
            )
        audit.append(connection, "device_change", {"action": "retire", "device": device_id, "by": by})


def all_devices(connection: Connection) -> list[Device]:
    columns = [devices.c[field.name] for field in fields(Device)]  # the registry's, not what the ingester notes
    rows = connection.execute(select(*columns).order_by(devices.c.site_id, devices.c.device_id))
    return [Device(**row._mapping) for row in rows]


def is_active(connection: Connection, device_id: str) -> bool:
    """Whether ``device_id`` is enrolled and not retired: only such a device's certificate may still
    hand the station anything (a retired device may have been lost, or stolen with its key). Still so
    when the caller commits if it held off retirements first (``hold_off_retirements``)."""
    query = select(devices.c.device_id).where(devices.c.device_id == device_id, devices.c.retired_at.is_(None))
    return connection.execute(query).first() is not None


def active_sites(connection: Connection) -> dict[str, str]:
    """device id -> site id, for the devices allowed to file results now."""
    rows = connection.execute(select(devices.c.device_id, devices.c.site_id).where(devices.c.retired_at.is_(None)))
    return {device_id: site_id for device_id, site_id in rows}
