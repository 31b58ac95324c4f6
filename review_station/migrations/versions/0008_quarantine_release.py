"""Quarantine keeps a valid result of a device not yet enrolled whole, marked with that device, so
enrolling the device releases it (``payload_head`` becomes ``payload``; ``awaiting_device``).

Rows quarantined before this for that reason are marked too when their head already holds the whole
payload (a result of at most 1024 bytes); longer ones were cut and stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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
        device_id = _result_topics_device(row.topic)
        if device_id is not None and row.reason.startswith(f"device {device_id} "):
            bind.execute(sa.update(quarantine).where(quarantine.c.id == row.id).values(awaiting_device=device_id))


def _result_topics_device(topic: str) -> str | None:
    """The device of a result topic as it was when this migration was written
    (``edgescreen/v1/SITE/DEVICE/result``), ``None`` for any other topic: a frozen copy, so a later
    change to the wire's topics cannot change what this migration did to an existing station."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:2] != ["edgescreen", "v1"] or parts[4] != "result":
        return None
    return parts[3]


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as table:
        table.drop_index("quarantine_awaiting_device")
        table.drop_column("awaiting_device")
        table.alter_column("payload", new_column_name="payload_head", existing_type=sa.LargeBinary(), nullable=False)
