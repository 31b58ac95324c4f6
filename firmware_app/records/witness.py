"""A witness of what the records committed, kept outside the database file and its write-ahead log.

A card that loses the end of the WAL (its frames or its length: a worn card, a power cut on a card
that lies about flushes) takes the last screenings with it, and their audit events, the audit log's
head in ``meta`` and the outbox rows too: the file is consistent, ``quick_check`` and the audit chain
hold, and nothing inside it can tell. So after each screening (and each erasure, whose loss would
bring a patient back) the head of the audit log (event number and hash) and the number of screenings
ever recorded go to a small file beside the records, ``<records>.witness``. The audit log is
append-only and the count only grows, so an erasure, a backup or a verdict never makes the witness
wrong: the records hold what it says when its event is still there with its hash and they count at
least as many screenings. When they do not, committed screenings are gone (``find_loss``).

Writing the file durably (``durable.replace_durably``: two fsyncs and a rename) costs about 10 ms on
the development machine's disk, twice what recording may add (issue 10); so it is written off the
recording path, by one thread per open records (``WitnessKeeper``), the newest witness first and
only, a few milliseconds after the commit. A power cut in those milliseconds leaves the witness one
screening behind: never a false alarm, at worst that screening uncounted.

A witness names the records it witnesses (``RECORDS_KEY``, made when they are first opened to
write): records moved away by hand, or started afresh beside an old witness, are not held to
another file's witness, which is replaced.

What it cannot see: a loss of the witness together with the records (the whole card rolled back, the
folder restored from an old copy), and a loss inside the file that keeps the last witnessed event.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from firmware_app.durable import replace_durably
from firmware_app.events import log_event
from firmware_app.records.audit import append_event, audit_head
from firmware_app.records.database import read_meta, transaction, write_meta

# Screenings ever recorded on these records (``meta``): erasure never lowers it. Records of a release
# before it count their screening events, which no erasure removes either (``screenings_recorded``).
COUNT_KEY = "screenings_recorded"
# The loss already entered in the audit log (``note_loss``): one event per loss, however often it is seen.
LOSS_KEY = "loss_noted"
# These records' own id (``meta``), which their witness names: a witness of other records is none.
RECORDS_KEY = "records_id"


@dataclass(frozen=True)
class Witness:
    """The audit log's head and the screenings ever recorded, as of one commit; ``last_screening``
    is when the newest of them was recorded (by the device's clock), ``None`` before the first;
    ``records`` the id of the records witnessed ("" when they had none yet)."""

    event: int
    hash: str
    screenings: int
    last_screening: str | None
    records: str = ""


@dataclass(frozen=True)
class Loss:
    """Committed changes the records no longer hold: ``missing`` screenings, recorded after
    ``after`` (the newest screening the records still hold; ``None``: none is left) until ``until``;
    ``event`` is the witnessed audit event, ``head`` the records' last."""

    missing: int
    after: str | None
    until: str | None
    event: int
    head: int


def witness_path(database: Path) -> Path:
    """Beside the records, in their folder (``wipe`` erases it with them), yet not one of the files
    SQLite keeps them in: moving the records away for a restore may leave it, and it is rewritten."""
    return database.with_name(f"{database.name}.witness")


def read_witness(path: Path) -> Witness | None:
    """The witness at ``path``; ``None`` when there is none yet (a fresh device, one upgraded from a
    release without it) or it cannot be read (logged): no witness, no alarm, and a new one is kept."""
    try:
        document = json.loads(path.read_bytes())
        return Witness(
            int(document["event"]),
            str(document["hash"]),
            int(document["screenings"]),
            document["last_screening"],
            str(document.get("records", "")),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log_event("records.witness_unreadable", level=logging.WARNING, path=path, error=error)
        return None


def write_witness(path: Path, witness: Witness) -> None:
    """Put ``witness`` at ``path`` whole or not at all, for good (``replace_durably``)."""
    replace_durably(path, json.dumps(asdict(witness), sort_keys=True).encode())


def screenings_recorded(connection: sqlite3.Connection) -> int:
    """Every screening ever recorded on these records, erased ones included."""
    count = read_meta(connection, COUNT_KEY)
    if count is not None:
        return int(count)
    return connection.execute("SELECT count(*) FROM audit WHERE kind = 'screening'").fetchone()[0]


def records_id(connection: sqlite3.Connection) -> str:
    """These records' id; "" before they were first opened to write (``seed_records_id``)."""
    return str(read_meta(connection, RECORDS_KEY) or "")


def seed_records_id(connection: sqlite3.Connection) -> None:
    """Give the records an id of their own, once: their witness names it."""
    connection.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (RECORDS_KEY, uuid.uuid4().hex))


def witnesses(connection: sqlite3.Connection, witness: Witness) -> bool:
    """Whether ``witness`` is these records' (or names none, so may be): not one left by records
    moved away, beside which these were started afresh."""
    return not witness.records or witness.records == records_id(connection)


def seed_count(connection: sqlite3.Connection) -> None:
    """Keep the count of records from a release before it, once (a scan of the audit log), so that
    no check scans it again at each patient start."""
    connection.execute(
        "INSERT OR IGNORE INTO meta (key, value) SELECT ?, count(*) FROM audit WHERE kind = 'screening'",
        (COUNT_KEY,),
    )


def count_screening(connection: sqlite3.Connection) -> None:
    """Inside a screening's transaction, before its audit event (which records without the count
    would count already): one more recorded."""
    write_meta(connection, COUNT_KEY, str(screenings_recorded(connection) + 1))


def _last_screening(connection: sqlite3.Connection) -> str | None:
    """When the newest screening event was recorded (the log read from its end: a few rows)."""
    row = connection.execute("SELECT at FROM audit WHERE kind = 'screening' ORDER BY seq DESC LIMIT 1").fetchone()
    return row[0] if row else None


def current(connection: sqlite3.Connection) -> Witness:
    """What the records hold now; inside the transaction that committed the change to witness."""
    event, hash_ = audit_head(connection)
    return Witness(event, hash_, screenings_recorded(connection), _last_screening(connection), records_id(connection))


def holds(connection: sqlite3.Connection, witness: Witness) -> bool:
    """Whether the records still hold everything ``witness`` saw committed."""
    if witness.event:
        row = connection.execute("SELECT hash FROM audit WHERE seq = ?", (witness.event,)).fetchone()
        if row is None or row[0] != witness.hash:
            return False
    return screenings_recorded(connection) >= witness.screenings


def find_loss(connection: sqlite3.Connection, witness: Witness | None) -> Loss | None:
    """What the records lost of what ``witness`` saw committed; ``None`` when nothing (or no witness).
    A loss already noted (``note_loss``) is reported as first seen: screenings recorded since (from
    the command line) must not hide the ones lost."""
    if witness is None or not witnesses(connection, witness) or holds(connection, witness):
        return None
    noted = _noted(connection)
    if noted is not None and noted.event == witness.event and noted.until == witness.last_screening:
        return noted
    missing = max(0, witness.screenings - screenings_recorded(connection))
    return Loss(missing, _last_screening(connection), witness.last_screening, witness.event, audit_head(connection)[0])


def _noted(connection: sqlite3.Connection) -> Loss | None:
    """The loss last entered in the audit log; ``None`` when none was, or it cannot be read (it is
    then entered again)."""
    noted = read_meta(connection, LOSS_KEY)
    try:
        return Loss(**json.loads(noted)) if noted else None
    except (ValueError, TypeError):
        return None


def note_loss(connection: sqlite3.Connection, loss: Loss, at: datetime) -> None:
    """Enter ``loss`` in the audit log once (``loss`` event, the same values) and keep it as noted,
    in one transaction; it is also logged, at its first sighting only."""
    with transaction(connection):
        if _noted(connection) == loss:
            return
        append_event(connection, "loss", asdict(loss), at)
        write_meta(connection, LOSS_KEY, json.dumps(asdict(loss), sort_keys=True))
    log_event(
        "records.loss",
        level=logging.CRITICAL,
        missing=loss.missing,
        after=loss.after,
        until=loss.until,
        witnessed_event=loss.event,
        last_event=loss.head,
    )


class WitnessKeeper:
    """Keeps the witness of one open records file, off the thread that commits (module docstring).

    ``keep`` runs on the committing thread, after the commit: it reads the witness on disk and
    leaves it alone while the records do not hold it (a loss stays seen until a restore replaces the
    records), then hands the new witness to the writer thread, which writes the newest it was given.
    Another process may write meanwhile (the sync worker, ``edgescreen erase``): a witness is never
    written over one of a later event, and one left a change behind is still true, never an alarm."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: Witness | None = None
        self._closed = False
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def keep(self, connection: sqlite3.Connection, witness: Witness) -> None:
        """Witness ``witness`` (read by ``current`` in the committed transaction); never raises."""
        try:
            kept = read_witness(self.path)
            if kept is not None and witnesses(connection, kept) and not holds(connection, kept):
                return
        except sqlite3.Error as error:
            log_event("records.witness_not_kept", level=logging.WARNING, error=error)
            return
        with self._condition:
            if self._closed:
                return
            if self._pending is None or witness.event > self._pending.event:
                self._pending = witness
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_each, name="witness", daemon=True)
                self._thread.start()
            self._condition.notify()

    def _write_each(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._closed:
                    self._condition.wait()
                if self._pending is None:
                    return
                witness, self._pending = self._pending, None
            self._write(witness)

    def _write(self, witness: Witness) -> None:
        kept = read_witness(self.path)
        if kept is not None and kept.records == witness.records and kept.event >= witness.event:
            return
        try:
            write_witness(self.path, witness)
        except OSError as error:  # a full or read-only disk: the screening is committed all the same
            log_event("records.witness_not_kept", level=logging.WARNING, path=self.path, error=error)

    def close(self) -> None:
        """Write what is pending, then stop (the records are being closed)."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        if self._thread is not None:
            self._thread.join()
