"""``result_tallies``: results per worklist filter value and UTC day, so the worklist's counts add up
a few rows per device and day instead of counting every result on every load. Filled here from the
results already stored; kept by the ingester and the reads from then on (``storage/tallies.py``)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

KEY = ["site_id", "device_id", "modality", "triage", "quality_verdict", "state", "captured_on"]


def upgrade() -> None:
    tallies = op.create_table(
        "result_tallies",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column("triage", sa.String(length=16), nullable=False),
        sa.Column("quality_verdict", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("captured_on", sa.Date(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY),
    )
    counted: Counter[tuple[object, ...]] = Counter()
    stored = sa.table(
        "results", *(sa.column(name) for name in KEY[:-1]), sa.column("captured_at", sa.DateTime(timezone=True))
    )
    for row in op.get_bind().execute(sa.select(stored)).mappings():
        moment = row["captured_at"]
        day = (moment.astimezone(UTC) if moment.tzinfo else moment).date()  # SQLite keeps UTC without a zone
        counted[(*(row[name] or "" for name in KEY[:-1]), day)] += 1
    if counted:
        op.bulk_insert(tallies, [dict(zip(KEY, key, strict=True)) | {"results": n} for key, n in counted.items()])


def downgrade() -> None:
    op.drop_table("result_tallies")
