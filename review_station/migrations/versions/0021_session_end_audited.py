"""``sessions.end_audited``: the session's end is in the audit log already. Disabling an account used
to delete its open sessions' rows, auditing their ends, and its reader, at their next request, was sent
to the sign-in page with nothing said; the rows are now kept, ended, to tell them that the session
open in their browser ended, and must not be audited a second time when they are deleted. Every row
stored before is a session whose end is not audited yet: disabling deleted its sessions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"

SESSIONS = sa.table("sessions", sa.column("end_audited", sa.Boolean))


def upgrade() -> None:
    with op.batch_alter_table("sessions") as table:
        table.add_column(sa.Column("end_audited", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("sessions") as table:
        table.alter_column("end_audited", server_default=None, existing_type=sa.Boolean(), existing_nullable=False)


def downgrade() -> None:
    # The station before kept no session whose end was audited: it would audit these a second time.
    op.execute(sa.delete(SESSIONS).where(SESSIONS.c.end_audited.is_(True)))
    with op.batch_alter_table("sessions") as table:
        table.drop_column("end_audited")
