"""A result's station time, ``results.dated_at`` (``review_station.dating``): the device's capture time
when its clock can be trusted, else the arrival. It replaces ``captured_at`` in the worklist's order
(``results_order``, which now also covers ``captured_at``: a page marks a result dated by its arrival),
in the date filters (``results_filters``), in a device's history (``results_device_history``) and in
the tallies' day (``result_tallies.dated_on``, refilled). Filled here with the one definition the
ingester uses, so a result stored before and one stored after are dated alike."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from review_station.dating import dated_at

revision = "0010"
down_revision = "0009"

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
    sa.column("payload", sa.JSON),
)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone


def _fill_dated_at() -> None:
    """Each result's ``dated_at``; only those not dated by their capture time need a row of their own."""
    op.execute(sa.update(RESULTS).values(dated_at=RESULTS.c.captured_at))
    rows = op.get_bind().execute(
        sa.select(RESULTS.c.result_id, RESULTS.c.captured_at, RESULTS.c.received_at, RESULTS.c.payload)
    )
    by_arrival = [
        {"id": row.result_id, "at": row.received_at}
        for row in rows
        if dated_at(_utc(row.captured_at), _utc(row.received_at), row.payload.get("clock")) != _utc(row.captured_at)
    ]
    if by_arrival:
        statement = (
            sa.update(RESULTS).where(RESULTS.c.result_id == sa.bindparam("id")).values(dated_at=sa.bindparam("at"))
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
    _fill_dated_at()
    with op.batch_alter_table("results") as table:
        table.alter_column("dated_at", nullable=False, existing_type=sa.DateTime(timezone=True))
    _indexes("dated_at", [*WORKLIST_COLUMNS, "captured_at"])
    _tallies("dated_on", "dated_at")


def downgrade() -> None:
    _indexes("captured_at", WORKLIST_COLUMNS)
    with op.batch_alter_table("results") as table:
        table.drop_column("dated_at")
    _tallies("captured_on", "captured_at")
