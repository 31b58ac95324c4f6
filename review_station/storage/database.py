"""Opening the station's database (SQLite or PostgreSQL) and bringing its schema up to date.

The schema is Alembic's: ``open_database`` runs the migrations to the newest revision before it
hands out the engine, so a station upgraded in place migrates its data on first start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated; the message says which and why."""


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    # WAL: the web app reads while the ingester writes; a wait instead of "database is locked".
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseError(f"{url}: cannot create its folder ({error})") from None
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise DatabaseError(f"{url}: only sqlite:/// and postgresql+psycopg:// databases are supported")


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Run every migration not yet applied (no-op on an up-to-date database)."""
    command.upgrade(alembic_config(engine), "head")


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema, or a ``DatabaseError`` naming the database."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as error:  # an unreachable server, an unwritable file, a broken schema
        engine.dispose()
        raise DatabaseError(f"{engine.url.render_as_string(hide_password=True)}: {error}") from error
    return engine
