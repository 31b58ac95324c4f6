"""Refused contrary reads: kept, flagged for a coordinator, and settled.

When two specialists read a result at once the first read wins and the other is refused out of turn
(``verdicts.ReadOutOfTurn``); so is an amendment of a read since replaced. A refused read that
differs in what the patient gets (``verdicts.care_of``) from the read that stands may be the right
one (an urgent finding the winner missed), so it is kept here whole, shown on the result page and
flagged on the worklist until a coordinator settles it: by confirming the read that stands, or by
amending it through the result page's amendment, which settles it too. Each step is audited.

A coordinator settles what they were shown: ``seen`` is the newest refused read on their page, and a
read refused after it stays flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from review_station import audit
from review_station.accounts import SignedIn
from review_station.storage.locks import for_update
from review_station.storage.tables import contrary_reads, reads, results, users

AWAITING = contrary_reads.c.settled_at.is_(None)
# A result with a refused contrary read no coordinator has settled yet, as a condition on ``results``:
# among the few such results (a list the database reads once), not a look-up per result, so the
# worklist's count of them does not test each of its results in turn.
FLAGGED = results.c.result_id.in_(select(contrary_reads.c.result_id).where(AWAITING))


def flagged_results(connection: Connection, reader: SignedIn) -> int:
    """How many results of the reader's sites hold a refused contrary read to settle, whatever the
    worklist's filters: a coordinator filtering by another site still learns of them. Read off
    ``contrary_reads`` alone for an account reading every site."""
    results_flagged = select(func.count(func.distinct(contrary_reads.c.result_id))).where(AWAITING)
    if reader.sites is not None:
        of_result = contrary_reads.c.result_id == results.c.result_id
        results_flagged = results_flagged.join_from(contrary_reads, results, of_result).where(
            *reader.site_conditions(results.c.site_id)
        )
    return connection.execute(results_flagged).scalar_one()


def keep(connection: Connection, result_id: str, user_id: int, read: Mapping[str, Any], standing: str) -> int:
    """Keep a refused read (``read``: its verdict, urgency, grading and comment) that differs in care
    from the read ``standing`` (its review id); returns its id, which its ``read_refused`` event names."""
    values = {name: read[name] for name in ("verdict", "urgency", "icdr_grade", "maculopathy", "diagnosis", "comment")}
    kept = connection.execute(
        insert(contrary_reads).values(
            result_id=result_id, user_id=user_id, standing_review_id=standing, created_at=datetime.now(UTC), **values
        )
    )
    return int(kept.inserted_primary_key[0])


def of_result(connection: Connection, result_id: str) -> list[Any]:
    """A result's refused contrary reads, oldest first, with who read and who settled them."""
    reader, settler = users.alias("reader"), users.alias("settler")
    return list(
        connection.execute(
            select(contrary_reads, reader.c.username, settler.c.username.label("settled_by_name"))
            .join(reader, reader.c.id == contrary_reads.c.user_id)
            .outerjoin(settler, settler.c.id == contrary_reads.c.settled_by)
            .where(contrary_reads.c.result_id == result_id)
            .order_by(contrary_reads.c.id)
        )
    )


def settle(connection: Connection, result_id: str, seen: int, how: str, review_id: str, by: SignedIn) -> list[int]:
    """Settle the result's awaiting refused reads up to ``seen`` (the newest its coordinator was shown):
    ``how`` the read ``review_id`` stands ("confirmed") or replaced the one they differed from
    ("amended"). Audited when it settles any; returns their ids."""
    settled = list(
        connection.execute(
            select(contrary_reads.c.id).where(
                contrary_reads.c.result_id == result_id, AWAITING, contrary_reads.c.id <= seen
            )
        ).scalars()
    )
    if settled:
        connection.execute(
            update(contrary_reads)
            .where(contrary_reads.c.id.in_(settled))
            .values(settlement=how, settled_review_id=review_id, settled_by=by.user_id, settled_at=datetime.now(UTC))
        )
        details = {"result": result_id, "contrary": settled, "how": how, "review": review_id, "by": by.username}
        audit.append(connection, "contrary_settled", details)
    return settled


def confirm(engine: Engine, result_id: str, seen: int, by: SignedIn) -> list[int]:
    """A coordinator confirms the read that stands against the refused reads they were shown. The
    result is held first, as a read or an amendment holds it (``verdicts.record_read``): what stands
    and what awaits are still so when they are settled, so a second coordinator confirming at once, or
    an amendment, settles after this one and finds them settled."""
    with engine.begin() as connection:
        connection.execute(for_update(connection, select(results.c.result_id).where(results.c.result_id == result_id)))
        standing = connection.execute(
            select(reads.c.review_id).where(reads.c.result_id == result_id).order_by(reads.c.id.desc()).limit(1)
        ).scalar()
        if standing is None:
            return []  # no read stands: nothing was refused against one
        return settle(connection, result_id, seen, "confirmed", standing, by)
