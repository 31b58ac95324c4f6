"""Committed screenings that vanish with the write-ahead log are seen, said and audited once; what
removes or replaces records legitimately (erasure, backup, restore), a fresh device and one upgraded
from a release without the witness raise no alarm. Real records, a real killed process, a real
``-wal`` file cut to nothing as a card that loses it leaves it, and ``edgescreen doctor`` itself."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from firmware_app.health.checks import Level, check_committed
from firmware_app.messages import message
from firmware_app.records.database import database_files
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.witness import COUNT_KEY, Loss, read_witness, witness_path
from tests.conftest import PROJECT_ROOT, write_rgb
from tests.health.test_doctor import doctor
from tests.records.kit import open_store, record_one, sample_record, small_photo, write_config
from tests.test_cli import edgescreen


def record(directory: Path, count: int, prefix: str = "K") -> list[str]:
    """``count`` screenings, one patient each, recorded and closed: folded into the records file."""
    store = open_store(directory)
    photo = small_photo()
    try:
        return [
            record_one(store, photo, sample_record(ScreeningContext(eye="R", patient_ref=f"{prefix}-{n}"))).result_id
            for n in range(count)
        ]
    finally:
        store.records.close()


def lose_the_wal(directory: Path, config: Path, lost: int) -> None:
    """``lost`` more screenings committed by a device that then loses power, and the card losing its
    write-ahead log (the reviewer's ``truncate``): the records are closed and whole, without them."""
    device = subprocess.Popen(
        [sys.executable, "-m", "tests.records.power_cut", str(config), str(lost)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert device.stdout.readline().strip() == "recorded"
    finally:
        device.send_signal(signal.SIGKILL)
        device.communicate()
    wal = directory / "records.sqlite3-wal"
    assert wal.stat().st_size > 0  # the commits are there, and only there
    os.truncate(wal, 0)


def screenings(directory: Path) -> int:
    with sqlite3.connect(directory / "records.sqlite3") as db:
        return db.execute("SELECT count(*) FROM screening").fetchone()[0]


def loss_events(directory: Path) -> list[dict]:
    with sqlite3.connect(directory / "records.sqlite3") as db:
        return [json.loads(row[0]) for row in db.execute("SELECT details FROM audit WHERE kind = 'loss'")]


def test_screenings_lost_with_the_wal_make_doctor_red_say_how_many_and_are_audited_once(tmp_path):
    config = write_config(tmp_path, 1)
    record(tmp_path, 3)
    lose_the_wal(tmp_path, config, 4)
    assert screenings(tmp_path) == 3
    status, checks, _ = doctor(config)
    committed = checks["committed"]
    assert status == 1 and committed["level"] == "red", committed
    assert committed["message"].startswith("Saved screenings missing from the records: 4, taken after ")
    assert "edgescreen backup" in committed["message"] and "restore" in committed["message"]
    # What saw nothing before: the file is whole and its audit chain holds, without the lost ones.
    assert checks["records"]["level"] == "green" and checks["audit"]["level"] == "green"
    assert doctor(config)[1]["committed"]["level"] == "red"  # seen again, entered once
    (event,) = loss_events(tmp_path)
    assert event["missing"] == 4 and event["until"] is not None


def test_a_loss_stays_red_and_counted_as_first_seen_while_screenings_are_recorded_after_it(tmp_path):
    """More screenings than were lost, recorded from the command line after it, neither bring the
    count back to the witness's nor move the witness: the loss stays said until a restore."""
    config = write_config(tmp_path, 1)
    record(tmp_path, 2)
    lose_the_wal(tmp_path, config, 3)
    assert doctor(config)[1]["committed"]["level"] == "red"
    record(tmp_path, 5, prefix="AFTER")
    status, checks, _ = doctor(config)
    assert status == 1 and checks["committed"]["message"].startswith("Saved screenings missing from the records: 3,")
    assert len(loss_events(tmp_path)) == 1


def test_erasing_a_patient_moves_the_witness_and_raises_no_alarm(tmp_path):
    config = write_config(tmp_path, 1)
    record(tmp_path, 4)
    erased = edgescreen("erase", "--patient", "K-3", config=config)
    assert erased.returncode == 0, erased.stderr
    assert screenings(tmp_path) == 3
    with sqlite3.connect(tmp_path / "records.sqlite3") as db:
        (erasure,) = db.execute("SELECT seq FROM audit WHERE kind = 'erasure'").fetchone()
    witness = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert witness is not None and witness.event == erasure and witness.screenings == 4
    _, checks, _ = doctor(config)
    assert checks["committed"]["level"] == "green", checks["committed"]
    assert loss_events(tmp_path) == []


def test_backup_and_restore_raise_no_alarm_and_the_restore_audits_what_it_did_not_bring_back(tmp_path):
    """The technician's answer to a lost card: the last backup, restored with the old records moved
    away and their witness left. The records then hold fewer screenings than it counted: the restore
    replaces it and enters the difference in its own event, so nothing is red afterwards."""
    config = write_config(tmp_path, 1)
    record(tmp_path, 3)
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    assert doctor(config)[1]["committed"]["level"] == "green"
    record(tmp_path, 2, prefix="LATER")
    moved = tmp_path / "old"
    moved.mkdir()
    for path in database_files(tmp_path / "records.sqlite3"):
        if path.exists():
            path.rename(moved / path.name)
    restored = edgescreen("restore", str(tmp_path / "b"), config=config)
    assert restored.returncode == 0, restored.stderr
    assert "2 screenings this device recorded are not in this backup" in restored.stdout
    _, checks, _ = doctor(config)
    assert checks["committed"]["level"] == "green", checks["committed"]
    with sqlite3.connect(tmp_path / "records.sqlite3") as db:
        details = db.execute("SELECT details FROM audit WHERE kind = 'restore'").fetchone()[0]
    assert json.loads(details)["screenings_not_restored"] == 2
    assert loss_events(tmp_path) == []


def test_records_started_afresh_beside_the_witness_of_records_moved_away_are_green_and_get_their_own(tmp_path):
    """The records' files moved away by hand (the ones ``restore`` names), the witness left, and the
    app started on new, empty records: those were held to the old records' witness, red with "3
    missing" while the 3 lay whole in the folder they were moved to, screening blocked and a loss
    entered in the new records. A witness names its records now; the new ones get their own (and
    every other test here witnesses records named so)."""
    config = write_config(tmp_path, 1)
    record(tmp_path, 3)
    old = read_witness(witness_path(tmp_path / "records.sqlite3"))
    moved = tmp_path / "old"
    moved.mkdir()
    # Their key with them: records gone while their key is left are refused, never started afresh.
    for path in (*database_files(tmp_path / "records.sqlite3"), tmp_path / "records.key"):
        if path.exists():
            path.rename(moved / path.name)
    open_store(tmp_path).records.close()
    assert doctor(config)[1]["committed"]["level"] == "green"
    assert loss_events(tmp_path) == []
    new = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert new is not None and new.records and new.records != old.records and new.screenings == 0


def test_a_fresh_device_is_green_and_gets_its_witness(tmp_path):
    config = write_config(tmp_path, 1)
    open_store(tmp_path).records.close()
    assert not witness_path(tmp_path / "records.sqlite3").exists()
    assert doctor(config)[1]["committed"]["level"] == "green"
    witness = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert witness is not None and witness.screenings == 0


def test_a_device_upgraded_from_a_release_without_the_witness_is_green_and_then_watched(tmp_path):
    """Records of a release before it: screenings, no count of them in ``meta``, no witness file. The
    first check keeps a witness that counts their screening events, and a later loss is seen."""
    config = write_config(tmp_path, 1)
    record(tmp_path, 3)
    with closing(sqlite3.connect(tmp_path / "records.sqlite3")) as db, db:  # closed before the power cut
        db.execute("DELETE FROM meta WHERE key = ?", (COUNT_KEY,))
    witness_path(tmp_path / "records.sqlite3").unlink()
    assert doctor(config)[1]["committed"]["level"] == "green"
    witness = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert witness is not None and witness.screenings == 3
    lose_the_wal(tmp_path, config, 2)
    committed = doctor(config)[1]["committed"]
    assert committed["level"] == "red" and "records: 2," in committed["message"]


def test_changes_lost_without_a_screening_among_them_are_red_too():
    """An erasure whose checkpoint was put off (another process reading) and then lost: the erased
    patient is back, which the nurse must hear of in both languages."""
    check = check_committed(Loss(0, "2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00+00:00", 40, 38))
    assert check.level is Level.RED and check.message_key == "health.committed.changes"
    for language in ("en", "fr"):
        assert "38" in message(check.message_key, language).format(**check.values)


def test_a_device_stopped_by_sigterm_closes_its_records_with_every_screening_witnessed(tmp_path):
    """The recording process the tests stop with SIGTERM (``device_process``, tests/sync/test_faults.py)
    kept Python's default: killed where it stood, its records were never closed, their witness could
    lag its last screening and the write-ahead log stayed unfolded. Now it stops after the screening
    in hand and closes them, as the device's services do."""
    config = write_config(tmp_path, 1)
    photo = write_rgb(tmp_path / "photo.png", small_photo())
    device = subprocess.Popen(
        [sys.executable, "-m", "tests.records.device_process", str(config), str(photo), "100000", "0.01"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    first = device.stdout.readline()  # recording
    device.send_signal(signal.SIGTERM)
    output, _ = device.communicate(timeout=30)
    assert device.returncode == 0
    assert not (tmp_path / "records.sqlite3-wal").exists()  # folded into the file as the last connection closed
    recorded = (first + output).split()
    witness = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert witness is not None and witness.screenings == len(recorded) == screenings(tmp_path)
