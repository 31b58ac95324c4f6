"""Quarantined results released when their device is enrolled.

A device may sync before an admin enrols it at the station. It counts its results delivered once the
broker has them, so the station is then the only place they exist: the ingester keeps each such
result whole in quarantine, marked with its device (``awaiting_device``), and enrolling the device
brings them in through the same checks as a live result (``result_row``), stored once per result id
(as the ingester stores them) and audited. One refused again (its topic names another site than the
device was enrolled at) stays in quarantine with the new reason, no longer awaiting anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update

from edgescreen_wire.topics import parse_device_topic
from firmware_app.events import log_event
from review_station import audit
from review_station.erasure import hold_off_erasures, tombstoned
from review_station.ingest.batch import QUARANTINE_REASON_CHARS, insert_new_results
from review_station.ingest.classify import Refused, result_row
from review_station.storage.tables import devices, quarantine


@dataclass(frozen=True)
class Released:
    """What an enrolment did with the quarantine: ``released`` messages left it, ``stored`` of them as
    new results (the rest were copies of one result), and ``kept`` were refused again."""

    released: int = 0
    stored: int = 0
    kept: int = 0


def release(connection: Connection, device_ids: Collection[str], registry: dict[str, str], by: str) -> Released:
    """Bring in the quarantined results of ``device_ids`` that ``registry`` (device -> site) now allows."""
    if not device_ids:
        return Released()
    hold_off_erasures(connection)  # before the tombstones are read
    waiting = connection.execute(
        select(quarantine.c.id, quarantine.c.topic, quarantine.c.payload, quarantine.c.received_at)
        .where(quarantine.c.awaiting_device.in_(sorted(device_ids)))
        .order_by(quarantine.c.id)
    ).all()
    if not waiting:
        return Released()
    rows: dict[str, dict[str, Any]] = {}
    released: list[int] = []
    for entry in waiting:
        try:
            row = result_row(entry.topic, entry.payload, registry, entry.received_at)
        except Refused as reason:
            _refused_again(connection, entry.id, reason)
            continue
        rows.setdefault(row["result_id"], row)
        released.append(entry.id)
    # A result its device asked to erase while it waited here leaves the quarantine, not stored.
    for result_id in tombstoned(connection, [(result_id, row["device_id"]) for result_id, row in rows.items()]):
        del rows[result_id]
    stored = len(insert_new_results(connection, rows)) if rows else 0
    connection.execute(delete(quarantine).where(quarantine.c.id.in_(released)))
    outcome = Released(len(released), stored, len(waiting) - len(released))
    details = {"devices": sorted(device_ids), "released": outcome.released, "stored": stored, "kept": outcome.kept}
    audit.append(connection, "quarantine_release", details | {"by": by})
    log_event("review.quarantine_released", **details)
    return outcome


def _refused_again(connection: Connection, entry_id: int, reason: Refused) -> None:
    connection.execute(
        update(quarantine)
        .where(quarantine.c.id == entry_id)
        .values(reason=str(reason)[:QUARANTINE_REASON_CHARS], awaiting_device=None)
    )


@dataclass(frozen=True)
class Enrolment:
    """An enrolment that would release quarantined results: the device, at the site their topics name."""

    device_id: str
    site_id: str

    @property
    def command(self) -> str:
        return f"edgescreen-review devices add {self.device_id} --site {self.site_id}"


def enrolments_releasing(connection: Connection) -> dict[Enrolment, list[int]]:
    """Each enrolment that would release quarantined results, with those entries' ids: for devices not
    on record only (a retired device cannot be enrolled again). Reads ids and topics, never payloads."""
    entries = connection.execute(
        select(quarantine.c.id, quarantine.c.topic, quarantine.c.awaiting_device)
        .outerjoin(devices, devices.c.device_id == quarantine.c.awaiting_device)
        .where(quarantine.c.awaiting_device.is_not(None), devices.c.device_id.is_(None))
        .order_by(quarantine.c.id)
    )
    found: dict[Enrolment, list[int]] = defaultdict(list)
    for entry_id, topic, device_id in entries:
        where = parse_device_topic(topic)
        if where is not None:  # always, for an entry marked awaiting: its topic was checked
            found[Enrolment(device_id, where.site_id)].append(entry_id)
    return dict(found)
