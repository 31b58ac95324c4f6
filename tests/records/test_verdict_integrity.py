"""A specialist's verdict stored on the device is bound to its ``review`` event: an SQL edit that turns
a referral into no referral, or an urgent one into a routine one, removes the nurse's call-back, so
``audit verify`` and ``doctor`` must see it. A patient's erasure and the photos' retention are the
records' own ways of removing things: after them, and after a restore, the records still verify.
Edits are made as an intruder with SQL access would make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import Review, ScreeningContext
from tests.health.test_doctor import doctor
from tests.records.kit import open_store, record_one, sample_record, small_photo, write_config
from tests.records.test_integrity import NBSP, edit, event_of, events, said_in_french, untrusted
from tests.test_backup import _fresh_device
from tests.test_cli import edgescreen

NOW = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture()
def answered(tmp_path, retina_rgb):
    """Two patients cleared by the device (``no_refer``), each referred urgently by a specialist,
    and a third result reviewed ``no_refer``; every result sent, as the station answers only those."""
    now = [NOW]
    store = open_store(tmp_path, clock=lambda: now[0])
    photo = small_photo(retina_rgb)
    patients = ("MRN-1", "MRN-2", "MRN-3")
    ids = [
        record_one(store, photo, sample_record(ScreeningContext(patient_ref=patient, eye="L"), score=0.1)).result_id
        for patient in patients
    ]
    outbox = Outbox(store.records)
    assert outbox.mark_sent([row.seq for row in outbox.claim(0, 10)]) == 3
    for number, (result_id, verdict) in enumerate(zip(ids, ("refer", "refer", "no_refer"), strict=True)):
        urgency = "urgent" if verdict == "refer" else "routine"
        review = Review(f"rev-{number}", result_id, verdict, NOW, "dr-lopez", None, urgency=urgency)
        assert store.add_review(review) == "stored"
    store.records.close()
    return tmp_path, write_config(tmp_path, port=1), ids


def broken(config, result_id: str, problem: str) -> None:
    """``audit verify`` fails naming ``result_id`` and ``problem``, and ``doctor`` is red on the audit."""
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 4, run.stdout  # on main: "intact"
    assert f"result {result_id}: its specialist's verdict (review " in run.stdout and problem in run.stdout
    assert f"result {result_id} cannot be trusted" in run.stdout
    _, checks, _ = doctor(config)
    assert checks["audit"]["level"] == "red", checks["audit"]


def intact(config) -> None:
    run = edgescreen("audit", "verify", config=config)
    assert run.returncode == 0 and "intact" in run.stdout, run.stdout


def test_an_untouched_device_with_verdicts_one_opened_by_the_nurse_verifies(answered):
    directory, config, ids = answered
    intact(config)
    store = open_store(directory, clock=lambda: NOW + timedelta(hours=1))
    store.view(ids[0])  # the nurse opens the call-back: its verdict is marked seen
    store.records.close()
    intact(config)


@pytest.mark.parametrize(
    "change",
    [
        "verdict = 'no_refer'",
        "urgency = 'routine'",
        "urgency = NULL",
        "reviewed_at = '2027-01-01T00:00:00+00:00'",  # an older verdict of the result would stand
        "reviewer = 'dr-other'",
        "reviewer = CAST(reviewer AS BLOB)",  # the same bytes, stored as a blob: reported, not a crash
    ],
    ids=["refer-to-no_refer", "urgent-to-routine", "urgency-removed", "reviewed-earlier", "reviewer", "blob"],
)
def test_a_verdict_edited_in_sql_breaks_audit_verify(answered, change):
    _, config, ids = answered
    edit(config, (f"UPDATE review SET {change} WHERE result_id = ?", (ids[1],)))
    broken(config, ids[1], "was altered after it arrived")


def test_a_call_back_marked_seen_in_sql_breaks_audit_verify(answered):
    """``opened_at`` set by hand takes the patient off the nurse's call-back list as surely as a verdict
    edited to ``no_refer``: only opening the record (an audited view) may set it."""
    _, config, ids = answered
    edit(config, ("UPDATE review SET opened_at = received_at WHERE result_id = ?", (ids[1],)))
    broken(config, ids[1], "was marked seen, but its record was not opened after it arrived")


def test_a_verdict_moved_to_another_result_breaks_audit_verify(answered):
    _, config, ids = answered
    edit(config, ("UPDATE review SET result_id = ? WHERE result_id = ?", (ids[2], ids[0])))
    broken(config, ids[0], "was altered after it arrived")


def test_a_verdict_deleted_in_sql_breaks_audit_verify(answered):
    _, config, ids = answered
    edit(config, ("DELETE FROM review WHERE result_id = ?", (ids[0],)))
    broken(config, ids[0], "was deleted")


def test_a_verdict_inserted_outside_edgescreen_breaks_audit_verify(answered):
    _, config, ids = answered
    edit(
        config,
        (
            "INSERT INTO review (review_id, result_id, verdict, reviewer, reviewed_at, received_at) "
            "VALUES ('rev-forged', ?, 'no_refer', 'dr-lopez', ?, ?)",
            (ids[0], "2027-03-02T00:00:00+00:00", "2027-03-02T00:00:00+00:00"),
        ),
    )
    broken(config, ids[0], "has no review event")


@pytest.mark.parametrize(
    ("statement", "patient", "review", "finding"),
    [
        ("UPDATE review SET verdict = 'no_refer' WHERE result_id = ?", 1, 1, "a été modifié après son arrivée"),
        (
            "UPDATE review SET opened_at = received_at WHERE result_id = ?",
            1,
            1,
            "a été marqué comme vu, mais son dossier n'a pas été ouvert après son arrivée",
        ),
        ("DELETE FROM review WHERE result_id = ?", 0, 0, "a été supprimé"),
    ],
    ids=["altered", "marked-seen", "deleted"],
)
def test_a_french_device_says_what_was_done_to_a_verdict_in_french(answered, statement, patient, review, finding):
    """What broke the chain was English on a French device: "result …: its specialist's verdict (review …) …"."""
    _, config, ids = answered
    said = said_in_french(config, (statement, (ids[patient],)))
    event = event_of(config, "review", "review_id", f"rev-{review}")
    assert said == [
        f"journal d'audit ROMPU à l'événement {event}{NBSP}: résultat {ids[patient]}{NBSP}: "
        f"l'avis rev-{review} de son spécialiste {finding}",
        untrusted(events(config), ids[patient]),
    ]


def test_a_french_device_says_a_verdict_it_never_received_in_french(answered):
    _, config, ids = answered
    said = said_in_french(
        config,
        (
            "INSERT INTO review (review_id, result_id, verdict, reviewer, reviewed_at, received_at) "
            "VALUES ('rev-forged', ?, 'no_refer', 'dr-lopez', ?, ?)",
            (ids[0], "2027-03-02T00:00:00+00:00", "2027-03-02T00:00:00+00:00"),
        ),
    )
    count = events(config)
    assert said == [
        f"journal d'audit ROMPU à l'événement {count + 1}{NBSP}: résultat {ids[0]}{NBSP}: l'avis rev-forged de son "
        f"spécialiste n'a pas d'événement review{NBSP}: il n'a pas été reçu par EdgeScreen",
        untrusted(count, ids[0]),
    ]


def test_the_records_verify_after_an_erasure_and_the_photos_retention(answered):
    directory, config, _ = answered
    store = open_store(directory, clock=lambda: NOW + timedelta(days=40))
    assert store.erase_patient("MRN-2").results == 1
    assert store.purge_images(timedelta(days=30)) == 1  # the "no_refer" verdict's photo; the call-back keeps its
    assert store.records.connection.execute("SELECT count(*) FROM review").fetchone()[0] == 2
    store.records.close()
    intact(config)
    _, checks, _ = doctor(config)
    assert checks["audit"]["level"] == "green", checks["audit"]


def test_the_verdicts_of_a_restored_backup_verify(tmp_path, answered):
    directory, config, _ = answered
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    _, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    intact(target_config)


def test_a_verdict_edited_after_the_last_verification_is_found_by_the_walk_from_its_mark(answered):
    """The app's background scans walk only what came after the verified mark (``records.audit``)."""
    directory, config, ids = answered
    store = open_store(directory, clock=lambda: NOW)
    assert store.records.verify_audit().intact  # keeps the mark at the last event
    review = Review("rev-late", ids[2], "refer", NOW + timedelta(days=1), "dr-lopez", None, urgency="urgent")
    assert store.add_review(review) == "stored"
    edit(config, ("UPDATE review SET verdict = 'no_refer' WHERE review_id = 'rev-late'", ()))
    check = store.records.verify_audit(since_verified=True)
    assert not check.intact and check.altered_result == ids[2], check
    store.records.close()


def test_a_verdict_whose_event_predates_the_row_digest_verifies_and_its_verdict_is_still_bound(answered):
    """Events written before they held the row's digest hold its ids, verdict and urgency only."""
    directory, config, ids = answered
    store = open_store(directory, clock=lambda: NOW)
    db = store.records.connection
    with transaction(db):
        db.execute(
            "INSERT INTO review (review_id, result_id, verdict, reviewer, reviewed_at, received_at) "
            "VALUES ('rev-old', ?, 'refer', 'dr-lopez', ?, ?)",
            (ids[2], NOW.isoformat(), NOW.isoformat()),
        )
        append_event(db, "review", {"review_id": "rev-old", "result_id": ids[2], "verdict": "refer"}, NOW)
    store.records.close()
    intact(config)
    edit(config, ("UPDATE review SET verdict = 'no_refer' WHERE review_id = 'rev-old'", ()))
    broken(config, ids[2], "was altered after it arrived")
