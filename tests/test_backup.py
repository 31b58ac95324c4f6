"""``edgescreen backup`` while a device process keeps recording, and ``restore`` into a fresh folder:
the audit chain verifies and every image opens; what would lose data or not open is refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from edgescreen_wire.erasure import parse_erasure
from firmware_app import backup as backup_module
from firmware_app.backup import COPIES, backup, last_backup
from firmware_app.cli import main
from firmware_app.file_system import largest_file
from firmware_app.messages import message, sentence
from firmware_app.operators import Operators
from firmware_app.records.database import RequestRefused, database_files
from firmware_app.records.identity import Identity
from firmware_app.records.open_visits import close_lost_visits, visit_recorded, visit_started
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.store import Records
from firmware_app.records.worklist import NOT_PHOTOGRAPHED, worklist
from firmware_app.wording import readable_date
from tests.conftest import PROJECT_ROOT, appearing_on_open, filled, write_rgb
from tests.health.lock_holding import WAITED, holding_the_lock
from tests.health.test_doctor import doctor
from tests.records.kit import (
    BEFORE_LAST_BACKUP,
    DEVICE,
    back_to,
    damage_a_sealed_value,
    flip_a_bit_on_the_card,
    in_language,
    open_store,
    record_one,
    sample_record,
    small_photo,
    write_config,
)
from tests.records.test_erasure_requests import patient_screenings
from tests.records.test_erasure_under_a_reader import erased_values
from tests.records.test_key_check import legacy_fingerprint
from tests.records.test_store import pieces
from tests.test_cli import edgescreen, said_lines


@pytest.fixture()
def device(tmp_path, retina_rgb):
    directory = tmp_path / "device"
    directory.mkdir()
    store = open_store(directory)
    photo = small_photo(retina_rgb)
    recorded = [record_one(store, photo).result_id for _ in range(20)]
    store.records.close()
    return directory, write_config(directory, port=1), recorded


def _says(line: str, key: str, language: str, **values: str | int) -> bool:
    """Whether ``line`` is the catalogue's ``key`` in ``language`` with ``values``; a value given as
    ``...`` (a count of events, a date) may be anything."""
    filled = sentence(key, language, **{name: "\0" if value is ... else value for name, value in values.items()})
    return re.fullmatch(".+".join(map(re.escape, filled.split("\0"))), line) is not None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_backup_says_what_anyone_reads_in_it_without_the_key_and_so_it_is(tmp_path, retina_rgb, language):
    """The backup is a plain SQLite file: without the key, a finder reads its results (ids, times,
    outcomes, verdicts), the operators' names and the hashes of their short PINs, which a few thousand
    guesses open. It said only that the key was not in it, as if nothing could be read without it."""
    directory = tmp_path / "device"
    directory.mkdir()
    store = open_store(directory)
    recorded = record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-SECRET-9")))
    Operators(store.records).add("Amina", "2468")
    store.records.close()
    out = tmp_path / "records.backup"
    backed_up = edgescreen("backup", "--out", str(out), config=in_language(write_config(directory, port=1), language))
    assert backed_up.returncode == 0, backed_up.stderr
    said = sentence("backup.key_apart", language, file=str(directory / "records.key"))
    assert backed_up.stdout.splitlines()[-1] == said
    for words in {"en": ("outcomes", "verdicts", "operators' names", "PIN"), "fr": ("verdicts", "opérateurs", "codes")}[
        language
    ]:
        assert words in said, words
    copy = sqlite3.connect(out)  # no key
    try:
        assert copy.execute("SELECT outcome FROM screening WHERE result_id = ?", (recorded.result_id,)).fetchone()
        assert copy.execute("SELECT length(pin_hash) FROM operator WHERE name = 'Amina'").fetchone()[0] > 0
    finally:
        copy.close()
    assert b"MRN-SECRET-9" not in out.read_bytes()  # the references, notes and photos are sealed


@pytest.mark.parametrize("language", ["en", "fr"])
def test_backup_and_restore_say_what_the_copy_holds_in_the_devices_language(tmp_path, device, language):
    """On main English whatever the device's language, with "screening(s)" for a count."""
    directory, config, _ = device
    out = tmp_path / "records.backup"
    backed_up = edgescreen("backup", "--out", str(out), config=in_language(config, language))
    assert backed_up.returncode == 0, backed_up.stderr
    held = {
        "screenings": sentence("count.screenings", language, count=20),
        "photos": sentence("count.photos", language, count=20),
        "events": ...,
    }
    summary, key = backed_up.stdout.splitlines()
    assert _says(summary, "backup.done", language, path=str(out), **held), summary
    assert key == sentence("backup.key_apart", language, file=str(directory / "records.key"))
    target, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(out), config=in_language(target_config, language))
    assert restored.returncode == 0, restored.stderr
    summary, newest = restored.stdout.splitlines()
    held["events"] = ...
    opens = message("restore.every_photo_opens", language)
    assert summary.endswith(opens), summary
    assert _says(summary.removesuffix(opens), "restore.done", language, path=str(target / "records.sqlite3"), **held)
    # On main the raw ISO time ("2026-12-06T22:58:21.123+00:00"), in French too: a date as other lines say it.
    with sqlite3.connect(target / "records.sqlite3") as connection:
        (backup_at,) = connection.execute("SELECT max(at) FROM audit WHERE kind != 'restore'").fetchone()
    taken_at = readable_date(backup_at, language)
    assert newest == sentence("restore.newest", language, taken_at=taken_at, device=DEVICE.id), newest
    assert ("dépistages" in summary) == (language == "fr")


def _fresh_device(tmp_path, source):
    """A new device folder with only the key file copied over, as after replacing an SD card."""
    target = tmp_path / "replacement"
    target.mkdir()
    shutil.copy2(source / "records.key", target / "records.key")
    return target, write_config(target, port=1)


def test_a_backup_taken_while_the_device_records_restores_whole(tmp_path, device, retina_rgb):
    directory, config, recorded = device
    photo = write_rgb(tmp_path / "photo.png", small_photo(retina_rgb))
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.records.device_process", str(config), str(photo), "100000", "0.01"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(5):
            writer.stdout.readline()  # the writer is recording
        run = edgescreen("backup", "--out", str(tmp_path / "records.backup"), config=config)
        assert run.returncode == 0, run.stderr
        assert "NOT in the backup" in run.stdout
        for _ in range(5):
            assert writer.stdout.readline()  # and went on recording during and after the backup
    finally:
        writer.kill()
        writer.wait()
    key = (directory / "records.key").read_bytes()
    assert key not in (tmp_path / "records.backup").read_bytes()

    target, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(tmp_path / "records.backup"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    assert "every image opens with the key" in restored.stdout
    assert edgescreen("audit", "verify", config=target_config).returncode == 0

    store = open_store(target)
    try:
        ids = [row[0] for row in store.records.connection.execute("SELECT result_id FROM screening")]
        assert set(recorded) <= set(ids) and len(ids) >= len(recorded) + 5
        for result_id in ids:
            ((media, data),) = store.export_images(result_id)
            assert media == "image/jpeg" and data.startswith(b"\xff\xd8")
    finally:
        store.records.close()
    assert backups_audited(directory) == 1  # on the device, once the backup was whole


def backups_audited(directory) -> int:
    db = sqlite3.connect(directory / "records.sqlite3")
    try:
        return db.execute(
            "SELECT count(*) FROM audit WHERE kind = 'export' AND details = '{\"scope\":\"backup\"}'"
        ).fetchone()[0]
    finally:
        db.close()


def test_read_only_commands_on_a_fresh_device_leave_the_way_clear_for_a_restore(tmp_path, device):
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    for command in (["sync", "status"], ["audit", "verify"]):  # the key is there: said as records missing
        run = edgescreen(*command, config=target_config)
        said = f"{target / 'records.sqlite3'}: no records there, yet their key"
        assert run.returncode == 2 and said in run.stderr, run.stderr
    doctor = edgescreen("doctor", config=target_config)  # the key copied, the records not yet restored: red
    assert doctor.returncode == 1 and "restore the last backup" in doctor.stdout, doctor.stdout
    assert sorted(p.name for p in target.iterdir()) == ["config.toml", "records.key"]  # on main: records too
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr  # on main: "records already exist there"


def test_restore_refuses_to_overwrite_records(tmp_path, device):
    _, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    run = edgescreen("restore", str(tmp_path / "b"), config=config)
    assert run.returncode == 2 and "records already exist there (records.sqlite3)" in run.stderr


def test_restore_refuses_a_crashed_databases_write_ahead_log_left_beside(tmp_path, device):
    """A technician who moved only records.sqlite3 away after a crash left its -wal: SQLite would
    replay it onto the restored file, and the restored images were garbage."""
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    (directory / "records.sqlite3").rename(tmp_path / "moved.sqlite3")
    (directory / "records.sqlite3-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(4092))  # a WAL's magic
    run = edgescreen("restore", str(tmp_path / "b"), config=config)
    assert run.returncode == 2 and "records already exist there (records.sqlite3-wal)" in run.stderr, run.stderr
    assert not (directory / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_backup_never_overwrites_a_file(tmp_path, device, language):
    """Refused as the folder given as ``--out`` is, in the device's language: a French device said it in
    English ("already exists; a backup never overwrites a file")."""
    directory, config, _ = device
    (tmp_path / "b").write_text("precious")
    run = edgescreen("backup", "--out", str(tmp_path / "b"), config=in_language(config, language))
    # On main: exit status 5, "records.unusable" and an "edgescreen: records:" prefix.
    said = sentence("backup.out_exists", language, path=str(tmp_path / "b"))
    assert run.returncode == 2 and run.stderr.endswith(f"edgescreen: {said}\n"), run.stderr
    assert "records.unusable" not in run.stderr
    assert (tmp_path / "b").read_text() == "precious" and backups_audited(directory) == 0


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_file_made_at_the_backups_name_while_it_copies_is_kept_and_the_backup_refused(
    tmp_path, device, language, capsys
):
    """The name was checked free before the copy, and the finished copy renamed onto it: a file made
    there in between (another backup, possibly the only one) was replaced, and nothing said. Now the
    backup is refused as one to a name already taken is."""
    directory, config, _ = device
    out = tmp_path / "b"
    with appearing_on_open(".partial", out):
        status = main(["--config", str(in_language(config, language)), "backup", "--out", str(out)])
    assert out.read_bytes() == b"precious"  # on main: the new backup, over it (SQLite format 3)
    said = sentence("backup.out_exists", language, path=str(out))
    assert status == 2 and capsys.readouterr().err.endswith(f"edgescreen: {said}\n")  # on main: 0
    assert list(tmp_path.glob(".b.*partial")) == [] and backups_audited(directory) == 0


def _in_turn(monkeypatch, copied: threading.Event, first_done: threading.Event) -> None:
    """``_snapshot`` made to interleave two copies to one name: thread "first" copies (``copied``), then
    waits until "second" has made its partial copy; "second" copies only once "first" has ended."""
    second_made = threading.Event()
    snapshot = backup_module._snapshot

    def in_turn(source, path) -> None:
        if threading.current_thread().name == "first":
            snapshot(source, path)
            copied.set()
            assert second_made.wait(30)
        else:
            second_made.set()
            assert first_done.wait(30)
            snapshot(source, path)

    monkeypatch.setattr(backup_module, "_snapshot", in_turn)


def _both(work, monkeypatch) -> tuple[object, object]:
    """What ``work`` gave in thread "first" and in thread "second", started once the first has copied
    and interleaved by ``_in_turn``."""
    copied, first_done = threading.Event(), threading.Event()
    _in_turn(monkeypatch, copied, first_done)
    outcomes: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            outcomes[name] = work()
        except Exception as error:
            outcomes[name] = error

    threads = [threading.Thread(target=run, args=(name,), name=name) for name in ("first", "second")]
    threads[0].start()
    assert copied.wait(30)
    threads[1].start()
    threads[0].join(60)
    first_done.set()
    threads[1].join(60)
    return outcomes["first"], outcomes["second"]


def test_two_backups_to_one_name_at_once_leave_one_whole_backup_and_refuse_the_other(tmp_path, device, monkeypatch):
    """Both copied into one partial name beside ``--out`` (``.b.partial``), each removing what was there
    first: the second removed the first's finished copy to make its own, and the first renamed that empty
    one onto the backup's name, found it no backup and removed it; the second then made the backup. Now
    each copy has a name of its own: the first makes the backup, the second is refused as one to a name
    taken, its copy removed."""
    directory, _, _ = device
    out = tmp_path / "b"

    def backing_up() -> object:
        store = open_store(directory)
        try:
            return backup(store, out)
        finally:
            store.records.close()

    made, refused = _both(backing_up, monkeypatch)
    assert isinstance(made, backup_module.BackupSummary), made  # on main: RecordsError, the second's empty copy
    assert made.screenings == 20 and made.images == 20
    assert isinstance(refused, RequestRefused) and refused.key == "backup.out_exists", refused  # on main: made
    assert sorted(path.name for path in tmp_path.iterdir()) == ["b", "device"]  # no partial copy left
    assert backups_audited(directory) == 1


def test_two_restores_at_once_leave_one_restored_and_refuse_the_other(tmp_path, device, monkeypatch):
    """Both staged the records under one name (``.records.sqlite3.restoring``): the second removed the
    first's staged records, with their -wal, while the first had them open. Now each stages under a name
    of its own: one restores, the other is refused as a restore onto records is, its staging removed."""
    directory, config, recorded = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, _ = _fresh_device(tmp_path, directory)

    def restoring() -> object:
        return backup_module.restore(
            tmp_path / "b", target / "records.sqlite3", target / "records.key", Identity(DEVICE.id, DEVICE.site)
        )

    made, refused = _both(restoring, monkeypatch)
    assert isinstance(made, backup_module.BackupSummary) and made.screenings == len(recorded), made
    assert isinstance(refused, RequestRefused) and refused.key == "refused.restore_records_exist", refused
    with sqlite3.connect(target / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == len(recorded)
    assert not [path.name for path in target.iterdir() if path.name.startswith(".records")]


# A backup killed mid-copy: ``_snapshot`` says it has begun, and never ends.
KILLED_WHILE_COPYING = """
import sys, time
import firmware_app.backup as backup
from firmware_app.cli import main
def copying(source, path):
    print("copying", flush=True)
    time.sleep(600)
backup._snapshot = copying
main(["--config", sys.argv[1], "backup", "--out", sys.argv[2]])
"""


def _backup_stopped_mid_copy(config, out) -> subprocess.Popen:
    """A backup to ``out`` in a process of its own, stopped in its copy (``KILLED_WHILE_COPYING``)."""
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WHILE_COPYING, str(config), str(out)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "copying\n"
    return process


def test_the_partial_copy_of_a_backup_killed_mid_copy_is_removed_by_the_next(tmp_path, device):
    """A kill leaves the partial copy beside ``--out``, the patients' data in it, under a name of its
    own: the next backup to that name removes it (its process is gone), and keeps only the backup."""
    _, config, _ = device
    out = tmp_path / "b"
    killed = _backup_stopped_mid_copy(config, out)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert len(list(tmp_path.glob(".b.*.partial"))) == 1  # on main: .b.partial, a name every backup shares
    run = edgescreen("backup", "--out", str(out), config=config)
    assert run.returncode == 0, run.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["b", "device"]


def _dead_pid() -> int:
    """The number of a process of this boot and pid namespace that has ended."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(dead.stdout)


def _planted(folder: Path, name: str, whose: tuple[str, str, str], pid: int, hours_old: float = 0) -> Path:
    """A partial copy of a backup (or restore) to ``name`` in ``folder``, made by ``pid`` of ``whose``
    (machine, boot, pid namespace), last written ``hours_old`` ago."""
    planted = folder / f".{name}.{'.'.join(whose)}.{pid}.0badc0de.partial"
    planted.write_bytes(b"patients")
    written = time.time() - hours_old * 3600
    os.utime(planted, (written, written))
    return planted


def test_only_partial_copies_surely_abandoned_are_removed(tmp_path, device):
    """Beside ``--out``: the copy of a backup at work in another process, kept; one of this machine's
    whose process is gone, or made before it last booted (a power cut), removed, whatever backup it was
    for (a dated name is never given again); one made in another pid namespace or on another machine
    sharing the folder (its process number means nothing here), kept while fresh and removed once a
    day old, and only by a backup to its name."""
    _, config, _ = device
    out = tmp_path / "b"
    at_work = _backup_stopped_mid_copy(config, out)
    try:
        (live,) = tmp_path.glob(".b.*.partial")  # on main: none, the copy at work is .b.partial
        machine, boot, namespace, pid, _, _ = live.name.removeprefix(".b.").split(".")
        assert int(pid) == at_work.pid
        rebooted, container, other = (machine, "0e15e0e0", namespace), (machine, boot, "0e15e0e0"), ("0e15e0e0",) * 3
        abandoned = _planted(tmp_path, "b", (machine, boot, namespace), _dead_pid())
        abandoned.with_name(f"{abandoned.name}-journal").write_bytes(b"patients")
        cut = _planted(tmp_path, "b", rebooted, 1)
        dated = _planted(tmp_path, "records-2026-12-08.sqlite3", rebooted, 1)  # on main: kept
        kept = [
            _planted(tmp_path, "b", container, _dead_pid()),
            _planted(tmp_path, "b", other, 1),
            _planted(tmp_path, "b3", other, 2, hours_old=25),
        ]
        old = _planted(tmp_path, "b", other, 2, hours_old=25)
        run = edgescreen("backup", "--out", str(tmp_path / "b2"), config=config)  # another name
        assert run.returncode == 0, run.stderr
        assert not dated.exists() and not cut.exists() and not abandoned.exists()  # on main: all kept
        assert old.exists()  # another machine's, judged only by a backup to its name
        run = edgescreen("backup", "--out", str(out), config=config)
        assert run.returncode == 0, run.stderr
        left = sorted(path.name for path in tmp_path.glob(".b*"))
        assert left == sorted(path.name for path in [live, *kept]), left
    finally:
        at_work.kill()
        at_work.wait()


def test_a_backup_and_a_restore_go_on_where_whose_copy_it_is_cannot_be_read(tmp_path, device, monkeypatch):
    """A seccomp filter or a hardened /proc refuses to say the pid namespace: the backup blamed its
    drive ("cannot be written there") and the restore failed raw. Now the copy's name says it is
    unknown, such a copy is judged by its age alone (a fresh one whose process is gone is kept), and
    both go on."""
    directory, _, recorded = device
    readlink = os.readlink

    def refused(path, *args, **kwargs):
        if str(path) == "/proc/self/ns/pid":
            raise PermissionError(13, "Permission denied", path)
        return readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", refused)
    unknown = _planted(tmp_path, "b", ("unknown",) * 3, _dead_pid())
    store = open_store(directory)
    try:
        made = backup(store, tmp_path / "b")  # on main: RequestRefused, "cannot be written there"
    finally:
        store.records.close()
    assert made.screenings == len(recorded) and unknown.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["b", "device", unknown.name])
    target, _ = _fresh_device(tmp_path, directory)
    restored = backup_module.restore(  # on main: PermissionError
        tmp_path / "b", target / "records.sqlite3", target / "records.key", Identity(DEVICE.id, DEVICE.site)
    )
    assert restored.screenings == len(recorded)
    assert not [path.name for path in target.iterdir() if path.name.startswith(".records")]


def _killed_restore_left(staged: Path, backup_file: Path) -> None:
    """What a restore killed while its records ``staged`` from ``backup_file`` were open leaves: the
    file, and its -wal with every screening deleted (as the kill left it: closing would have
    checkpointed it)."""
    shutil.copy2(backup_file, staged)
    killed = sqlite3.connect(staged, isolation_level=None)
    killed.execute("PRAGMA journal_mode = WAL")
    killed.execute("PRAGMA wal_autocheckpoint = 0")
    killed.execute("DELETE FROM screening")
    log = staged.with_name(f"{staged.name}-wal").read_bytes()
    killed.close()
    staged.with_name(f"{staged.name}-wal").write_bytes(log)


def test_the_write_ahead_log_an_older_releases_killed_restore_left_is_removed_by_the_next(tmp_path, device):
    """An older release staged every restore under ``.records.sqlite3.restoring``: one killed while its
    staged records were open left their -wal beside, which that release's next restore replayed onto
    its new copy (every screening deleted, and "restored"). This release stages under a name of its own,
    so nothing replays it; the next restore removes it (a log of the patients' pages), with the file."""
    directory, config, recorded = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    staged = target / ".records.sqlite3.restoring"
    _killed_restore_left(staged, tmp_path / "b")
    staged.unlink()
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(target / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == len(recorded)
    assert not staged.with_name(f"{staged.name}-wal").exists()


@pytest.mark.parametrize("killed", ["process gone", "power cut"])
def test_the_staged_records_of_a_killed_restore_and_their_log_are_removed_by_the_next(tmp_path, device, killed):
    """A restore killed while its records staged under a name of their own were open leaves them, and
    their -wal, in the records folder: the patients' data under a name nobody looks at. The next restore
    removes both, whether the killed one's process is gone in this boot or a power cut ended it (this
    machine's earlier boot: on d4dd18c4, kept a day, the boot being taken for another machine)."""
    directory, config, recorded = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    machine, boot, namespace = backup_module._whose()
    whose, pid = (
        ((machine, boot, namespace), _dead_pid()) if killed == "process gone" else ((machine, "0e15e0e0", namespace), 1)
    )
    _killed_restore_left(_planted(target, "records.sqlite3", whose, pid), tmp_path / "b")
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(target / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == len(recorded)
    assert not [path.name for path in target.iterdir() if path.name.startswith(".records")]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_records_made_where_a_restore_goes_while_it_checks_the_backup_are_kept_and_the_restore_refused(
    tmp_path, device, language, capsys
):
    """The restore checked that no records were there, checked the backup for seconds (every photo
    opened), then renamed it onto the records' name: records made there in between (the app started
    by its unit) were replaced, and nothing said. Now the restore is refused as one onto records is."""
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    database = target / "records.sqlite3"
    with appearing_on_open(".partial", database):
        status = main(["--config", str(in_language(target_config, language)), "restore", str(tmp_path / "b")])
    assert database.read_bytes() == b"precious"  # on main: the restored records, over them
    said = sentence("refused.restore_records_exist", language, path=str(database), files="records.sqlite3")
    assert status == 2 and capsys.readouterr().err.endswith(f"edgescreen: {said}\n")  # on main: 0
    assert sorted(path.name for path in target.iterdir()) == ["config.toml", "records.key", "records.sqlite3"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_backup_to_a_folder_says_to_name_a_file_in_it(tmp_path, device, language):
    """A USB stick's mount point given as --out read "already exists; a backup never overwrites a file"."""
    directory, config, _ = device
    usb = tmp_path / "usb"
    usb.mkdir()
    run = edgescreen("backup", "--out", str(usb), config=in_language(config, language))
    assert run.returncode == 2 and "already exists" not in run.stderr, run.stderr
    example = usb / f"records-{date.today().isoformat()}.sqlite3"
    said = sentence("refused.output_is_folder", language, path=str(usb), example=str(example))
    assert run.stderr.endswith(f"edgescreen: {said}\n"), run.stderr
    assert list(usb.iterdir()) == [] and backups_audited(directory) == 0


def test_a_backup_to_a_missing_folder_says_what_to_check(tmp_path, device):
    _, config, _ = device
    out = tmp_path / "usb-not-mounted" / "b"
    run = edgescreen("backup", "--out", str(out), config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr  # on main: FileNotFoundError
    assert f"{out}: cannot be written there (No such file or directory); check that the folder exists" in run.stderr


def test_a_backup_onto_a_read_only_drive_says_so(tiny_filesystem, device):
    _, config, _ = device
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    run = edgescreen("backup", "--out", str(tiny_filesystem / "b"), config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr  # on main: OSError, EROFS
    assert "cannot be written there (Read-only file system)" in run.stderr


def test_a_full_backup_drive_is_named_leaves_no_partial_file_and_is_not_audited(tiny_filesystem, device):
    directory, config, _ = device
    filled(tiny_filesystem)
    out = tiny_filesystem / "b"
    run = edgescreen("backup", "--out", str(out), config=config)
    # On main: "records.sqlite3: the disk is full; free space on <the records' folder>", exit 5.
    assert run.returncode == 2 and f"{out}: the disk is full; free space on {tiny_filesystem}" in run.stderr
    assert "records.sqlite3" not in run.stderr
    assert sorted(p.name for p in tiny_filesystem.iterdir()) == ["filler"]  # on main: .b.partial left behind
    assert backups_audited(directory) == 0  # on main: audited before the copy failed

    (tiny_filesystem / "filler").unlink()
    assert edgescreen("backup", "--out", str(out), config=config).returncode == 0
    assert backups_audited(directory) == 1


def device_on(filesystem: Path, retina_rgb: np.ndarray, language: str) -> tuple[Path, Path]:
    """A device whose records, with one screening, are on ``filesystem`` (to fill or remount read-only),
    and its config in ``language``."""
    directory = filesystem / "device"
    directory.mkdir()
    store = open_store(directory)
    record_one(store, small_photo(retina_rgb, 64))
    store.records.close()
    return directory, in_language(write_config(directory, port=1), language)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_backup_from_a_full_records_disk_says_why_it_needs_room_there(
    tmp_path, tiny_filesystem, retina_rgb, language
):
    """Even to another drive: a copy of the patients' data counts only once the audit log holds it,
    and a full records disk cannot take that event; the technician is told what to free, and why, in
    the device's language (English on a French device, the records' path inside), the full disk said as
    every command says it; its English detail is the log line's."""
    directory, config = device_on(tiny_filesystem, retina_rgb, language)
    filled(tiny_filesystem)
    out = tmp_path / "b"
    run = edgescreen("backup", "--out", str(out), config=config)
    assert run.returncode == 5 and "Traceback" not in run.stderr, run.stderr
    full = f"{sentence('health.records.full', language)} {message('backup.records_disk_full', language)}"
    assert said_lines(run.stderr) == [f"edgescreen: {full}"]
    assert ("entered in the records' audit log before it counts" in full) == (language == "en")
    assert f"the disk is full; free space on {directory}" in run.stderr  # the log line's
    assert not out.exists() and not list(tmp_path.glob(".b.*partial"))

    (tiny_filesystem / "filler").unlink()
    assert edgescreen("backup", "--out", str(out), config=config).returncode == 0
    assert backups_audited(directory) == 1


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_backup_while_a_process_holds_the_records_alone_on_a_full_disk_names_it(
    tmp_path, tiny_filesystem, retina_rgb, language
):
    """A process holds the records alone on a full disk (``HeldAlone``): the backup made it a plain "disk
    full", in English on a French device, who holds them unsaid. It says it as every command does
    (``records_unusable``), naming that process."""
    directory, config = device_on(tiny_filesystem, retina_rgb, language)
    out = tmp_path / "b"
    with holding_the_lock(directory / "records.sqlite3", alone=True) as holder:
        filled(tiny_filesystem)
        run = edgescreen("backup", "--out", str(out), config=config)
    assert run.returncode == 5, run.stderr
    named = sentence("health.records.held_alone_by", language, program="backup-tool", pid=holder.pid)
    held = f"{named} {message('backup.records_disk_full', language)}"
    assert said_lines(run.stderr) == [f"edgescreen: {held}"]
    assert not out.exists() and not list(tmp_path.glob(".b.*partial"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_backup_of_damaged_records_says_so_in_the_devices_language(tmp_path, device, language):
    """Records that are no database any more (``RecordsDamaged``): the backup said "records.sqlite3: the
    records file is damaged (file is not a database). Stop the EdgeScreen services..." in English on a
    French device. It says it as every command does (``records_unusable``), the detail in the log."""
    directory, config, _ = device
    (directory / "records.sqlite3").write_bytes(b"not a database " * 100)
    out = tmp_path / "b"
    run = edgescreen("backup", "--out", str(out), config=in_language(config, language))
    assert run.returncode == 5, run.stderr
    assert said_lines(run.stderr) == [f"edgescreen: {sentence('health.records.red', language)}"]
    assert "the records file is damaged" in run.stderr  # the technician's detail, in the log line
    assert not out.exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_backup_of_records_on_a_read_only_file_system_says_so_in_the_devices_language(
    tmp_path, tiny_filesystem, retina_rgb, language
):
    """The records' file system remounted read-only (as the kernel does after a card's write error):
    the backup, which must audit its copy in the records, said "records.sqlite3: the records cannot be
    written (unable to open database file); check the permissions..." in English on a French device.
    It says it as every command does, and why a backup needs to write there."""
    _, config = device_on(tiny_filesystem, retina_rgb, language)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    out = tmp_path / "b"
    run = edgescreen("backup", "--out", str(out), config=config)
    assert run.returncode == 5, run.stderr
    said = f"{sentence('health.records.unusable', language)} {message('backup.records_read_only', language)}"
    assert said_lines(run.stderr) == [f"edgescreen: {said}"]
    assert not out.exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_backup_refused_by_another_programs_lock_names_it_in_the_devices_language(
    tmp_path, device, monkeypatch, capsys, language
):
    """Another program keeps the records' write lock (``RecordsLocked``): the backup said the lock's
    English detail on a French device too. It names the program as every command does (``locked``), and
    leaves no copy: none is audited."""
    monkeypatch.setattr("firmware_app.records.database.BUSY_TIMEOUT_S", 0.2)
    directory, config, _ = device
    out = tmp_path / "b"
    with holding_the_lock(directory / "records.sqlite3") as holder:
        status = main(["--config", str(in_language(config, language)), "backup", "--out", str(out)])
    named = {"program": "backup-tool", "pid": holder.pid, "seconds": WAITED[language]}
    assert status == 5 and said_lines(capsys.readouterr().err) == [
        f"edgescreen: {sentence('health.writable.locked_by', language, **named)}"
    ]
    assert not out.exists() and backups_audited(directory) == 0


def test_restore_refuses_another_key_a_missing_key_and_a_broken_audit_chain(tmp_path, device):
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)

    (target / "records.key").unlink()
    missing = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert missing.returncode == 2 and "no records key; put the device's key file back first" in missing.stderr

    Records(tmp_path / "other.sqlite3", target / "records.key").close()  # makes a new, different key
    other = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert other.returncode == 5 and "does not open with the key" in other.stderr
    assert "is not the key these records were sealed with" in other.stderr
    assert sorted(p.name for p in target.iterdir()) == ["config.toml", "records.key"]  # nothing left behind

    shutil.copy2(directory / "records.key", target / "records.key")
    tampered = tmp_path / "tampered"
    shutil.copy2(tmp_path / "b", tampered)
    db = sqlite3.connect(tampered)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET details = '{}' WHERE seq = 3")
    db.commit()
    db.close()
    broken = edgescreen("restore", str(tampered), config=target_config)
    assert broken.returncode == 5 and "audit log is broken at event 3" in broken.stderr

    (tmp_path / "junk").write_bytes(b"not a database at all" * 100)
    junk = edgescreen("restore", str(tmp_path / "junk"), config=target_config)
    assert junk.returncode == 5 and "not an EdgeScreen records backup" in junk.stderr
    assert not (target / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_restore_from_no_such_file_says_so_before_the_missing_key_both_in_the_devices_language(
    tmp_path, device, language
):
    """On a new device whose key was not put back yet, a mistyped backup path was answered in English
    "records.key: no records key; put the device's key file back first", exit status 5: the
    technician put the key back only to learn that the file was never there. The file is checked
    first, and each refusal, about the device's own key or the file asked for, is said in the device's
    language (exit status 2: a request refused as given)."""
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    in_language(target_config, language)
    (target / "records.key").unlink()

    nofile = tmp_path / "nofile"
    mistyped = edgescreen("restore", str(nofile), config=target_config)
    said = sentence("refused.restore_no_backup", language, path=str(nofile))
    assert mistyped.returncode == 2 and f"edgescreen: {said}\n" in mistyped.stderr, mistyped.stderr

    keyless = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    said = sentence("refused.restore_no_key", language, file=str(target / "records.key"))
    assert keyless.returncode == 2 and f"edgescreen: {said}\n" in keyless.stderr, keyless.stderr
    assert sorted(p.name for p in target.iterdir()) == ["config.toml"]


def test_a_restore_is_audited_says_what_it_cannot_hold_and_leaves_the_old_devices_connection_behind(tmp_path, device):
    directory, config, recorded = device
    store = open_store(directory)
    Outbox(store.records).set_connection("connected")  # the old device's worker, alive when backed up
    old_since = datetime.fromisoformat(Outbox(store.records).state()["connection_since"])
    store.records.close()
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    assert "nothing recorded after it is here" in restored.stdout and "erase them again" in restored.stdout
    with sqlite3.connect(tmp_path / "b") as backup:
        newest = backup.execute("SELECT max(at) FROM audit").fetchone()[0]
    taken_at = readable_date(newest, "en")
    assert f"newest event is dated {taken_at} by the old device's clock" in restored.stdout
    assert f"edgescreen-review devices resend-verdicts {DEVICE.id}" in restored.stdout
    status = json.loads(edgescreen("sync", "status", "--json", config=target_config).stdout)
    assert status["connection"] == "stopped" and status["connection_detail"].startswith("restored from a backup")
    assert status["crashes"] == 0  # the old worker's life is not this device's crash
    assert edgescreen("audit", "verify", config=target_config).returncode == 0
    db = sqlite3.connect(target / "records.sqlite3")
    try:
        kind, details, at = db.execute("SELECT kind, details, at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        db.close()
    assert kind == "restore" and json.loads(details)["screenings"] == len(recorded)
    # Stopped since the restore, on this device: not since the old device's worker connected.
    assert old_since < datetime.fromisoformat(status["connection_since"]) <= datetime.fromisoformat(at)


def test_a_visit_open_when_backed_up_is_listed_after_the_restore_as_unfinished_in_the_backup(tmp_path, device):
    """A backup taken mid-visit holds the visit open, and its restore listed it on Today as "Visit not
    finished", though it may have finished after the backup: the restored device cannot know. The
    call-back is kept (one too many is safe, one too few is not), said to come from the restored backup."""
    directory, config, _ = device
    store = open_store(directory)
    visit_started(store, "mid-visit", "MRN-BACKED-UP", ["R", "L"], "amina")
    right = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-BACKED-UP", eye="R"))).result_id
    visit_recorded(store, "mid-visit", right)
    store.records.close()
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    store = open_store(target)
    assert close_lost_visits(store.records) == 0  # closed by the restore, not taken for one the app's last run lost
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    lost = [entry for entry in worklist(store.records, today) if entry.outcome == NOT_PHOTOGRAPHED]
    assert [(entry.eye, entry.result_id, entry.triage) for entry in lost] == [("L", right, "visit_in_backup")]
    assert edgescreen("audit", "verify", config=target_config).returncode == 0


def test_a_backup_of_another_device_is_restored_only_as_its_replacement_which_takes_its_ids(tmp_path, device):
    """The review's cam-01 backup restored on cam-03: its queued results named cam-01 on cam-03's topic,
    quarantined at the station for good. Refused unless told the device replaces cam-01, which then
    says exactly what to set; doctor is red until the config does."""
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    target_config.write_text(target_config.read_text().replace(f'id = "{DEVICE.id}"', 'id = "cam-03"'))

    refused = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert refused.returncode == 2, refused.stderr
    assert f"made by {DEVICE.id} at {DEVICE.site}, and this device's config says cam-03" in refused.stderr
    assert f"--replacing {DEVICE.id}" in refused.stderr
    wrong = edgescreen("restore", str(tmp_path / "b"), "--replacing", "cam-02", config=target_config)
    assert wrong.returncode == 2 and "--replacing cam-02 names another device" in wrong.stderr
    assert sorted(p.name for p in target.iterdir()) == ["config.toml", "records.key"]

    replaced = edgescreen("restore", str(tmp_path / "b"), "--replacing", DEVICE.id, config=target_config)
    assert replaced.returncode == 0, replaced.stderr
    assert f'[device] id = "{DEVICE.id}" and site = "{DEVICE.site}"' in replaced.stdout
    assert f"resend-verdicts {DEVICE.id}" in replaced.stdout
    with sqlite3.connect(target / "records.sqlite3") as db:
        assert dict(db.execute("SELECT key, value FROM meta WHERE key IN ('device_id', 'site_id')")) == {
            "device_id": DEVICE.id,
            "site_id": DEVICE.site,
        }


@pytest.mark.parametrize(("language", "owner"), [("en", "cam-01 at clinic-7"), ("fr", "cam-01 du site clinic-7")])
def test_a_replacement_is_told_whose_records_it_holds_in_the_devices_language(tmp_path, device, language, owner):
    """A French replacement read "les dossiers de cam-01 at clinic-7": the device and its site joined
    by the English "at" inside the French sentence."""
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    _, target_config = _fresh_device(tmp_path, directory)
    target_config.write_text(target_config.read_text().replace(f'id = "{DEVICE.id}"', 'id = "cam-03"'))
    in_language(target_config, language)
    replaced = edgescreen("restore", str(tmp_path / "b"), "--replacing", DEVICE.id, config=target_config)
    assert replaced.returncode == 0, replaced.stderr
    values = {"owner": owner, "config": str(target_config), "device": DEVICE.id, "site": DEVICE.site}
    assert replaced.stdout.splitlines()[-1] == sentence("restore.replacing", language, **values), replaced.stdout


def test_a_backup_of_another_site_is_refused_too(tmp_path, device):
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    _, target_config = _fresh_device(tmp_path, directory)
    target_config.write_text(target_config.read_text().replace(f'site = "{DEVICE.site}"', 'site = "clinic-b"'))
    refused = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert refused.returncode == 2 and f"must not hold {DEVICE.site}'s patients" in refused.stderr


def test_a_backup_is_kept_as_the_last_one_and_records_backed_up_before_the_upgrade_find_theirs(tmp_path, device):
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    with sqlite3.connect(directory / "records.sqlite3") as db:
        (at,) = db.execute("SELECT at FROM audit WHERE kind = 'export' ORDER BY seq DESC LIMIT 1").fetchone()
        assert db.execute("SELECT value FROM meta WHERE key = 'last_backup'").fetchone() == (at,)
        db.execute("DELETE FROM meta WHERE key = 'last_backup'")  # as the release before left them
        back_to(db, BEFORE_LAST_BACKUP)
    store = open_store(directory)
    try:
        assert last_backup(store.records) == datetime.fromisoformat(at)
    finally:
        store.records.close()
    assert doctor(config)[1]["backup"]["level"] == "green"
    config.write_text(
        config.read_text().replace("disk_reserve_mb = 0\n", "disk_reserve_mb = 0\nbackup_warning_days = 1\n")
    )
    with sqlite3.connect(directory / "records.sqlite3") as db:
        db.execute("UPDATE meta SET value = '2026-01-01T00:00:00+00:00' WHERE key = 'last_backup'")
    backup = doctor(config)[1]["backup"]
    assert backup["level"] == "amber" and "ask the technician to back them up" in backup["message"]


def _past_4_gib(database) -> None:
    """Records that SQLite reads as 4.5 GiB without writing them: the file grown sparse, and the
    header's page count marked stale (its "version-valid-for" no longer the change counter), so
    SQLite takes the count from the file's size, as it does for a file another program grew."""
    with database.open("r+b") as handle:
        handle.seek(92)
        handle.write(b"\xff\xff\xff\xff")
    os.truncate(database, 9 * 2**29)


def test_a_backup_too_large_for_a_fat32_stick_says_so_in_the_devices_language_before_copying(tmp_path, device):
    """FAT32, the format USB sticks are sold in, holds no file of 4 GiB or more: the copy failed at that
    size with "cannot be written there (disk I/O error); check that the folder exists", after the
    whole wait. The stick's file system is read from the mount table (here one written for the test,
    with the kernel's escape for the space of the label "NO NAME")."""
    directory, _, _ = device
    stick = tmp_path / "NO NAME"
    stick.mkdir()
    mountinfo = tmp_path / "mountinfo"
    escaped = str(stick).replace(" ", "\\040")
    mountinfo.write_text(
        "26 1 254:1 / / rw,relatime - ext4 /dev/mmcblk0p2 rw\n"
        f"98 26 8:1 / {escaped} rw,nosuid,nodev - vfat /dev/sda1 rw,fmask=0022\n"
    )
    _past_4_gib(directory / "records.sqlite3")
    store = open_store(directory)
    try:
        with pytest.raises(RequestRefused) as refused:
            backup(store, stick / "b", mountinfo)
    finally:
        store.records.close()
    said = refused.value.said_in("fr")
    assert "a file of 4.5 GB" in str(refused.value)  # the log line's English
    assert f"{stick / 'b'}\xa0: la sauvegarde de ces dossiers est un fichier de 4,5 Go" in said, said
    assert "FAT32" in said and "exFAT ou ext4" in said and "disk I/O error" not in said
    assert list(stick.iterdir()) == [] and backups_audited(directory) == 0
    assert largest_file(tmp_path, mountinfo) is None  # on the ext4 card, no such limit


def test_a_backup_dated_by_a_clock_a_year_fast_is_not_taken_for_a_recent_one(tmp_path, device):
    """A clock set by hand a year ahead during a campaign, then set right: the backup it dated read
    as "backed up 0 days ago", green for a year whatever was recorded after it."""
    directory, config, _ = device
    store = open_store(directory, clock=lambda: datetime.now(UTC) + timedelta(days=365))
    try:
        backup(store, tmp_path / "backup.sqlite3")
    finally:
        store.records.close()
    checked = doctor(config)[1]["backup"]
    assert checked["level"] == "amber" and "clock was wrong" in checked["message"]


def test_a_backup_made_before_the_slow_key_check_restores_with_its_key_only_and_takes_the_new_check(tmp_path, device):
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    key = (directory / "records.key").read_bytes()
    with sqlite3.connect(tmp_path / "b") as db:  # as a backup of the release before holds it
        db.execute("DELETE FROM meta WHERE key = 'key_check'")
        db.execute("INSERT INTO meta VALUES ('key_fingerprint', ?)", (legacy_fingerprint(key),))
    target, target_config = _fresh_device(tmp_path, directory)
    (target / "records.key").write_bytes(bytes(32))
    wrong = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert wrong.returncode == 5 and "is not the key these records were sealed with" in wrong.stderr
    (target / "records.key").write_bytes(key)
    assert edgescreen("restore", str(tmp_path / "b"), config=target_config).returncode == 0
    with sqlite3.connect(target / "records.sqlite3") as db:
        kept = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('key_check', 'key_fingerprint')"))
    assert list(kept) == ["key_check"] and kept["key_check"].startswith("scrypt$")


def test_a_photo_damaged_on_a_worn_card_is_named_by_the_backup_and_refuses_no_restore(tmp_path, device):
    """The backup said "20 image(s)" of records holding a photo that does not open, and the restore
    then refused the whole backup ("does not open with the key"): one flipped bit lost every screening."""
    directory, config, recorded = device
    damaged = recorded[7]
    with sqlite3.connect(directory / "records.sqlite3") as db:
        (sealed,) = db.execute("SELECT sealed FROM image WHERE result_id = ?", (damaged,)).fetchone()
    flip_a_bit_on_the_card(directory / "records.sqlite3", sealed)

    backed_up = edgescreen("backup", "--out", str(tmp_path / "b"), config=config)
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"1 photo does not open with the key: result {damaged}." in backed_up.stdout
    assert "Replace it, and restore this backup onto the new one" in backed_up.stdout

    target, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    assert f"restored {target / 'records.sqlite3'}: {len(recorded)} screenings" in restored.stdout
    assert f"1 photo does not open with the key: result {damaged}." in restored.stdout
    assert "every image opens" not in restored.stdout
    assert edgescreen("audit", "verify", config=target_config).returncode == 0
    store = open_store(target)
    try:
        for result_id in recorded:
            if result_id != damaged:
                assert store.export_images(result_id)[0][1].startswith(b"\xff\xd8")
        assert store.view(damaged)["outcome"] == "refer"
        restore_event = store.records.connection.execute("SELECT details FROM audit WHERE kind = 'restore'").fetchone()
    finally:
        store.records.close()
    assert json.loads(restore_event[0])["damaged_photos"] == [damaged]
    shown = edgescreen("records", "export", damaged, "--out", str(tmp_path / "out"), config=target_config)
    assert shown.returncode == 1 and f"not exported: the photo of result {damaged}," in shown.stderr


def test_the_only_photo_of_a_backup_damaged_is_not_taken_for_another_key(tmp_path, retina_rgb):
    """The records' key check proves the key: with every photo damaged (here, the only one) the
    screening still comes back, its photo named."""
    directory = tmp_path / "device"
    directory.mkdir()
    store = open_store(directory)
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    damage_a_sealed_value(store, "SELECT sealed FROM image")
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=write_config(directory, port=1)).returncode == 0
    _, target_config = _fresh_device(tmp_path, directory)
    restored = edgescreen("restore", str(tmp_path / "b"), config=target_config)
    assert restored.returncode == 0, restored.stderr
    assert f"1 photo does not open with the key: result {result_id}." in restored.stdout


def _erasing_as_each_copy_lands(store, config, out, patients: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Once a copy is on the drive, before the backup goes on, the next of ``patients`` is erased by the
    real `edgescreen erase` in its own process: committed after the copy's snapshot, as an erasure
    committed during the copy's read is (the copy holds the patient either way). The seam is SQLite's
    own statement hook on the backup's connection: the backup's next statement, once a new copy is there."""
    erased, seen = [], set()

    def on_statement(_statement: str) -> None:
        if not patients or not out.exists():
            return
        copy = (out.stat().st_ino, out.stat().st_ctime_ns)
        if copy not in seen:
            seen.add(copy)
            erased.append(edgescreen("erase", "--patient", patients.pop(0), config=config))

    store.records.connection.set_trace_callback(on_statement)
    return erased


def _recorded_for(store, photo, patient: str) -> list[bytes]:
    """A screening of ``patient``, and its sealed photo and reference in short pieces (``pieces``)."""
    recorded = record_one(store, photo, sample_record(ScreeningContext(patient_ref=patient, eye="L")))
    return pieces(erased_values(store, recorded.result_id))


def test_a_patient_erased_while_the_backup_copies_is_not_in_the_backup(tmp_path, device, retina_rgb):
    """The copy holds the records of the moment its read began: a patient erased during the copy was
    in the finished backup file (147 of 148 pieces of the photo), and the backup said nothing."""
    directory, config, recorded = device
    store = open_store(directory)
    out = tmp_path / "stick" / "records.backup"
    out.parent.mkdir()
    try:
        sealed = _recorded_for(store, small_photo(retina_rgb), "MRN-B")
        erased = _erasing_as_each_copy_lands(store, config, out, ["MRN-B"])
        summary = backup(store, out)
    finally:
        store.records.close()
    assert [run.returncode for run in erased] == [0], [run.stderr for run in erased]
    held = out.read_bytes()
    assert not [piece for piece in sealed if piece in held]  # on main: 147 of 148 pieces
    assert summary.screenings == len(recorded)
    with sqlite3.connect(out) as copy:
        assert copy.execute("SELECT count(*) FROM audit WHERE kind = 'erasure'").fetchone() == (1,)
    assert list(out.parent.iterdir()) == [out] and backups_audited(directory) == 1


def test_a_backup_that_erasures_keep_overtaking_is_refused_in_the_devices_language_and_leaves_no_file(
    tmp_path, device, retina_rgb
):
    directory, config, _ = device
    store = open_store(directory)
    out = tmp_path / "stick" / "records.backup"
    out.parent.mkdir()
    patients = [f"MRN-{n}" for n in range(COPIES)]
    try:
        for patient in patients:
            _recorded_for(store, small_photo(retina_rgb), patient)
        erased = _erasing_as_each_copy_lands(store, config, out, list(patients))
        with pytest.raises(RequestRefused) as refused:
            backup(store, out)  # on main: backed up, holding the patient erased after the copy
    finally:
        store.records.close()
    assert [run.returncode for run in erased] == [0] * COPIES
    for language in ("en", "fr"):
        said = refused.value.said_in(language)
        assert said == sentence("backup.erasures_overtook", language, path=str(out), copies=COPIES), said
    assert "patient" in str(refused.value) and "Nothing was left" in str(refused.value)
    assert list(out.parent.iterdir()) == [] and backups_audited(directory) == 0


def test_an_erasure_that_matched_no_patient_does_not_make_the_backup_copy_again(tmp_path, device):
    """A mistyped reference is audited as an erasure of nothing: the copy holds no one it erased."""
    directory, config, recorded = device
    store = open_store(directory)
    out = tmp_path / "stick" / "records.backup"
    out.parent.mkdir()
    try:
        mistyped = _erasing_as_each_copy_lands(store, config, out, ["MRN-TYPO"] * COPIES)
        summary = backup(store, out)
    finally:
        store.records.close()
    assert [run.returncode for run in mistyped] == [2]  # one copy, one mistyped erasure during it
    assert summary.screenings == len(recorded) and backups_audited(directory) == 1


def _sent(store, result_ids: list[str]) -> None:
    """``result_ids`` handed to the broker and acknowledged, as the sync worker marks them; the rest left unsent."""
    outbox = Outbox(store.records)
    claimed = {row.result_id: row.seq for row in outbox.claim(0, 100)}
    outbox.mark_sent([claimed[result_id] for result_id in result_ids])
    outbox.release([seq for result_id, seq in claimed.items() if result_id not in result_ids])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_restore_erases_again_the_patients_erased_after_its_backup_was_taken(tmp_path, device, language):
    """Patient P screened, backed up, erased (``edgescreen erase``), a result erased on the station's
    notice, the records lost, the backup restored: P and the station's result came back, silently (the
    patient's erasure, their right, undone by the technician's restore). The erasures this device made
    after the backup are made again, the station asked again for P's results it may hold (sent before the
    backup or after it), the restore's audit event names them, and the technician is told how many."""
    directory, config, recorded = device
    in_language(config, language)
    store = open_store(directory)
    sent_before, sent_after, unsent = patient_screenings(store, small_photo(), "MRN-P", 3)
    kept = patient_screenings(store, small_photo(), "MRN-Q", 1)
    _sent(store, [sent_before])
    store.records.close()
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    store = open_store(directory)
    _sent(store, [sent_after])
    by_the_station = recorded[0]
    assert store.erase_erased_at_the_station([by_the_station]).results == 1
    store.records.close()
    erased = edgescreen("erase", "--patient", "MRN-P", config=config)
    assert erased.returncode == 0, erased.stderr
    for path in database_files(directory / "records.sqlite3"):  # the records lost; their key is kept apart
        path.unlink(missing_ok=True)

    restored = edgescreen("restore", str(tmp_path / "b"), config=config)
    assert restored.returncode == 0, restored.stderr
    applied = sentence(
        "restore.erasures_applied", language, count=2, screenings=sentence("count.screenings", language, count=4)
    )
    assert applied in restored.stdout.splitlines(), restored.stdout  # on main: P and the station's result back
    store = open_store(directory)
    db = store.records.connection
    assert {row[0] for row in db.execute("SELECT result_id FROM screening")} == set(recorded[1:] + kept)
    waiting, altered = Outbox(store.records).erasures_to_send()
    asked = sorted(result_id for row in waiting for result_id in parse_erasure(row.payload).result_ids)
    assert (asked, altered) == (sorted([sent_before, sent_after]), 0)
    kind, details = db.execute("SELECT kind, details FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    restore_event = json.loads(details)
    assert kind == "restore" and restore_event["erasures_applied"] == 2
    assert sorted(restore_event["erased_again"]) == sorted([by_the_station, sent_before, sent_after, unsent])
    assert "MRN-P" not in details
    store.records.close()
    assert edgescreen("audit", "verify", config=config).returncode == 0
    again = edgescreen("erase", "--patient", "MRN-P", config=config)  # nothing of P is left to match
    assert again.returncode == 2, again.stdout


def test_a_restore_whose_ledger_of_erasures_cannot_be_read_restores_nothing(tmp_path, device):
    """Without it, every patient erased since the backup would come back, and nothing would say so."""
    directory, config, _ = device
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    for path in database_files(directory / "records.sqlite3"):
        path.unlink(missing_ok=True)
    (directory / "records.sqlite3.erasures").mkdir()  # not a file: it cannot be read
    refused = edgescreen("restore", str(tmp_path / "b"), config=config)
    assert refused.returncode == 5 and "erasures to make again in the restored records cannot be read" in refused.stderr
    assert "Nothing was restored" in refused.stderr and not (directory / "records.sqlite3").exists()


def test_a_replacement_given_the_old_devices_ledger_makes_its_erasures_again(tmp_path, device):
    """A replacement knows only its own erasures; the old device's ledger, copied from its card beside
    the records (README, Backup and restore), makes again those it made after its backup."""
    directory, config, recorded = device
    store = open_store(directory)
    erased = patient_screenings(store, small_photo(), "MRN-P", 2)
    store.records.close()
    assert edgescreen("backup", "--out", str(tmp_path / "b"), config=config).returncode == 0
    assert edgescreen("erase", "--patient", "MRN-P", config=config).returncode == 0
    target, target_config = _fresh_device(tmp_path, directory)
    target_config.write_text(target_config.read_text().replace(f'id = "{DEVICE.id}"', 'id = "cam-03"'))
    shutil.copy2(directory / "records.sqlite3.erasures", target / "records.sqlite3.erasures")
    replaced = edgescreen("restore", str(tmp_path / "b"), "--replacing", DEVICE.id, config=target_config)
    assert replaced.returncode == 0, replaced.stderr
    screenings = sentence("count.screenings", "en", count=len(erased))
    assert sentence("restore.erasures_applied", "en", count=1, screenings=screenings) in replaced.stdout
    with sqlite3.connect(target / "records.sqlite3") as db:
        assert sorted(row[0] for row in db.execute("SELECT result_id FROM screening")) == sorted(recorded)
