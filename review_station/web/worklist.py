"""The worklist query: filters, the order specialists read in, pages, and counts per state.

Order: ``refer`` first, then ``ungradable``, then ``no_refer``; oldest first within each, so the
result that has waited longest among the most urgent is on top. Both queries read covering indexes
only (``storage/tables.py``): a page is the first entries of ``results_order`` that pass the filters,
or, under a narrow filter, the matching range of ``results_filters`` sorted; the counts add up
``result_tallies`` (a few rows per device and day) under the filters in force.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Connection, Table, func, select

from review_station.storage.tables import result_tallies, results

STATES = ("awaiting_review", "awaiting_second_read", "disagreement", "reviewed")
TRIAGES = ("refer", "ungradable", "no_refer")
QUALITY_VERDICTS = ("good", "usable", "reject")
# Filter name -> the column it tests, the same in ``results`` and ``result_tallies``.
COLUMNS = {
    "site": "site_id",
    "device": "device_id",
    "modality": "modality",
    "triage": "triage",
    "quality": "quality_verdict",
    "state": "state",
}


@dataclass(frozen=True)
class Filters:
    site: str = ""
    device: str = ""
    modality: str = ""
    triage: str = ""
    quality: str = ""
    state: str = ""
    captured_from: str = ""  # YYYY-MM-DD, inclusive
    captured_to: str = ""  # YYYY-MM-DD, inclusive

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Filters:
        return cls(**{f.name: query.get(f.name, "").strip()[:64] for f in fields(cls)})

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of every filter set, on ``results``."""
        found = self._equalities(results)
        start, end = _day(self.captured_from), _day(self.captured_to)
        if start:
            found.append(results.c.captured_at >= datetime.combine(start, time(), tzinfo=UTC))
        if end:
            found.append(results.c.captured_at < datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC))
        return found

    def tally_conditions(self) -> list[ColumnElement[bool]]:
        """The same conditions on ``result_tallies`` (whose dates are whole UTC days, as the filters')."""
        found = self._equalities(result_tallies)
        start, end = _day(self.captured_from), _day(self.captured_to)
        if start:
            found.append(result_tallies.c.captured_on >= start)
        if end:
            found.append(result_tallies.c.captured_on <= end)
        return found

    def _equalities(self, table: Table) -> list[ColumnElement[bool]]:
        return [table.c[column] == getattr(self, name) for name, column in COLUMNS.items() if getattr(self, name)]

    def in_force(self) -> dict[str, str]:
        """The filters set, by name (what the audit log records of a worklist view)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def query_string(self, **changes: Any) -> str:
        return urlencode({k: v for k, v in (self.in_force() | changes).items() if v})


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None  # a malformed date filters nothing rather than failing the page


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]  # "state", "triage", "site" -> value -> results under the filters


def _counts(connection: Connection, filters: Filters) -> tuple[dict[str, dict[str, int]], int]:
    """Results per state, triage and site under the filters in force, and their total, from the tallies."""
    counts: dict[str, dict[str, int]] = {"state": {}, "triage": {}, "site": {}}
    tallied = result_tallies.c
    grouped = connection.execute(
        select(tallied.state, tallied.triage, tallied.site_id, func.sum(tallied.results))
        .where(*filters.tally_conditions())
        .group_by(tallied.state, tallied.triage, tallied.site_id)
    )
    total = 0
    for state, triage, site, count in grouped:
        for name, value in (("state", state), ("triage", triage), ("site", site)):
            counts[name][value] = counts[name].get(value, 0) + int(count)
        total += int(count)
    return counts, total


def worklist_page(connection: Connection, filters: Filters, page: int, page_size: int) -> Page:
    counts, total = _counts(connection, filters)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = connection.execute(
        select(
            results.c.result_id,
            results.c.site_id,
            results.c.device_id,
            results.c.modality,
            results.c.triage,
            results.c.quality_verdict,
            results.c.state,
            results.c.captured_at,
        )
        .where(*filters.conditions())
        .order_by(results.c.triage_rank, results.c.captured_at, results.c.result_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(rows, total, page, pages, counts)
