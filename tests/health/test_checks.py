"""The readiness checks on real records, a real disk and real profiles: each level, and what it says."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.calibration import profile as profile_module
from firmware_app.calibration.profile import ProfileOfAnotherDevice, device_profile, new_profile, write_profile
from firmware_app.config import load_config
from firmware_app.health import checks as checks_module
from firmware_app.health.checks import (
    SERVICE_WRITABLE,
    Level,
    blocking,
    check_backlog,
    check_backup,
    check_broker,
    check_calibration,
    check_camera,
    check_clock,
    check_disk,
    check_models,
    check_records_writable,
    records_not_writable,
    records_unusable,
)
from firmware_app.health.doctor import probe_camera
from firmware_app.health.liveness import liveness
from firmware_app.health.readiness import Scans, readiness
from firmware_app.messages import CATALOGUE, message
from firmware_app.records import database as database_module
from firmware_app.records.database import DiskFull, RecordsDamaged, RecordsError
from firmware_app.wording import check_sentence, check_values
from tests.conftest import read_only_view
from tests.health.lock_holding import holding_the_lock, killed_after_a_minute
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config

NOW = datetime(2027, 1, 15, tzinfo=UTC)  # after the build date (records/clock.py)


def test_disk_is_red_when_one_more_screening_would_eat_into_the_reserve(tmp_path):
    assert check_disk(tmp_path, 0, 1).level is Level.GREEN
    huge = 2**60
    red = check_disk(tmp_path, huge, 1)
    assert red.level is Level.RED and red.values["reserve"] == huge // 2**20
    assert blocking([red]) == [red]
    # In MB, as the reserve it is short of (and doctor --json's "free" since its first release).
    assert red.values["free"] == red.values["free_bytes"] // 2**20
    said = message(red.message_key, "en").format(**check_values(red.values, "en"))
    assert f"{red.values['free']} MB free" in said and " GB " not in said


def test_calibration_none_is_amber_an_old_one_amber_a_broken_one_red(tmp_path):
    assert check_calibration(None, DEVICE.id, NOW).message_key == "health.calibration.none"
    profile = write_profile(new_profile("reference", "0001", "test", DEVICE.id), tmp_path / "profile.json")
    made = datetime.fromisoformat(profile.updated)
    fresh = check_calibration(tmp_path / "profile.json", DEVICE.id, made + timedelta(days=3))
    assert fresh.level is Level.GREEN and fresh.values["days"] == 3
    old = check_calibration(tmp_path / "profile.json", DEVICE.id, made + timedelta(days=400))
    assert old.level is Level.AMBER and old.message_key == "health.calibration.old"
    (tmp_path / "broken.json").write_text("{")
    assert check_calibration(tmp_path / "broken.json", DEVICE.id, NOW).level is Level.RED


def test_another_devices_profile_is_red_and_one_that_names_no_device_amber(tmp_path):
    """A profile copied from the unit next to it (a technician's shortcut) measured that unit's camera,
    optics and light; applied here it changed every photo while every check was green. A profile made
    before profiles named their device may be another's too: a warning, and any step repeated here
    ties it to this device."""
    path = tmp_path / "profile.json"
    made = write_profile(new_profile("reference", "0001", "test", "cam-07"), path)
    copied = check_calibration(path, DEVICE.id, datetime.fromisoformat(made.updated))
    assert copied.level is Level.RED and copied.message_key == "health.calibration.other_device"
    for language in ("en", "fr"):
        said = message(copied.message_key, language).format(**copied.values)
        assert "cam-07" in said and DEVICE.id in said
    with pytest.raises(ProfileOfAnotherDevice, match="made on device 'cam-07', and this is 'cam-01'"):
        device_profile(path, DEVICE.id)

    document = json.loads(path.read_text())
    document["device"] = DEVICE.id  # renamed by hand: the id no longer matches the content
    path.write_text(json.dumps(document))
    edited = check_calibration(path, DEVICE.id, NOW)
    assert edited.level is Level.RED and "edited by hand" in str(edited.values["error"])

    unnamed = write_profile(new_profile("reference", "0001", "test", ""), path)
    assert "device" not in json.loads(path.read_text())
    warned = check_calibration(path, DEVICE.id, datetime.fromisoformat(unnamed.updated))
    assert warned.level is Level.AMBER and warned.message_key == "health.calibration.unnamed"
    assert device_profile(path, DEVICE.id).id == unnamed.id


class _BootedIn1970(datetime):
    """The clock of a Pi that booted without its saved time, for the profile's own stamps."""

    @classmethod
    def now(cls, tz=None):
        return datetime(1970, 1, 1, 0, 5, tzinfo=tz)


def test_a_profile_made_on_a_clock_in_1970_is_of_unknown_age_and_asks_for_a_recalibration(tmp_path, monkeypatch):
    monkeypatch.setattr(profile_module, "datetime", _BootedIn1970)
    path = tmp_path / "profile.json"
    write_profile(new_profile("reference", "0001", "test", DEVICE.id), path)
    monkeypatch.undo()
    undated = check_calibration(path, DEVICE.id, NOW)
    assert undated.level is Level.AMBER and undated.message_key == "health.calibration.undated"
    assert "unknown" in message(undated.message_key, "en").format(**undated.values)


def test_a_profile_dated_ahead_of_the_clock_is_of_unknown_age_too(tmp_path):
    """Made on a clock set a year ahead by hand: it read "0 days old", green, for a year and a half."""
    path = tmp_path / "profile.json"
    made = write_profile(new_profile("reference", "0001", "test", DEVICE.id), path)
    undated = check_calibration(path, DEVICE.id, datetime.fromisoformat(made.updated) - timedelta(days=365))
    assert undated.level is Level.AMBER and undated.message_key == "health.calibration.undated"


def test_clock_before_the_build_era_is_red_and_an_unsynchronised_one_amber_in_either_kernel_state():
    assert check_clock(datetime(2000, 1, 1, tzinfo=UTC), True).level is Level.RED
    assert check_clock(datetime(2000, 1, 1, tzinfo=UTC), False).level is Level.RED
    assert check_clock(NOW, True).level is Level.GREEN
    unsynchronised = check_clock(NOW, False)  # an offline site without NTP: photos are never purged
    assert unsynchronised.level is Level.AMBER and unsynchronised.message_key == "health.clock.unsynchronised"
    for language in ("en", "fr"):
        assert "NTP" in message(unsynchronised.message_key, language)


def _clock_after(tmp_path, recorded: datetime, recorded_synchronised: bool, now: datetime, synchronised: bool):
    """The readiness clock check at ``now`` after one screening recorded at ``recorded``, on real records."""
    store = open_store(tmp_path, clock=lambda: recorded, synchronised=recorded_synchronised)
    record_one(store, small_photo(), sample_record(captured_at=recorded))
    store.records.close()
    store = open_store(tmp_path, clock=lambda: now, synchronised=synchronised)
    config = load_config(str(write_config(tmp_path, port=1)))
    try:
        return next(c for c in readiness(config, store.records, list, lambda: True, now) if c.name == "clock")
    finally:
        store.records.close()


def test_screenings_from_a_clock_that_ran_fast_are_named_amber_once_ntp_sets_it_right_never_red(tmp_path):
    clock = _clock_after(tmp_path, NOW + timedelta(days=2), False, NOW, synchronised=True)
    assert clock.level is Level.AMBER and clock.message_key == "health.clock.ahead" and clock.values["count"] == 1
    assert not blocking([clock])
    assert "their times are wrong" in message(clock.message_key, "en").format(**clock.values)


def test_before_ntp_answers_a_clock_behind_the_last_synchronised_screening_is_red_beyond_two_hours(tmp_path):
    behind = _clock_after(tmp_path / "a", NOW, True, NOW - timedelta(days=1), synchronised=False)
    assert behind.level is Level.RED  # set back behind a time once known true: set it
    power_cut = _clock_after(tmp_path / "b", NOW, True, NOW - timedelta(hours=1), synchronised=False)
    assert power_cut.level is Level.AMBER  # fake-hwclock's last hourly save: not worth blocking
    fast_before = _clock_after(tmp_path / "c", NOW + timedelta(days=2), False, NOW, synchronised=False)
    assert fast_before.level is Level.AMBER  # only a synchronised time can prove the clock wrong


def test_offline_is_amber_never_red_and_a_nearly_full_outbox_is_red():
    sync = {"connection": "disconnected", "backlog": 95, "oldest_unsent_age_s": 3 * 86400 + 60, "undated_unsent": 0}
    sync |= {"dropped_unacknowledged": 0}
    assert check_broker(sync).level is Level.AMBER
    assert check_broker({"connection": "connected"}).level is Level.GREEN
    assert check_backlog(sync, 100, True).level is Level.RED
    assert check_backlog(sync, 100, False).level is Level.AMBER  # drop_oldest never refuses
    assert check_backlog(sync | {"backlog": 1}, 100, True).values == {"count": 1, "days": 3}
    undated = sync | {"backlog": 1, "oldest_unsent_age_s": None, "undated_unsent": 1}  # queued on a clock ahead
    assert check_backlog(undated, 100, True).message_key == "health.backlog.undated"


def test_a_failing_model_or_camera_is_red_with_its_reason():
    def refuse() -> list[str]:
        raise ValueError("sha256 mismatch")

    models = check_models(refuse)
    assert models.level is Level.RED and "sha256" in str(models.values["error"])
    assert check_camera(lambda: False).level is Level.AMBER  # another screen has it
    assert check_camera(lambda: True).level is Level.GREEN


def test_a_camera_configured_wrong_sends_the_technician_to_the_configuration_not_the_cable(tmp_path):
    """The files camera pointed at a folder that is not there: no cable fixes that."""
    config = load_config(str(write_config(tmp_path, port=1)))
    config = replace(config, camera=replace(config.camera, backend="files", files=(tmp_path / "absent",)))
    camera = check_camera(probe_camera(config))
    assert camera.level is Level.RED and camera.message_key == "health.camera.misconfigured"
    words = check_sentence(camera, "en")
    assert "a photo file or folder it is set to read is missing" in words and "cable" not in words
    assert "[camera] in the configuration" in words and "absent: no such image file" in str(camera.values["error"])


def test_readiness_on_real_records_and_every_sentence_in_both_languages(tmp_path):
    store = open_store(tmp_path)
    record_one(store, small_photo())
    config = load_config(str(write_config(tmp_path, port=1)))
    checks = readiness(config, store.records, lambda: ["dr-referable 1.0.0"], lambda: True)
    levels = {check.name: check.level for check in checks}
    assert levels["records"] is levels["audit"] is levels["disk"] is levels["clock"] is Level.GREEN
    assert levels["broker"] is Level.AMBER and not blocking(checks)
    for check in checks:
        for language in ("en", "fr"):
            assert check_sentence(check, language)  # as the screens and doctor say it (wording.check_values)
    store.records.connection.execute("DROP TRIGGER audit_no_update")
    store.records.connection.execute("UPDATE audit SET details = '{}' WHERE seq = 1")
    audit = next(c for c in readiness(config, store.records, list, lambda: True) if c.name == "audit")
    assert audit.level is Level.RED and audit.values["event"] == 1
    store.records.close()


@pytest.mark.parametrize("level", ["green", "amber", "red"])
def test_every_level_has_its_label(level):
    assert set(CATALOGUE[f"level.{level}"]) == {"en", "fr"}


@pytest.mark.parametrize(
    ("state", "variant"),
    [("connecting", "connecting"), ("disconnected", "amber"), ("not running (last state: connected)", "service")],
)
def test_the_broker_check_tells_the_nurse_what_it_is_in_her_language(state, variant):
    check = check_broker({"connection": state})
    assert check.level is Level.AMBER and check.message_key == f"health.broker.{variant}"
    assert check.values["state"] == state  # the worker's own words stay for the technician
    french = message(check.message_key, "fr")
    assert state not in french and "{" not in french


def test_the_backup_check_is_amber_once_what_was_recorded_has_gone_unbacked_up_too_long():
    week = timedelta(days=7)
    assert check_backup(None, None, 7, NOW).message_key == "health.backup.none"
    assert check_backup(None, NOW - timedelta(days=2), 7, NOW).message_key == "health.backup.pending"
    never = check_backup(None, NOW - timedelta(days=30), 7, NOW)
    assert (never.level, never.message_key, never.values["days"]) == (Level.AMBER, "health.backup.never", 30)
    assert check_backup(NOW - week, NOW - timedelta(days=30), 7, NOW).level is Level.GREEN
    old = check_backup(NOW - week - timedelta(hours=1), NOW - timedelta(days=30), 7, NOW)
    assert (old.level, old.values["days"]) == (Level.AMBER, 7) and not blocking([old])
    assert check_backup(None, NOW - timedelta(days=300), 0, NOW).message_key == "health.backup.off"


def test_the_nurse_s_readiness_list_says_when_the_records_were_never_backed_up(tmp_path):
    config = load_config(write_config(tmp_path, 1))
    store = open_store(tmp_path, clock=lambda: NOW - timedelta(days=10))
    record_one(store, small_photo())
    checks = readiness(config, store.records, list, lambda: True, now=NOW)
    backup = next(check for check in checks if check.name == "backup")
    assert (backup.level, backup.message_key, backup.values["days"]) == (Level.AMBER, "health.backup.never", 10)
    store.records.close()


@pytest.mark.parametrize(
    ("error", "key", "words"),
    [
        (RecordsDamaged("records.sqlite3: the records file is damaged"), "health.records.red", "endommagés"),
        (DiskFull("records.sqlite3: the disk is full"), "health.records.full", "le disque est plein"),
        (RecordsError("records.sqlite3: cannot use the records (readonly)"), "health.records.unusable", "pourquoi"),
    ],
)
def test_records_that_do_not_open_are_said_by_their_cause_without_the_errors_english(error, key, words):
    """A full disk or a read-only folder is not "damaged", which would send the technician after a
    whole file; the English cause is doctor's log line and --json's, not the French sentence's."""
    check = records_unusable(error)
    said = check_sentence(check, "fr")
    assert check.message_key == key and words in said and str(error) not in said and "records.sqlite3" not in said


def test_the_nurses_list_and_the_watchdog_say_records_on_a_read_only_file_system_cannot_be_written(
    tmp_path, tiny_filesystem
):
    """The card remounted read-only under the app: its list read the records whole and was green
    ("Records healthy"), so a patient was started whose photos could not be recorded, while the
    watchdog's probe of the write lock passed too (SQLite opens a file it may only read read-only,
    and takes the lock in the shared memory). Both now ask one function, which writes nothing: the
    records and their log are byte for byte as they were after it answers green. The file system
    itself read-only (as the kernel leaves a failing card), the sentence sends the technician to
    the kernel log and the card, in both languages."""
    folder = tiny_filesystem
    app = open_store(folder)
    record_one(app, small_photo())
    files = [folder / "records.sqlite3", folder / "records.sqlite3-wal"]
    before = [path.read_bytes() for path in files]
    assert check_records_writable(folder / "records.sqlite3").level is Level.GREEN
    assert [path.read_bytes() for path in files] == before
    app.records.close()  # a tmpfs with open files refuses remount,ro
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    writable = check_records_writable(folder / "records.sqlite3")
    assert writable.message_key == "health.writable.read_only" and writable.values["mount"] == folder
    # The watchdog reads it amber: a restart would not mend it, and would take away this screen.
    assert liveness(folder / "records.sqlite3", []) == [replace(writable, level=Level.AMBER)]
    assert "(dmesg)" in check_sentence(writable, "en") and "(dmesg)" in check_sentence(writable, "fr")


def test_records_outside_the_services_sandbox_say_so_and_not_to_remount_the_disk(tmp_path):
    """Records configured on a disk the unit's ProtectSystem=strict leaves read-only to the service (a
    USB disk at /mnt/data): the disk takes writes, only the service's view of it is a read-only bind
    mount, which read_only_view makes here. The line said "mounted read-only: look at dmesg, mount
    it read-write", which mends nothing; it now names the sandbox, where the service may write, and
    the drop-in that lets it write there, in both languages, and still blocks screening."""
    folder = tmp_path / "state"
    folder.mkdir()
    app = open_store(folder)
    record_one(app, small_photo())
    with read_only_view(folder, tmp_path / "mounted") as mounted:
        config = write_config(tmp_path, 1)
        config.write_text(config.read_text().replace(f'"{tmp_path}/records', f'"{mounted}/records'))
        store = open_store(mounted)
        checks = readiness(load_config(str(config)), store.records, list, lambda: True)
        writable = next(check for check in checks if check.name == "writable")
        assert writable in blocking(checks) and writable.message_key == "health.writable.sandbox"
        assert writable.values["folder"] == mounted and writable.values["writable"] == SERVICE_WRITABLE
        assert liveness(mounted / "records.sqlite3", []) == [replace(writable, level=Level.AMBER)]
        for language, words in (("en", "the service's sandbox"), ("fr", "le bac à sable du service")):
            said = check_sentence(writable, language)
            assert words in said and "ReadWritePaths=" in said and "systemctl edit edgescreen-app" in said
            assert f"{mounted} " in said and "/var/lib/edgescreen" in said and "dmesg" not in said
        store.records.close()
    app.records.close()


def test_a_process_in_a_mount_namespace_of_its_own_tells_its_read_only_view_from_the_hosts(tmp_path):
    """As systemd runs the app under ProtectSystem=strict: a mount namespace of its own (unshare -m)
    in which the records' folder is bound read-only. That process's writable line names the sandbox,
    while the host, whose view of the same folder is writable, finds nothing to say."""
    folder = tmp_path / "state"
    folder.mkdir()
    open_store(folder).records.close()
    database = folder / "records.sqlite3"
    asks = (
        "import sys; from pathlib import Path; "
        "from firmware_app.health.checks import records_not_writable; "
        "print(records_not_writable(Path(sys.argv[1])))"
    )
    sandboxed = (
        f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} {folder} && "
        f'exec {sys.executable} -c "$0" {database}'
    )
    namespace = ["unshare", "--mount", "--propagation", "private"]
    run = subprocess.run([*namespace, "sh", "-c", sandboxed, asks], capture_output=True, text=True)
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"cannot make a mount namespace here (needs root): {run.stderr.strip()}")
    assert "message_key='health.writable.sandbox'" in run.stdout, run.stderr
    assert records_not_writable(database) is None


def test_starting_a_patient_waits_on_no_other_programs_write(tmp_path, monkeypatch):
    """The sync service (its own process, the app's unit runs ``--no-sync``) or an erasure holding
    the records' write lock: starting a patient read the records and waited on nobody, until the
    writable line took and gave back the lock at each run, and waited on it as the device's writers
    do (30 s), on the records thread every other records call of the app queues behind, then said
    red "locked" and blocked the patient a write a moment later would have recorded. The line asks
    the kernel alone: green at once while the lock is held, as the records are writable."""
    # Any wait for the lock, the probe's or the records connection's, outlasts the check's hang guard.
    monkeypatch.setattr(checks_module, "BUSY_TIMEOUT_S", 600.0)
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 600.0)
    store = open_store(tmp_path)
    record_one(store, small_photo())
    config = load_config(str(write_config(tmp_path, 1)))
    scans = Scans.of(readiness(config, store.records, list, lambda: True), time.monotonic())
    with holding_the_lock(config.records.database) as writer:  # another program's write, under way
        with killed_after_a_minute(writer):
            checks = readiness(config, store.records, list, lambda: True, scans=scans)
        assert writer.poll() is None  # the list was made while the lock was held: it waited on nobody's
    writable = next(check for check in checks if check.name == "writable")
    assert writable.message_key == "health.writable.green" and writable not in blocking(checks)


def test_the_writable_check_holds_while_another_programs_connection_comes_and_goes(tmp_path):
    """SQLite removes the records' log and shared memory as their last connection closes, and makes
    them again at the next: asked between the two, ``access`` refused the file gone, and the check
    then said it red by the file made again a moment later, or raised FileNotFoundError looking at it
    gone (doctor failed; the watchdog's thread died, so its pings stopped). Asked 20,000 times while
    another program opens and closes the records, it answers every time that nothing refuses."""
    database = tmp_path / "records.sqlite3"
    with sqlite3.connect(database) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x)")
    setup.close()
    churn = (
        "import sqlite3, sys\n"
        "while True:\n"
        "    c = sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO t VALUES (1)'); c.commit(); c.close()"
    )
    other = subprocess.Popen([sys.executable, "-c", churn, str(database)])
    try:
        refused = [answer for _ in range(20_000) if (answer := records_not_writable(database)) is not None]
    finally:
        other.kill()
        other.wait()
    assert refused == []
