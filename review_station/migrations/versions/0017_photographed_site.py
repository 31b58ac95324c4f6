"""Where on the patient a result's photo was taken, as columns: ``results.eye`` ("L" or "R", fundus)
and ``results.body_site`` (a coarse site, dermoscopy), from the payload, where they were until now the
only copy. The worklist shows them, so a reader tells a patient's left eye from their right (or two
lesions) apart in the list; ``results_order`` now covers them too, so a page is still read from that
index alone, never from the rows with their payloads.

The results stored before are filled from their payloads in one statement, in SQL on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"

# The columns ``results_order`` covers, as 0010 left them (frozen: never imported from the app).
ORDER = ["queue_rank", "triage_rank", "dated_at", "result_id"]
COVERED = ["site_id", "device_id", "modality", "triage", "quality_verdict", "state", "dated_from"]
PHOTOGRAPHED = ["eye", "body_site"]
RESULTS = sa.table(
    "results",
    sa.column("eye", sa.String),
    sa.column("body_site", sa.String),
    sa.column("payload", sa.JSON),
)


def _order_index(covered: list[str]) -> None:
    op.drop_index("results_order", table_name="results")
    op.create_index("results_order", "results", [*ORDER, *covered])


def upgrade() -> None:
    with op.batch_alter_table("results") as table:
        table.add_column(sa.Column("eye", sa.String(length=1)))
        table.add_column(sa.Column("body_site", sa.String(length=16)))
    op.execute(sa.update(RESULTS).values({name: RESULTS.c.payload[name].as_string() for name in PHOTOGRAPHED}))
    _order_index([*COVERED, *PHOTOGRAPHED])


def downgrade() -> None:
    _order_index(COVERED)
    with op.batch_alter_table("results") as table:
        for name in PHOTOGRAPHED:
            table.drop_column(name)
