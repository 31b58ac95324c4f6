"""A result's station time, ``results.dated_at`` (``review_station.dating``): the device's capture time
when its clock can be trusted, else the arrival. It replaces ``captured_at`` in the worklist's order
(``results_order``, which now also covers ``dated_from``: a page marks a result dated by its arrival),
in the date filters (``results_filters``), in a device's history (``results_device_history``) and in
the tallies' day (``result_tallies.dated_on``, refilled). ``results.dated_from`` keeps which of the two
dates it, decided here once, so no page or export decides again.

The rule is copied here, frozen as it stood when this migration was written (``_trusted``), and
deliberately not imported from ``review_station.dating``: a later change to that rule must not
change what this migration writes on a station migrated later."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"

# Frozen copies (see the docstring): never replace them by imports.
ARRIVAL_TOLERANCE = timedelta(minutes=5)
PROJECT_START = datetime(2026, 11, 29, tzinfo=UTC)
BATCH = 1000  # rows read at a time: only ids, times and the clock flag, never a payload
WORKLIST_COLUMNS = ["site_id", "device_id", "modality", "triage", "quality_verdict", "state"]
FILTERS = ["site_id", "triage", "state", "device_id", "modality", "quality_verdict"]
# The tallies' key before the day, with each column's length (as in 0006).
TALLIED = {"site_id": 64, "device_id": 64, "modality": 16, "triage": 16, "quality_verdict": 16, "state": 24}
RESULTS = sa.table(
    "results",
    sa.column("result_id", sa.String),
    *(sa.column(name, sa.String) for name in TALLIED),
    sa.column("captured_at", sa.DateTime(timezone=True)),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("dated_at", sa.DateTime(timezone=True)),
    sa.column("dated_from", sa.String),
    sa.column("payload", sa.JSON),
)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone


def _trusted(captured_at: datetime, received_at: datetime, clock: str | None) -> bool:
    """The station's rule as of this migration: the device's time dates a result when it carries no
    ``clock`` flag, is no later than its arrival (give or take the tolerance) and not before the project."""
    return clock is None and PROJECT_START <= captured_at <= received_at + ARRIVAL_TOLERANCE


def _fill_dated_at() -> None:
    """Each result's ``dated_at`` and ``dated_from``; only those dated by their arrival need a row of
    their own. The clock flag is read out of the payload in SQL and the rows streamed: a payload each
    would be gigabytes on a large station."""
    op.execute(sa.update(RESULTS).values(dated_at=RESULTS.c.captured_at, dated_from="captured_at"))
    clock = RESULTS.c.payload["clock"].as_string()
    query = sa.select(RESULTS.c.result_id, RESULTS.c.captured_at, RESULTS.c.received_at, clock)
    rows = op.get_bind().execute(query.execution_options(yield_per=BATCH))
    by_arrival = [{"id": row[0], "at": row[2]} for row in rows if not _trusted(_utc(row[1]), _utc(row[2]), row[3])]
    if by_arrival:
        statement = (
            sa.update(RESULTS)
            .where(RESULTS.c.result_id == sa.bindparam("id"))
            .values(dated_at=sa.bindparam("at"), dated_from="received_at")
        )
        op.get_bind().execute(statement, by_arrival)


def _tallies(day_column: str, moment_column: str) -> None:
    """``result_tallies`` made anew, its day ``day_column`` of each result's ``moment_column``."""
    op.drop_table("result_tallies")
    key = [*TALLIED, day_column]
    tallies = op.create_table(
        "result_tallies",
        *(sa.Column(name, sa.String(length=length), nullable=False) for name, length in TALLIED.items()),
        sa.Column(day_column, sa.Date(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )
    counted: Counter[tuple[object, ...]] = Counter()
    for row in op.get_bind().execute(sa.select(*(RESULTS.c[name] for name in TALLIED), RESULTS.c[moment_column])):
        counted[(*(value or "" for value in row[:-1]), _utc(row[-1]).date())] += 1
    if counted:
        op.bulk_insert(tallies, [dict(zip(key, k, strict=True)) | {"results": n} for k, n in counted.items()])


def _indexes(moment: str, covered: list[str]) -> None:
    for name in ("results_order", "results_filters", "results_device_history"):
        op.drop_index(name, table_name="results")
    op.create_index("results_order", "results", ["queue_rank", "triage_rank", moment, "result_id", *covered])
    op.create_index("results_filters", "results", [*FILTERS, moment, "triage_rank", "result_id"])
    op.create_index("results_device_history", "results", ["device_id", moment])


def upgrade() -> None:
    with op.batch_alter_table("results") as table:
        table.add_column(sa.Column("dated_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("dated_from", sa.String(length=16)))
    _fill_dated_at()
    with op.batch_alter_table("results") as table:
        table.alter_column("dated_at", nullable=False, existing_type=sa.DateTime(timezone=True))
        table.alter_column("dated_from", nullable=False, existing_type=sa.String(length=16))
    _indexes("dated_at", [*WORKLIST_COLUMNS, "dated_from"])
    _tallies("dated_on", "dated_at")


def downgrade() -> None:
    _indexes("captured_at", WORKLIST_COLUMNS)
    with op.batch_alter_table("results") as table:
        table.drop_column("dated_at")
        table.drop_column("dated_from")
    _tallies("captured_on", "captured_at")
