"""``erased_results``: the tombstones of the results erased here, ids only (``review_station.erasure``).

A device now asks the station to erase a patient's results (``edgescreen.erasure/1``), and a copy of one
may arrive after its erasure (in flight, queued at a bridge): the tombstone refuses it. The results an
administrator erased before this migration left none: nothing names them any more."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"


def upgrade() -> None:
    op.create_table(
        "erased_results",
        sa.Column("result_id", sa.String(32), primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erased_results")
