"""Erasing results at the station, on a patient's request carried out on the device too.

The station holds no patient reference, but a result with its device, time and eye can be linked back
to a patient by whoever holds the clinic's visit register, so an erasure the clinic decides must be
able to reach the station's copy: the result, its reads and comments, its refused contrary reads, its
verdicts to the device, its photo and any upload in progress. The device's ``erase`` names the ids.
The worklist's tallies lose the result in the same transaction. The audit keeps the random ids and who
erased them, nothing of what the result said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select

from review_station import audit
from review_station.storage import tallies
from review_station.storage.tables import contrary_reads, deliveries, images, reads, results, upload_parts

# Every table that refers to a result, removed before the result itself.
_DEPENDENT = (contrary_reads, deliveries, reads, images, upload_parts)


@dataclass(frozen=True)
class Erased:
    erased: list[str]
    unknown: list[str]  # ids naming no result here (erased already, never received, or mistyped)


def erase_results(engine: Engine, result_ids: Sequence[str], by: str) -> Erased:
    """Delete each named result and everything the station holds of it, in one transaction."""
    wanted = sorted(set(result_ids))
    with engine.begin() as connection:
        rows = connection.execute(select(results).where(results.c.result_id.in_(wanted))).mappings().all()
        found = sorted(row["result_id"] for row in rows)
        if found:
            for table in _DEPENDENT:
                connection.execute(delete(table).where(table.c.result_id.in_(found)))
            connection.execute(delete(results).where(results.c.result_id.in_(found)))
            tallies.remove(connection, rows)
            audit.append(connection, "result_erased", {"results": found, "by": by})
    return Erased(found, [result_id for result_id in wanted if result_id not in found])
