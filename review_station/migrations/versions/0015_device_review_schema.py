"""The verdict schema a device reads, as its latest result announced it (``devices.review_schema``): the
ingester signs a verdict for a device that asks for signed ones (``edgescreen.review/3``) whichever of
its results the verdict is on, one sent before the device was given the station's key included.
Existing devices start with none, and the result's own announcement stands until the next result."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    with op.batch_alter_table("devices") as table:
        table.add_column(sa.Column("review_schema", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("devices") as table:
        table.drop_column("review_schema")
