"""A JSON value in the ``meta`` table that several ingesters may update: written only if it still
holds what the writer read, so two of them never count one event twice or lose one."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from review_station.storage.conflicts import insert_into
from review_station.storage.tables import meta

ATTEMPTS = 3  # another ingester may write the row between our read and our write


def stored_value(connection: Connection, key: str) -> str | None:
    """The row's value as stored (to write it back only if unchanged), or None while it is absent."""
    return connection.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()


def written(connection: Connection, key: str, stored: str | None, value: str) -> bool:
    """Write the row if it still holds ``stored`` (or is still absent); whether it was written."""
    if stored is None:
        statement = insert_into(connection, meta).values(key=key, value=value)
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
        return connection.execute(statement.returning(meta.c.key)).first() is not None  # (psycopg: no rowcount)
    changed = connection.execute(update(meta).where(meta.c.key == key, meta.c.value == stored).values(value=value))
    return changed.rowcount == 1
