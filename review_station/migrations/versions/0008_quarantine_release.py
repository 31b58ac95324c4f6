"""Quarantine keeps a valid result of a device not yet enrolled whole, marked with that device, so
enrolling the device releases it (``payload_head`` becomes ``payload``; ``awaiting_device``).

Rows quarantined before this for that reason are marked too when their head already holds the whole
payload (a result of at most 1024 bytes); longer ones were cut and stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from edgescreen_wire.topics import RESULT, parse_device_topic

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as table:
        table.alter_column("payload_head", new_column_name="payload", existing_type=sa.LargeBinary(), nullable=False)
        table.add_column(sa.Column("awaiting_device", sa.String(length=64), nullable=True))
        table.create_index("quarantine_awaiting_device", ["awaiting_device"])
    _mark_whole_unenrolled_results()


def _mark_whole_unenrolled_results() -> None:
    """The ingester's reason for a device missing from the registry named it: "device X is not enrolled"."""
    quarantine = sa.table(
        "quarantine",
        sa.column("id", sa.Integer),
        sa.column("topic", sa.String),
        sa.column("reason", sa.Text),
        sa.column("payload", sa.LargeBinary),
        sa.column("payload_bytes", sa.Integer),
        sa.column("awaiting_device", sa.String),
    )
    bind = op.get_bind()
    candidates = bind.execute(
        sa.select(quarantine.c.id, quarantine.c.topic, quarantine.c.reason).where(
            quarantine.c.reason.like("device % is not enrolled%"),
            sa.func.length(quarantine.c.payload) == quarantine.c.payload_bytes,
        )
    )
    for row in candidates.all():
        where = parse_device_topic(row.topic)
        if where is not None and where.leaf == RESULT and row.reason.startswith(f"device {where.device_id} "):
            bind.execute(sa.update(quarantine).where(quarantine.c.id == row.id).values(awaiting_device=where.device_id))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as table:
        table.drop_index("quarantine_awaiting_device")
        table.drop_column("awaiting_device")
        table.alter_column("payload", new_column_name="payload_head", existing_type=sa.LargeBinary(), nullable=False)
