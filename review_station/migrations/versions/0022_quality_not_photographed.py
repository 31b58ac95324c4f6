"""``results.quality_verdict`` of an eye the nurse could not photograph: ``not_photographed``, not ``reject``.

The device sends such an eye as ungradable with the verdict ``reject`` and the one quality reason
``not_photographed`` (no photo, model or calibration). Stored as ``reject``, the worklist's Quality
filter filed it with the photos the gate refused, though its Quality column says the nurse could not
photograph the eye. The ingester now stores ``not_photographed`` (``classify.quality_verdict``); the
results stored before are given it here and the tallies, keyed by the quality, moved with them.

The code is copied here, frozen, not imported (``edgescreen_wire.result.NOT_PHOTOGRAPHED``): a later
change must not change what this migration writes on a station migrated later."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"

NOT_PHOTOGRAPHED = "not_photographed"  # frozen copy (see the docstring)
# The ungradable results read at once, with their payloads: a big station's upgrade holds one page of
# them, not all (they are every photo the gate refused, at a few kilobytes of payload each).
BATCH = 500
KEY = ("site_id", "device_id", "modality", "triage", "quality_verdict", "state")
RESULTS = sa.table(
    "results",
    sa.column("result_id", sa.String),
    *(sa.column(name, sa.String) for name in KEY),
    sa.column("dated_at", sa.DateTime(timezone=True)),
    sa.column("payload", sa.JSON),
)
TALLIES = sa.table(
    "result_tallies",
    *(sa.column(name, sa.String) for name in KEY),
    sa.column("dated_on", sa.Date),
    sa.column("results"),
)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone


def _pages(before: str) -> Iterator[Sequence[sa.Row]]:
    """The ungradable results of quality ``before``, with their payloads, ``BATCH`` at a time in the order
    of their ids (keyset pages: each page starts after the last id of the one before, which the updates
    of quality made meanwhile leave in place)."""
    bind = op.get_bind()
    columns = (RESULTS.c.result_id, *(RESULTS.c[name] for name in KEY), RESULTS.c.dated_at, RESULTS.c.payload)
    last = ""
    while True:
        page = bind.execute(
            sa.select(*columns)
            .where(RESULTS.c.triage == "ungradable", RESULTS.c.quality_verdict == before, RESULTS.c.result_id > last)
            .order_by(RESULTS.c.result_id)
            .limit(BATCH)
        ).all()
        if page:
            yield page
        if len(page) < BATCH:
            return
        last = page[-1].result_id


def _move(before: str, after: str) -> None:
    """Give the results of an eye not photographed quality ``after`` instead of ``before``, and move
    their tallies. Only the ungradable results of quality ``before`` are read, with their payloads, a
    page at a time (``_pages``); the tallies' changes, one per site, device, modality, state and day, summed
    over the pages and written once."""
    bind = op.get_bind()
    changes: Counter[tuple[object, ...]] = Counter()
    for page in _pages(before):
        moved = [row for row in page if NOT_PHOTOGRAPHED in ((row.payload.get("quality") or {}).get("reasons") or ())]
        if not moved:
            continue
        bind.execute(
            sa.update(RESULTS).where(RESULTS.c.result_id == sa.bindparam("id")).values(quality_verdict=after),
            [{"id": row.result_id} for row in moved],
        )
        for row in moved:
            key = tuple(getattr(row, name) for name in KEY[:4])
            rest = (row.state, _utc(row.dated_at).date())
            changes[(*key, before, *rest)] -= 1
            changes[(*key, after, *rest)] += 1
    for key, change in changes.items():
        where = [TALLIES.c[name] == value for name, value in zip((*KEY, "dated_on"), key, strict=True)]
        counted = bind.execute(sa.update(TALLIES).where(*where).values(results=TALLIES.c.results + change))
        if counted.rowcount == 0:
            bind.execute(
                sa.insert(TALLIES).values({**dict(zip((*KEY, "dated_on"), key, strict=True)), "results": change})
            )


def upgrade() -> None:
    _move("reject", NOT_PHOTOGRAPHED)


def downgrade() -> None:
    _move(NOT_PHOTOGRAPHED, "reject")
