"""The worklist query: filters, the order specialists read in, pages, and counts per state.

Order: first what awaits the signed-in reader (a first read; a second read of a result they did not
read first; a disagreement, for a coordinator), then the rest: results awaiting another reader, then
the reviewed ones. Within each, ``refer`` first, then ``ungradable``, then ``no_refer``; oldest first
by the station's time of a result (``review_station.dating``: the device's time only when it can be
trusted, else the arrival), so the result that has waited longest among the most urgent is on top and
a device's wrong clock can neither pin a result there nor sink it. The queries read covering
indexes (``storage/tables.py``): a page is the first entries of ``results_order`` (awaiting a read
before reviewed) that pass the filters, each tested against the reader's own reads by ``reads_result``
(and against the few results holding a refused contrary read, listed once from ``contrary_reads``),
or, under a narrow filter, the matching range of ``results_filters`` sorted; the counts add up
``result_tallies`` (a few rows per device and day) under the filters in force (under the contrary-read
filter, the few results it leaves).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, exists, func, or_, select, tuple_

from edgescreen_wire.result import NOT_PHOTOGRAPHED
from review_station.accounts import SignedIn
from review_station.contrary import FLAGGED, flagged_results
from review_station.storage.tables import WORKLIST_ORDER, reads, result_tallies, results
from review_station.verdicts import ADJUDICATORS
from review_station.web.inputs import typed

# The worklist's order after ``queue_rank``: the results awaiting a reader all share rank 0.
_WITHIN_RANK = WORKLIST_ORDER[1:]
STATES = ("awaiting_review", "awaiting_second_read", "disagreement", "reviewed")
TRIAGES = ("refer", "ungradable", "no_refer")
# The stored quality (``classify.quality_verdict``): the device's verdict, or an eye not photographed.
QUALITY_VERDICTS = ("good", "usable", "reject", NOT_PHOTOGRAPHED)
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
    contrary: str = ""  # "open": only the results holding a refused contrary read to settle (``contrary``)

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Filters:
        """The filters of a query string; ``InputRefused`` for one no person typed (a NUL, an override)."""
        return cls(**{f.name: typed(query.get(f.name, "").strip()[:64], f"the {f.name} filter") for f in fields(cls)})

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of every filter set, on ``results``; the dates test the station's time of a
        result (``review_station.dating``), not the device's word."""
        found = self._equalities(results)
        start, end = _day(self.captured_from), _day(self.captured_to)
        if start:
            found.append(results.c.dated_at >= datetime.combine(start, time(), tzinfo=UTC))
        if end:
            found.append(results.c.dated_at < datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC))
        if self.contrary:
            found.append(FLAGGED)
        return found

    def tally_conditions(self) -> list[ColumnElement[bool]]:
        """The same conditions on ``result_tallies`` (whose dates are whole UTC days, as the filters'),
        but the one no tally holds: a refused contrary read (``_counts`` counts those results)."""
        found = self._equalities(result_tallies)
        start, end = _day(self.captured_from), _day(self.captured_to)
        if start:
            found.append(result_tallies.c.dated_on >= start)
        if end:
            found.append(result_tallies.c.dated_on <= end)
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
    rows: list[Any]  # with ``awaits_you``: whether the reader can read the result now
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]  # "state", "triage", "site" -> value -> results under the filters
    awaiting_you: int  # how many of them await the reader
    flagged: int  # how many results, under any filter, hold a refused contrary read to settle
    disagreements: int  # for a coordinator or admin: how many, under any filter, await their adjudication


def awaits(reader: SignedIn) -> ColumnElement[bool]:
    """The results ``reader`` can read now: awaiting a first read; awaiting a second read they did not
    make the first of (that one awaits another reader); a disagreement, for a coordinator or admin."""
    theirs = exists().where(reads.c.result_id == results.c.result_id, reads.c.user_id == reader.user_id)
    open_states = ("awaiting_review", "disagreement") if reader.role in ADJUDICATORS else ("awaiting_review",)
    second_read = and_(results.c.state == "awaiting_second_read", ~theirs)
    return and_(results.c.queue_rank == 0, or_(results.c.state.in_(open_states), second_read))


def _counts(connection: Connection, filters: Filters, reader: SignedIn) -> tuple[dict[str, dict[str, int]], int]:
    """Results per state, triage and site under the filters in force, of the reader's sites, and their
    total, from the tallies; under the contrary-read filter, from the few results it leaves, which no
    tally counts apart."""
    counts: dict[str, dict[str, int]] = {"state": {}, "triage": {}, "site": {}}
    if filters.contrary:
        grouped = connection.execute(
            select(results.c.state, results.c.triage, results.c.site_id, func.count())
            .where(*filters.conditions(), *reader.site_conditions(results.c.site_id))
            .group_by(results.c.state, results.c.triage, results.c.site_id)
        )
    else:
        tallied = result_tallies.c
        grouped = connection.execute(
            select(tallied.state, tallied.triage, tallied.site_id, func.sum(tallied.results))
            .where(*filters.tally_conditions(), *reader.site_conditions(tallied.site_id))
            .group_by(tallied.state, tallied.triage, tallied.site_id)
        )
    total = 0
    for state, triage, site, count in grouped:
        for name, value in (("state", state), ("triage", triage), ("site", site)):
            counts[name][value] = counts[name].get(value, 0) + int(count)
        total += int(count)
    return counts, total


def _listed(reader: SignedIn) -> Select:
    """The columns a worklist row shows, and whether it awaits the reader."""
    return select(
        results.c.result_id,
        results.c.site_id,
        results.c.device_id,
        results.c.modality,
        results.c.eye,
        results.c.body_site,
        results.c.triage,
        results.c.quality_verdict,
        results.c.state,
        results.c.dated_at,
        results.c.dated_from,
        awaits(reader).label("awaits_you"),
        FLAGGED.label("flagged"),
    )


def worklist_page(
    connection: Connection,
    filters: Filters,
    page: int,
    page_size: int,
    reader: SignedIn,
    count_disagreements: bool = True,
) -> Page:
    """One page of the worklist: what awaits ``reader`` first, then the rest (each a run of the order
    index, the rest starting where the results awaiting the reader end). Only the reader's sites.
    ``count_disagreements=False`` leaves out the coordinators' disagreement count and its query: the
    page ``bench/review_ingest.py`` times the count against (the station always counts)."""
    counts, total = _counts(connection, filters, reader)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    offset, awaiting = (page - 1) * page_size, awaits(reader)
    shown = [*filters.conditions(), *reader.site_conditions(results.c.site_id)]
    theirs = [*shown, awaiting]
    awaiting_you = connection.execute(select(func.count()).select_from(results).where(*theirs)).scalar_one()
    first_run = _listed(reader).where(*theirs).order_by(*_WITHIN_RANK)
    rows = connection.execute(first_run.limit(page_size).offset(offset)).all()
    if len(rows) < page_size:
        rest = _listed(reader).where(*shown, ~awaiting).order_by(*WORKLIST_ORDER)
        skipped = max(0, offset - awaiting_you)
        rows += connection.execute(rest.limit(page_size - len(rows)).offset(skipped)).all()
    flagged = flagged_results(connection, reader)
    disagreements = _disagreements(connection, reader) if count_disagreements else 0
    return Page(rows, total, page, pages, counts, awaiting_you, flagged, disagreements)


def _disagreements(connection: Connection, reader: SignedIn) -> int:
    """How many results of the reader's sites await a coordinator's adjudication, whatever the filters,
    for a coordinator or admin (0 for a reader, who cannot adjudicate). Listed by the device's triage
    among every result awaiting them, a disagreement on a ``no_refer`` could sit pages down while its
    patient is told nothing; the count, from the tallies, heads the worklist instead."""
    if reader.role not in ADJUDICATORS:
        return 0
    tallied = result_tallies.c
    waiting = select(func.coalesce(func.sum(tallied.results), 0)).where(
        tallied.state == "disagreement", *reader.site_conditions(tallied.site_id)
    )
    return int(connection.execute(waiting).scalar_one())


def next_awaiting(connection: Connection, filters: Filters, reader: SignedIn, after: str) -> str | None:
    """The result to read after ``after`` under the reader's filters: the next one awaiting them in the
    worklist's order, else the first one awaiting them from the top (never ``after`` itself)."""
    awaiting = [*filters.conditions(), *reader.site_conditions(results.c.site_id), awaits(reader)]
    awaiting.append(results.c.result_id != after)
    first = select(results.c.result_id).where(*awaiting).order_by(*_WITHIN_RANK).limit(1)
    current = select(*_WITHIN_RANK).where(results.c.result_id == after).subquery()
    following = first.where(tuple_(*_WITHIN_RANK) > tuple_(*current.c))
    return connection.execute(following).scalar() or connection.execute(first).scalar()
