"""Real records for tests: a store in a temp folder, realistic screening values, a device config file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from edgescreen_wire.result import RESULT_V1
from edgescreen_wire.review import REVIEW_V2
from firmware_app.app import DurableRecorder
from firmware_app.capture.frame import Frame
from firmware_app.config import DeviceConfig
from firmware_app.inference.card import Estimate, OperatingPoint
from firmware_app.inference.model import ModelReference, Prediction
from firmware_app.inference.triage import Triage, triage
from firmware_app.records.database import SCHEMA_VERSION
from firmware_app.records.screening import ScreeningContext, ScreeningRecord, new_result_id
from firmware_app.records.store import OutboxLimits, Records, ScreeningStore
from firmware_app.sharing.policy import ImageSharing

MODEL = ModelReference("dr-referable", "1.0.0", "5" * 64)
SCREENING_POINT = OperatingPoint("screening", 0.31, Estimate(0.9, (0.85, 0.94)), Estimate(0.7, (0.65, 0.75)))
DEVICE = DeviceConfig(id="cam-01", site="clinic-7")

# How to close what the kit opened for the running test (records, recorders): each holds a worker
# thread (the witness writer, the photo keeper) that would outlive the test, and records left open
# leave their last witness unwritten. ``closing_what_the_test_left_open`` (autouse, tests/conftest.py)
# closes them when the test ends, whether or not it closed them itself (closing twice is harmless).
_OPEN: list[Callable[[], None]] = []


def closed_when_the_test_ends(close: Callable[[], None]) -> None:
    """Have ``close`` run when the running test ends (a recorder a test helper hands out, say)."""
    _OPEN.append(close)


@contextmanager
def closing_what_the_test_left_open() -> Iterator[None]:
    """Close, newest first, what the kit opened inside the block (not a module fixture's, opened before)."""
    opened_before = len(_OPEN)
    try:
        yield
    finally:
        while len(_OPEN) > opened_before:
            _OPEN.pop()()


def reading(path: Path) -> sqlite3.Connection:
    """A read transaction on a connection of its own, as a backup's copy in another process holds one."""
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM screening").fetchone()
    return reader


@contextmanager
def read_held(path: Path) -> Iterator[threading.Event]:
    """A read (``reading``) held by a thread of its own until the block ends or a minute has passed: a
    hang guard, after which a writer that waited for the read goes on, seen by the event given (set
    once the read has ended)."""
    holding, release, ended = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        reader = reading(path)
        try:
            holding.set()
            release.wait(60)
            reader.execute("ROLLBACK")
        finally:
            reader.close()
            ended.set()

    reader = threading.Thread(target=hold, daemon=True)
    reader.start()
    try:
        assert holding.wait(60), "the read was not begun"
        yield ended
    finally:
        release.set()
        reader.join(60)


# The schema before the migration that backfilled ``last_backup`` (the twelve after it added the
# verdicts' clock and boot, the unsent rows' index by queued_at, the table of results dropped
# unsent, the operators' count of wrong PINs from the network, the station's erasure requests, the
# index of the erasures' audit events, the visits in progress, the unsent rows' boot and boot
# clock, the screenings' photo keys, the verdicts' boot clock, then the visits' patient keys:
# ``back_to`` undoes them; the last, which sets aside the photos an older release refused on a 410,
# changes no schema).
BEFORE_LAST_BACKUP = SCHEMA_VERSION - 13


def undo_visit_keys(db: sqlite3.Connection) -> None:
    """Undo the migration before the last (a data one), the keyed patient of each visit in progress
    (``ScreeningStore.visit_key``)."""
    db.execute("ALTER TABLE open_visit DROP COLUMN patient_key")


def undo_received_boottime(db: sqlite3.Connection) -> None:
    """Undo a late migration, the boot's clock as each verdict arrived (``records.store.ANSWERED``)."""
    db.execute("ALTER TABLE review DROP COLUMN received_boottime")


def undo_queued_boot(db: sqlite3.Connection) -> None:
    """Undo a late migration: the boot each unsent row was queued on, and its boot clock then."""
    db.execute("DROP INDEX outbox_unsent_boottime")
    for column in ("queued_boot", "queued_boottime"):
        db.execute(f"ALTER TABLE outbox DROP COLUMN {column}")


def drop_photo_keys(db: sqlite3.Connection) -> None:
    """Undo a late migration, the screenings' photo keys (``ScreeningStore.screened_before``)."""
    db.execute("DROP INDEX screening_photo_key")
    db.execute("ALTER TABLE screening DROP COLUMN photo_key")


def back_to(db: sqlite3.Connection, version: int) -> None:
    """Set real records back to ``version``, as a device on that release holds them: the unsent
    rows' queued_at index, the verdicts' clock and boot, the results dropped unsent, the operators'
    wrong PINs from the network, the station's erasure requests, the erasures' audit index, the
    visits in progress, the unsent rows' boot and boot clock, the screenings' photo keys and the
    verdicts' boot clock, the latest migrations, go (a test of an earlier one undoes its own columns)."""
    undo_visit_keys(db)
    undo_received_boottime(db)
    drop_photo_keys(db)
    undo_queued_boot(db)
    db.execute("DROP TABLE open_visit")
    db.execute("DROP INDEX audit_erasure")
    db.execute("DROP TABLE erasure_outbox")
    for column in ("remote_failed_pins", "remote_locked_until"):
        db.execute(f"ALTER TABLE operator DROP COLUMN {column}")
    db.execute("DROP TABLE dropped_unsent")
    db.execute("DROP INDEX outbox_unsent_queued")
    for column in ("clock", "boot"):
        db.execute(f"ALTER TABLE review DROP COLUMN {column}")
    db.execute(f"PRAGMA user_version = {version}")


def sample_triage(score: float = 0.72) -> Triage:
    return triage(Prediction(score, MODEL), SCREENING_POINT)


def sample_record(
    context: ScreeningContext | None = None,
    source: str = "retina.jpg",
    captured_at: datetime | None = None,
    score: float = 0.72,
) -> ScreeningRecord:
    return ScreeningRecord(
        new_result_id(),
        captured_at or datetime.now(UTC),
        "fundus",
        sample_triage(score),
        context or ScreeningContext(eye="L"),
        source,
    )


def small_photo(retina_rgb: np.ndarray | None = None, size: int = 96) -> np.ndarray:
    """A small real fundus photo (skimage's CC0 retina) so that thousands of records stay fast."""
    if retina_rgb is None:
        from skimage import data

        retina_rgb = data.retina()
    return cv2.resize(retina_rgb, (size, size), interpolation=cv2.INTER_AREA)


def open_store(
    directory: Path,
    reserve_bytes: int = 0,
    limits: OutboxLimits | None = None,
    clock=None,
    synchronised: bool = True,
    key_required: bool = True,
    boot: str = "test-boot",
    boottime=None,
) -> ScreeningStore:
    """The records of ``directory``; the clock is taken as synchronised unless a test says otherwise
    (the kernel's answer depends on the machine the tests run on), and ``boot`` is the kernel's boot id.
    ``boottime`` is the boot's clock that nothing sets (``records.clock.boot_time``): a test's ``clock``
    is taken as one that never jumped (its days pass on both) unless the test gives one of its own."""
    if clock and not boottime:
        boottime = lambda: clock().timestamp()  # noqa: E731
    records = Records(
        directory / "records.sqlite3",
        directory / "records.key",
        **({"clock": clock} if clock else {}),
        **({"boottime": boottime} if boottime else {}),
        synchronised=lambda: synchronised,
        key_required=key_required,
        boot=lambda: boot,
    )
    if threading.current_thread() is threading.main_thread():  # SQLite closes a connection in its own thread only
        closed_when_the_test_ends(records.close)
    return ScreeningStore(records, reserve_bytes, limits or OutboxLimits())


def record_one(
    store: ScreeningStore,
    photo: np.ndarray,
    record: ScreeningRecord | None = None,
    schema: str = RESULT_V1,
    review_schema: str = REVIEW_V2,
    sharing: ImageSharing | None = None,
) -> ScreeningRecord:
    """Record through the same path the pipeline uses: validated payload, sealed JPEG, one transaction.
    The default screening is captured on the store's clock, as the pipeline's frames are: on the test
    machine's, once a test's date has passed, it would be dated in that clock's future, a time the
    outbox's age cap does not age (``records.store.Aged``)."""
    record = record or sample_record(captured_at=store.records.clock())
    recorder = DurableRecorder(store, DEVICE, schema, sharing, review_schema)
    try:
        recorder(record, recorder.keep(Frame(photo, record.source)))
    finally:
        recorder.close()
    return record


# The room a nearly full disk keeps (``tests.conftest.filled``) for an erasure after
# ``screenings_left_in_the_log``: its own pages (about 60 KB in the log) fit, and folding the log into
# the records file (about 500 KB more of it) does not, so its checkpoint fails as on a full disk.
ROOM_FOR_AN_ERASURE = 200 * 1024


def screenings_left_in_the_log(store: ScreeningStore, retina_rgb: np.ndarray, reference: str) -> None:
    """A screening of ``reference`` with a small photo, then two of another patient with large ones,
    all left in the write-ahead log while another connection keeps it open (the app's, or ``store``
    itself): a checkpoint must grow the records file by what they hold."""
    record_one(store, small_photo(retina_rgb, 64), sample_record(ScreeningContext(eye="R", patient_ref=reference)))
    for _ in range(2):
        record_one(store, small_photo(retina_rgb, 1024))


def records_table(directory: Path) -> str:
    """A device config's ``[records]`` table keeping the records and their key in ``directory``. A
    config without one keeps them in the embedded default, the checkout's own ``var/``: a test's
    screenings would be the records ``scripts/run`` starts with."""
    return f'[records]\ndatabase = "{directory}/records.sqlite3"\nkey_file = "{directory}/records.key"\n'


def write_config(directory: Path, port: int, extra: str = "", backoff_max_s: float = 0.5) -> Path:
    """A device config pointing its records into ``directory`` and its sync at a local broker, which it
    tries again within ``backoff_max_s`` of losing it."""
    path = directory / "config.toml"
    path.write_text(
        f'[device]\nid = "{DEVICE.id}"\nsite = "{DEVICE.site}"\n'
        f"{records_table(directory)}disk_reserve_mb = 0\n"
        f'[sync]\nbroker_host = "127.0.0.1"\nbroker_port = {port}\nbackoff_initial_s = 0.05\n'
        f"backoff_max_s = {backoff_max_s}\nconnect_timeout_s = 5.0\n{extra}"
    )
    return path


def in_language(config: Path, language: str) -> Path:
    """``config`` (``write_config``'s) with ``[device] language`` set: the language every command speaks."""
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    return config


def damage_a_sealed_value(store: ScreeningStore, query: str, *parameters: object) -> None:
    """Close ``store``'s records and flip a bit in the one sealed value ``query`` selects
    (``flip_a_bit_on_the_card``): a worn card's damage to one value, the file otherwise whole."""
    connection = store.records.connection
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (sealed,) = connection.execute(query, parameters).fetchone()
    store.records.close()
    flip_a_bit_on_the_card(store.records.path, sealed)


def flip_a_bit_on_the_card(database: Path, stored: bytes) -> None:
    """Flip one bit in the middle of the value ``stored`` where it lies in the closed, checkpointed
    file ``database``, as a worn SD card does: past SQLite, which checks pages, never their contents."""
    data = bytearray(database.read_bytes())
    middle = len(stored) // 2
    # A large value spans overflow pages, each starting with a pointer: find a run within one of them.
    for start in range(middle, max(middle - 4096, 0) - 1, -16):
        if (at := data.find(stored[start : start + 16])) >= 0 and data.count(stored[start : start + 16]) == 1:
            data[at + 8] ^= 0x04
            database.write_bytes(bytes(data))
            return
    raise AssertionError(f"the value is not in {database}")
