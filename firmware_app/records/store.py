"""Recording screenings, and everything later done to them on the device: view, export, erasure,
retention.

A screening is one transaction: the result row, its sealed images, an audit event and an outbox
row (plus a ``model_change`` event when the model differs from the last one used). The disk reserve
and the outbox caps are checked inside that transaction, before anything is written, so a refused
screening leaves no trace and a full disk never half-writes one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edgescreen_wire.review import check_findings_of
from firmware_app.events import log_event
from firmware_app.messages import sentence
from firmware_app.records.audit import (
    NO_EXPORTS,
    ROW_UNREADABLE,
    ChainCheck,
    Exports,
    append_event,
    broken_chain,
    exports,
    keep_mark,
    verified_mark,
    verify_chain,
)
from firmware_app.records.clock import (
    BUILD_DATE,
    FUTURE_TOLERANCE,
    ClockState,
    boot_time,
    current_boot,
    kernel_clock_synchronised,
    reading_state,
    trusted_now,
)
from firmware_app.records.database import (
    RecordsError,
    RequestRefused,
    held_alone_here,
    let_go,
    open_database,
    read_meta,
    records_problem,
    room_to_share,
    share_again,
    snapshot,
    transaction,
    write_meta,
)
from firmware_app.records.erased_pages import Unpaid, owe_checkpoint, pay_checkpoint
from firmware_app.records.erasure_ledger import ErasureEntry, ledger_path, note_erasure
from firmware_app.records.erasure_outbox import queue_erasure
from firmware_app.records.export_mark import marked
from firmware_app.records.identity import Identity, note_identity, recorded_identity
from firmware_app.records.images import JPEG
from firmware_app.records.integrity import (
    PAYLOAD_DIGEST,
    REVIEW_COLUMNS,
    ROW_DIGEST,
    WITHHELD,
    bound_digests,
    first_mismatch,
    first_review_mismatch,
    payload_digest,
    row_digest,
)
from firmware_app.records.key_check import legacy_matches, make_check, matches
from firmware_app.records.presence import keep_marker, require_records
from firmware_app.records.screening import Review, ScreeningContext, ScreeningRecord
from firmware_app.records.sealing import KeyUnavailable, SealBroken, Sealer, create_key, read_key
from firmware_app.records.uploads import OWED, WAITING, SealedUpload, UploadQueue
from firmware_app.records.verdicts import CALL_BACK_OF_ONE, REVIEW_ORDER, station_clock_ahead, to_call_back
from firmware_app.records.witness import (
    COUNT_KEY,
    RECORDS_KEY,
    Witness,
    WitnessKeeper,
    count_screening,
    current,
    seed_count,
    seed_records_id,
    witness_path,
)

# The slow, salted check of the records key (records/key_check.py), and the fast one it replaces.
KEY_CHECK = "key_check"
LEGACY_KEY_FINGERPRINT = "key_fingerprint"
# "<boot id> <rowid>": the kernel's id of the boot the last screening was recorded on, and the rowid of
# the first screening of that boot (rowids only grow: a new row takes the largest one plus one).
BOOT_KEY = "boot"
# Room for the SQLite pages and indexes around the blobs of one screening.
RECORD_OVERHEAD_BYTES = 256 * 1024
# The WAL grows to about 1000 pages (SQLite's auto-checkpoint) before it is folded into the file.
WAL_HEADROOM_BYTES = 1000 * 4096


def _mib(size: int) -> str:
    """A size in MiB to one decimal: 4.2 MiB of headroom must not read as 4, nor 0.5 as 0."""
    return f"{size / 2**20:.1f}"


class UnknownResult(RequestRefused):
    """No screening of that result id in the records: erased since (from another tab, so an old page,
    bookmark or the back button asks for it), or never recorded. Not a fault: the web pages say so."""


class ScreeningRefused(RecordsError):
    """A new screening cannot be recorded now; ``message_key`` names the nurse-facing sentence."""

    message_key = "records.refused"

    def detail_in(self, language: str) -> str | None:
        """What the refusal's own figures say beside the nurse's sentence, in ``language``, where the
        catalogue words them; ``None`` where its English detail is the log's alone."""
        return None


class StorageFull(ScreeningRefused):
    message_key = "records.storage_full"


class OutboxFull(ScreeningRefused):
    """``count`` unsent results at the cap of ``cap``, or, with ``days``, the oldest past the age cap of
    that many days: said in the catalogue's words (``detail_in``), its English the log's. Never when the
    oldest was queued: a result of this boot is aged by the boot's clock (``QUEUED_AGE``), its date the
    wall clock's, which may not have been set (a device stored for months boots on its last saved time).
    The nurse's sentence (``message_key``) says which caps refused: "too many results" of one result past
    the age cap told her of a count she could see was not reached, and the age cap alone, with both
    reached, let her believe the oldest result sent was enough."""

    message_key = "records.outbox_full"

    def __init__(self, count: int, cap: int, days: int | None = None) -> None:
        self.values = {"count": count, "cap": cap} | ({} if days is None else {"days": days})
        if days is not None:
            self.message_key = "records.outbox_full_and_too_old" if count >= cap else "records.outbox_too_old"
        super().__init__(self.detail_in("en"))

    def detail_in(self, language: str) -> str:
        kind = "too_many" if "days" not in self.values else "too_old"
        return sentence(f"records.outbox_full.{kind}", language, **self.values)


class PatientErased(ScreeningRefused):
    """A result the screening is recorded beside (``ScreeningContext.beside``: of its patient, held as
    its visit opened or recorded since) was erased, with the patient, while the visit was open:
    nothing more is recorded for them. Not for a result the review station's notice erased alone."""

    message_key = "records.patient_erased"


def utc_now() -> datetime:
    return datetime.now(UTC)


# An unsent outbox row the sync worker has claimed to publish (``outbox.Outbox.claim``): it may be at
# the broker already, its acknowledgement on the way, so neither an erasure nor ``drop_oldest`` counts
# it as never sent. The worker gives back only the claimed rows it did not publish.
IN_FLIGHT = "claimed_at IS NOT NULL"
# Whose erasure an ``erasure`` audit event records when not the nurse's: the review station's, by its notice.
# A visit's screening beside a result it names is recorded (``ScreeningStore._require_held``): not a patient's erasure.
ERASED_BY_THE_STATION = "the review station"


@dataclass(frozen=True)
class Gone:
    """Results no longer held (``ScreeningStore.gone``): those the review station's notice erased alone
    (a wrong photo its administrator erased there), and the rest, erased with their patient (the records
    screen, ``edgescreen erase``) or gone without any erasure naming them."""

    by_the_station: frozenset[str] = frozenset()
    with_the_patient: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ScreenedBefore:
    """A screening the records hold of a photo given again (``ScreeningStore.screened_before``)."""

    result_id: str
    recorded_at: str  # ISO, UTC, as the records keep it
    model_sha256: str | None  # the model that triaged it; ``None``: ungradable, the gate's alone


@dataclass(frozen=True)
class OutboxLimits:
    """How many unsent results, and how old, before the overflow policy applies."""

    max_rows: int = 100_000
    max_age: timedelta = timedelta(days=90)
    policy: str = "refuse"  # or "drop_oldest": the only path by which an unsent result is lost


@dataclass(frozen=True)
class PatientSearch:
    """What one patient reference finds: its screenings (oldest first), and the references erasure
    would not match that may be the same patient typed another way (a space for a dash, a number
    typed alone, then with the name), each with its number of screenings. Close references are for
    whoever searches or erases to check, never erased with it."""

    result_ids: tuple[str, ...]
    close: dict[str, int]
    # The results whose reference does not open (changed on a worn card): not compared, so whether
    # they are this patient's cannot be told.
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed; ``unsent_in_flight`` results were already handed to the broker (the
    sync worker had taken them) and may have reached it: they are not counted as withdrawn."""

    results: int
    images: int
    unsent_withdrawn: int
    unsent_in_flight: int = 0
    # The results erased, by their random ids as the audit names them.
    result_ids: tuple[str, ...] = ()
    # The results whose photo the review station holds (shared, [sync] share_images).
    shared_photos: tuple[str, ...] = ()
    # The results the review station may hold (sent, or handed to the broker): no patient reference,
    # but a device, a time and an eye link them back. The erasure queues a request naming them for the
    # sync worker to send the station (``records/erasure_outbox.py``); a station older than that request
    # is erased by its administrator (``edgescreen-review results erase``), who needs these ids.
    at_the_station: tuple[str, ...] = ()
    # Why the erased pages could not be folded out of the write-ahead log yet (another process was
    # reading the records, or the checkpoint failed: a full disk...): they stay on the disk until a
    # later checkpoint. ``None`` once they are off it.
    left_on_disk: Unpaid | None = None
    # Close references left as they were (``PatientSearch.close``), for whoever erased to check.
    close: dict[str, int] = field(default_factory=dict)
    # The results whose patient reference does not open (changed on a worn card): not compared, so
    # whether they were this patient's cannot be told (``PatientSearch.unreadable``).
    unreadable_references: tuple[str, ...] = ()
    # The decrypted copies made of the erased results, which the erasure does not reach (``audit.exports``).
    exported: Exports = NO_EXPORTS
    # The patient's visits open on the app's screens (records/open_visits.py): the app, another process,
    # closes each only at its next screen, so whoever erased is to tell the nurse now.
    visits_open: int = 0


def _reference_key(text: str) -> str:
    """A patient reference as a nurse compares two: ignoring case, width and surrounding spaces."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def same_reference(a: str, b: str) -> bool:
    """Erasure matches references as a nurse would (``_reference_key``)."""
    return _reference_key(a) == _reference_key(b)


def _loose_reference(text: str) -> str:
    """A reference with only its letters and digits: how two typings of one patient's reference (a
    space for a dash, a dropped dot) are told to be close."""
    return "".join(character for character in unicodedata.normalize("NFKC", text).casefold() if character.isalnum())


def _close_references(a: str, b: str) -> bool:
    """Letter for letter the same once spaces and punctuation go, or one the start of the other
    (a number typed alone, then with the name): never erased together, only shown."""
    loose_a, loose_b = _loose_reference(a), _loose_reference(b)
    shorter = min(loose_a, loose_b, key=len)
    return len(shorter) >= 4 and (loose_a.startswith(loose_b) or loose_b.startswith(loose_a))


def _text_bytes(text: str) -> bytes:
    """UTF-8, keeping undecodable file-name bytes (``surrogateescape``) as the bytes they were."""
    return text.encode("utf-8", "surrogateescape")


class Records:
    """The open records of this device: one connection, its key, and the clock events are dated by.

    The key is created only when the records are first initialised (no key fingerprint, no result
    yet). Once they hold sealed values, a missing key is an error that says what to do; with
    ``key_required`` false (sync) the records open without it and only opening or sealing a value
    fails. ``read_only`` (status, audit) writes nothing and needs no key, and works on a full disk.
    Records that are not at ``database`` are made only on a device's first start (neither records
    nor key, nor a ``marker`` naming them), and never for ``read_only`` or ``must_exist`` (commands that
    only read or act on records already made): ``records/presence.py``. A writer keeps the ``marker``
    naming them (a staged copy, a restore's, passes none).
    ``identity``: the config's device and site, kept as the records' own if they have none yet
    (``records/identity.py``). ``boot`` and ``boottime``: the kernel's boot id, and its clock that
    nothing sets (``records/clock.py``), by which a result queued on this boot is aged.
    """

    def __init__(
        self,
        database: Path,
        key_file: Path,
        clock: Callable[[], datetime] = utc_now,
        synchronised: Callable[[], bool] = kernel_clock_synchronised,
        key_required: bool = True,
        read_only: bool = False,
        boot: Callable[[], str] = current_boot,
        must_exist: bool = False,
        identity: Identity | None = None,
        marker: Path | None = None,
        alone: bool = False,
        boottime: Callable[[], float] = boot_time,
    ) -> None:
        self.path = database
        self.clock = clock
        self.synchronised = synchronised
        self.boot = boot
        self.boottime = boottime
        self.read_only = read_only
        require_records(database, key_file, first_start=not (read_only or must_exist), marker=marker)
        self.connection = open_database(database, read_only, alone)
        # What the records committed, kept outside them (records/witness.py); only writers write it.
        self.witness = WitnessKeeper(witness_path(database))
        # The erasures a restore of a backup taken before them makes again (records/erasure_ledger.py).
        self.erasures = ledger_path(database)
        if read_only:
            self.sealer: Sealer | KeyUnavailable = KeyUnavailable(f"{database}: opened to read only, nothing unsealed")
            return
        try:
            self.sealer = self._open_key(key_file, key_required)
            self._seal_clear_comments()
            self._note_identity(identity)
            if self.meta(COUNT_KEY) is None:  # records of a release before the witness
                self._write_if_room("records.count_not_kept", lambda: seed_count(self.connection))
            if self.meta(RECORDS_KEY) is None:  # new records, or of a release before the witness named them
                self._write_if_room("records.id_not_kept", lambda: seed_records_id(self.connection))
        except (OSError, sqlite3.Error, ValueError) as error:
            self.connection.close()
            raise records_problem(database, error) from error
        except RecordsError:
            self.connection.close()
            raise
        keep_marker(marker, database)

    def _open_key(self, key_file: Path, key_required: bool) -> Sealer | KeyUnavailable:
        check, legacy = self.meta(KEY_CHECK), self.meta(LEGACY_KEY_FINGERPRINT)
        initialised = (
            check is not None or legacy is not None or self.connection.execute("SELECT 1 FROM screening").fetchone()
        )
        if not key_file.exists() and not initialised:
            create_key(key_file)
        if key_file.exists():
            key = read_key(key_file)
            self._check_key(key, key_file, check, legacy)
            return Sealer(key)
        missing = KeyUnavailable(
            f"{key_file}: the records key is missing, and {self.path} holds values sealed with it; restore the key "
            "file from its backup (mode 0600). No new key was made: one would make every sealed value unreadable"
        )
        if key_required:
            raise missing
        return missing

    def _check_key(self, key: bytes, key_file: Path, check: str | None, legacy: str | None) -> None:
        """Refuse a key the records were not sealed with. Records without a check get one; records
        with only the fast fingerprint of the releases before (``records/key_check.py``) have it
        replaced, and the checkpoint that drops its page from the WAL is owed like an erasure's."""
        if check is not None:
            if not matches(check, key):
                raise RecordsError(f"{self.path}: {key_file} is not the key these records were sealed with")
            return
        if legacy is not None and not legacy_matches(legacy, key):
            raise RecordsError(f"{self.path}: {key_file} is not the key these records were sealed with")

        def keep_check() -> None:
            self.set_meta(KEY_CHECK, make_check(key))
            if legacy is not None:
                self.connection.execute("DELETE FROM meta WHERE key = ?", (LEGACY_KEY_FINGERPRINT,))
                owe_checkpoint(self, LEGACY_KEY_FINGERPRINT)

        self._write_if_room("records.key_check_not_kept", keep_check)
        pay_checkpoint(self, wait=False)

    def _write_if_room(self, event: str, write: Callable[[], object]) -> None:
        """One write transaction that only spares later work (a key check, the ids, the verified
        mark): records that cannot take it now (a full disk, a lock held too long) are still opened
        and read, and the next open or verification writes it."""
        try:
            with transaction(self.connection):
                write()
        except sqlite3.Error as error:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            log_event(event, level=30, error=error)

    def _note_identity(self, configured: Identity | None) -> None:
        """Keep whom the records belong to, the first time they are opened to write (records/identity.py)."""
        if recorded_identity(self.connection) is None:
            self._write_if_room("records.identity_not_kept", lambda: note_identity(self.connection, configured))

    def _seal_clear_comments(self) -> None:
        """Review comments stored in clear before they were sealed are sealed once the key is there."""
        if isinstance(self.sealer, KeyUnavailable):
            return
        clear = self.connection.execute("SELECT review_id, comment FROM review WHERE comment IS NOT NULL").fetchall()
        if not clear:
            return
        with transaction(self.connection):
            for review_id, comment in clear:
                self.connection.execute(
                    "UPDATE review SET comment = NULL, comment_sealed = ? WHERE review_id = ?",
                    (self.sealer.seal(_text_bytes(comment), f"comment:{review_id}"), review_id),
                )

    @property
    def alone(self) -> bool:
        """Opened ``alone`` on a full disk: no other process, nor another connection of this one, can
        open them until ``share_when_room``."""
        return held_alone_here(self.path)

    def share_when_room(self) -> bool:
        """Give the records back to the other processes once the disk has room again (``alone``);
        ``True`` when this call did."""
        if not self.alone or not room_to_share(self.path):
            return False
        share_again(self.connection)
        let_go(self.path)
        return True

    def close(self) -> None:
        let_go(self.path)
        self.witness.close()
        self.connection.close()

    def meta(self, key: str) -> str | None:
        return read_meta(self.connection, key)

    def set_meta(self, key: str, value: str) -> None:
        write_meta(self.connection, key, value)

    def clock_state(self, moment: datetime) -> ClockState:
        return reading_state(moment, self.clock(), self.synchronised())

    def trusted_now(self) -> datetime | None:
        """Now, when the clock may age anything; ``None`` when it may not (see ``records/clock.py``)."""
        return trusted_now(self.clock(), self.synchronised())

    def first_of_this_boot(self) -> int | None:
        """The rowid of the first screening recorded since the device started; ``None`` before one."""
        boot, _, rowid = (self.meta(BOOT_KEY) or "").partition(" ")
        return int(rowid) if boot and boot == self.boot() else None

    def note_boot(self, rowid: int) -> None:
        """Call with each new screening's rowid, in its transaction: the first of a boot is kept."""
        boot = self.boot()
        if boot and self.first_of_this_boot() is None:
            self.set_meta(BOOT_KEY, f"{boot} {rowid}")

    def verify_audit(self, since_verified: bool = False) -> ChainCheck:
        """The hash chain, then each result, queued payload and specialist's verdict against its own
        audit event, all as of one moment. ``since_verified``: only the events after the verified mark and their results
        (``records.audit``), which costs what was recorded since the last verification, not what
        was ever recorded. Unless ``read_only``, an intact chain moves the mark to its last event and a
        broken one drops it, so that every later verification walks the whole chain again and finds
        the break, after a restart too, until the records are put right."""
        with snapshot(self.connection):
            kept = verified_mark(self.connection)
            check = self._verify_audit(kept if since_verified else None)
        if check.mark != kept and not self.read_only:
            self._keep_mark(check.mark)
        return check

    def _keep_mark(self, mark: tuple[int, str] | None) -> None:
        """Keep the verified mark if the records can take it: one that is not kept (a full disk, a
        lock held too long) costs the next verification a longer walk, never its verdict."""
        self._write_if_room("records.audit_mark_not_kept", lambda: keep_mark(self.connection, mark))

    def _verify_audit(self, mark: tuple[int, str] | None) -> ChainCheck:
        chain = verify_chain(self.connection, mark)
        if not chain.intact:
            return chain
        after = mark[0] if mark else 0
        try:
            mismatch = first_mismatch(self.connection, after) or first_review_mismatch(self.connection, after)
        except sqlite3.OperationalError as error:  # text that is not UTF-8 in a result row, named in SQLite's words
            return broken_chain(chain.events, chain.events + 1, ROW_UNREADABLE, error=str(error))
        if mismatch is None:
            return chain
        first_bad = mismatch.event or chain.events + 1
        values = {"result": mismatch.result_id, **mismatch.values}
        return broken_chain(chain.events, first_bad, mismatch.finding, altered_result=mismatch.result_id, **values)


def age_cutoff(trusted_now: datetime | None, max_age: timedelta) -> str:
    """A time (ISO text, as the records keep them) before this is ``max_age`` old; none is on a clock
    that may not age anything (``Records.trusted_now``)."""
    return (trusted_now - max_age).isoformat() if trusted_now else ""


def dated(moment: str, clock: str) -> str:
    """SQL, true when the stored time ``moment``, read on a clock in the state ``clock`` (both columns
    or expressions), counts as an age by the wall clock: read on a synchronised clock, after the build
    (``:since``, ``age_bounds``). The records' rule for a time of another boot, or of none kept.

    A time read on a clock the kernel did not call synchronised is never aged, however it compares: a
    device stored for months boots on its last saved time and dates a campaign months early, which, once
    NTP sets the clock, read as months old and dropped results unsent or refused every screening. A time
    kept before the records kept its clock's state (``clock`` NULL) is aged as it always was."""
    return f"({moment} >= :since AND coalesce({clock}, 'synchronised') = 'synchronised')"


@dataclass(frozen=True)
class Aged:
    """The one rule of how old something the records keep is, over the columns a table keeps it by:
    its time (``moment``), its clock's state (``clock``), the boot it was on (``boot``) and CLOCK_BOOTTIME
    then (``boottime``). Of this boot (``:boot``), it is aged on CLOCK_BOOTTIME (``:boottime`` now),
    which nothing sets, so exactly, whatever the wall clock did since, synchronised or never. Of another
    boot, or of none kept, by the wall clock when its time counts (``dated``) and is not in the future
    (``:until``). Both the age shown (``age``) and the caps (``past``) are said from these cases:
    ``past`` is ``age`` over the cap, asked as two ranges (``this_boot_past``, ``other_boot_past``) that
    each an index of the outbox answers, with one difference, on purpose: a cap deletes, so it ages
    another boot's time only on a clock that may age anything now (``:cutoff``:
    ``Records.trusted_now``; a clock set a year ahead must age nothing), where the age shown reads the
    wall clock now whatever its state (``:now``): on a campaign with no time server, a device switched
    off each night still tells the nurse her results have waited for days (the offline banner)."""

    moment: str
    clock: str
    boot: str
    boottime: str

    @property
    def this_boot(self) -> str:
        """Kept on this boot with its CLOCK_BOOTTIME; without a boot id (``:boot`` NULL: not Linux), nothing."""
        return f"({self.boot} = :boot AND {self.boottime} IS NOT NULL)"

    @property
    def dated_other_boot(self) -> str:
        """Every row ``this_boot`` is not (``IS NOT 1``: false or NULL), whose time counts."""
        return f"({self.this_boot} IS NOT 1 AND {dated(self.moment, self.clock)})"

    @property
    def age(self) -> str:
        """Its age in seconds, NULL when none can be told (a time of another boot on a clock not
        synchronised then, before the build, in the future)."""
        return (
            f"CASE WHEN {self.this_boot} THEN max(0, :boottime - {self.boottime}) "
            f"WHEN {self.dated_other_boot} AND {self.moment} <= :until "
            f"THEN max(0, (julianday(:now) - julianday({self.moment})) * 86400) END"
        )

    @property
    def this_boot_past(self) -> str:
        return f"({self.this_boot} AND {self.boottime} < :boot_cutoff)"

    @property
    def other_boot_past(self) -> str:
        return f"({self.dated_other_boot} AND {self.moment} < :cutoff)"

    @property
    def past(self) -> str:
        """True when ``age`` exceeds the ``max_age`` of ``age_bounds``."""
        return f"({self.this_boot_past} OR {self.other_boot_past})"


def age_bounds(records: Records, max_age: timedelta = timedelta(0)) -> dict[str, Any]:
    """The parameters an ``Aged`` rule is read by now, ``past`` of ``max_age``. Without a boot id (not
    Linux) no row is of this boot: ``NULL`` equals nothing."""
    now, boottime = records.clock(), records.boottime()
    trusted = trusted_now(now, records.synchronised())
    return {
        "boot": records.boot() or None,
        "boottime": boottime,
        "boot_cutoff": boottime - max_age.total_seconds(),
        "since": BUILD_DATE.isoformat(),
        "until": (now + FUTURE_TOLERANCE).isoformat(),
        # The age shown reads the wall clock whatever its state (``Aged``); the caps only a trusted one.
        "now": now.isoformat(),
        "cutoff": age_cutoff(trusted, max_age),
    }


# The state of the clock an outbox row was queued on: its screening's (``DurableRecorder``), read at once.
QUEUED_CLOCK = "(SELECT clock FROM screening WHERE screening.result_id = outbox.result_id)"
# How long an unsent row has waited: the one rule, of the age shown (``QUEUED_AGE``) and of the outbox's
# age cap (``QUEUED_PAST_AGE``), which every recording asks (``oldest_past_age``, ``_make_room``).
QUEUED = Aged("queued_at", QUEUED_CLOCK, "queued_boot", "queued_boottime")
QUEUED_AGE = QUEUED.age
QUEUED_PAST_AGE = QUEUED.past
# How long ago a verdict arrived, by the same rule: its photo's retention (``ScreeningStore.purge_images``).
ANSWERED = Aged("r.received_at", "r.clock", "r.boot", "r.received_boottime")


def oldest_past_age(records: Records, max_age: timedelta) -> str | None:
    """When the oldest unsent result past the age cap ``max_age`` was queued, or ``None``. Aged by
    ``QUEUED``: a clock in 1970, or months behind, then set right, ages nothing of another boot,
    and this boot's wait is counted whatever the clock did. The recording's cap and the readiness
    list ask the same."""
    return records.connection.execute(
        "SELECT min(queued_at) FROM ("
        f"SELECT min(queued_at) AS queued_at FROM outbox WHERE sent_at IS NULL AND {QUEUED.this_boot_past} "
        f"UNION ALL SELECT min(queued_at) FROM outbox WHERE sent_at IS NULL AND {QUEUED.other_boot_past})",
        age_bounds(records, max_age),
    ).fetchone()[0]


@dataclass(frozen=True)
class UnsentAges:
    """How long the unsent results have waited, as far as their clocks can tell (``unsent_ages``)."""

    # The age of the oldest unsent result that has one (``QUEUED_AGE``); ``None`` if none has.
    oldest: timedelta | None
    # Unsent results that have none: queued before this boot on a clock not synchronised (not set,
    # months behind, or one that ran fast and was set right since). Their age cannot be told, and is
    # not 0.
    undated: int


def _queued_ages(records: Records, rows: str) -> UnsentAges:
    """The ages now (``QUEUED_AGE``) of the outbox's ``rows`` (a condition on them)."""
    oldest, undated = records.connection.execute(
        "SELECT max(age), count(*) FILTER (WHERE age IS NULL) "
        f"FROM (SELECT {QUEUED_AGE} AS age FROM outbox WHERE {rows})",
        age_bounds(records),
    ).fetchone()
    return UnsentAges(None if oldest is None else timedelta(seconds=oldest), undated)


def unsent_ages(records: Records) -> UnsentAges:
    """The unsent results' ages now (``QUEUED_AGE``): a result dated in the future by a fast clock gave
    a negative age, read as just queued (green) however long it had waited; one dated before the build
    an age of decades, and a backlog dated months early by a clock NTP then set read as months old."""
    return _queued_ages(records, f"sent_at IS NULL AND NOT ({WITHHELD})")


def waiting_photo_ages(records: Records) -> UnsentAges:
    """How long the photos the uploader will still send (``UploadQueue.still_to_send``) have waited: each
    as long as its result, queued in the same transaction, by the outbox's rule (``QUEUED_AGE``), whether
    the result is at the broker yet or not; the image queue keeps no boot clock of its own."""
    return _queued_ages(records, f"result_id IN (SELECT u.result_id FROM {OWED} AND {WAITING})")


def photo_status(records: Records) -> dict[str, Any]:
    """The photos shared with the review station ([sync] share_images), as ``sync status`` and
    ``doctor`` count them: still to be sent, and for how long the oldest of those that have an age has
    waited (``waiting_photo_ages``: its result's), at the station, refused, never to be sent as the
    station erased their results at the patient's request (its 410), and why each set aside was."""
    photos, ages = UploadQueue(records).backlog(), waiting_photo_ages(records)
    return {
        # One of a result withheld or dropped is never sent: its result's count says so.
        "photos_waiting": photos.to_send,
        "photos_oldest_waiting_age_s": None if ages.oldest is None else round(ages.oldest.total_seconds()),
        # Queued before this boot on a clock not synchronised: how long they have waited cannot be told.
        "photos_undated_waiting": ages.undated,
        "photos_uploaded": photos.uploaded,
        "photos_refused": photos.refused,
        "photos_erased_at_the_station": photos.erased_at_the_station,
        # The uploader's reason (``records.uploads``) -> how many: ``wording.photo_reasons`` says them.
        "photos_set_aside": photos.set_aside,
    }


def true_age(moment: datetime, now: datetime) -> timedelta | None:
    """How long ago ``moment`` was by ``now``, or ``None`` when it is a time that cannot be true
    (before the build, after now: records/clock.py): such a time has no age, and 0 would read as fresh."""
    if reading_state(moment, now, synchronised=True) in (ClockState.BEFORE_BUILD, ClockState.FUTURE):
        return None
    return max(timedelta(0), now - moment)


class ScreeningStore:
    """Writes screenings and serves the local, audited operations on them."""

    def __init__(self, records: Records, disk_reserve_bytes: int, limits: OutboxLimits) -> None:
        self.records = records
        self._db = records.connection
        self._disk_reserve = disk_reserve_bytes
        self._limits = limits
        # The results this store's screenings had ``drop_oldest`` delete unsent, once committed: the
        # command that recorded them says so (cli.py), as only a log line did.
        self.dropped_unsent = 0

    def _seal_text(self, text: str | None, binding: str) -> bytes | None:
        return None if text is None else self.records.sealer.seal(_text_bytes(text), binding)

    def _open_text(self, sealed: bytes | None, binding: str) -> str | None:
        return None if sealed is None else self.records.sealer.open(sealed, binding).decode("utf-8", "surrogateescape")

    def patient_of(self, result_id: str, sealed: bytes | None) -> tuple[str, str]:
        """Whom a screening is of, given its ``patient_sealed``, to count patients rather than results:
        the same reference as a nurse compares two (``_reference_key``; erasure's rule). A screening
        without a reference (the command line's), or whose reference a worn card damaged (the record's
        view says so), stands for a patient of its own: counted once too often rather than hidden."""
        try:
            reference = self._open_text(sealed, f"patient:{result_id}")
        except SealBroken:
            reference = None
        return ("result", result_id) if reference is None else ("patient", _reference_key(reference))

    def note_configuration(self, digest: str) -> None:
        """Audit a configuration that differs from the one in force when the last screening ran."""
        with transaction(self._db):
            previous = self.records.meta("config_digest")
            if previous != digest:
                append_event(self._db, "config_change", {"digest": digest, "previous": previous}, self.records.clock())
                self.records.set_meta("config_digest", digest)

    def audit(self, kind: str, details: dict[str, Any]) -> None:
        """Audit an operator's action on the whole device: a model install or rollback, a backup."""
        with transaction(self._db):
            append_event(self._db, kind, details, self.records.clock())

    def _check_disk(self, incoming: int) -> None:
        """Blobs are written twice (WAL, then the main file at checkpoint), hence twice ``incoming``.
        The refusal states the whole threshold: the reserve alone (0 MiB, say) would not explain it."""
        free = shutil.disk_usage(self.records.path.parent).free
        headroom = RECORD_OVERHEAD_BYTES + WAL_HEADROOM_BYTES
        needed = 2 * incoming + headroom + self._disk_reserve
        if free < needed:
            raise StorageFull(
                f"{self.records.path.parent}: {_mib(free)} MiB free, a screening needs {_mib(needed)} MiB "
                f"(twice its {_mib(incoming)} MiB of photos and result: the write-ahead log, then the file; "
                f"{_mib(headroom)} MiB for the database's pages and its log; the {_mib(self._disk_reserve)} MiB "
                "reserve, [records] disk_reserve_mb): new screenings are refused until space is freed on that "
                "file system (delete other files there, e.g. sudo journalctl --vacuum-size=50M, or move the "
                "records to a larger card); sending results frees nothing at once: their photos are deleted "
                "[records] image_retention_days after a specialist's verdict on them arrived"
            )

    def _make_room(self) -> int:
        """Apply the overflow policy when the unsent backlog is at its size or age cap; how many
        unsent results it deleted.

        ``drop_oldest`` deletes the oldest unsent rows that are not in flight (``IN_FLIGHT``), as many
        as the cap needs, and those past the age cap: a row the worker handed to the broker may well
        arrive, and its acknowledgement must find it, not a result counted "never sent". When only rows
        in flight are left to delete, the screening is recorded over the cap rather than refused (the
        policy chosen never to turn a patient away) or one of them deleted: they are the worker's claim
        of its last connection, a few batches at most, and leave the backlog when the broker
        acknowledges them or the worker gives them back, after which the next screening drops again."""
        unsent = self._db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        oldest = oldest_past_age(self.records, self._limits.max_age)
        if unsent < self._limits.max_rows and oldest is None:
            return 0
        if self._limits.policy == "refuse":
            raise OutboxFull(unsent, self._limits.max_rows, self._limits.max_age.days if oldest else None)
        excess = max(0, unsent - self._limits.max_rows + 1)
        now = self.records.clock()
        droppable = f"sent_at IS NULL AND NOT ({IN_FLIGHT})"
        deleted = self._db.execute(
            f"DELETE FROM outbox WHERE {droppable} AND ({QUEUED_PAST_AGE} OR seq IN "
            f"(SELECT seq FROM outbox WHERE {droppable} ORDER BY seq LIMIT :excess)) RETURNING result_id",
            {**age_bounds(self.records, self._limits.max_age), "excess": excess},
        ).fetchall()
        if len(deleted) < excess:  # the rest are in flight: kept, and this screening recorded over the cap
            over = excess - len(deleted)
            log_event("records.outbox_over_cap", level=30, over_cap=over, cap=self._limits.max_rows, kept="in_flight")
        if not deleted:
            return 0
        self._db.executemany(
            "INSERT OR REPLACE INTO dropped_unsent (result_id, dropped_at) VALUES (?, ?)",
            [(row[0], now.isoformat()) for row in deleted],
        )
        dropped = len(deleted)
        append_event(self._db, "sync", {"dropped_unsent": dropped, "policy": "drop_oldest"}, now)
        log_event("records.outbox_dropped", level=30, dropped=dropped, policy="drop_oldest")
        return dropped

    def _note_model(self, record: ScreeningRecord, now: datetime) -> None:
        model = record.triage.model
        if model is None:
            return
        key, value = f"model:{record.modality}", f"{model.id}:{model.version}:{model.sha256}"
        previous = self.records.meta(key)
        if previous != value:
            details = {"modality": record.modality, "model": value, "previous": previous}
            append_event(self._db, "model_change", details, now)
            self.records.set_meta(key, value)

    def record_screening(
        self,
        record: ScreeningRecord,
        images: Sequence[tuple[str, bytes]],
        payload: bytes,
        shared: SealedUpload | None = None,
    ) -> None:
        """Record one screening and queue its payload (and the photo ``shared`` with the review
        station, sealed to it), all in one transaction, or refuse it whole.

        The screening's audit event carries digests of the row and of the payload, which bind both
        to the hash chain (``records/integrity.py``); the payload announces the shared photo's digest.
        """
        self._check_disk(sum(len(data) for _, data in images) + len(payload) + (shared.size if shared else 0))
        sealer, rid, triage = self.records.sealer, record.result_id, record.triage
        quality = record.quality
        try:
            with transaction(self._db):
                self._require_held(record.context.beside)
                now = self.records.clock()
                dropped = self._make_room()
                self._note_model(record, now)
                count_screening(self._db)  # before its audit event: records without the count count those
                row = {
                    "result_id": rid,
                    "recorded_at": now.isoformat(),
                    "captured_at": record.captured_at.isoformat(),
                    "modality": record.modality,
                    "eye": record.context.eye,
                    "body_site": record.context.body_site,
                    "outcome": triage.outcome.value,
                    "score": triage.score,
                    "threshold": triage.threshold,
                    "operating_point": triage.operating_point.name if triage.operating_point else None,
                    "model_id": triage.model.id if triage.model else None,
                    "model_version": triage.model.version if triage.model else None,
                    "model_sha256": triage.model.sha256 if triage.model else None,
                    "research_only": int(triage.research_only),
                    "quality": json.dumps(
                        {"verdict": quality.verdict, "reasons": list(quality.reasons), **dict(quality.measures)}
                    )
                    if quality
                    else None,
                    "calibration_id": record.calibration_id,
                    "clock": record.clock,
                    # Who took it (the touchscreen app's operator): kept here only, never in the payload.
                    "operator": record.context.operator,
                    "patient_sealed": self._seal_text(record.context.patient_ref, f"patient:{rid}"),
                    "note_sealed": self._seal_text(record.context.note, f"note:{rid}"),
                    "source_sealed": self._seal_text(record.source, f"source:{rid}"),
                    "photo_key": self._photo_key(record.photo_sha256, record.modality, record.context),
                }
                inserted = self._db.execute(
                    f"INSERT INTO screening ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
                )
                self.records.note_boot(inserted.lastrowid)
                for index, (media_type, data) in enumerate(images):
                    self._db.execute(
                        "INSERT INTO image (result_id, media_type, sealed) VALUES (?, ?, ?)",
                        (rid, media_type, sealer.seal(data, f"image:{rid}:{index}")),
                    )
                details = {
                    "result_id": rid,
                    "modality": record.modality,
                    "outcome": triage.outcome.value,
                    ROW_DIGEST: row_digest(row),
                    **bound_digests(row),
                    PAYLOAD_DIGEST: payload_digest(payload),
                }
                event = append_event(self._db, "screening", details, now)
                self._db.execute(
                    "INSERT INTO outbox (result_id, payload, queued_at, audit_seq, queued_boot, queued_boottime) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (rid, payload, now.isoformat(), event, self.records.boot() or None, self.records.boottime()),
                )
                if shared is not None:
                    self._db.execute(
                        "INSERT INTO image_upload (result_id, sealed, sha256, size, queued_at) VALUES (?, ?, ?, ?, ?)",
                        (rid, shared.sealed, shared.sha256, shared.size, now.isoformat()),
                    )
                witnessed = current(self._db)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL":
                raise StorageFull(f"{self.records.path}: the disk is full; the screening was not recorded") from None
            # Raised as it is: wrapped in a bare RecordsError, a lock, a full disk or damage was said to the
            # nurse as records that cannot be opened (``health.checks.records_unusable`` tells them by kind).
            raise records_problem(self.records.path, error) from error
        self.dropped_unsent += dropped
        self.records.witness.keep(self._db, witnessed)
        pay_checkpoint(self.records, wait=False)

    def _photo_key(self, photo_sha256: str | None, modality: str, context: ScreeningContext) -> str | None:
        """What tells one screening of a photo file from another (``screened_before``): the file's bytes,
        its modality, and whom and what it is of (the patient reference as a nurse compares two, the eye
        or the body site), keyed with the records key (``Sealer.digest``): no one without the key can
        tell from it whether a photo they hold was screened here. ``None`` for a camera's frame."""
        if photo_sha256 is None:
            return None
        patient = None if context.patient_ref is None else _reference_key(context.patient_ref)
        identity = json.dumps([photo_sha256, modality, patient, context.eye, context.body_site])
        return self.records.sealer.digest(identity.encode(), "photo")

    def screened_before(
        self, photo_sha256: str | None, modality: str, context: ScreeningContext
    ) -> list[ScreenedBefore]:
        """The screenings these records hold of the same photo file's bytes for the same patient, eye or
        body site (``_photo_key``), oldest first: a batch run again after a power cut names one and does
        not screen the photo again, where it recorded it a second time under a new result id, the
        specialists sent the same photo twice. Only one whose result can still reach a specialist: one
        deleted unsent by ``drop_oldest`` or withheld as altered, skipped, would have been left unsent
        for good. Which model each was triaged by is the caller's to weigh (``cli._screened_before``):
        another model, installed since, screens the photo anew. An erased screening is no longer held,
        and its photo is screened as new."""
        key = self._photo_key(photo_sha256, modality, context)
        rows = self._db.execute(
            "SELECT result_id, recorded_at, model_sha256 FROM screening s WHERE photo_key = ? "
            "AND NOT EXISTS (SELECT 1 FROM dropped_unsent d WHERE d.result_id = s.result_id) "
            f"AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.result_id = s.result_id AND o.{WITHHELD}) "
            "ORDER BY recorded_at",
            (key,),
        )
        return [ScreenedBefore(*row) for row in rows]

    def _require_held(self, result_ids: Sequence[str]) -> None:
        """Refuse a screening recorded beside results of its patient erased since (``ScreeningContext.
        beside``), with the patient (``Gone.with_the_patient``). The station's notice erases results, not
        a patient mid-visit (a wrong photo its administrator erased there, or results of a patient erased
        here that a backup brought back): the screening beside one is recorded. Asked in the screening's
        own transaction: an erasure by another process (``edgescreen erase``, the sync service) commits
        before it or after it, never between the question and the screening. Here, not in the app or the
        command: one rule for every way a patient is erased (the records screen, the command line), which
        each visit's next result meets."""
        if self.gone(result_ids).with_the_patient:
            raise PatientErased(
                "a result of this patient that the visit knew of was erased since, the patient with it: the "
                "screening was not recorded"
            )

    def gone(self, result_ids: Sequence[str]) -> Gone:
        """Which of these results the records no longer hold, and whose erasure took them (the audit's
        ``erasure`` events say whose): what a visit still open in the app, which holds its results in
        memory, must stop showing, and whether its patient was erased (nothing more is recorded for
        them, ``_require_held``). A delete and its audit event commit together: one gone here is named
        by its erasure's event, whichever process erased it."""
        if not result_ids:
            return Gone()
        marks = ",".join("?" * len(result_ids))
        held = self._db.execute(f"SELECT result_id FROM screening WHERE result_id IN ({marks})", list(result_ids))
        gone = set(result_ids) - {row[0] for row in held}
        by_the_station = self._erased_by_the_station(gone) if gone else set()
        return Gone(frozenset(by_the_station), frozenset(gone - by_the_station))

    def _erased_by_the_station(self, result_ids: set[str]) -> set[str]:
        """Those of these results an erasure by the review station's notice named (``_erase``)."""
        marks = ",".join("?" * len(result_ids))
        named = self._db.execute(
            "SELECT DISTINCT erased.value FROM audit, json_each(audit.details, '$.result_ids') AS erased "
            f"WHERE audit.kind = 'erasure' AND json_extract(audit.details, '$.by') = ? AND erased.value IN ({marks})",
            [ERASED_BY_THE_STATION, *result_ids],
        )
        return {row[0] for row in named}

    def _screening_row(self, result_id: str) -> sqlite3.Row:
        row = self._db.execute("SELECT * FROM screening WHERE result_id = ?", (result_id,)).fetchone()
        if row is None:
            raise UnknownResult.saying("refused.no_result", result_id=repr(result_id))
        return row

    def view(self, result_id: str, seen: bool = True, with_photo: bool = False) -> dict[str, Any]:
        """The full local record of one result, including what identifies the patient (audited).
        ``seen``: its verdicts count as seen (a technician or nurse read them); not for a copy made for
        the patient, which must leave a referral to call back on the nurse's list. ``with_photo``: its
        first kept JPEG too, as ``photo`` (``None`` once deleted, or when ``photo_unreadable``), for a
        screen that shows the record: the one way to tell two lesions of one coarse body site apart
        when a verdict calls the patient back for one of them.

        Read whole in the transaction that audits it, and its verdicts marked seen last: a sealed value
        that does not open (a worn card) fails the view before any call-back leaves the banner, and
        those marked are the very ones read (none can arrive in between). A comment or a photo that
        does not open is said to be unreadable instead: neither must hide the rest of the record."""
        with transaction(self._db):
            row = self._screening_row(result_id)
            now = self.records.clock()
            append_event(self._db, "view", {"result_id": result_id}, now)
            # The photo's keyed digest says nothing to a reader (``_photo_key``): not shown.
            document = {k: v for k, v in dict(row).items() if not k.endswith("_sealed") and k != "photo_key"}
            document["quality"] = json.loads(row["quality"]) if row["quality"] else None
            document["patient_ref"] = self._open_text(row["patient_sealed"], f"patient:{result_id}")
            document["note"] = self._open_text(row["note_sealed"], f"note:{result_id}")
            document["source"] = self._open_text(row["source_sealed"], f"source:{result_id}")
            document["images"] = self._db.execute(
                "SELECT count(*) FROM image WHERE result_id = ?", (result_id,)
            ).fetchone()[0]
            reviews = self._db.execute(
                f"SELECT * FROM review WHERE result_id = ? ORDER BY {REVIEW_ORDER}", (result_id,)
            )
            document["reviews"] = [self._review_shown(review) for review in reviews]
            # What the latest of them asks of the nurse, as Today says it: the record opened to make the call
            # repeats it (``None``: nothing the device did not ask).
            call_back = self._db.execute(CALL_BACK_OF_ONE, (result_id,)).fetchone()
            document["call_back"] = call_back[0] if call_back else None
            if with_photo:
                document |= self._first_photo(result_id)
            if seen:  # a referral to call back leaves the nurse's banner
                self._db.execute(
                    "UPDATE review SET opened_at = ? WHERE result_id = ? AND opened_at IS NULL",
                    (now.isoformat(), result_id),
                )
        return document

    def _first_photo(self, result_id: str) -> dict[str, Any]:
        """The record's first kept JPEG as ``photo`` (``None`` once deleted), and whether it is
        ``photo_unreadable``: bytes a worn card changed (``SealBroken``, logged), the likeliest value to
        be hit, being the largest. Failing the view for it kept the nurse from the verdict and the
        patient's reference too."""
        try:
            photo = next((data for media, data in self._opened_images(result_id) if media == JPEG), None)
        except SealBroken:
            log_event("records.photo_unreadable", level=40, result_id=result_id)
            return {"photo": None, "photo_unreadable": True}
        return {"photo": photo, "photo_unreadable": False}

    def _review_shown(self, review: sqlite3.Row) -> dict[str, Any]:
        """One verdict as its record shows it. A comment whose bytes a worn card changed (``SealBroken``)
        is ``None`` with ``comment_unreadable``, logged by its ids: failing the whole view for it kept
        the nurse from the verdict and from the patient's reference a call-back needs, though neither
        was damaged. The station still holds the comment. The boot it arrived on is left out: it only
        keeps Today's list (records/worklist.py), and says nothing to a reader. ``station_ahead``: its date
        is later than its arrival here (``station_clock_ahead``), so the record says when it arrived too."""
        shown = {k: v for k, v in dict(review).items() if k not in ("comment", "comment_sealed", "boot")}
        shown["station_ahead"] = station_clock_ahead(review["reviewed_at"], review["received_at"], review["clock"])
        try:
            comment = self._open_text(review["comment_sealed"], f"comment:{review['review_id']}")
        except SealBroken:
            log_event(
                "records.comment_unreadable", level=40, result_id=review["result_id"], review_id=review["review_id"]
            )
            return shown | {"comment": None, "comment_unreadable": True}
        return shown | {"comment": comment, "comment_unreadable": False}

    def _opened_images(self, result_id: str) -> list[tuple[str, bytes]]:
        """The decrypted images of one result, as (media type, bytes), for a caller that audits."""
        rows = self._db.execute(
            "SELECT media_type, sealed FROM image WHERE result_id = ? ORDER BY id", (result_id,)
        ).fetchall()
        return [
            (media, self.records.sealer.open(sealed, f"image:{result_id}:{i}"))
            for i, (media, sealed) in enumerate(rows)
        ]

    def export_images(self, result_id: str) -> list[tuple[str, bytes]]:
        """The decrypted images of one result, as (media type, bytes) (audited). Each JPEG carries the
        export's mark (``export_mark``): its pixels are calibrated already, and ``screen`` must not
        calibrate them again."""
        with transaction(self._db):
            row = self._screening_row(result_id)
            images = self._opened_images(result_id)
            append_event(self._db, "export", {"result_id": result_id, "images": len(images)}, self.records.clock())
        calibration = row["calibration_id"]
        return [(media, marked(data, result_id, calibration) if media == JPEG else data) for media, data in images]

    def search_patient(self, reference: str) -> PatientSearch:
        """The screenings recorded under one patient reference and the close references beside them,
        in one pass: references are sealed, so each one is opened (about 3 µs) and compared as a nurse
        would. A reference whose bytes changed on a worn card (``SealBroken``) is not compared but
        named, and logged with its result id: one damaged value must not stop every patient's search,
        export and erasure. A missing key still stops them all."""
        rows = self._db.execute(
            "SELECT result_id, patient_sealed FROM screening WHERE patient_sealed IS NOT NULL ORDER BY recorded_at"
        ).fetchall()
        result_ids: list[str] = []
        close: dict[str, int] = {}
        unreadable: list[str] = []
        for result_id, sealed in rows:
            try:
                other = self._open_text(sealed, f"patient:{result_id}") or ""
            except SealBroken:
                unreadable.append(result_id)
                continue
            if same_reference(other, reference):
                result_ids.append(result_id)
            elif _close_references(other, reference):
                close[other] = close.get(other, 0) + 1
        if unreadable:
            log_event("records.reference_unreadable", level=40, results=",".join(unreadable))
        return PatientSearch(tuple(result_ids), dict(sorted(close.items())), tuple(unreadable))

    def erase_patient(self, reference: str) -> Erasure:
        """Remove every screening, image, review and queued payload of one patient (right to erasure),
        and the key of each of their visits open on the app's screens, counted (``_visits_open_of``).

        The patient reference is only stored sealed, so each one is opened and compared; the audit
        event counts what went and names the random result ids, never the reference.
        """
        with transaction(self._db):
            search = self.search_patient(reference)
            erasure = self._erase(list(search.result_ids), ask_the_station=True)
            self._in_the_ledger(erasure, by_the_station=False)
            exported = exports(self._db, search.result_ids)
            visits = self._visits_open_of(reference, search.result_ids)
            erasure = replace(
                erasure,
                close=search.close,
                unreadable_references=search.unreadable,
                exported=exported,
                visits_open=visits,
            )
            witnessed = current(self._db)
        return self._erased(erasure, witnessed)

    def visit_key(self, reference: str) -> str:
        """Whom a visit in progress is of, as the records keep it (``open_visit.patient_key``): the
        reference as erasure compares two (``_reference_key``), keyed with the records key
        (``Sealer.digest``), which tells no one without the key whether a visit is of a reference they hold."""
        return self.records.sealer.digest(_reference_key(reference).encode(), "visit")

    def _visits_open_of(self, reference: str, result_ids: Sequence[str]) -> int:
        """How many visits open on the app's screens are of the patient erased, in the erasure's
        transaction: by their key (``visit_key``, cleared: nothing keyed to the reference stays), or, for
        one opened before the records kept it, by a result it recorded. A visit of any kind, a skin visit
        or one before its first photo too: the app closes each at its next screen, by the patient's results
        it knows of (``ScreeningContext.beside``)."""
        by_result = (
            " OR EXISTS (SELECT 1 FROM json_each(open_visit.results) AS recorded "
            f"WHERE recorded.value IN ({','.join('?' * len(result_ids))}))"
            if result_ids
            else ""
        )
        return self._db.execute(
            f"UPDATE open_visit SET patient_key = NULL WHERE patient_key = ?{by_result}",
            [self.visit_key(reference), *result_ids],
        ).rowcount

    def erase_erased_at_the_station(self, result_ids: Sequence[str]) -> Erasure:
        """Remove the named results this device still holds, which the review station erased (its signed
        notice, ``edgescreen.erased/1``): a patient erased here whose records came back with a backup, or
        a result its administrator erased there. As ``erase_patient`` removes them, but the station is
        not asked to erase them (it did), and the audit says it was the station's erasure. Nothing held:
        nothing written."""
        with transaction(self._db):
            matched = self._held(result_ids)
            if not matched:
                return Erasure(0, 0, 0)
            erasure = self._erase(matched, ask_the_station=False)
            self._in_the_ledger(erasure, by_the_station=True)
            witnessed = current(self._db)
        return self._erased(erasure, witnessed)

    def erase_again(self, ledger: Sequence[ErasureEntry]) -> list[Erasure]:
        """Make again, in one transaction, the erasures of ``ledger`` (records/erasure_ledger.py) whose
        results these records hold: records restored from a backup taken before them. Each is audited
        as it was first (the station's, by its notice, named so), and the station is asked again for
        every result of a nurse's erasure it may hold: those it was asked for then (some sent after the
        backup, which these records take for unsent) and those these records know were sent. Asked
        twice, it erases once: a result it erased already is done (its tombstone), one it never had is
        named unknown (review_station/erasure.py). The ledger holds them already: nothing is added."""
        with transaction(self._db):
            return [
                self._erase(held, not entry.by_the_station, entry.at_the_station)
                for entry in ledger
                if (held := self._held(entry.result_ids))
            ]

    def _held(self, result_ids: Sequence[str]) -> list[str]:
        """Those of ``result_ids`` these records hold, oldest first."""
        marks = ",".join("?" * len(result_ids))
        held = self._db.execute(
            f"SELECT result_id FROM screening WHERE result_id IN ({marks}) ORDER BY recorded_at", list(result_ids)
        )
        return [row[0] for row in held]

    def _in_the_ledger(self, erasure: Erasure, by_the_station: bool) -> None:
        """The erasure in the ledger a restore reads, flushed before the erasure's commit."""
        if erasure.result_ids:
            entry = ErasureEntry(erasure.result_ids, erasure.at_the_station, by_the_station)
            note_erasure(self.records.erasures, entry)

    def _erase(self, matched: list[str], ask_the_station: bool, asked_before: Sequence[str] = ()) -> Erasure:
        """Delete these results with their images, reviews and queued payloads in the caller's
        transaction, and audit it by their random ids; with ``ask_the_station``, queue the request that
        the review station erase those it may hold (and those of them it was asked for ``asked_before``,
        by the erasure a restore makes again), else (the station's own erasure) name it as whose."""
        marks = ",".join("?" * len(matched))
        images = self._db.execute(f"SELECT count(*) FROM image WHERE result_id IN ({marks})", matched).fetchone()[0]
        # The sync worker claims rows in its own write transaction before publishing them, so none
        # is taken between this count and the deletion: what is reported withdrawn never leaves.
        unsent, in_flight = self._db.execute(
            f"SELECT count(*) FILTER (WHERE NOT ({IN_FLIGHT})), count(*) FILTER (WHERE {IN_FLIGHT}) FROM outbox "
            f"WHERE sent_at IS NULL AND result_id IN ({marks})",
            matched,
        ).fetchone()
        shared = self._db.execute(
            f"SELECT result_id FROM image_upload WHERE uploaded_at IS NOT NULL AND result_id IN ({marks})", matched
        )
        shared_photos = tuple(sorted(row[0] for row in shared))
        at_the_station: tuple[str, ...] = ()
        if ask_the_station:
            sent = self._db.execute(
                f"SELECT result_id FROM screening WHERE result_id IN ({marks}) AND (synced_at IS NOT NULL OR "
                f"result_id IN (SELECT result_id FROM outbox WHERE {IN_FLIGHT} OR sent_at IS NOT NULL))",
                matched,
            )
            at_the_station = tuple(sorted({row[0] for row in sent} | (set(asked_before) & set(matched))))
            # The station is asked to erase its copies in this transaction: never one without the other.
            queue_erasure(self._db, at_the_station, self.records.clock())
        self._db.execute(f"DELETE FROM screening WHERE result_id IN ({marks})", matched)
        erasure = Erasure(len(matched), images, unsent, in_flight, tuple(matched), shared_photos, at_the_station)
        details: dict[str, Any] = {
            "results": erasure.results,
            "images": images,
            "unsent_withdrawn": unsent,
            "unsent_in_flight": in_flight,
            "result_ids": matched,
            "photos_at_the_station": list(shared_photos),
            "results_at_the_station": list(at_the_station),
        }
        if not ask_the_station:
            details["by"] = ERASED_BY_THE_STATION
        owe_checkpoint(self.records, append_event(self._db, "erasure", details, self.records.clock()))
        return erasure

    def _erased(self, erasure: Erasure, witnessed: Witness) -> Erasure:
        """After an erasure's commit: witnessed, as an erasure the card loses brings a patient back; and
        its pages folded out of the write-ahead log, or why not."""
        self.records.witness.keep(self._db, witnessed)
        return replace(erasure, left_on_disk=pay_checkpoint(self.records, wait=True))

    def purge_images(self, retention: timedelta) -> int:
        """Delete the images of results synced, and given a specialist's verdict, more than
        ``retention`` ago; results themselves stay. A result the station has not answered keeps its
        photo however old: it may be all that is left of a referral the station never read
        (quarantined there, or the station down for weeks), and the nurse may need to show it. So does
        one whose patient is still to be called back (the nurse's banner): a lesion's photo is what
        tells it from the others of its body site, and a device put away between campaigns would
        delete it at its next start, before the nurse opened the call-back.

        Aged from the verdict's arrival by the outbox's rule (``ANSWERED``, ``Aged``): on this boot by
        its clock, never set, so a device without a time server purges too; of another boot by its date,
        only on a trusted clock: a clock a year ahead must not purge every image at once, nor, set right,
        one months behind purge those answered during a campaign. The sync's time is not aged: no clock
        state is kept with it, and a verdict arrives only once its result has reached the station, so
        its arrival bounds the sync's true time too.
        """
        if self.records.trusted_now() is None:
            reason = "the clock is not synchronised or before the build: only this boot's verdicts are aged"
            log_event("records.purge_deferred", level=30, reason=reason)
        with transaction(self._db):
            purged = self._db.execute(
                "DELETE FROM image WHERE result_id IN (SELECT s.result_id FROM screening s "
                "WHERE s.synced_at IS NOT NULL AND EXISTS (SELECT 1 FROM review r "
                f"WHERE r.result_id = s.result_id AND {ANSWERED.past})) "
                f"AND result_id NOT IN ({to_call_back('s.result_id')})",
                age_bounds(self.records, retention),
            ).rowcount
            if purged:
                details = {"images": purged, "days": retention.days}
                owe_checkpoint(self.records, append_event(self._db, "retention", details, self.records.clock()))
        if purged:
            pay_checkpoint(self.records, wait=True)
        return purged

    def add_review(self, review: Review) -> str:
        """Store a specialist's verdict against its result, its comment sealed.

        Returns ``stored``, ``duplicate`` (the same review again), ``conflict`` (its id is already
        taken by another result or verdict: nothing is stored, and the station must be told) or
        ``unknown_result``. Findings not of the result's modality are refused as the wire's checks
        refuse a malformed verdict (``WireError``, ``check_findings_of``): only the records know it.
        """
        with transaction(self._db):
            screened = self._db.execute(
                "SELECT modality FROM screening WHERE result_id = ?", (review.result_id,)
            ).fetchone()
            if screened is None:
                return "unknown_result"
            check_findings_of(review.findings, screened["modality"], review.review_id)
            known = self._db.execute(
                "SELECT result_id, verdict FROM review WHERE review_id = ?", (review.review_id,)
            ).fetchone()
            if known is not None:
                return "duplicate" if tuple(known) == (review.result_id, review.verdict) else "conflict"
            now = self.records.clock()
            row = {
                "review_id": review.review_id,
                "result_id": review.result_id,
                "verdict": review.verdict,
                "reviewer": review.reviewer,
                "reviewed_at": review.reviewed_at.isoformat(),
                "received_at": now.isoformat(),
                "urgency": review.urgency,
                "icdr_grade": review.icdr_grade,
                "maculopathy": review.maculopathy,
                "diagnosis": review.diagnosis,
                "comment_sealed": self._seal_text(review.comment, f"comment:{review.review_id}"),
                # Which day's Today it belongs to, not what it says: outside the digest (worklist.py).
                "clock": self.records.clock_state(now).value,
                "boot": self.records.boot() or None,
                "received_boottime": self.records.boottime(),
            }
            self._db.execute(
                f"INSERT INTO review ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
            )
            details = {"review_id": review.review_id, "result_id": review.result_id, "verdict": review.verdict}
            if review.urgency:
                details["urgency"] = review.urgency
            details[ROW_DIGEST] = row_digest(row, REVIEW_COLUMNS)
            append_event(self._db, "review", details, now)
        return "stored"
