"""``ingesters``: each ingester's heartbeat (``review_station.heartbeats``).

The ingester alone sends the verdicts and the erasure notices; with it stopped, a verdict read "waiting
for the broker" and an unsent notice "is the ingester running?", and the dashboard said nothing. Each
ingester now keeps a row: host, pid, when it started, its last heartbeat, whether it is connected to
the broker. An existing database gets the table empty: no ingester is known until one runs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"


def upgrade() -> None:
    op.create_table(
        "ingesters",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("pid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected", sa.Boolean, nullable=False),
        sa.Column("stopped", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingesters")
