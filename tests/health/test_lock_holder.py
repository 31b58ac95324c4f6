"""The records' write lock held past a busy timeout: who holds it, by the kernel's /proc/locks, with a
real second process and real SQLite, and what the watchdog and the readiness list make of it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from firmware_app.config import load_config
from firmware_app.file_system import MOUNTINFO
from firmware_app.health import checks
from firmware_app.health.checks import Level, check_records_writable
from firmware_app.health.doctor import doctor_checks
from firmware_app.health.encryption import mount_of
from firmware_app.health.liveness import liveness, lock_held_still
from firmware_app.health.lock_holder import PROC_LOCKS, LockHolder, write_lock_holder
from firmware_app.messages import sentence
from firmware_app.records import database as database_module
from firmware_app.service.watchdog import Watchdog
from firmware_app.wording import check_sentence
from tests.health.failing_share import failing_share
from tests.health.lock_holding import WAITED, holding_the_lock, killed_after_a_minute
from tests.mqtt_broker import wait_until
from tests.records.kit import in_language, open_store, write_config


@pytest.fixture()
def records(tmp_path, monkeypatch):
    """Real records in WAL mode, the app's connection to them open (its read locks on the shared
    memory stay), and a probe that waits 0.2 s for the lock where the device waits 30 s."""
    store = open_store(tmp_path)
    store.records.connection.execute("SELECT count(*) FROM screening").fetchone()
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 0.2)
    yield tmp_path / "records.sqlite3"
    store.records.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_lock_another_program_holds_names_it_and_is_amber_to_the_watchdog(records, language):
    """A backup, an erasure or a root shell's sqlite3 holding the write lock past a busy timeout was
    "another program keeps them locked", red to the watchdog, which restarted the app every minute:
    that freed nothing and took the nurse's screen away. The kernel names the holder: red on the
    readiness list with its name and pid and what to do, amber to the watchdog (the pings go on).
    The app's own connection holding it is one of its writers wedged: red to the watchdog still, which
    has systemd restart the app (the app's read locks on the shared memory are not taken for it)."""
    with holding_the_lock(records) as holder:
        wedged = check_records_writable(records)
        [watched] = liveness(records, [])
    assert (wedged.level, wedged.message_key) == (Level.RED, "health.writable.locked_by")
    assert wedged.values["program"] == "backup-tool" and wedged.values["pid"] == holder.pid
    assert (watched.level, watched.message_key) == (Level.AMBER, wedged.message_key)
    said = check_sentence(wedged, language)
    assert f"backup-tool ({'process' if language == 'en' else 'processus'} {holder.pid})" in said
    assert f"sudo kill {holder.pid}" in said and f"{WAITED[language]} s" in said
    assert check_records_writable(records).level is Level.GREEN  # the holder gone, the lock is given back
    own = sqlite3.connect(records, isolation_level=None)  # the app's own writer, wedged: a restart frees it
    own.execute("BEGIN IMMEDIATE")
    try:
        [watched] = liveness(records, [])
    finally:
        own.execute("ROLLBACK")
        own.close()
    assert (watched.level, watched.message_key) == (Level.RED, "health.writable.locked")


# The watchdog's records check, run in a process of its own: its level, key and French sentence.
ASKS = (
    "import sys; from pathlib import Path; from firmware_app.health import checks; checks.BUSY_TIMEOUT_S = 0.2; "
    "from firmware_app.health.liveness import liveness; from firmware_app.wording import check_sentence; "
    "[c] = liveness(Path(sys.argv[1]), []); print(c.level, c.message_key, check_sentence(c, 'fr'), sep='|')"
)


def test_a_holder_proc_does_not_name_is_another_process_and_its_pid(records):
    """The service's /proc hides other users' processes (ProtectProc=invisible): a root shell's
    sqlite3 holding the lock has no name the service can read, but the kernel's list of locks gives
    its pid. Not this process's, so amber to the watchdog: "another process", its pid, and the
    command that names it. Here a /proc mounted so, the holder a user's other than the checker's. Run
    in a PID namespace of its own (a container), the check finds no lock listed: who holds it cannot
    be known, and the watchdog does as it did (red: systemd restarts the app)."""
    hidden = (
        "mount -t proc -o hidepid=invisible proc /proc && exec setpriv --bounding-set -sys_ptrace --regid 65534 "
        '--clear-groups "$@"'
    )
    checker = ["unshare", "--mount", "--propagation", "private", "sh", "-c", hidden, "sh"]
    in_container = ["unshare", "--pid", "--fork", "--mount-proc"]  # the kernel lists no lock from outside
    with holding_the_lock(records, uid=65534) as holder:
        run = subprocess.run([*checker, sys.executable, "-c", ASKS, str(records)], capture_output=True, text=True)
        unlisted = subprocess.run(
            [*in_container, sys.executable, "-c", ASKS, str(records)], capture_output=True, text=True
        )
    level, key, said = run.stdout.strip().split("|")
    assert (level, key) == ("amber", "health.writable.locked_by_another"), run.stderr
    assert said.startswith(
        f"Les dossiers ne peuvent pas être écrits\u00a0: le processus {holder.pid}, dont ce contrôle"
    )
    assert f"sudo ps -o user,args -p {holder.pid}" in said
    level, key, _ = unlisted.stdout.strip().split("|")
    assert (level, key) == ("red", "health.writable.locked"), unlisted.stderr  # who cannot be known: as before


def test_the_readiness_list_names_the_holder_the_watchdog_found_while_it_holds_the_lock(records, monkeypatch):
    """The readiness list waits on no other program's write, so it cannot time a lock; the watchdog
    does. While its last check found another program holding the lock and the kernel lists that
    program holding it still, the list's writable line is that finding, red (every screening would
    fail on it); the holder gone, it is not, at once, whatever the watchdog last found."""
    watchdog = Watchdog(lambda: liveness(records, []), interval_s=0)
    assert watchdog.check_once() and lock_held_still(watchdog.found, records) is None
    with holding_the_lock(records) as holder:
        assert watchdog.check_once()  # amber: the pings go on
        monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 600.0)  # a wait for the lock outlasts the guard
        with killed_after_a_minute(holder):
            held = lock_held_still(watchdog.found, records)
        assert holder.poll() is None  # answered while the lock was held: it waited on nobody's
    assert held is not None and (held.level, held.message_key) == (Level.RED, "health.writable.locked_by")
    assert held.values["pid"] == holder.pid
    assert lock_held_still(watchdog.found, records) is None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_names_the_program_holding_the_lock_past_a_busy_timeout(tmp_path, records, language, monkeypatch):
    """``edgescreen doctor`` asked the kernel alone and was green while every screening failed on a
    lock another program held: its writable line now waits for the lock as the device's writers do,
    and names the holder, red, in the device's language."""
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 0.2)  # doctor's other writes wait on it too
    config = load_config(str(in_language(write_config(tmp_path, 1), language)))
    with holding_the_lock(records) as holder:
        writable = next(check for check in doctor_checks(config) if check.name == "writable")
    assert (writable.level, writable.message_key) == (Level.RED, "health.writable.locked_by")
    values = {"program": "backup-tool", "pid": holder.pid, "seconds": WAITED[language]}
    assert check_sentence(writable, language) == sentence("health.writable.locked_by", language, **values)


def test_a_holder_whose_name_the_kernel_cut_inside_a_character_is_named_and_the_pings_go_on(records):
    """The kernel keeps a program's name to 15 bytes (``/proc/PID/comm``), cutting ``backup_数据库`` inside
    库. Reading it raised ``UnicodeDecodeError`` out of the records check: the watchdog's thread died
    with it, its pings stopped, and systemd restarted the app every ``WatchdogSec`` while that program
    held the lock. The name is read with the cut character replaced: amber to the watchdog, which
    pings on."""
    watchdog = Watchdog(lambda: liveness(records, []), interval_s=0)
    with holding_the_lock(records, program="backup_数据库") as holder:
        assert watchdog.check_once()  # amber: the pings go on
    [watched] = watchdog.found
    assert (watched.level, watched.message_key) == (Level.AMBER, "health.writable.locked_by")
    assert (watched.values["program"], watched.values["pid"]) == ("backup_数据\ufffd", holder.pid)


def test_another_programs_flock_on_the_records_file_is_not_the_write_lock(records):
    """SQLite locks with POSIX locks; a ``flock`` on the records file (``flock(1)`` around a backup
    script) keeps none of its writers out. Listed as a WRITE lock on the file, it was named holding
    the write lock once the lock was given back: "flock (process N) has kept them locked", and
    ``sudo kill N``, of a program that held no one up. Nobody is named for it now; a SQLite holder
    beside it is."""
    flock = subprocess.Popen(["flock", str(records), "sleep", "60"])
    try:
        wait_until(lambda: f" {flock.pid} " in PROC_LOCKS.read_text(), 5, "flock(1) to hold its lock")
        assert write_lock_holder(records) is None
        with holding_the_lock(records) as holder:
            assert write_lock_holder(records) == LockHolder(holder.pid, "backup-tool", None)
    finally:
        flock.kill()
        flock.wait()


@contextmanager
def mounted(at: Path, *how: str) -> Iterator[Path]:
    """A file system mounted at ``at`` (``mount`` with ``how``) until the block ends; skips where
    mounting is not allowed (needs root)."""
    at.mkdir(exist_ok=True)
    mounting = subprocess.run(["mount", *how, str(at)], capture_output=True, text=True)
    if mounting.returncode != 0:
        pytest.skip(f"cannot mount here (needs root): {mounting.stderr.strip()}")
    try:
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], check=True)


def _apart_from_its_superblock(path: Path) -> bool:
    """Whether ``stat`` gives ``path`` another device than its mount's (its superblock's), the one
    /proc/locks names it by."""
    mount = mount_of(path, MOUNTINFO.read_text())
    assert mount is not None
    return f"{os.major(path.stat().st_dev)}:{os.minor(path.stat().st_dev)}" != mount.device


def _named_and_amber_to_the_watchdog(database: Path, monkeypatch) -> None:
    """A second process holding the write lock of the records at ``database`` is named, and the
    watchdog's records check is amber (the app is not restarted for it)."""
    monkeypatch.setattr(checks, "BUSY_TIMEOUT_S", 0.2)
    with closing(sqlite3.connect(database)) as app:
        app.execute("SELECT count(*) FROM screening").fetchone()  # the app's read locks on the shared memory
        assert _apart_from_its_superblock(database.with_name("records.sqlite3-shm"))
        with holding_the_lock(database) as holder:
            named = write_lock_holder(database)
            [watched] = liveness(database, [])
    assert named == LockHolder(holder.pid, "backup-tool", None)
    assert (watched.level, watched.message_key) == (Level.AMBER, "health.writable.locked_by")


def test_records_on_an_overlay_of_two_file_systems_name_the_holder(tmp_path, monkeypatch):
    """An overlay whose layers lie on two file systems (a read-only image below, the card above)
    gives each layer's files a device of its own to ``stat``, while /proc/locks names them by the
    overlay's (its superblock's): the holder was never found, and the watchdog had the app restarted
    every minute while a backup held the lock. It is named now, by the overlay's device that
    /proc/self/mountinfo gives."""
    upper, work = tmp_path / "upper", tmp_path / "work"
    upper.mkdir()
    work.mkdir()
    with mounted(tmp_path / "image", "-t", "tmpfs", "tmpfs") as lower:
        layers = f"lowerdir={lower},upperdir={upper},workdir={work}"
        with mounted(tmp_path / "merged", "-t", "overlay", "overlay", "-o", layers) as merged:
            open_store(merged).records.close()
            _named_and_amber_to_the_watchdog(merged / "records.sqlite3", monkeypatch)


# Another program's write lock on the byte SQLite's write lock takes, on the file at argv[1].
DECOY = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "fcntl.lockf(fd, fcntl.LOCK_EX, 1, 120)\n"
    "print('held', flush=True)\n"
    "time.sleep(120)\n"
)


def test_records_on_a_btrfs_subvolume_name_the_holder_and_not_a_lock_on_another_subvolumes_file(tmp_path, monkeypatch):
    """btrfs gives each subvolume a device of its own to ``stat``, the top one included, while
    /proc/locks names every file by the file system's (its superblock's): the holder was never
    found, and the watchdog had the app restarted every minute while a backup held the lock. Named
    now, by the device /proc/self/mountinfo gives. Two subvolumes number their files alike under
    that device: a lock on the other subvolume's file of the shared memory's number is not taken for
    the records' (the holder must have the shared memory open)."""
    if shutil.which("mkfs.btrfs") is None:
        pytest.skip("needs mkfs.btrfs (btrfs-progs)")
    image = tmp_path / "btrfs.img"
    with image.open("wb") as disk:
        disk.truncate(256 * 2**20)
    subprocess.run(["mkfs.btrfs", "-q", str(image)], check=True, capture_output=True)
    with mounted(tmp_path / "disk", "-o", "loop", str(image)) as disk:
        for subvolume in ("records", "other"):
            subprocess.run(["btrfs", "-q", "subvolume", "create", str(disk / subvolume)], check=True)
        open_store(disk / "records").records.close()
        database = disk / "records" / "records.sqlite3"
        with closing(sqlite3.connect(database)) as app:
            app.execute("SELECT count(*) FROM screening").fetchone()  # the shared memory is there
            number = database.with_name("records.sqlite3-shm").stat().st_ino
            other = next(
                path for path in (disk / "other" / f"file{n}" for n in range(number)) if _made(path).st_ino == number
            )
            decoy = subprocess.Popen([sys.executable, "-c", DECOY, str(other)], stdout=subprocess.PIPE, text=True)
            try:
                assert decoy.stdout is not None and decoy.stdout.readline() == "held\n"
                assert write_lock_holder(database) is None
                _named_and_amber_to_the_watchdog(database, monkeypatch)
            finally:
                decoy.kill()
                decoy.wait()


def _made(path: Path) -> os.stat_result:
    """``path`` made empty, and what ``stat`` says of it."""
    path.touch()
    return path.stat()


@pytest.mark.parametrize("answer", ["eio", "never"])
def test_a_holder_with_a_file_open_on_a_share_gone_away_is_named_and_the_watchdog_goes_on(records, tmp_path, answer):
    """A backup holding the write lock with its log open on a network share gone away: the holder's
    every open file was asked of its file system (``stat``) to find the records' among them, and the
    share answered ``EIO``, which killed the watchdog's thread (its pings with it: systemd restarted
    the app), or never answered, and the thread hung. Named now, amber to the watchdog, at once."""
    with failing_share(tmp_path / "share") as share, holding_the_lock(records, log=share.at / "log") as holder:
        share.stat_answer = answer
        found: list[list[checks.Check]] = []
        watchdog = threading.Thread(target=lambda: found.append(liveness(records, [])), daemon=True)
        watchdog.start()
        watchdog.join(10)
        share.stat_answer = "ok"
    assert found, "the watchdog's check raised or hung"
    [[watched]] = found
    assert (watched.level, watched.message_key) == (Level.AMBER, "health.writable.locked_by")
    assert watched.values["pid"] == holder.pid
