"""The sites an account reads (``user_sites``): a station serving several organisations' clinics
gives each reviewer and coordinator the sites they read. No row is written here: every existing
account goes on reading every site, as before."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("site_id", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("user_sites")
