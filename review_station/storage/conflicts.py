"""Inserts that say what to do with a row already there (``ON CONFLICT``), on either database.

PostgreSQL and SQLite spell the clause alike, but SQLAlchemy gives each dialect its own ``Insert``:
the one statement the station's writers (several ingesters, an administrator's command) share rows
with, chosen here once by the connection's database.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_into(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An insert into ``table`` in the connection's own dialect, which takes ``on_conflict_do_*``."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
