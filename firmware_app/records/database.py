"""The one SQLite file the device keeps everything in, opened the same way by every process.

WAL lets the sync worker read and mark the outbox while the device records; ``synchronous=FULL``
makes a committed screening survive a power cut; ``secure_delete`` overwrites what an erasure
removes. Every write is one ``BEGIN IMMEDIATE`` transaction, so a crash leaves all of it or none.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class RecordsError(RuntimeError):
    """The records cannot be used as asked; the message says what and where."""


# Each entry moves the schema from version N to N+1; an entry is never edited once released.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE screening (
            result_id TEXT PRIMARY KEY,
            recorded_at TEXT NOT NULL,
            captured_at TEXT NOT NULL,
            modality TEXT NOT NULL,
            eye TEXT,
            body_site TEXT,
            outcome TEXT NOT NULL,
            score REAL,
            threshold REAL,
            operating_point TEXT,
            model_id TEXT,
            model_version TEXT,
            model_sha256 TEXT,
            research_only INTEGER NOT NULL,
            quality TEXT,
            calibration_id TEXT,
            patient_sealed BLOB,
            note_sealed BLOB,
            source_sealed BLOB NOT NULL,
            synced_at TEXT
        )""",
        """CREATE TABLE image (
            id INTEGER PRIMARY KEY,
            result_id TEXT NOT NULL REFERENCES screening(result_id) ON DELETE CASCADE,
            media_type TEXT NOT NULL,
            sealed BLOB NOT NULL
        )""",
        "CREATE INDEX image_result ON image(result_id)",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            result_id TEXT NOT NULL UNIQUE REFERENCES screening(result_id) ON DELETE CASCADE,
            payload BLOB NOT NULL,
            queued_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL",
        """CREATE TABLE review (
            review_id TEXT PRIMARY KEY,
            result_id TEXT NOT NULL REFERENCES screening(result_id) ON DELETE CASCADE,
            verdict TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            reviewed_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            comment TEXT
        )""",
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    ),
    # The touchscreen app's operators (firmware_app/operators.py), and who took each screening:
    # kept on the device only, never in the payload.
    (
        """CREATE TABLE operator (
            name TEXT PRIMARY KEY,
            pin_hash BLOB NOT NULL,
            salt BLOB NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1,
            failed_pins INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL
        )""",
        "ALTER TABLE screening ADD COLUMN operator TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def _create_private(path: Path) -> None:
    """Create the database file readable by this user alone (SQLite gives its WAL the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (``IMMEDIATE``) so it never fails half-way on a lock."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def migrate(connection: sqlite3.Connection, source: Path) -> None:
    """Bring the schema to ``SCHEMA_VERSION``, one migration per transaction; refuse a newer file."""
    with transaction(connection):
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RecordsError(
            f"{source}: the records are at schema version {version}, newer than this software "
            f"({SCHEMA_VERSION}); update EdgeScreen rather than risk them"
        )
    for number in range(version, SCHEMA_VERSION):
        with transaction(connection):
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if connection.execute("PRAGMA user_version").fetchone()[0] != number:
                continue
            for statement in MIGRATIONS[number]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the records file; errors name the file."""
    try:
        _create_private(path)
        connection = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        connection.row_factory = sqlite3.Row
        if connection.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
            raise RecordsError(f"{path}: the file system does not support SQLite's WAL mode")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA secure_delete=ON")
        migrate(connection, path)
    except (OSError, sqlite3.Error) as error:
        raise RecordsError(f"{path}: cannot open the records ({error})") from error
    return connection
