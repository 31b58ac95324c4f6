"""Erasing results at the station, on a patient's request carried out on the device too.

The station holds no patient reference, but a result with its device, time and eye can be linked back
to a patient by whoever holds the clinic's visit register, so an erasure the clinic decides must reach
the station's copy: the result, its reads and comments, its refused contrary reads, its verdicts to the
device, its photo, any upload in progress and its copies in quarantine. The device asks for it itself:
its ``erase`` queues an ``edgescreen.erasure/1`` naming the results it sent, which the ingester carries
out here (``erase_for_device``); an administrator names them with ``edgescreen-review results erase``
(``erase_results``), for a device older than that request. Both go through ``erase_in``.

The worklist's tallies lose the result in the same transaction. The audit keeps the random ids and who
erased them (an administrator, or ``device D``), nothing of what the result said. Each erased result
leaves a tombstone (``erased_results``, ids only), so a copy still on its way is refused on arrival
(``tombstoned``) instead of bringing it back. Each erasure also owes the results' devices the station's
notice of it (``erased_notices``), which the ingester publishes: a device restored from a backup, or
one whose result the administrator erased, erases them too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, delete, select

from edgescreen_wire.erasure import ErasureRequest
from edgescreen_wire.topics import parse_device_topic
from firmware_app.events import log_event
from review_station import audit
from review_station.erased_notices import owe_notices
from review_station.storage import tallies
from review_station.storage.conflicts import insert_into
from review_station.storage.locks import advisory_lock, for_update
from review_station.storage.tables import (
    contrary_reads,
    deliveries,
    erased_results,
    images,
    quarantine,
    reads,
    results,
    upload_parts,
)

# Every table that refers to a result, removed before the result itself.
_DEPENDENT = (contrary_reads, deliveries, reads, images, upload_parts)


@dataclass(frozen=True)
class Erased:
    erased: list[str]
    unknown: list[str]  # ids naming no result here (never received, or mistyped): one may still arrive
    # Ids erased here before (a tombstone: by its device's request, or an earlier erasure): done already,
    # so a second erasure (the administrator's after the device's) succeeds without erasing anything.
    already: list[str] = field(default_factory=list)
    # Ids never stored here whose copies in quarantine this erasure removed: received, so not unknown,
    # and tombstoned as those are (a copy arriving later is refused).
    quarantined: list[str] = field(default_factory=list)


class ForeignResults(ValueError):
    """A device's erasure names results another device sent: nothing of it is carried out."""

    def __init__(self, device_id: str, foreign: list[str]) -> None:
        super().__init__(f"device {device_id} asked to erase results of another device: {', '.join(foreign)}")
        self.foreign = foreign


# The device of an administrator's tombstone for a result not received yet: whichever device files it
# (no device id is "*": the wire's IDENTIFIER has no such character).
ANY_DEVICE = "*"


# PostgreSQL's advisory lock between the stores of results and an administrator's erasure (``hold_off_erasures``).
ERASING = 0x45524153


def hold_off_erasures(connection: Connection, shared: bool = True) -> None:
    """Keep an administrator's erasure (``erase_results``) out from this transaction's look at the
    tombstones until it commits the results it stores: run between the two, the erasure found the
    result not stored yet (under PostgreSQL's read committed, an uncommitted row is not waited for),
    tombstoned it and committed, and the result was stored after its erasure. PostgreSQL: an advisory
    lock, shared by the stores (ingesters do not wait for each other), the erasure's exclusive.
    SQLite: the one write lock (``hold_the_writer``: the tombstones are read before the first write)."""
    advisory_lock(connection, ERASING, shared)


def erase_results(engine: Engine, result_ids: Sequence[str], by: str) -> Erased:
    """Delete each named result and everything the station holds of it, in one transaction. The ids
    not here yet are tombstoned for any device: a device older than its own erasure request, whose
    results a campaign's bridge holds for days, has them named by the administrator before they come.
    Those erased here are too, now or before (by their device's request): the command takes every copy,
    whoever files it, and one filed later on another device's topic was quarantined, holding the
    patient's result. It waits for the transactions storing results to commit (``hold_off_erasures``),
    and they for it."""
    with engine.begin() as connection:
        hold_off_erasures(connection, shared=False)
        return erase_in(connection, result_ids, by, sender=None)


def erase_in(connection: Connection, result_ids: Collection[str], by: str, sender: str | None) -> Erased:
    """Delete each named result and everything the station holds of it, its quarantined copies too (those
    ``sender`` sent, or any for ``None``), in the caller's transaction; audited as ``result_erased`` by
    ``by`` when anything was erased. Then the tombstones, written once: a device's erasure leaves one
    for each result erased, for the device that sent it, and for each id not stored here, for the
    device (one erased before keeps its own); the administrator's (``sender`` ``None``) one for every
    id named, for any device (``ANY_DEVICE``), replacing a device's."""
    wanted = sorted(set(result_ids))
    # The results first, as a read holds them (``verdicts``): a read being saved is waited for and
    # erased with the rest, where its reads, committed after theirs were deleted, failed the results'.
    held = select(results.c.result_id).where(results.c.result_id.in_(wanted)).order_by(results.c.result_id)
    connection.execute(for_update(connection, held))
    copies = _erase_quarantined(connection, wanted, sender)
    for table in _DEPENDENT:
        connection.execute(delete(table).where(table.c.result_id.in_(wanted)))
    # The rows this transaction deleted (RETURNING), not those a SELECT saw: every ingester receives
    # every request, and the administrator's command may run at the same moment; the second to erase
    # a result waits for the first (PostgreSQL's row lock, SQLite's one writer), then deletes nothing,
    # so the worklist's counts, the tombstones and the audit take each result once.
    erasing = delete(results).where(results.c.result_id.in_(wanted)).returning(*results.c)
    rows = connection.execute(erasing).mappings().all()
    found = sorted(row["result_id"] for row in rows)
    if found or copies:
        audit.append(connection, "result_erased", {"results": sorted(set(found) | copies), "by": by})
    if found:  # after the audit's lock, as every writer of the tallies takes them (``verdicts``)
        tallies.remove(connection, rows)
    missing = [result_id for result_id in wanted if result_id not in found]
    stones = connection.execute(select(erased_results.c.result_id).where(erased_results.c.result_id.in_(missing)))
    already = set(stones.scalars())
    new = [result_id for result_id in missing if result_id not in already]
    erased = [(row["result_id"], row["device_id"]) for row in rows]
    if sender is None:
        _tombstone(connection, [(result_id, ANY_DEVICE) for result_id in wanted])
        owe_notices(connection, erased)
    else:
        theirs = erased + [(result_id, sender) for result_id in new]
        _tombstone(connection, theirs)
        owe_notices(connection, theirs)
    unknown = [result_id for result_id in new if result_id not in copies]
    return Erased(found, unknown, sorted(already), [result_id for result_id in new if result_id in copies])


def erase_for_device(connection: Connection, request: ErasureRequest) -> Erased:
    """Carry out a device's erasure: the results it sent go (``erase_in``, by ``device D``), and the ids
    it names that are not here yet are tombstoned for it, so that they never arrive. One naming any
    result of another device raises ``ForeignResults`` before anything is erased."""
    holders = connection.execute(
        select(results.c.result_id, results.c.device_id).where(results.c.result_id.in_(request.result_ids))
    ).all()
    foreign = sorted(result_id for result_id, device_id in holders if device_id != request.device_id)
    if foreign:
        raise ForeignResults(request.device_id, foreign)
    done = erase_in(connection, request.result_ids, f"device {request.device_id}", sender=request.device_id)
    not_here = len(done.unknown) + len(done.quarantined)
    log_event("review.device_erasure", device_id=request.device_id, erased=len(done.erased), not_here=not_here)
    return done


def erase_waiting(connection: Connection, request: ErasureRequest) -> list[str]:
    """Carry out the erasure of a device not enrolled (yet): the copies it sent of the results it names
    that are not stored here go from the quarantine, those waiting for its enrolment with them (audited
    ``result_erased`` by ``device D``), and every id it names that is not stored here is tombstoned for
    it, so that its enrolment never releases a copy of one. The device counts those results delivered
    and sends this request once: refusing it would bring the patient's results into the worklist at the
    enrolment. Returns the named results stored here (a retired device's, which may have been stolen
    with its key): left for the administrator."""
    stored = connection.execute(select(results.c.result_id).where(results.c.result_id.in_(request.result_ids)))
    named = set(request.result_ids) - set(stored.scalars())
    gone = _erase_quarantined(connection, sorted(named), request.device_id)
    if gone:
        audit.append(connection, "result_erased", {"results": sorted(gone), "by": f"device {request.device_id}"})
    theirs = [(result_id, request.device_id) for result_id in sorted(named)]
    _tombstone(connection, theirs)
    owe_notices(connection, theirs)
    log_event("review.device_erasure", device_id=request.device_id, erased=len(gone), not_here=len(named) - len(gone))
    return sorted(set(request.result_ids) - named)


def _erase_quarantined(connection: Connection, result_ids: Sequence[str], sender: str | None) -> set[str]:
    """Delete the quarantined copies of these results, whatever they were refused for (waiting for their
    device's enrolment, another site, another content), those that came on ``sender``'s topics only
    when given (a device erases what it sent, nothing another device filed); returns their ids."""
    entries = connection.execute(
        select(quarantine.c.id, quarantine.c.topic, quarantine.c.result_id).where(
            quarantine.c.result_id.in_(result_ids)
        )
    ).all()
    if sender is not None:
        entries = [entry for entry in entries if sent_by(entry.topic) == sender]
    if entries:
        connection.execute(delete(quarantine).where(quarantine.c.id.in_([entry.id for entry in entries])))
    return {entry.result_id for entry in entries}


def sent_by(topic: str) -> str:
    """The device on whose topic a quarantined result came ("" for none: a result is refused with its id
    only once its topic was found a device's): its tombstone and its device's erasure are that device's."""
    where = parse_device_topic(topic)
    return where.device_id if where else ""


def tombstoned(connection: Connection, rows: Sequence[tuple[str, str]]) -> set[str]:
    """Which of these (result id, device id) are results erased here, for that device or for any
    (``ANY_DEVICE``): refused on arrival, logged. One the administrator erased before it arrived is
    owed to the device that sent it (``owe_notices``): that device still holds it, and no notice could
    name it to a device before one sent it."""
    if not rows:
        return set()
    stones = connection.execute(
        select(erased_results.c.result_id, erased_results.c.device_id).where(
            erased_results.c.result_id.in_(sorted({result_id for result_id, _ in rows}))
        )
    ).all()
    arriving = set(rows)
    refused = {
        result_id for result_id, device_id in stones if device_id == ANY_DEVICE or (result_id, device_id) in arriving
    }
    for result_id in sorted(refused):
        log_event("review.result_erased_before", level=logging.WARNING, result_id=result_id)
    anyones = {result_id for result_id, device_id in stones if device_id == ANY_DEVICE}
    owe_notices(
        connection, sorted((result_id, device) for result_id, device in arriving if result_id in anyones and device)
    )
    return refused


def erased_here(connection: Connection, result_id: str, device_id: str | None) -> bool:
    """Whether ``result_id`` is a result erased here for ``device_id`` or for any device: what
    ``tombstoned`` refuses on arrival, asked of one id by its photo's upload, without its log or notice."""
    stone = select(erased_results.c.result_id).where(
        erased_results.c.result_id == result_id, erased_results.c.device_id.in_([device_id, ANY_DEVICE])
    )
    return connection.execute(stone).first() is not None


def _tombstone(connection: Connection, rows: Sequence[tuple[str, str]]) -> None:
    """Keep these (result id, device id) tombstones. One there already stays, but for a tombstone for
    any device (``ANY_DEVICE``, the administrator's), which replaces a device's: it refuses more."""
    if not rows:
        return
    statement = insert_into(connection, erased_results)
    statement = statement.on_conflict_do_update(
        index_elements=["result_id"],
        set_={"device_id": statement.excluded.device_id},
        where=statement.excluded.device_id == ANY_DEVICE,
    )
    connection.execute(statement, [{"result_id": result_id, "device_id": device_id} for result_id, device_id in rows])
