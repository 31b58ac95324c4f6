"""Keeping ``result_tallies`` right: results per worklist filter value and UTC day (of ``dated_at``).

Every change to the results that the worklist counts goes through here, in the transaction that
makes it: a result stored (``add``), a result's state moved by a read (``move``), a result erased
(``remove``). The rows are
upserted in key order, so two ingesters touching the same tallies wait for each other instead of
deadlocking; and after the audit's lock by every writer that audits (a read, an erasure, an enrolment's
release), as an ingest batch takes them after auditing its erasures: a read that held a tally, then
waited for the lock, deadlocked with such a batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import Connection

from review_station.storage.conflicts import insert_into
from review_station.storage.tables import result_tallies

KEY = ("site_id", "device_id", "modality", "triage", "quality_verdict", "state", "dated_on")


def tally_key(result: Mapping[str, Any]) -> tuple[Any, ...]:
    """The tally a result (a ``results`` row or its values) counts in."""
    return (
        result["site_id"],
        result["device_id"],
        result["modality"],
        result["triage"],
        result["quality_verdict"] or "",
        result["state"],
        result["dated_at"].astimezone(UTC).date(),
    )


def _upsert(connection: Connection, changes: Counter[tuple[Any, ...]]) -> None:
    rows = [dict(zip(KEY, key, strict=True)) | {"results": n} for key, n in sorted(changes.items()) if n]
    if not rows:
        return
    statement = insert_into(connection, result_tallies)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY), set_={"results": result_tallies.c.results + statement.excluded.results}
    )
    connection.execute(statement, rows)


def add(connection: Connection, stored: Iterable[Mapping[str, Any]]) -> None:
    """Count results just stored."""
    _upsert(connection, Counter(tally_key(result) for result in stored))


def remove(connection: Connection, erased: Iterable[Mapping[str, Any]]) -> None:
    """Count results no more (erased on request)."""
    _upsert(connection, Counter({key: -n for key, n in Counter(tally_key(result) for result in erased).items()}))


def move(connection: Connection, result: Mapping[str, Any], new_state: str) -> None:
    """Count a result under its new state instead of its old one."""
    changes: Counter[tuple[Any, ...]] = Counter()
    changes[tally_key(result)] -= 1
    changes[tally_key({**result, "state": new_state})] += 1
    _upsert(connection, changes)
