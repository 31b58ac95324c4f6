"""A verdict's ``reviewed_at`` as the device was sent it, in a column of its own
(``deliveries.reviewed_at``): the device takes a result's verdict with the latest ``reviewed_at`` as
the one that stands, so the station orders a result's verdicts by it (the next one's time, the
sending, a resend after a restore, the page's verdict), and ``deliveries_result`` reads them.

Filled here from each payload's ``reviewed_at``, read with the JSON module, not the app's wire
code: a later change to that code must not change what this migration writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

BATCH = 1000
DELIVERIES = sa.table(
    "deliveries",
    sa.column("review_id", sa.String),
    sa.column("payload", sa.LargeBinary),
    sa.column("reviewed_at", sa.DateTime(timezone=True)),
)


def _reviewed_at(payload: bytes) -> datetime:
    """The payload's ``reviewed_at`` (``YYYY-MM-DDTHH:MM:SSZ``: every payload was checked before it was queued)."""
    return datetime.strptime(json.loads(payload)["reviewed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True)))
    bind = op.get_bind()
    rows = bind.execute(sa.select(DELIVERIES.c.review_id, DELIVERIES.c.payload).execution_options(yield_per=BATCH))
    times = [{"id": review_id, "at": _reviewed_at(payload)} for review_id, payload in rows]
    if times:
        statement = (
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.review_id == sa.bindparam("id"))
            .values(reviewed_at=sa.bindparam("at"))
        )
        bind.execute(statement, times)
    with op.batch_alter_table("deliveries") as table:
        table.alter_column("reviewed_at", nullable=False, existing_type=sa.DateTime(timezone=True))
        table.create_index("deliveries_result", ["result_id", "reviewed_at"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.drop_index("deliveries_result")
        table.drop_column("reviewed_at")
