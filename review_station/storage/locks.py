"""Holding what a transaction reads to decide what it writes, on both of the station's databases.

PostgreSQL locks the rows a ``SELECT ... FOR UPDATE`` reads until the transaction ends. SQLite has no
row locks and ignores FOR UPDATE, and pysqlite begins a transaction only at its first write (INSERT,
UPDATE, DELETE): what a transaction reads before that was read outside it, and another writer (a second
``serve`` process, an ingester) may commit in between, so the transaction decides on what is no longer
there. There, the database's one write lock is taken before the read instead.
"""

from __future__ import annotations

from sqlalchemy import Connection, Select, Table, false, func, select, update

from review_station.storage.tables import meta


def hold_the_writer(connection: Connection) -> None:
    """SQLite: take the database's one write lock now, by a write that changes nothing, so that what
    the transaction reads next stays as read until it commits. Nothing on PostgreSQL, whose readers
    lock what they must themselves (``for_update``, advisory locks). The write is to ``meta``, a table
    of the first schema: the audit takes the lock too (``audit.append``), in a migration's upgrade of a
    database older than any other table (it wrote to ``erased_results``, and an upgrade from before
    that table stopped at "no such table")."""
    if connection.dialect.name == "sqlite":
        connection.execute(update(meta).where(false()).values(key=meta.c.key))


def for_update(connection: Connection, query: Select, of: Table | None = None) -> Select:
    """``query`` holding the rows it reads (those of ``of``'s table, when it joins others) until the
    transaction ends, on either database (``hold_the_writer``): a state read to decide a write is
    still that state when the write commits."""
    hold_the_writer(connection)
    return query.with_for_update(of=of)


def advisory_lock(connection: Connection, key: int, shared: bool = False) -> None:
    """Take the lock named ``key`` until the transaction ends. PostgreSQL: a transaction-scoped
    advisory lock (``shared`` holders wait only for the exclusive one), a gate between transactions
    that holds none of the rows others lock, so it adds no cycle with them when taken first. SQLite:
    the one write lock (``hold_the_writer``)."""
    if connection.dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
        connection.execute(select(lock(key)))
    else:
        hold_the_writer(connection)
