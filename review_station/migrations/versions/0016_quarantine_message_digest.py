"""Quarantine keeps each refused message once (``quarantine.message_sha256``, unique): every ingester
now reads every result on a plain subscription (a shared one does not survive a mosquitto restart),
so each of them refuses the same message, and a device's re-sent copy is the same message too.

Rows quarantined before this keep no digest (NULL, which a unique index does not compare).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as table:
        table.add_column(sa.Column("message_sha256", sa.String(length=64), nullable=True))
        table.create_index("quarantine_message_sha256", ["message_sha256"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as table:
        table.drop_index("quarantine_message_sha256")
        table.drop_column("message_sha256")
