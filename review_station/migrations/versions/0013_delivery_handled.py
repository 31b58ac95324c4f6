"""A coordinator's mark on a verdict that could not reach the nurse (``deliveries.handled_at`` and
``handled_by``): passed on by other means, it leaves the list of undelivered verdicts. Existing
deliveries start unmarked, so every verdict a device never got is listed once after the upgrade."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("handled_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("handled_by", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("handled_by")
        table.drop_column("handled_at")
