"""The worklist query: filters, the order specialists read in, pages, and counts per state.

Order: ``refer`` first, then ``ungradable``, then ``no_refer``; oldest first within each, so the
result that has waited longest among the most urgent is on top. Both queries read covering indexes
only (``storage/tables.py``): a page is the first entries of ``results_order`` that pass the filters,
or, under a narrow filter, the matching range of ``results_filters`` sorted; the counts are one
grouped pass over ``results_filters`` under the filters in force.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Connection, func, select

from review_station.storage.tables import results

STATES = ("awaiting_review", "awaiting_second_read", "disagreement", "reviewed")
TRIAGES = ("refer", "ungradable", "no_refer")
QUALITY_VERDICTS = ("good", "usable", "reject")


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
        """The SQL conditions of every filter set."""
        columns = {
            "site": results.c.site_id,
            "device": results.c.device_id,
            "modality": results.c.modality,
            "triage": results.c.triage,
            "quality": results.c.quality_verdict,
            "state": results.c.state,
        }
        found = [columns[name] == getattr(self, name) for name in columns if getattr(self, name)]
        start, end = _day(self.captured_from), _day(self.captured_to)
        if start:
            found.append(results.c.captured_at >= start)
        if end:
            found.append(results.c.captured_at < end + timedelta(days=1))
        return found

    def in_force(self) -> dict[str, str]:
        """The filters set, by name (what the audit log records of a worklist view)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def query_string(self, **changes: Any) -> str:
        return urlencode({k: v for k, v in (self.in_force() | changes).items() if v})


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC) if text else None
    except ValueError:
        return None  # a malformed date filters nothing rather than failing the page


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]  # "state", "triage", "site" -> value -> results under the filters


def _counts(connection: Connection, where: list[ColumnElement[bool]]) -> tuple[dict[str, dict[str, int]], int]:
    """Results per state, triage and site under the filters in force, and their total: one grouped pass."""
    counts: dict[str, dict[str, int]] = {"state": {}, "triage": {}, "site": {}}
    grouped = connection.execute(
        select(results.c.state, results.c.triage, results.c.site_id, func.count())
        .where(*where)
        .group_by(results.c.state, results.c.triage, results.c.site_id)
    )
    total = 0
    for state, triage, site, count in grouped:
        for name, value in (("state", state), ("triage", triage), ("site", site)):
            counts[name][value] = counts[name].get(value, 0) + count
        total += count
    return counts, total


def worklist_page(connection: Connection, filters: Filters, page: int, page_size: int) -> Page:
    where = filters.conditions()
    counts, total = _counts(connection, where)
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
        .where(*where)
        .order_by(results.c.triage_rank, results.c.captured_at, results.c.result_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(rows, total, page, pages, counts)
