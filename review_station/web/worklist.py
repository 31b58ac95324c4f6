"""The worklist query: filters, the order specialists read in, pages, and counts per state.

Order: ``refer`` first, then ``ungradable``, then ``no_refer``; oldest first within each, so the
result that has waited longest among the most urgent is on top. The ``results_worklist`` index
(state, triage_rank, captured_at) serves the default view.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

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

    def conditions(self, without: str = "") -> list[ColumnElement[bool]]:
        """The SQL conditions of every filter set, except ``without`` (for the counts of that filter)."""
        columns = {
            "site": results.c.site_id,
            "device": results.c.device_id,
            "modality": results.c.modality,
            "triage": results.c.triage,
            "quality": results.c.quality_verdict,
            "state": results.c.state,
        }
        found = [columns[name] == getattr(self, name) for name in columns if getattr(self, name) and name != without]
        start, end = _day(self.captured_from), _day(self.captured_to)
        if start:
            found.append(results.c.captured_at >= start)
        if end:
            found.append(results.c.captured_at < end + timedelta(days=1))
        return found

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return urlencode({k: v for k, v in values.items() if v})


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
    counts: dict[str, dict[str, int]]  # filter name -> value -> matching results


def worklist_page(connection: Connection, filters: Filters, page: int, page_size: int) -> Page:
    where = filters.conditions()
    total = connection.execute(select(func.count()).select_from(results).where(*where)).scalar_one()
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
    counts = {}
    for name, column in (("state", results.c.state), ("triage", results.c.triage), ("site", results.c.site_id)):
        grouped = connection.execute(
            select(column, func.count()).where(*filters.conditions(without=name)).group_by(column)
        ).all()
        counts[name] = {value: count for value, count in grouped if value is not None}
    return Page(rows, total, page, pages, counts)
