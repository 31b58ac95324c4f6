"""``erased_notices``: which results the station erased for each device, for its notice to the device.

The station now tells a device the results it erased (``edgescreen.erased/1``), so that a device whose
records came back from a backup, or whose result an administrator erased here, erases them too. The
tombstones the station kept before this migration name their device, but for an administrator's
(``*``): each such result is owed to its device in a notice, sent once the ingester runs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"


def upgrade() -> None:
    op.create_table(
        "erased_notices",
        sa.Column("result_id", sa.String(32), primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("noticed", sa.Boolean, nullable=False),
    )
    op.create_index("erased_notices_device", "erased_notices", ["device_id", "noticed"])
    op.execute(
        "INSERT INTO erased_notices (result_id, device_id, noticed) "
        "SELECT result_id, device_id, false FROM erased_results WHERE device_id <> '*'"
    )


def downgrade() -> None:
    op.drop_table("erased_notices")
