"""Refused contrary reads (``contrary_reads``): a read refused out of turn that differs in what the
patient gets from the read that stands, kept for a coordinator to settle. A new table: nothing of an
existing station's data moves."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.create_table(
        "contrary_reads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("result_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("icdr_grade", sa.String(length=16)),
        sa.Column("maculopathy", sa.String(length=16)),
        sa.Column("diagnosis", sa.String(length=32)),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("standing_review_id", sa.String(length=64), nullable=False),
        sa.Column("settlement", sa.String(length=16)),
        sa.Column("settled_review_id", sa.String(length=64)),
        sa.Column("settled_by", sa.Integer()),
        sa.Column("settled_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(["result_id"], ["results.result_id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["standing_review_id"], ["reads.review_id"]),
        sa.ForeignKeyConstraint(["settled_review_id"], ["reads.review_id"]),
        sa.ForeignKeyConstraint(["settled_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("contrary_reads_result", "contrary_reads", ["result_id", "settled_at"])


def downgrade() -> None:
    op.drop_index("contrary_reads_result", table_name="contrary_reads")
    op.drop_table("contrary_reads")
