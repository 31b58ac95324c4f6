"""The verified mark on real records: starting a patient walks only the audit events recorded since
the last verification, and nothing the full walk would catch is lost on the way (records/audit.py,
health/readiness.py)."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from firmware_app.config import load_config
from firmware_app.health.checks import Level
from firmware_app.health.readiness import Scans, full_scans, readiness
from firmware_app.records.audit import VERIFIED_KEY, verified_mark
from firmware_app.records.store import Records
from tests.conftest import PROJECT_ROOT, write_rgb
from tests.records.kit import open_store, record_one, small_photo, write_config
from tests.test_cli import edgescreen


def tamper(directory, statement: str) -> None:
    """An SQL edit by someone with the file, past the append-only triggers."""
    db = sqlite3.connect(directory / "records.sqlite3", isolation_level=None)
    db.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.execute(statement)
    db.close()


def audit_on_patient_start(directory, store, scans: Scans):
    """The audit check as the app runs it to start a patient: on the last full run's scans."""
    config = load_config(directory / "config.toml")
    checks = readiness(config, store.records, list, lambda: True, scans=scans)
    return next(check for check in checks if check.name == "audit")


@pytest.fixture()
def device(tmp_path, retina_rgb):
    """Records with three screenings, verified once in full as "Ready to screen?" does."""
    write_config(tmp_path, port=1)
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    for _ in range(3):
        record_one(store, photo)
    scans = full_scans(store.records)
    assert scans.audit.level is Level.GREEN
    yield tmp_path, store, photo, scans
    store.records.close()


def test_a_full_verification_keeps_its_last_event_as_the_mark(device):
    _, store, _, _ = device
    events = store.records.connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    assert verified_mark(store.records.connection) == (events[0], events[1])


def test_tampering_after_the_mark_is_caught_by_the_next_start_of_a_patient(device):
    directory, store, photo, scans = device
    (mark, _) = verified_mark(store.records.connection)
    record_one(store, photo)  # the next patient's screening, after the mark
    tamper(directory, f"UPDATE audit SET details = replace(details, 'fundus', 'dermoscopy') WHERE seq = {mark + 1}")
    audit = audit_on_patient_start(directory, store, scans)
    assert audit.level is Level.RED and audit.values["event"] == mark + 1


def test_a_result_row_recorded_after_the_mark_and_edited_is_caught_by_the_next_start(device):
    directory, store, photo, scans = device
    record = record_one(store, photo)
    tamper(directory, f"UPDATE screening SET outcome = 'no_referral' WHERE result_id = '{record.result_id}'")
    assert audit_on_patient_start(directory, store, scans).level is Level.RED


def test_tampering_before_the_mark_is_caught_by_the_full_walk_and_then_by_every_start(device):
    """An edit that leaves an old event's stored hash alone is what a walk from the mark cannot see
    (with the results recorded before it): the full walk of "Ready to screen?", the background
    scans, doctor and `audit verify` do, and from then on every start of a patient is blocked,
    after a restart too."""
    directory, store, photo, scans = device
    record_one(store, photo)
    tamper(directory, "UPDATE audit SET details = '{}' WHERE seq = 1")
    assert audit_on_patient_start(directory, store, scans).level is Level.GREEN  # the documented limit
    run = edgescreen("audit", "verify", config=directory / "config.toml")
    assert run.returncode == 4 and "BROKEN at event 1:" in run.stdout
    # The app's background scans, on a read-only connection of their own: red, the mark left alone.
    readonly = Records(directory / "records.sqlite3", directory / "records.key", read_only=True)
    try:
        background = full_scans(readonly)
    finally:
        readonly.close()
    assert background.audit.level is Level.RED and background.audit.values["event"] == 1
    assert verified_mark(store.records.connection) is not None
    assert audit_on_patient_start(directory, store, background).level is Level.RED
    # "Ready to screen?" and doctor, on a connection that writes: the mark dropped.
    assert full_scans(store.records).audit.level is Level.RED
    assert verified_mark(store.records.connection) is None  # no walk starts past the break
    store.records.close()
    reopened = open_store(directory)
    try:
        assert audit_on_patient_start(directory, reopened, scans).level is Level.RED  # even on old green scans
    finally:
        reopened.records.close()
    store.records = open_store(directory).records  # for the fixture's close


def test_the_mark_survives_a_restart_and_the_walk_starts_from_it(device):
    directory, store, photo, scans = device
    mark = verified_mark(store.records.connection)
    store.records.close()
    reopened = open_store(directory)
    store.records = reopened.records
    assert verified_mark(reopened.records.connection) == mark
    record_one(reopened, photo)
    assert audit_on_patient_start(directory, reopened, scans).level is Level.GREEN
    assert verified_mark(reopened.records.connection)[0] > mark[0]  # moved on to the new events
    tamper(directory, f"UPDATE audit SET at = '2000-01-01' WHERE seq = {mark[0] + 1}")
    assert audit_on_patient_start(directory, reopened, scans).level is Level.GREEN  # before the new mark
    assert full_scans(reopened.records).audit.level is Level.RED


@pytest.mark.parametrize("garbled", ["", "7", "x:y", "3:abc", "0:" + "0" * 64])
def test_a_mark_that_cannot_be_read_is_not_trusted_the_walk_starts_from_the_first_event(device, garbled):
    directory, store, _, scans = device
    tamper(directory, f"UPDATE meta SET value = '{garbled}' WHERE key = '{VERIFIED_KEY}'")
    tamper(directory, "UPDATE audit SET details = '{}' WHERE seq = 1")
    audit = audit_on_patient_start(directory, store, scans)
    assert audit.level is Level.RED and audit.values["event"] == 1


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE meta SET value = '99:{'a' * 64}' WHERE key = '{VERIFIED_KEY}'",  # past the log's end
        f"UPDATE meta SET value = '2:{'a' * 64}' WHERE key = '{VERIFIED_KEY}'",  # not event 2's hash
        "DELETE FROM audit WHERE seq >= 3",  # the log cut back past the mark
    ],
    ids=["beyond-the-end", "another-hash", "log-cut-back"],
)
def test_a_mark_the_log_no_longer_holds_is_a_broken_chain(device, statement):
    directory, store, _, scans = device
    db = sqlite3.connect(directory / "records.sqlite3", isolation_level=None)
    db.execute("DROP TRIGGER audit_no_delete")
    db.close()
    tamper(directory, statement)
    assert audit_on_patient_start(directory, store, scans).level is Level.RED


def test_killing_the_device_while_it_moves_the_mark_leaves_one_the_chain_confirms(tmp_path, retina_rgb):
    """A power cut at any instant of recording and verifying: the mark left is the last committed one
    or none, its event holds its hash, and the walk from it agrees with the walk from the start."""
    config = write_config(tmp_path, port=1)
    photo = write_rgb(tmp_path / "photo.jpg", small_photo(retina_rgb, 256))
    rng = random.Random(7)
    marks = set()
    for _ in range(8):
        device = subprocess.Popen(
            [sys.executable, "-m", "tests.records.device_process", str(config), str(photo), "100000", "0", "verify"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        device.stdout.readline()  # started
        time.sleep(rng.uniform(0.05, 0.4))
        device.send_signal(signal.SIGKILL)
        device.communicate()
        assert device.returncode == -signal.SIGKILL  # never "the audit chain broke"
        store = open_store(tmp_path)
        try:
            db = store.records.connection
            mark = verified_mark(db)
            assert mark is not None
            assert db.execute("SELECT hash FROM audit WHERE seq = ?", (mark[0],)).fetchone()[0] == mark[1]
            marks.add(mark[0])
            since = store.records.verify_audit(since_verified=True)
            full = store.records.verify_audit()
            assert since.intact and full.intact and since.events == full.events
        finally:
            store.records.close()
    assert len(marks) > 1


def test_scans_started_before_newer_ones_do_not_replace_them(device):
    """A background scan started before a "Check again" may end after it: its older verdict must
    not replace the newer one, which saw what the older could not."""
    _, store, _, _ = device
    older = full_scans(store.records)
    newer = full_scans(store.records)
    assert older.at < newer.at
    assert older.newer(newer) is newer and newer.newer(older) is newer and older.newer(None) is older
