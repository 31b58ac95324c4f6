"""Who else opened a result lately: the station double-reads, and two readers who open the same result
at once would both start a read without knowing. The result page says so, as information: nobody is
kept from reading. Read from the audit log's "view" events, which the station already records for
every opening of a result page, so nothing new is written on each opening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from review_station import audit

# An opening this recent may be a read in progress: a reader looks at the photo and the figures and
# fills the form within a few minutes. An older one is most likely finished or left, and saying it
# would have readers hold back for nobody.
RECENTLY = timedelta(minutes=15)


@dataclass(frozen=True)
class Opening:
    """Another account's latest opening of the result: ``minutes`` whole minutes ago (0: under one)."""

    by: str
    minutes: int


def opened_by_others(
    connection: Connection, result_id: str, username: str, now: datetime | None = None
) -> list[Opening]:
    """Each other account that opened ``result_id`` within ``RECENTLY``, its latest opening, most recent
    first; the reader's own openings are not news to them."""
    now = now or datetime.now(UTC)
    latest: dict[str, datetime] = {}
    for at, by in audit.result_views(connection, result_id, now - RECENTLY):
        if by != username:
            latest[by] = max(at, latest.get(by, at))
    ordered = sorted(latest.items(), key=lambda item: item[1], reverse=True)
    return [Opening(by, int((now - at).total_seconds() // 60)) for by, at in ordered]
