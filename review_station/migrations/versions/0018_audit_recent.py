"""``audit_recent`` (kind, time) on the audit log: a result page says who else opened the result in
the last minutes (``review_station.opened``), read from the "view" events the station already
records; the index bounds that read to the recent events of one kind, however long the log grows."""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade() -> None:
    op.create_index("audit_recent", "audit", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("audit_recent", table_name="audit")
