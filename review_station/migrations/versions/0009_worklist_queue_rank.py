"""The worklist shows what awaits a read first: ``results.queue_rank`` (0 while a result awaits a
read, first, second or adjudication; 1 once reviewed) leads ``results_order``, so both the results
awaiting a reader and the rest are ranges of that one index, in the order specialists read in.
Filled here from each result's state; kept by the ingester and the reads from then on."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

WORKLIST_COLUMNS = ["site_id", "device_id", "modality", "triage", "quality_verdict", "state"]


def upgrade() -> None:
    with op.batch_alter_table("results") as table:
        table.add_column(sa.Column("queue_rank", sa.Integer(), nullable=False, server_default="0"))
    results = sa.table("results", sa.column("state", sa.String), sa.column("queue_rank", sa.Integer))
    op.execute(sa.update(results).where(results.c.state == "reviewed").values(queue_rank=1))
    with op.batch_alter_table("results") as table:
        table.alter_column("queue_rank", server_default=None, existing_type=sa.Integer(), existing_nullable=False)
    op.drop_index("results_order", table_name="results")
    op.create_index(
        "results_order", "results", ["queue_rank", "triage_rank", "captured_at", "result_id", *WORKLIST_COLUMNS]
    )


def downgrade() -> None:
    op.drop_index("results_order", table_name="results")
    op.create_index("results_order", "results", ["triage_rank", "captured_at", "result_id", *WORKLIST_COLUMNS])
    with op.batch_alter_table("results") as table:
        table.drop_column("queue_rank")
