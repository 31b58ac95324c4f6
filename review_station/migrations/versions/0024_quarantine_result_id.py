"""``quarantine.result_id``: the result id a quarantined result names, whatever it was refused for.

A patient's erasure must remove every copy the station holds, and a copy refused for another reason
than its device's enrolment (another site, a payload naming another device, a second content) was kept
as its first bytes only, which nothing looked up by id. The ingester now keeps the id with the copy
(``classify.Refused.result_id``); the entries quarantined before are given the id their kept bytes name.
A head cut before its id keeps none: nothing in it can be found by id.

The pattern is copied here, frozen, not imported: a later change must not change what this migration
writes on a station migrated later."""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"

NAMED = re.compile(rb'"result_id"\s*:\s*"([0-9a-f]{32})"')  # frozen copy (see the docstring)
BATCH = 500
QUARANTINE = sa.table(
    "quarantine",
    sa.column("id", sa.Integer),
    sa.column("topic", sa.String),
    sa.column("payload", sa.LargeBinary),
    sa.column("result_id", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as table:
        table.add_column(sa.Column("result_id", sa.String(32)))
    op.create_index("quarantine_result_id", "quarantine", ["result_id"])
    bind = op.get_bind()
    last = 0
    while True:  # keyset pages of result messages, so a big quarantine is not read at once
        page = bind.execute(
            sa.select(QUARANTINE.c.id, QUARANTINE.c.payload)
            .where(QUARANTINE.c.topic.like("%/result"), QUARANTINE.c.id > last)
            .order_by(QUARANTINE.c.id)
            .limit(BATCH)
        ).all()
        if not page:
            return
        named = [(entry.id, NAMED.search(bytes(entry.payload))) for entry in page]
        found = [{"entry": entry, "named": match.group(1).decode()} for entry, match in named if match]
        if found:
            bind.execute(
                sa.update(QUARANTINE)
                .where(QUARANTINE.c.id == sa.bindparam("entry"))
                .values(result_id=sa.bindparam("named")),
                found,
            )
        last = page[-1].id


def downgrade() -> None:
    op.drop_index("quarantine_result_id", "quarantine")
    with op.batch_alter_table("quarantine") as table:
        table.drop_column("result_id")
