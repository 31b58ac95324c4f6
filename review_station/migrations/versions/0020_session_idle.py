"""``sessions.last_request_at``: when the session's reader last asked the station for something. A
session ends ``[web] idle_minutes`` after it (a reader who walked away from an open station is signed
out), as well as ``session_minutes`` after its sign-in, as before. A session open at the upgrade is
counted active from the upgrade: its reader is not signed out by a time the station did not keep."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"

SESSIONS = sa.table("sessions", sa.column("last_request_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    with op.batch_alter_table("sessions") as table:
        table.add_column(sa.Column("last_request_at", sa.DateTime(timezone=True)))
    op.execute(sa.update(SESSIONS).values(last_request_at=datetime.now(UTC)))
    with op.batch_alter_table("sessions") as table:
        table.alter_column("last_request_at", nullable=False, existing_type=sa.DateTime(timezone=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as table:
        table.drop_column("last_request_at")
