"""The worklist's indexes: its order (refer first, then ungradable, oldest first), and its counts."""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index("results_order", "results", ["triage_rank", "captured_at", "result_id"])
    op.create_index("results_counts", "results", ["state", "triage", "site_id", "captured_at"])


def downgrade() -> None:
    op.drop_index("results_counts", table_name="results")
    op.drop_index("results_order", table_name="results")
