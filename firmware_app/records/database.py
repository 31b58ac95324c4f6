"""The one SQLite file the device keeps everything in, opened the same way by every process.

WAL lets the sync worker read and mark the outbox while the device records; ``synchronous=FULL``
makes a committed screening survive a power cut; ``secure_delete`` overwrites what an erasure
removes. Every write is one ``BEGIN IMMEDIATE`` transaction, so a crash leaves all of it or none.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from firmware_app.messages import Worded, said, system_reason

if TYPE_CHECKING:
    from firmware_app.health.lock_holder import LockHolder


class RecordsError(RuntimeError):
    """The records cannot be used as asked; the message says what and where."""


class DiskFull(RecordsError):
    """The records' disk is full: nothing can be written there, not even an audit event."""


class HeldAlone(DiskFull):
    """The records' disk is full and ``holder`` holds them alone: the sync worker until there is room
    (``open_database``), or a technician's ``sqlite3`` in exclusive mode. No other process can open them
    meanwhile, and waiting longer does not help. Named as the kernel listed it when refused."""

    def __init__(self, path: Path, holder: LockHolder) -> None:
        super().__init__(
            f"{path}: the disk is full, and {holder.named} holds the records alone; free space on {path.parent} "
            "(nothing recorded so far is lost)"
        )
        self.holder = holder


class RecordsLocked(RecordsError):
    """Another process kept the records locked past the wait (``waited_s``): a writer (a backup, an
    erasure, a stuck sync worker, a technician's ``sqlite3``), or one holding them alone on a disk with
    room. Nothing is wrong with the disk or the card; who holds them is the kernel's to say
    (``health.checks.locked``), and stopping that process, or letting it finish, frees them.

    Not ``holder_known`` where the kernel's list of locks cannot be read (``lock_holder.locks_listed``):
    nobody can name the holder then, nor tell the sync worker holding them alone on a full disk."""

    def __init__(self, path: Path, error: BaseException, waited_s: float, holder_known: bool = True) -> None:
        super().__init__(
            f"{path}: another process has kept the records locked for more than {waited_s:g} s ({error}); "
            + (
                "`edgescreen doctor` names it: let it finish if it is a backup or an erasure under way, else stop "
                "it (nothing recorded is lost)"
                if holder_known
                else "which one cannot be told, as the kernel's list of locks cannot be read here: if the disk is "
                f"nearly full, the sync worker may hold them alone until there is room (free space on {path.parent}); "
                "else let a backup or an erasure under way finish, or stop the program that holds them (nothing "
                "recorded is lost)"
            )
        )
        self.path, self.waited_s, self.holder_known = path, waited_s, holder_known


class RecordsReadOnly(RecordsError):
    """The records' file, folder or file system cannot be written (permissions, a file system the kernel
    remounted read-only): nothing is damaged, a technician mends it."""


class RecordsDamaged(RecordsError):
    """The records file is damaged (a page a worn card lost): retrying cannot mend it, a technician must."""


class RequestRefused(RuntimeError):
    """What was asked cannot be done as given (an unknown result id, an output file that already
    exists); nothing is wrong with the records, so it must never be reported as if they were unusable.

    Made by ``saying`` it carries its catalogue key, so the nurse reads it in the device's language
    (``said_in``, ``cli.main``) and the log its English; made from English words alone, it says those
    (the technician's tools, about a file the technician named: ``own_words``)."""

    key: str | None = None
    values: dict[str, int | str | Worded]  # set with ``key``

    @classmethod
    def saying(cls, key: str, **values: int | str | Worded) -> RequestRefused:
        """The refusal ``key`` of the catalogue (``messages.sentence``) with ``values``; its text is the English."""
        refused = cls(said(key, "en", values))
        refused.key, refused.values = key, values
        return refused

    def said_in(self, language: str) -> str:
        """The refusal in ``language``, or its own English words when it has no catalogue key."""
        return str(self) if self.key is None else said(self.key, language, self.values)


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
    # The state of the device clock when a screening was recorded (records/clock.py): a wrong clock
    # must never age a result into a cap or a purge, and the reviewer must know the date is doubtful.
    ("ALTER TABLE screening ADD COLUMN clock TEXT",),
    # Each queued payload points at its screening's audit event, whose digests bind row and payload.
    ("ALTER TABLE outbox ADD COLUMN audit_seq INTEGER", "ALTER TABLE outbox ADD COLUMN withheld TEXT"),
    # Rows the sync worker has taken to publish: erasure reports these as possibly sent, not withdrawn.
    ("ALTER TABLE outbox ADD COLUMN claimed_at TEXT",),
    # Review comments are free text from a specialist: sealed like the nurse's note.
    ("ALTER TABLE review ADD COLUMN comment_sealed BLOB",),
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
    # When the sync worker handed a payload to the broker: the nurse's worklist tells "sent, not yet
    # acknowledged" from "waiting to send" (a claimed row may still wait for the in-flight window).
    ("ALTER TABLE outbox ADD COLUMN published_at TEXT",),
    # Opt-in image sharing (firmware_app/sharing/): the kept frame sealed to the review station,
    # queued in the screening's own transaction; its sealed bytes are dropped once the station has them.
    (
        """CREATE TABLE image_upload (
            result_id TEXT PRIMARY KEY REFERENCES screening(result_id) ON DELETE CASCADE,
            sealed BLOB,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            queued_at TEXT NOT NULL,
            uploaded_at TEXT,
            refused TEXT
        )""",
    ),
    # Which verdicts a nurse has seen (the record opened since it arrived): a specialist's referral
    # the device did not make stays on every screen until then (records/worklist.py). Verdicts are
    # ordered by the station's own time, not by this device's clock, and looked up per result.
    (
        "ALTER TABLE review ADD COLUMN opened_at TEXT",
        "CREATE INDEX review_result ON review(result_id, reviewed_at)",
    ),
    # What edgescreen.review/2 adds to a verdict: how soon the patient is to be seen, and the read's
    # findings (codes, like the verdict; NULL from /1).
    (
        "ALTER TABLE review ADD COLUMN urgency TEXT",
        "ALTER TABLE review ADD COLUMN icdr_grade TEXT",
        "ALTER TABLE review ADD COLUMN maculopathy TEXT",
        "ALTER TABLE review ADD COLUMN diagnosis TEXT",
    ),
    # The verdicts the nurse opened before ``opened_at`` existed, marked seen: the migration that
    # added it left them NULL, so after an upgrade from a release without the call-back list every
    # old referral of a cleared screening came back as "Call the patient back", months after the
    # nurse had read it. Seen when the record was first opened after the verdict arrived (the
    # audit's view events, which the release before ``opened_at`` wrote too). A verdict with no such
    # view stays unseen: it may be one nobody has read yet (a device upgraded from a release that
    # already had ``opened_at``), and a call-back shown once too often is safer than one hidden.
    # The views are read out of the audit once, into an indexed temporary table: the audit has no
    # index on them, and a lookup per verdict scanned all of it (thousands of verdicts times a
    # hundred thousand events: minutes on a Pi, while the app waits to start).
    (
        """CREATE TEMP TABLE seen_views AS
            SELECT json_extract(details, '$.result_id') AS result_id, at FROM audit WHERE kind = 'view'""",
        "CREATE INDEX temp.seen_views_result ON seen_views(result_id, at)",
        """UPDATE review SET opened_at = (
            SELECT min(seen_views.at) FROM seen_views
            WHERE seen_views.result_id = review.result_id AND seen_views.at >= review.received_at)
        WHERE opened_at IS NULL""",
        "DROP TABLE temp.seen_views",
    ),
    # When the records were last backed up, kept in ``meta`` with each backup's audit event
    # (firmware_app/backup.py): doctor and the nurse's readiness list warn once it is older than
    # [records] backup_warning_days. Records backed up before take their audit's newest backup.
    (
        """INSERT INTO meta (key, value)
            SELECT 'last_backup', max(at) FROM audit
            WHERE kind = 'export' AND json_extract(details, '$.scope') = 'backup'
            HAVING max(at) IS NOT NULL""",
    ),
    # The state of the device clock a verdict's arrival was dated by, and the boot it arrived on: one
    # received before NTP set the clock may be dated days off, and Today keeps it by the screenings'
    # rule (records/worklist.py). NULL for the verdicts received before: their dates stand as they are.
    ("ALTER TABLE review ADD COLUMN clock TEXT", "ALTER TABLE review ADD COLUMN boot TEXT"),
    # The unsent rows by when they were queued: every recording asks whether one is past the outbox's
    # age cap (``ScreeningStore._make_room``), and through the unsent rows' index alone that read
    # every one of them, a backlog's worth of table lookups in the recording's transaction (2.3 ms
    # at 10,000 unsent, 14 ms at 50,000: a device offline for weeks, which the outbox is for).
    ("CREATE INDEX outbox_unsent_queued ON outbox(queued_at) WHERE sent_at IS NULL",),
    # The results [sync] overflow_policy = "drop_oldest" deleted from the outbox unsent, one row each,
    # kept in the deleting transaction: ``sync status`` counts them ("dropped": a backlog of 0 is not
    # "all sent") and Today shows each as never sent instead of "waiting to send" for good. No
    # foreign key: the drop stays counted after its patient is erased (the audit keeps such ids too).
    ("CREATE TABLE dropped_unsent (result_id TEXT PRIMARY KEY, dropped_at TEXT NOT NULL)",),
    # Wrong PINs typed on a client other than the device itself (the app bound to the LAN, a tablet),
    # counted apart from the device's: their lock refuses sign-in from the network only, so a guesser
    # there cannot lock the nurse out of the device's own screen (firmware_app/operators.py). A lock
    # from before stays in the device's columns, where it holds for both.
    (
        "ALTER TABLE operator ADD COLUMN remote_failed_pins INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE operator ADD COLUMN remote_locked_until TEXT",
    ),
    # The requests to the review station to erase an erased patient's results it may hold
    # (records/erasure_outbox.py): queued in the erasure's transaction, deleted once the broker has them.
    (
        """CREATE TABLE erasure_outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            payload BLOB NOT NULL,
            queued_at TEXT NOT NULL
        )""",
    ),
    # The erasures' audit events, which every queued erasure request is checked against on each read
    # of the backlog (``Outbox.erased_at_the_station``: the nurse's session, the hourly log line, ``sync
    # status``, ``doctor``): through the audit alone that read went through every event of the device's
    # life while a request waited (3 ms at 20,000 events, bench/outbox_backlog.py, on a PC).
    ("CREATE INDEX audit_erasure ON audit(seq) WHERE kind = 'erasure'",),
    # The fundus visits in progress (records/open_visits.py): the eyes each is to photograph and the
    # results it recorded, so that a visit an app restart lost is listed on Today to call back. A row
    # lives from the visit's start until it is finished, or the app next starts. (Skin visits, and the
    # patient as a keyed digest, are kept too since the migration that adds ``patient_key``.)
    (
        """CREATE TABLE open_visit (
            visit_id TEXT PRIMARY KEY,
            eyes TEXT NOT NULL,
            operator TEXT,
            results TEXT NOT NULL DEFAULT '[]'
        )""",
    ),
    # The boot each unsent row was queued on and CLOCK_BOOTTIME then (records/clock.py ``boot_time``):
    # a row of this boot is aged on that clock, never set, so a backlog dated months early on a clock
    # not yet synchronised reads its true age once NTP steps the clock, and a device that never has a
    # time server still ages its results (``records.store.QUEUED_AGE``). Indexed as queued_at is, for
    # the age cap every recording asks. NULL for the rows queued before: aged by their dates as before.
    (
        "ALTER TABLE outbox ADD COLUMN queued_boot TEXT",
        "ALTER TABLE outbox ADD COLUMN queued_boottime REAL",
        "CREATE INDEX outbox_unsent_boottime ON outbox(queued_boot, queued_boottime) WHERE sent_at IS NULL",
    ),
    # Which photo file each screening was of, for whom (``ScreeningStore.screened_before``): a batch run
    # again after a power cut skips the photos it recorded, where it screened them again under new
    # result ids. A keyed digest, on the device only; NULL for a camera's frame and for the results before.
    (
        "ALTER TABLE screening ADD COLUMN photo_key TEXT",
        "CREATE INDEX screening_photo_key ON screening(photo_key) WHERE photo_key IS NOT NULL",
    ),
    # CLOCK_BOOTTIME as each verdict arrived, beside the boot it arrived on: its photo's retention is
    # aged by the outbox's rule (``records.store.Aged``), on this boot by that clock, never set, so a
    # device that never has a time server purges its photos too. NULL for the verdicts received before:
    # aged by their dates as before.
    ("ALTER TABLE review ADD COLUMN received_boottime REAL",),
    # Whom each visit in progress is of, as a keyed digest of its patient reference (``ScreeningStore.
    # visit_key``: no one without the records key can tell from it whether a visit is of a reference they
    # hold), and the skin visits kept too, with no eye: ``edgescreen erase``, a process of its own, knew of
    # a visit of the patient open on the app's screens only by a result it had recorded, so neither a skin
    # visit nor one before its first photo was said to whoever erased, who must tell the nurse. The
    # erasure clears it. NULL for the visits opened before: known by their results, as they were.
    ("ALTER TABLE open_visit ADD COLUMN patient_key TEXT",),
    # The photos a release before ``uploads.ERASED_AT_THE_STATION`` set aside on the station's 410 as any
    # refusal ("the station refused it (410)"), their sealed bytes kept: their results were erased at
    # the station at the patient's request. Counted as refused, owed to the station, they refused a
    # wipe, and ``sync retry-photos`` queued them again for the same answer. Set aside for good, their
    # sealed bytes dropped, as the uploader sets such a photo aside now (``erased_at_the_station``).
    (
        "UPDATE image_upload SET refused = 'erased at the station (410)', sealed = NULL "
        "WHERE refused = 'the station refused it (410)' AND uploaded_at IS NULL",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


LOW_SPACE_BYTES = 1 << 20


class ContentNotRecords(ValueError):
    """The file opens as SQLite but what it holds cannot be the records' (e.g. an impossible version):
    a cause, which ``records_problem`` reports as ``RecordsDamaged``.

    Any ``ValueError`` met while reading stored values (text that is not UTF-8, a time that does not
    parse) means the same: ``records_problem`` reports it as damage."""


def _disk_full(path: Path, error: BaseException) -> bool:
    """SQLite reports a full disk as ``SQLITE_FULL``, but as a bare I/O error when it cannot even
    grow its shared-memory file (``_shared_memory_refused``), and as a lock when the sync worker holds
    the records alone for want of that file (``_held_for_room``)."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or getattr(error, "errno", None) == errno.ENOSPC:
        return True
    return _held_for_room(path, error) or _shared_memory_refused(path, error)


def _held_for_room(path: Path, error: BaseException) -> bool:
    """The lock of records held alone (``_room_holder``) on a disk with little room: the sync worker's,
    for want of room for the shared memory (``open_database``). Any lock on little room was taken for
    it, so a backup, an erasure or a technician's ``sqlite3`` writing on a nearly full card was told "the
    disk is full, and the sync worker holds the records alone", of a worker that held nothing: such a
    writer's lock is ``RecordsLocked``, whatever the room."""
    return getattr(error, "sqlite_errorname", "") == "SQLITE_BUSY" and _room_holder(path) is not None


def _room_holder(path: Path) -> LockHolder | None:
    """The process holding the records alone (``_alone_holder``) on a disk with little room."""
    return _alone_holder(path) if _little_room(path) else None


def _alone_holder(path: Path) -> LockHolder | None:
    """The process holding the records alone, in exclusive locking mode, as the kernel lists its locks
    (``lock_holder.alone_holder``): no connection of another can even open them meanwhile."""
    from firmware_app.health.lock_holder import alone_holder  # which reads this module's file names

    return alone_holder(path)


def _shared_memory_refused(path: Path, error: BaseException) -> bool:
    """The bare I/O error of a shared-memory file a full disk will not let grow: the one refusal that
    opening the records alone mends. A lock held long on a card with little room is no such thing."""
    return getattr(error, "sqlite_errorname", "").startswith("SQLITE_IOERR") and _little_room(path)


def _little_room(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE_BYTES
    except OSError:
        return False


def _read_only_medium(path: Path, error: BaseException) -> bool:
    """Read-only file, folder or file system; SQLite says "unable to open" when it is the folder,
    where its WAL and shared-memory files cannot be created."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith("SQLITE_READONLY") or getattr(error, "errno", None) in (errno.EROFS, errno.EACCES):
        return True
    return name == "SQLITE_CANTOPEN" and not (os.access(path.parent, os.W_OK) and os.access(path, os.W_OK))


def records_problem(path: Path, error: BaseException, waited_s: float | None = None) -> RecordsError:
    """A ``RecordsError`` naming the records file, what is wrong with it and what to do, for any
    error the file system or SQLite raised: a full disk does not read like broken hardware.

    ``waited_s``: how long the refused statement waited for a lock, the busy timeout every opened
    connection waits (``_open``) unless given. It is the caller's to say: worked out here, it was the
    wait an opening would pick now, which another process taking or giving back the records meanwhile
    made 3 s of a write that waited 30, or the reverse."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_BUSY":
        return _refused_by_lock(path, error, BUSY_TIMEOUT_S if waited_s is None else waited_s)
    if _disk_full(path, error):
        return DiskFull(f"{path}: the disk is full; free space on {path.parent} (nothing recorded so far is lost)")
    if _read_only_medium(path, error):
        return RecordsReadOnly(
            f"{path}: the records cannot be written ({error}); check the permissions of the file and its "
            "folder, and that the file system is mounted read-write"
        )
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in str(error) or isinstance(error, ValueError):
        return RecordsDamaged(
            f"{path}: the records file is damaged ({error}). Stop the EdgeScreen services, keep a copy of "
            f"the file, then restore it from a backup (or recover what is left with `sqlite3 {path} .recover`)"
        )
    if name.startswith("SQLITE_IOERR"):  # the card refused a read or a write, with room to spare
        return RecordsError(
            f"{path}: the card could not read or write the records ({error}; nothing was half-written). A worn "
            "SD card does this: run `edgescreen doctor`, back up (`edgescreen backup`), and replace the card, "
            "restoring the backup onto the new one (README, Backup and restore)"
        )
    return RecordsError(f"{path}: cannot use the records ({error})")


def _refused_by_lock(path: Path, error: BaseException, waited_s: float) -> RecordsError:
    """A statement refused by a lock it waited ``waited_s`` for: the disk full, where a process holds
    the records alone on little room (``_room_holder``), else another process keeping them locked.
    Where the kernel's list of locks cannot be read, neither can be told, nor the holder named."""
    from firmware_app.health.lock_holder import locks_listed  # which reads this module's file names

    if not locks_listed():
        return RecordsLocked(path, error, waited_s, holder_known=False)
    holder = _room_holder(path)
    return RecordsLocked(path, error, waited_s) if holder is None else HeldAlone(path, holder)


def output_problem(path: Path, error: BaseException) -> RequestRefused:
    """A ``RequestRefused`` naming a file a command writes outside the records (a backup, an exported
    image) and why it cannot be written: a full or missing USB drive must not read as the records' disk."""
    if _disk_full(path, error):
        return RequestRefused.saying("refused.output_disk_full", path=str(path), folder=str(path.parent))
    return RequestRefused.saying("refused.output_unwritable", path=str(path), reason=partial(system_reason, error))


def refuse_a_folder(path: Path, example: str) -> None:
    """Refuse ``path``, the new file a command is to write, when it is a folder (a USB stick's mount
    point): it read "already exists", as a file there would. The refusal names a file ``example`` in
    it; the command does not pick one itself: the name is the technician's to give back later
    (``restore FILE``, a config's lines to merge), to tell one device's file from another's on a stick
    several share, and to see written."""
    if path.is_dir():
        raise RequestRefused.saying("refused.output_is_folder", path=str(path), example=str(path / example))


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


@contextmanager
def snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every query in it sees the records of one moment, whatever another
    connection (the sync worker, ``doctor``) commits meanwhile."""
    connection.execute("BEGIN")
    try:
        yield connection
    finally:
        connection.execute("COMMIT")


def migrate(connection: sqlite3.Connection, source: Path) -> None:
    """Bring the schema to ``SCHEMA_VERSION``, one migration per transaction; refuse a newer file.

    Reading the version takes no write lock, so an up-to-date file opens on a read-only medium.
    """
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = connection.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()[0]
    if version < 0 or (version == 0 and tables):
        raise ContentNotRecords(f"schema version {version} with {tables} tables is not one EdgeScreen wrote")
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


def read_meta(connection: sqlite3.Connection, key: str) -> str | None:
    """The records' ``meta`` value under ``key``; ``None`` when none is kept."""
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def write_meta(connection: sqlite3.Connection, key: str, value: str) -> None:
    """Keep ``value`` under ``key`` in the records' ``meta``, in the caller's transaction."""
    connection.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def database_files(path: Path) -> tuple[Path, ...]:
    """Every file SQLite keeps the database ``path`` in: a write-ahead log or a rollback journal left
    by a crash is replayed onto whatever main file is next opened under that name."""
    return (path, *(path.with_name(f"{path.name}{suffix}") for suffix in ("-wal", "-shm", "-journal")))


def _wal_empty(path: Path) -> bool:
    """Whether the write-ahead log is absent or empty; one this user may not look at is not known
    to be empty (a folder of another user's: the main file alone is then no snapshot either)."""
    try:
        return path.with_name(f"{path.name}-wal").stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _open_snapshot(path: Path) -> sqlite3.Connection:
    """The main file alone, read-only and without SQLite's shared memory: what a read-only command
    can still use on a full disk, where that memory cannot be created. Only valid when the WAL is
    empty, so the main file holds every committed change."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None)
    connection.row_factory = sqlite3.Row
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        connection.close()
        raise ContentNotRecords(f"schema version {version}, and a full disk leaves no room to migrate it")
    return connection


def present(path: Path) -> bool:
    """Whether the records file ``path`` exists. One this user may not even look at (the device's
    records folder is its service user's alone, 0700) counts: opening it then says why in the
    records' words (``records_problem``), where ``Path.exists`` raised a traceback."""
    try:
        return path.exists()
    except OSError:
        return True


def open_database(path: Path, read_only: bool = False, alone: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the records file; errors name the file.

    ``read_only`` (status, audit): on a full disk, fall back to reading the main file directly. Records
    not there are refused before this (``records/presence.py``): an empty file would stand where
    `restore` must put a backup.

    ``alone`` (the sync worker, under its lock): on a full disk, open them in exclusive locking mode.
    The first process to open the records must grow SQLite's shared-memory file, a byte a page, which
    a full disk refuses; exclusively, SQLite keeps that index in this process's memory and needs no
    file, so the worker can still send (and mark sent once there is room). No other process can open
    the records meanwhile; a full disk left them none to write with, and they are told it is full
    (``_disk_full``). ``share_again`` gives them back.
    """
    wait = _opening_wait(path)
    try:
        return _open(path, wait)
    except (OSError, sqlite3.Error, ValueError) as error:
        readable = read_only and (_disk_full(path, error) or _read_only_medium(path, error)) and _wal_empty(path)
        if not ((alone and _shared_memory_refused(path, error)) or readable):
            raise records_problem(path, error, wait) from error
    try:
        if not alone:
            return _open_snapshot(path)
        connection = _open(path, wait, exclusive=True)
    except (OSError, sqlite3.Error, ValueError) as error:
        raise records_problem(path, error, wait) from error
    _HELD_ALONE.add(_held(path))
    return connection


# The records this process holds alone (``open_database``), until ``let_go`` (shared again or closed:
# ``Records``): any other connection of this process to them would wait out the busy timeout and be
# refused, so its watchdog's probe and its photo uploader ask first (``held_alone_here``).
_HELD_ALONE: set[Path] = set()


def _held(path: Path) -> Path:
    return Path(os.path.abspath(path))


def held_alone_here(path: Path) -> bool:
    """Whether this process holds the records at ``path`` alone (``open_database``)."""
    return _held(path) in _HELD_ALONE


def let_go(path: Path) -> None:
    """The records at ``path`` closed: this process holds them alone no more."""
    _HELD_ALONE.discard(_held(path))


def share_again(connection: sqlite3.Connection) -> None:
    """Let the other processes open the records again, once there is room for the shared memory: an
    exclusive WAL connection cannot unlock (SQLite ignores ``locking_mode=NORMAL`` there), so it
    leaves WAL mode, unlocks, and enters it again with the shared-memory file."""
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("PRAGMA locking_mode=NORMAL")
    if connection.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
        raise sqlite3.OperationalError("the records did not return to WAL mode")


def room_to_share(path: Path) -> bool:
    """Whether the records' disk has room for SQLite's shared-memory file again: no longer the little
    room that had them opened alone (``_little_room``)."""
    return not _little_room(path)


# How long a statement waits for another connection's write lock before SQLite gives up ("database is
# locked"): a loop promising its heartbeat a time must count it for each write it may wait on.
BUSY_TIMEOUT_S = 30.0
# How long opening the records waits for their lock while another process holds them alone (``_alone_holder``):
# the sync worker until there is room again (``open_database``), a technician's ``sqlite3`` until it is
# closed. The commands and the app waited out the whole busy timeout to be told so, and on a disk with room
# the nurse's screen hung 30 s to be told the card might be failing. Opening reads, which in WAL mode no
# writer holds up; nothing else than a connection in exclusive mode keeps them from it more than a moment.
# It bounds each statement of the opening, its migration's writes too (``_open``), so a refusal states the
# one wait used: a holder that shares them again meanwhile leaves a migration this wait, not the busy
# timeout, for a writer's lock. Never where the kernel's list of locks cannot be read: no holder is named there.
HELD_ALONE_WAIT_S = 3.0


def _opening_wait(path: Path) -> float:
    """How long a lock on the records is waited for before they are refused (``RecordsLocked``): the
    opening's ``HELD_ALONE_WAIT_S`` while a process holds them alone, else the busy timeout, which a
    write waits for another's write whatever the room."""
    return min(HELD_ALONE_WAIT_S, BUSY_TIMEOUT_S) if _alone_holder(path) is not None else BUSY_TIMEOUT_S


def _open(path: Path, wait: float, exclusive: bool = False) -> sqlite3.Connection:
    """The records, opened and migrated, each statement of it waiting ``wait`` for a lock (migration's
    writes too: a refusal then states the one wait used, ``records_problem``), and every statement
    after it the busy timeout."""
    _create_private(path)
    connection = sqlite3.connect(path, isolation_level=None, timeout=wait)
    try:
        connection.row_factory = sqlite3.Row
        if exclusive:  # before the first WAL access, or SQLite makes the shared-memory file
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        if connection.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
            raise RecordsError(f"{path}: the file system does not support SQLite's WAL mode")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA secure_delete=ON")
        migrate(connection, path)
        connection.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")
    except BaseException:
        connection.close()
        raise
    return connection
