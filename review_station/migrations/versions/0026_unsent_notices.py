"""``erased_notices.owed_at``, ``unsent_reason`` and ``unsent_detail``: since when each result is owed
to its device, and why the ingester last could not send the notice naming it.

A notice the station could not send (no verdict key, more ids than a notice carries, the broker's ACL
refusing the topic) was only in the ingester's log, and the device kept the patients the station
erased; the dashboard and ``devices list`` now show a notice owed too long, with its reason. The time
of an erasure was never kept: the results owed when the station upgrades count as owed from then."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"

NOTICES = sa.table("erased_notices", sa.column("owed_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    with op.batch_alter_table("erased_notices") as table:
        table.add_column(sa.Column("owed_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("unsent_reason", sa.String(16)))
        table.add_column(sa.Column("unsent_detail", sa.Text))
    op.execute(sa.update(NOTICES).values(owed_at=datetime.now(UTC)))
    with op.batch_alter_table("erased_notices") as table:
        table.alter_column("owed_at", nullable=False, existing_type=sa.DateTime(timezone=True))


def downgrade() -> None:
    with op.batch_alter_table("erased_notices") as table:
        table.drop_column("unsent_detail")
        table.drop_column("unsent_reason")
        table.drop_column("owed_at")
