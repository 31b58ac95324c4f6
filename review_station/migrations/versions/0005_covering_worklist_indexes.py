"""The worklist from its indexes alone (bench/review_ingest.py measures its pages).

``results_order`` gains every column a page shows or filters on, and ``results_filters`` (filters
first) replaces ``results_counts`` and ``results_worklist``: before, a narrow filter (one device, one
quality verdict) walked the order index and read each row with its payload to test it.
The device history on the result page gets an index that leads with the device.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"

WORKLIST_COLUMNS = ["site_id", "device_id", "modality", "triage", "quality_verdict", "state"]
FILTER_COLUMNS = ["site_id", "triage", "state", "device_id", "modality", "quality_verdict", "captured_at"]


def upgrade() -> None:
    op.drop_index("results_counts", table_name="results")
    op.drop_index("results_worklist", table_name="results")
    op.drop_index("results_order", table_name="results")
    op.drop_index("results_site_device", table_name="results")
    op.create_index("results_order", "results", ["triage_rank", "captured_at", "result_id", *WORKLIST_COLUMNS])
    op.create_index("results_filters", "results", [*FILTER_COLUMNS, "triage_rank", "result_id"])
    op.create_index("results_device_history", "results", ["device_id", "captured_at"])


def downgrade() -> None:
    op.drop_index("results_device_history", table_name="results")
    op.create_index("results_site_device", "results", ["site_id", "device_id"])
    op.drop_index("results_filters", table_name="results")
    op.drop_index("results_order", table_name="results")
    op.create_index("results_order", "results", ["triage_rank", "captured_at", "result_id"])
    op.create_index("results_worklist", "results", ["state", "triage_rank", "captured_at"])
    op.create_index("results_counts", "results", ["state", "triage", "site_id", "captured_at"])
