"""Records on a real SQLite file: one transaction per screening, sealing, erasure, retention, caps."""

from __future__ import annotations

import json
import sqlite3
import stat
from datetime import UTC, datetime, timedelta

import pytest

from edgescreen_wire.result import REQUIRED, RESULT_V1
from firmware_app.config import load_config
from firmware_app.health.checks import Level
from firmware_app.health.readiness import backlog_check
from firmware_app.records import erased_pages
from firmware_app.records.database import SCHEMA_VERSION, RecordsError
from firmware_app.records.export_mark import ExportMark, export_mark
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ContextError, Review, ScreeningContext
from firmware_app.records.store import OutboxFull, OutboxLimits, PatientErased, Records, StorageFull
from firmware_app.records_cli import sync_status
from tests.records.kit import open_store, read_held, record_one, sample_record, small_photo, write_config


@pytest.fixture(scope="module")
def photo(retina_rgb):
    return small_photo(retina_rgb)


def raw_bytes(directory) -> bytes:
    """Everything SQLite has on disk for the records: main file, WAL and shared memory."""
    return b"".join(p.read_bytes() for p in directory.glob("records.sqlite3*"))


def test_a_screening_is_one_row_in_each_table_and_identifying_fields_are_sealed(tmp_path, photo):
    store = open_store(tmp_path)
    context = ScreeningContext(patient_ref="MRN-4471-DUPONT", eye="R", note="Mme Jeanne Dupont, née le 1957-03-21")
    record = record_one(store, photo, sample_record(context, source="/photos/jeanne_dupont_OD.jpg"))
    db = store.records.connection
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("screening", "image", "outbox")}
    assert counts == {"screening": 1, "image": 1, "outbox": 1}
    assert [r[0] for r in db.execute("SELECT kind FROM audit")] == ["model_change", "screening"]
    payload = json.loads(db.execute("SELECT payload FROM outbox").fetchone()[0])
    assert set(payload) == REQUIRED[RESULT_V1] and payload["result_id"] == record.result_id and payload["eye"] == "R"
    on_disk = raw_bytes(tmp_path)
    for secret in ("MRN-4471", "Dupont", "1957-03-21", "jeanne_dupont"):
        assert secret.encode() not in on_disk
    view = store.view(record.result_id)
    assert view["patient_ref"] == "MRN-4471-DUPONT" and view["note"].startswith("Mme Jeanne")
    assert view["source"] == "/photos/jeanne_dupont_OD.jpg" and view["images"] == 1
    ((media, jpeg),) = store.export_images(record.result_id)
    assert media == "image/jpeg" and jpeg.startswith(b"\xff\xd8")
    # Marked as an export (screen refuses a calibrated one), after the JFIF segment that must come first.
    assert export_mark(jpeg) == ExportMark(record.result_id, "uncalibrated") and jpeg[2:4] == b"\xff\xe0"
    assert [r[0] for r in db.execute("SELECT kind FROM audit")][-2:] == ["view", "export"]
    assert store.records.verify_audit().intact


def test_key_and_database_are_private_to_the_service(tmp_path, photo):
    record_one(open_store(tmp_path), photo)
    for name in ("records.key", "records.sqlite3", "records.sqlite3-wal"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert len((tmp_path / "records.key").read_bytes()) == 32


def test_a_readable_key_or_another_key_is_refused(tmp_path, photo):
    record_one(open_store(tmp_path), photo)
    key = tmp_path / "records.key"
    key.chmod(0o644)
    with pytest.raises(RecordsError, match="readable by others"):
        open_store(tmp_path)
    key.chmod(0o600)
    key.write_bytes(bytes(32))
    with pytest.raises(RecordsError, match="not the key these records were sealed with"):
        open_store(tmp_path)


def test_a_sealed_value_does_not_open_in_another_row(tmp_path, photo):
    store = open_store(tmp_path)
    first = record_one(store, photo, sample_record(ScreeningContext(patient_ref="A-1")))
    second = record_one(store, photo, sample_record(ScreeningContext(patient_ref="B-2")))
    db = store.records.connection
    db.execute(
        "UPDATE screening SET patient_sealed = (SELECT patient_sealed FROM screening WHERE result_id = ?) "
        "WHERE result_id = ?",
        (first.result_id, second.result_id),
    )
    with pytest.raises(RecordsError, match="does not open"):
        store.view(second.result_id)


def test_the_schema_is_migrated_and_a_newer_one_is_refused(tmp_path):
    store = open_store(tmp_path)
    assert store.records.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.records.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.records.close()
    with pytest.raises(RecordsError, match="newer than this software"):
        open_store(tmp_path)


def test_erasure_removes_one_patient_and_audits_without_the_reference(tmp_path, photo):
    store = open_store(tmp_path)
    erased = [record_one(store, photo, sample_record(ScreeningContext(patient_ref=" mrn-9  ", eye=e))) for e in "LR"]
    kept = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-10")))
    erasure = store.erase_patient("MRN-9")
    assert (erasure.results, erasure.images, erasure.unsent_withdrawn, erasure.unsent_in_flight) == (2, 2, 2, 0)
    assert not erasure.left_on_disk
    db = store.records.connection
    assert [r[0] for r in db.execute("SELECT result_id FROM screening")] == [kept.result_id]
    assert [r[0] for r in db.execute("SELECT result_id FROM outbox")] == [kept.result_id]
    event = db.execute("SELECT details FROM audit WHERE kind = 'erasure'").fetchone()[0]
    assert "MRN" not in event and "mrn" not in event
    assert set(json.loads(event)["result_ids"]) == {r.result_id for r in erased}
    assert store.records.verify_audit().intact


def test_a_screening_beside_a_result_erased_since_is_refused_whole(tmp_path, photo):
    """The app's visit records its second eye beside its first; ``edgescreen erase`` (its own process,
    its own connection) erased the patient in between: the second eye is not recorded under them."""
    app = open_store(tmp_path)
    first = record_one(app, photo, sample_record(ScreeningContext(patient_ref="MRN-9", eye="R")))
    open_store(tmp_path).erase_patient("mrn-9")
    db = app.records.connection
    tables = ("screening", "image", "outbox", "audit", "image_upload")
    before = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    second = ScreeningContext(patient_ref="MRN-9", eye="L", beside=(first.result_id,))
    with pytest.raises(PatientErased):
        record_one(app, photo, sample_record(second))
    assert {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables} == before
    assert before["screening"] == 0 and app.records.verify_audit().intact


def test_a_station_erasure_of_one_held_result_is_no_erasure_of_the_patient_screened(tmp_path, photo):
    """A returning patient's visit opens on both earlier eyes; the review station's notice that its
    administrator erased one of them (a wrong photo) is taken by the sync service (its own process) in
    between: the visit's eye is recorded (it was refused, the nurse told the patient was erased). Then
    ``edgescreen erase`` erases the patient: the visit's next eye is refused, one result beside it the
    station's erasure and the others the patient's."""
    app = open_store(tmp_path)
    wrong, kept = (record_one(app, photo, sample_record(ScreeningContext("MRN-9", eye=eye))) for eye in "RL")
    held = app.search_patient("MRN-9").result_ids
    assert open_store(tmp_path).erase_erased_at_the_station([wrong.result_id]).results == 1
    right = record_one(app, photo, sample_record(ScreeningContext("MRN-9", eye="R", beside=held)))
    assert set(app.search_patient("MRN-9").result_ids) == {kept.result_id, right.result_id}
    open_store(tmp_path).erase_patient("MRN-9")
    with pytest.raises(PatientErased):
        record_one(app, photo, sample_record(ScreeningContext("MRN-9", eye="L", beside=(*held, right.result_id))))
    assert app.search_patient("MRN-9").result_ids == () and app.records.verify_audit().intact


def pieces(values: list[bytes], size: int = 32) -> list[bytes]:
    """The values in short pieces: SQLite splits a long value over pages, so it is never whole on disk."""
    return [value[start : start + size] for value in values for start in range(0, len(value) - size, size)]


def test_an_erasure_a_long_reader_held_back_leaves_the_wal_with_the_next_screening(tmp_path, photo, monkeypatch):
    store = open_store(tmp_path)
    db = store.records.connection
    erased = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-9", eye="L")))
    where = (erased.result_id,)
    sealed = [bytes(r[0]) for r in db.execute("SELECT sealed FROM image WHERE result_id = ?", where)]
    sealed += [bytes(r[0]) for r in db.execute("SELECT patient_sealed FROM screening WHERE result_id = ?", where)]
    with read_held(store.records.path) as read_ended:  # a backup, say, in another process
        erasure = store.erase_patient("MRN-9")
        assert erasure.results == 1 and erasure.left_on_disk  # said to whoever erased, not reported clean
        # Any wait for the reader, the store's own or a checkpoint's, now outlasts the read's hang guard.
        db.execute("PRAGMA busy_timeout = 120000")
        monkeypatch.setattr(erased_pages, "READER_WAIT_S", 120.0)
        record_one(store, photo)  # while the reader still reads: recorded without waiting for it
        assert not read_ended.is_set()
        assert any(piece in raw_bytes(tmp_path) for piece in pieces(sealed))
    record_one(store, photo)  # on main: the erased pages stayed in the WAL until the last connection closed
    assert not any(piece in raw_bytes(tmp_path) for piece in pieces(sealed))
    assert store.records.meta("erased_pages_in_wal") is None


def test_images_are_deleted_after_retention_once_synced_and_answered(tmp_path, photo):
    now = [datetime(2027, 3, 1, tzinfo=UTC)]
    store = open_store(tmp_path, clock=lambda: now[0])
    # Cleared, the one answered: the specialist's "no referral" asks nothing (of a referral, a call-back).
    answered = record_one(store, photo, sample_record(score=0.05))
    unanswered, unsent = record_one(store, photo), record_one(store, photo)
    outbox = Outbox(store.records)
    sent = [r.seq for r in outbox.claim(0, 10) if r.result_id in (answered.result_id, unanswered.result_id)]
    assert outbox.mark_sent(sent) == 2
    assert store.add_review(Review("rev-1", answered.result_id, "no_refer", now[0], "dr-lopez", None)) == "stored"
    now[0] += timedelta(days=29)
    assert store.purge_images(timedelta(days=30)) == 0
    now[0] += timedelta(days=2)
    assert store.purge_images(timedelta(days=30)) == 1
    db = store.records.connection
    # The result the station never answered keeps its photo: it may be all that is left of a referral.
    kept = {r[0] for r in db.execute("SELECT result_id FROM image")}
    assert kept == {unanswered.result_id, unsent.result_id}
    assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 3
    assert db.execute("SELECT kind FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0] == "retention"


def test_the_photo_of_a_patient_still_to_be_called_back_is_kept_past_retention(tmp_path, photo):
    """On main a specialist's referral of a screening the device cleared lost its photo 30 days after
    it arrived, opened or not: a device put away between campaigns deleted it at its next start, before
    the nurse opened the call-back, and a lesion's photo is what tells it from the others of its region."""
    now = [datetime(2027, 3, 1, tzinfo=UTC)]
    store = open_store(tmp_path, clock=lambda: now[0])
    cleared, referred = (record_one(store, photo, sample_record(score=score)) for score in (0.05, 0.9))
    outbox = Outbox(store.records)
    assert outbox.mark_sent([row.seq for row in outbox.claim(0, 10)]) == 2
    for number, screening in enumerate((cleared, referred)):
        review = Review(f"rev-{number}", screening.result_id, "refer", now[0], "dr-lopez", None)
        assert store.add_review(review) == "stored"
    now[0] += timedelta(days=40)
    assert store.purge_images(timedelta(days=30)) == 1  # the device's own referral: nobody to call back
    kept = [r[0] for r in store.records.connection.execute("SELECT result_id FROM image")]
    assert kept == [cleared.result_id]
    assert store.view(cleared.result_id, with_photo=True)["photo"] is not None  # the nurse opens it
    assert store.purge_images(timedelta(days=30)) == 1


def test_a_disk_reserve_larger_than_the_free_space_refuses_and_writes_nothing(tmp_path, photo):
    import shutil

    store = open_store(tmp_path)
    record_one(store, photo)
    free = shutil.disk_usage(tmp_path).free
    refusing = open_store(tmp_path, reserve_bytes=free + 2**20)
    with pytest.raises(StorageFull, match="reserve"):
        record_one(refusing, photo)
    db = refusing.records.connection
    assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_outbox_cap_refuses_by_default_and_drops_oldest_only_when_configured(tmp_path, photo):
    store = open_store(tmp_path, limits=OutboxLimits(max_rows=3))
    for _ in range(3):
        record_one(store, photo)
    with pytest.raises(OutboxFull, match="3 results are waiting"):
        record_one(store, photo)
    assert store.records.connection.execute("SELECT count(*) FROM outbox").fetchone()[0] == 3
    store.records.close()
    dropping = open_store(tmp_path, limits=OutboxLimits(max_rows=3, policy="drop_oldest"))
    oldest = dropping.records.connection.execute("SELECT result_id FROM outbox ORDER BY seq LIMIT 1").fetchone()[0]
    newest = record_one(dropping, photo)
    queued = [r[0] for r in dropping.records.connection.execute("SELECT result_id FROM outbox ORDER BY seq")]
    assert len(queued) == 3 and oldest not in queued and queued[-1] == newest.result_id
    event = dropping.records.connection.execute("SELECT details FROM audit WHERE kind='sync'").fetchone()[0]
    assert json.loads(event)["dropped_unsent"] == 1


def test_drop_oldest_never_deletes_a_result_the_sync_worker_claimed_and_records_over_the_cap_instead(
    tmp_path, photo, caplog
):
    """A claimed row may be at the broker already (``store.IN_FLIGHT``): ``drop_oldest`` passes over
    it, by the row cap and by the age cap. With nothing else left to drop, the screening is recorded
    over the cap, not refused, and the next one drops again once the worker gave its rows back."""
    now = [datetime(2027, 1, 1, tzinfo=UTC)]
    limits = OutboxLimits(max_rows=2, max_age=timedelta(days=10), policy="drop_oldest")
    store = open_store(tmp_path, limits=limits, clock=lambda: now[0])
    outbox = Outbox(store.records)
    db = store.records.connection
    claimed = [record_one(store, photo).result_id for _ in range(2)]
    assert [row.result_id for row in outbox.claim(0, 10)] == claimed  # as the worker does before publishing
    now[0] += timedelta(days=11)  # both past the age cap too
    over = record_one(store, photo).result_id
    queued = [r[0] for r in db.execute("SELECT result_id FROM outbox ORDER BY seq")]
    assert queued == [*claimed, over] and outbox.backlog().dropped == 0
    assert "records.outbox_over_cap" in caplog.text and "over_cap=1" in caplog.text
    outbox.release([row.seq for row in outbox.pending(0, 10)])  # the connection ended unacknowledged
    newest = record_one(store, photo).result_id
    queued = [r[0] for r in db.execute("SELECT result_id FROM outbox ORDER BY seq")]
    assert queued == [over, newest] and outbox.backlog().dropped == 2  # past the age cap, and the oldest


def test_the_outbox_age_cap_refuses_when_the_oldest_unsent_result_is_too_old(tmp_path, photo):
    now = [datetime(2027, 1, 1, tzinfo=UTC)]
    store = open_store(tmp_path, limits=OutboxLimits(max_age=timedelta(days=10)), clock=lambda: now[0])
    record_one(store, photo)
    now[0] += timedelta(days=11)
    with pytest.raises(OutboxFull, match="10 days"):
        record_one(store, photo)


def test_an_outbox_past_its_age_cap_is_red_on_the_readiness_list_before_a_patient_is_started(tmp_path, photo):
    """Offline past ``outbox_max_age_days`` the outbox refuses every screening, but the list stayed
    amber ("the oldest for 11 days"): the nurse started a patient, took the photos, and only then
    read that nothing was recorded. Red blocks the start, as the row cap's 90% does."""
    now = [datetime(2027, 1, 1, tzinfo=UTC)]
    store = open_store(tmp_path, limits=OutboxLimits(max_age=timedelta(days=10)), clock=lambda: now[0])
    config = load_config(str(write_config(tmp_path, 1, "outbox_max_age_days = 10\n")))
    record_one(store, photo)
    now[0] += timedelta(days=9)
    assert backlog_check(config, store.records, sync_status(store.records)).level is Level.AMBER
    record_one(store, photo)
    now[0] += timedelta(days=2)
    check = backlog_check(config, store.records, sync_status(store.records))
    assert check.level is Level.RED and check.message_key == "health.backlog.too_old"
    with pytest.raises(OutboxFull):  # what the red spares the nurse and the patient
        record_one(store, photo)


def test_the_outbox_age_cap_is_asked_by_an_index_not_by_reading_every_unsent_result(tmp_path, photo):
    """Each recording asks whether an unsent result is past the age cap: on a device offline for
    weeks, reading every unsent row to answer it cost milliseconds per screening (issue 10). Both ranges
    of the one rule (``records.store.Aged``) are: this boot's by its boot clock, another's by its date."""
    store = open_store(tmp_path, limits=OutboxLimits(max_age=timedelta(days=10)))
    record_one(store, photo)
    statements: list[str] = []
    store.records.connection.set_trace_callback(statements.append)
    record_one(store, photo)
    store.records.connection.set_trace_callback(None)
    (asked,) = [sql for sql in statements if "min(queued_at)" in sql]
    plan = " ".join(row[3] for row in store.records.connection.execute(f"EXPLAIN QUERY PLAN {asked}"))
    assert "USING INDEX outbox_unsent_queued (queued_at>? AND queued_at<?)" in plan, plan
    assert "USING INDEX outbox_unsent_boottime (queued_boot=? AND queued_boottime>? AND queued_boottime<?)" in plan, (
        plan
    )
    store.records.close()


@pytest.mark.parametrize(
    ("fields", "problem", "french"),
    [
        ({"eye": "left"}, "eye must be one of", "l'œil est l'un de L, R, pas 'left'"),
        ({"body_site": "left cheek"}, "body site must be one of", "la partie du corps est l'une de head_neck"),
        ({"patient_ref": "   "}, "1 to 64 characters", "de 1 à 64 caractères"),
        ({"note": "x" * 2001}, "at most 2000", "au plus 2000 caractères"),
        ({"eye": "L", "body_site": "trunk"}, "not both", "pas les deux"),
        # Typed text holds no control (edgescreen_wire.typed_text): a NUL, an override, a C1 control.
        (
            {"patient_ref": "AB\x00C"},
            r"the patient reference holds .* \(U\+0000, character 3\)",
            "U+0000 (position 3) dans la référence du patient",
        ),
        (
            {"patient_ref": "AB\u202eC"},
            r"the patient reference holds .* \(U\+202E, character 3\)",
            "U+202E (position 3) dans la référence du patient",
        ),
        ({"note": "AB\x85C"}, r"the note holds .* \(U\+0085, character 3\)", "U+0085 (position 3) dans la note"),
        ({"note": "AB\x00C"}, r"the note holds .* \(U\+0000, character 3\)", "U+0000 (position 3) dans la note"),
        ({"note": "AB\u202eC"}, r"the note holds .* \(U\+202E, character 3\)", "U+202E (position 3) dans la note"),
    ],
)
def test_a_bad_context_is_refused_with_the_field_named(fields, problem, french):
    """The English detail names the field and why, for the log; the refusal says the same in the
    nurse's language from the catalogue (``said_in``), for the command line and the app."""
    with pytest.raises(ContextError, match=problem) as refused:
        ScreeningContext(**fields)
    assert french in refused.value.said_in("fr").replace("\u00a0", " ")


def test_a_note_keeps_its_tabs_and_line_breaks():
    """A note is the one text typed on several lines (``edgescreen screen --note``): the rule keeps them."""
    note = "Cataract, left eye.\r\n\tPhotographed through a small pupil.\nAsk about diabetes."
    assert ScreeningContext(patient_ref="P\t8", note=note).note == note


def test_a_database_not_written_by_edgescreen_is_refused_clearly(tmp_path):
    (tmp_path / "records.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(RecordsError, match="the records file is damaged"):
        Records(tmp_path / "records.sqlite3", tmp_path / "records.key")
    assert sqlite3.sqlite_version


def test_erasure_counts_results_the_sync_worker_has_taken_as_in_flight_not_withdrawn(tmp_path, photo):
    store = open_store(tmp_path)
    for _ in range(8):
        record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-5")))
    taken = Outbox(store.records).claim(0, 3)  # as the worker does just before publishing them
    erasure = store.erase_patient("MRN-5")
    assert (erasure.results, erasure.unsent_withdrawn, erasure.unsent_in_flight) == (8, 5, len(taken))
    details = store.records.connection.execute("SELECT details FROM audit WHERE kind = 'erasure'").fetchone()[0]
    event = json.loads(details)
    assert (event["unsent_withdrawn"], event["unsent_in_flight"]) == (5, 3)
