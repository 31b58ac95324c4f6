"""``audit.at_utc``: each event's time as a time (UTC), beside ``at``, the text the hash chain covers.
``audit_recent`` now indexes (kind, ``at_utc``) instead of (kind, ``at``).

``at`` is an ISO 8601 text as the chain rule wrote it, with whatever offset and precision the moment
it was given had ("...T12:00:00-05:00", "...T17:00:00+00:00" without its microseconds). Compared as
text, its order is not the order in time: a result page said a reader opened a result lately when it
was long ago, and missed a recent one; on PostgreSQL the database's collation orders text too. The
text stays as it is (the chain's hashes are over it); the time is a column the databases compare as
times. The events stored before are filled from their ``at``, read as the chain rule wrote it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"

BATCH = 1000  # events read and written at a time: only their number and time
AUDIT = sa.table(
    "audit", sa.column("seq", sa.Integer), sa.column("at", sa.String), sa.column("at_utc", sa.DateTime(timezone=True))
)


def _fill() -> None:
    """Each stored event's ``at_utc``, in batches: an audit log holds every opening of every page."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(AUDIT.c.seq, AUDIT.c.at).execution_options(yield_per=BATCH))
    statement = sa.update(AUDIT).where(AUDIT.c.seq == sa.bindparam("number")).values(at_utc=sa.bindparam("time"))
    for batch in rows.partitions():
        # In UTC, as ``UtcDateTime`` stores every time: SQLite keeps no zone, only the figures.
        times = [{"number": seq, "time": datetime.fromisoformat(at).astimezone(UTC)} for seq, at in batch]
        connection.execute(statement, times)


def upgrade() -> None:
    with op.batch_alter_table("audit") as table:
        table.add_column(sa.Column("at_utc", sa.DateTime(timezone=True)))
    _fill()
    with op.batch_alter_table("audit") as table:
        table.alter_column("at_utc", nullable=False, existing_type=sa.DateTime(timezone=True))
    op.drop_index("audit_recent", table_name="audit")
    op.create_index("audit_recent", "audit", ["kind", "at_utc"])


def downgrade() -> None:
    op.drop_index("audit_recent", table_name="audit")
    op.create_index("audit_recent", "audit", ["kind", "at"])
    with op.batch_alter_table("audit") as table:
        table.drop_column("at_utc")
