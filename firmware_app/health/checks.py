"""The readiness checks: each looks at one part of the device and says green, amber or red, with
the catalogue key of the sentence that tells the nurse what to do (``health.<check>.<level>``)."""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import pwd
import shutil
import sqlite3
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509

from edgescreen_wire.client_identity import common_name
from edgescreen_wire.verdict_signature import VerdictKeyError, read_public_key
from firmware_app.bundles.keys import KeyFileError
from firmware_app.bundles.manifest import BundleError, InstalledCopyGone
from firmware_app.calibration.profile import ProfileError, ProfileMissing, ProfileOfAnotherDevice, device_profile
from firmware_app.capture.camera import CameraError, CameraMisconfigured
from firmware_app.config import AppConfig, DeviceConfig, QualityConfig, SyncConfig
from firmware_app.file_system import MOUNTINFO
from firmware_app.health.encryption import Mount, encrypted, mount_of
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.health.lock_holder import LockHolder, locks_listed, write_lock_holder
from firmware_app.health.service_user import (
    SERVICE_USER,
    has_access_acl,
    judged_for,
    may_write,
    passes_over_file_modes,
    permission_class,
)
from firmware_app.inference.card import MODALITIES
from firmware_app.inference.errors import ModelMissing, ModelRunFailed, WrongModality
from firmware_app.inference.interpreter import RuntimeMissing
from firmware_app.quality.gate import DEVICE_DECLARED, RULES
from firmware_app.quality.verdict import is_lower_limit
from firmware_app.records.clock import BUILD_DATE, FUTURE_TOLERANCE, PROJECT_START, libc
from firmware_app.records.database import (
    BUSY_TIMEOUT_S,
    DiskFull,
    HeldAlone,
    RecordsDamaged,
    RecordsLocked,
    database_files,
    held_alone_here,
)
from firmware_app.records.erased_pages import pay_checkpoint
from firmware_app.records.identity import Identity
from firmware_app.records.outbox import DAMAGED, REFUSED
from firmware_app.records.presence import made_elsewhere, records_gone
from firmware_app.records.sealed_values import results_with_values_that_do_not_open
from firmware_app.records.sealing import KEY_BYTES
from firmware_app.records.store import Records
from firmware_app.records.witness import Loss
from firmware_app.secret_file import ExposedSecret, refuse_exposed
from firmware_app.sync.tls import TlsKeyExposed, TlsUnusable, client_context

# A profile this old still works, but optics and lamps drift: recalibrate.
CALIBRATION_MAX_AGE_DAYS = 180
# Storage under twice the reserve: warn while screening still works.
DISK_WARNING_FACTOR = 2
BACKLOG_WARNING_DAYS = 2
BACKLOG_RED_FRACTION = 0.9
# fake-hwclock saves the time hourly: after a power cut a board boots up to an hour behind, which
# is not worth blocking screening for.
CLOCK_BEHIND_TOLERANCE = timedelta(hours=2)
# A certificate this close to expiry is amber: enough time to issue and install the next one.
CERTIFICATE_WARNING_DAYS = 30
# Where the device's services may write under ProtectSystem=strict: their StateDirectory=, with no
# ReadWritePaths= (systemd/edgescreen-app.service and edgescreen-sync.service, which both write the
# records; tests/service/test_units.py holds this to them).
SERVICE_WRITABLE = Path("/var/lib/edgescreen")
# The embedded defaults' ids (config.py), on which the bundled demo runs (scripts/run): every demo
# device shares them, so the station files each one's results under the same names.
DEMO = DeviceConfig()


class Level(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``message_key`` and ``values`` make the sentence in the nurse's language."""

    name: str
    level: Level
    message_key: str
    values: Mapping[str, Any] = field(default_factory=dict)


def _check(name: str, level: Level, variant: str | None = None, **values: Any) -> Check:
    return Check(name, level, f"health.{name}.{variant or level.value}", values)


def _model_failure(error: Exception) -> str | None:
    """The ``health.models`` variant for a model refused with ``error``: each sends the technician to
    another remedy (install the runtime, mend the trusted keys, install the model, reinstall its signed
    bundle, reinstall or roll back a copy gone, correct ``[models]``) or, for a model that failed while running on a
    photo, to use the photo again; the model's own words go to the log."""
    if isinstance(error, ModelRunFailed):
        return "failed"
    if isinstance(error, RuntimeMissing):  # no model runs, whichever is installed: no reinstall mends it
        return "runtime"
    if isinstance(error, KeyFileError):  # no bundle verifies, and a reinstall is refused the same way
        return "keys"
    if isinstance(error, ModelMissing):
        return "missing"
    if isinstance(error, WrongModality):
        return "wrong"
    if isinstance(error, InstalledCopyGone):  # installed, then deleted: not a model to install for the first time
        return "gone"
    if isinstance(error, BundleError):
        return "refused"
    return None


def model_refused(error: Exception) -> Check:
    """A model refused with ``error``, red by its kind (``_model_failure``): what the readiness list and
    ``doctor`` show, what a command that loads the model says when it stops, and what the app's error
    page says of a model that fails mid-visit."""
    return _check("models", Level.RED, _model_failure(error), error=error)


def check_models(load: Callable[[], list[str]]) -> Check:
    """``load`` loads and verifies every configured model and returns their "id version" names."""
    try:
        names = load()
    except Exception as error:  # any refusal (card, sha256, tensors, runtime) blocks screening
        return model_refused(error)
    return _check("models", Level.GREEN, models=", ".join(names))


MISCONFIGURED = "misconfigured"
CAMERA_MISCONFIGURED = f"health.camera.{MISCONFIGURED}"  # the nurse's screen words it apart: no cable fixes it


def check_camera(probe: Callable[[], bool]) -> Check:
    """``probe`` opens the camera and reads a frame; ``False`` when another screen holds it. A red
    check's ``error`` is always a ``CameraError``: its sentence says what happened in the reader's
    language (``wording.check_values``), its message is the technician's, for the log."""
    try:
        free = probe()
    except CameraMisconfigured as error:
        return camera_misconfigured(error)
    except Exception as error:  # a camera failure of any kind: say it, never crash the check
        return _check("camera", Level.RED, error=CameraError.of(error))
    return _check("camera", Level.GREEN if free else Level.AMBER)


def camera_misconfigured(error: CameraMisconfigured) -> Check:
    """A camera no cable fixes, the configuration or the install does (a profile its frames do not
    fit, a driver not installed): what ``check_camera`` shows, and what a command says when it stops."""
    return _check("camera", Level.RED, MISCONFIGURED, error=error)


def check_calibration(profile: Path | None, device_id: str, now: datetime, in_use: str | None = None) -> Check:
    """No profile is allowed (results say uncalibrated) but worth a warning; a broken one is red; an
    age is judged only from a date that can be true, and one dated on a clock not yet set is of any
    age: worth a warning too. ``in_use`` is the id the running app applies (the app's list; ``doctor``
    cannot know it): a file that now holds another profile (remade, or mended after the app started
    without it) is red until a restart, as results would name one profile while ``doctor`` names
    another. One made on another device is red; one that does not say which device it was made on
    (made before profiles named theirs) is a warning, as it may be another's."""
    if profile is None:
        return _check("calibration", Level.AMBER, "none")
    try:
        loaded = device_profile(profile, device_id)
    except (ProfileError, OSError) as error:
        return profile_refused(error)
    if in_use is not None and in_use != loaded.id:
        return _check("calibration", Level.RED, "changed", id=loaded.id, in_use=in_use)
    updated = datetime.fromisoformat(loaded.updated or loaded.created)
    updated = updated if updated.tzinfo else updated.replace(tzinfo=UTC)
    # Made on a clock not yet set (1970), or set ahead (a hand-set year): it may be any age, even
    # years; one dated ahead read "0 days old" until that date came round.
    if updated < PROJECT_START or updated > now + FUTURE_TOLERANCE:
        return _check("calibration", Level.AMBER, "undated", id=loaded.id)
    if not loaded.device_id:
        return _check("calibration", Level.AMBER, "unnamed", id=loaded.id)
    days = max(0, (now - updated).days)
    old = days > CALIBRATION_MAX_AGE_DAYS
    return _check("calibration", Level.AMBER if old else Level.GREEN, "old" if old else None, id=loaded.id, days=days)


def profile_refused(error: Exception) -> Check:
    """A profile refused with ``error``, red by its kind: another device's, missing (put it back or
    calibrate), or unreadable (calibrate again); what ``check_calibration`` shows, and what a command
    that loads the profile says when it stops."""
    if isinstance(error, ProfileOfAnotherDevice):
        return _check("calibration", Level.RED, "other_device", made_on=error.made_on, device=error.device_id)
    if isinstance(error, ProfileMissing):
        return _check("calibration", Level.RED, "missing", error=error)
    return _check("calibration", Level.RED, error=error)


def nearest_existing(folder: Path) -> Path:
    """``folder``, or before the first screening made it, the nearest folder above it: on the file
    system it will be made on."""
    return next(path for path in (folder, *folder.parents) if path.exists())


def check_encryption(
    folder: Path, mountinfo: Path = Path("/proc/self/mountinfo"), sys_root: Path = Path("/sys")
) -> Check:
    """Amber, never red, when the records' ``folder`` is not on a dm-crypt device
    (``health/encryption.py``): the device screens safely, but a lost or stolen card exposes every
    patient on it, key included; nothing the nurse does changes it, the installation does (README,
    "A lost or stolen device")."""
    try:
        mount = mount_of(nearest_existing(folder), mountinfo.read_text())
    except OSError:
        mount = None
    if mount is None:
        return _check("encryption", Level.AMBER, "unknown", folder=folder, source="?", fstype="?")
    values = {"folder": folder, "source": mount.source, "fstype": mount.fstype}
    state = encrypted(mount, sys_root)
    if state is None:
        return _check("encryption", Level.AMBER, "unknown", **values)
    return _check("encryption", Level.GREEN if state else Level.AMBER, **values)


def check_disk(directory: Path, reserve_bytes: int, incoming_bytes: int) -> Check:
    """Red when one more screening (``incoming_bytes``) would eat into the reserve: the records
    would refuse it, so the nurse must know before the photo, not after."""
    free = shutil.disk_usage(directory).free
    # ``free`` and ``reserve`` in MB (what the storage is short of, and ``doctor --json`` since its
    # first release), ``free_gb`` as the status bar says it (wording.check_values in the reader's
    # language).
    values = {
        "free": free // 2**20,
        "free_gb": round(free / 2**30, 1),
        "free_bytes": free,
        "reserve": reserve_bytes // 2**20,
    }
    if free - incoming_bytes < reserve_bytes:
        return _check("disk", Level.RED, **values)
    if free < DISK_WARNING_FACTOR * reserve_bytes + incoming_bytes:
        return _check("disk", Level.AMBER, **values)
    return _check("disk", Level.GREEN, **values)


def check_records(records: Records) -> Check:
    """``PRAGMA quick_check`` over the whole file: every page of every table and index, images
    included, so it costs what the file weighs (63 ms for 241 MB on a desktop, several times that on
    a Pi's SD card). The app runs it with every full run and reuses it in between
    (``health.readiness.Scans``)."""
    try:
        answer = records.connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as error:
        return _check("records", Level.RED, error=error)
    return _check("records", Level.GREEN) if answer == "ok" else _check("records", Level.RED, error=answer)


def check_committed(loss: Loss | None) -> Check:
    """Red when the records lost screenings (or an erasure) they had committed, as their witness
    saw them (``records/witness.py``). It blocks screening: the card has lost what it confirmed as
    saved, so the next patient's screening may go the same way, and the remedy, a restore onto a new
    card, replaces the records, which would lose whatever is screened meanwhile. The nurse learns when
    the lost screenings were taken (those patients may need screening again)."""
    if loss is None:
        return _check("committed", Level.GREEN)
    values = {"missing": loss.missing, "event": loss.event, "head": loss.head}
    if loss.missing == 0:
        return _check("committed", Level.RED, "changes", **values)
    if loss.after is None:
        return _check("committed", Level.RED, "all", until=loss.until, **values)
    return _check("committed", Level.RED, after=loss.after, until=loss.until, **values)


def check_sealed(records: Records) -> Check:
    """Every sealed value opened with the key (``records/sealed_values.py``, for the technician: it
    reads every photo). Amber, naming the results, when one does not: screening is safe, but the
    card is wearing out, and a backup taken now still holds everything else whole."""
    try:
        damaged = results_with_values_that_do_not_open(records.connection, records.sealer)
    except sqlite3.Error as error:  # a damaged page on the way: the records check is red for it
        return _check("sealed", Level.AMBER, "unread", error=error)
    if damaged:
        return _check("sealed", Level.AMBER, count=len(damaged), results=", ".join(damaged))
    return _check("sealed", Level.GREEN)


def check_erased(records: Records) -> Check:
    """Whether the pages an erasure removed are off the disk (``records/erased_pages.py``), folded out
    of the write-ahead log here if a reader that held them back (a backup) is gone: amber while one
    still reads, or while the checkpoint fails (a full disk, damaged records, records that cannot be
    written), so the technician answering an erasure request knows it is not complete yet, and what
    to mend: waiting for a reader to finish would not."""
    unpaid = pay_checkpoint(records, wait=True)
    if unpaid is None:
        return _check("erased", Level.GREEN)
    failure = {} if unpaid.failure is None else {"error": unpaid.failure}
    return _check("erased", Level.AMBER, unpaid.cause, **failure)


def records_unusable(error: Exception) -> Check:
    """The records could not even be opened (``doctor``), or failed a command that used them: red, by
    ``records_problem``'s cause (damaged, a full disk, anything else: a folder or file system that
    cannot be written, a worn card's read error), as "damaged" would send a technician after a file
    that is whole. A full disk on which a process holds them alone names it (``HeldAlone``), as the
    kernel listed it: the sync worker, which sends until there is room, or another program (a
    technician's ``sqlite3``), which freeing space alone does not stop. Records another process
    kept locked are said as the watchdog says a lock held past its wait (``locked``), naming that
    process: neither the disk nor the card is at fault, and the sync worker holds nothing (and where
    the kernel's list of locks cannot be read, that who holds them cannot be told)."""
    if isinstance(error, RecordsDamaged):
        return _check("records", Level.RED, error=error)
    if isinstance(error, RecordsLocked):
        return locked(error.path, error, error.waited_s)
    if isinstance(error, HeldAlone):
        variant, named = _holder_named(error.holder)
        return _check("records", Level.RED, f"held_alone_{variant}", error=error, **named)
    return _check("records", Level.RED, "full" if isinstance(error, DiskFull) else "unusable", error=error)


def no_records_yet(database: Path, key_file: Path, marker: Path | None = None) -> Check:
    """Green on a device before its first screening, which has neither records nor their key. Red
    when the key is there: records were made with it, and they are gone (a records drive not
    mounted, a card replaced before its backup was restored), which new, empty records would hide:
    every command refuses to make them then (``records/presence.py``). Red too when the key is gone
    with them (kept on their drive) and the device's ``marker`` names them, and when it names records
    made elsewhere (``made_elsewhere``): the first screening would be refused."""
    if records_gone(database, key_file):
        return _check("records", Level.RED, "missing", path=database)
    if records_gone(database, key_file, marker):
        return _check("records", Level.RED, "made_there", path=database, marker=marker)
    if elsewhere := made_elsewhere(marker, database):
        return _check("records", Level.RED, "elsewhere", path=database, named=elsewhere, marker=marker)
    return _check("records", Level.GREEN, "none", path=database)


def check_identity(configured: Identity, recorded: Identity | None = None) -> Check:
    """Red while the installed config's placeholder ids are left: the station's registry knows no
    such device, so every result would be quarantined there and no specialist would see it. Red too
    when the config's ids are not those the records were made under (``records/identity.py``): a
    backup of another device restored here (its queued results would be quarantined), or a device
    moved to another site by an edit of the config (the old clinic's patients readable at the new).
    Amber while either is the demo's: a campaign's device files its results under another device's
    name, but the bundled demo itself screens on them, so they never block."""
    values = {"device": configured.device, "site": configured.site}
    if configured.placeholder:
        return _check("identity", Level.RED, **values)
    if recorded is not None and recorded != configured:
        return _check(
            "identity", Level.RED, "moved", **values, records_device=recorded.device, records_site=recorded.site
        )
    if configured.device == DEMO.id or configured.site == DEMO.site:
        return _check("identity", Level.AMBER, "demo", **values)
    return _check("identity", Level.GREEN, **values)


def check_audit(records: Records, since_verified: bool = False) -> Check:
    """The whole audit chain and every result against its event; ``since_verified``, only what was
    recorded after the last verification found the chain intact (``Records.verify_audit``)."""
    chain = records.verify_audit(since_verified)
    if chain.intact:
        return _check("audit", Level.GREEN, events=chain.events)
    return _check("audit", Level.RED, event=chain.first_bad)


def check_clock(
    now: datetime, synchronised: bool, latest_synchronised: datetime | None = None, ahead: int = 0
) -> Check:
    """How far ``now`` can be trusted, by the clock states of records/clock.py.

    Red only when the clock is certainly wrong, so the nurse can fix it by setting the time: before
    this version's build date, or, while the kernel says the clock is not synchronised, behind the
    last screening recorded on a synchronised clock by more than ``CLOCK_BEHIND_TOLERANCE``. On a
    synchronised clock ``now`` wins: ``ahead`` screenings dated after it were recorded while the
    clock ran fast (a fake-hwclock time NTP has since set back); they are named, amber, and never
    block (the clock is already right: nothing to do but know their times are off). An
    unsynchronised clock is amber: photos are never purged by it (records/store.py), so the card
    fills up until NTP is configured.
    """
    # ``at``: shown in local time where a language is known (wording.check_values).
    shown = {"now": now.strftime("%Y-%m-%d %H:%M UTC"), "at": now}
    if now < BUILD_DATE:
        return _check("clock", Level.RED, **shown)
    if synchronised:
        return (
            _check("clock", Level.AMBER, "ahead", count=ahead, **shown)
            if ahead
            else _check("clock", Level.GREEN, **shown)
        )
    if latest_synchronised is not None and now < latest_synchronised - CLOCK_BEHIND_TOLERANCE:
        return _check("clock", Level.RED, **shown)
    return _check("clock", Level.AMBER, "unsynchronised", **shown)


def check_broker(sync: Mapping[str, Any]) -> Check:
    """Offline is amber, never red: the device screens offline and results wait in the outbox. The
    nurse reads which of three things it is (connecting, the site server unreachable, the sync service
    not running) in her language, on one line her readiness list has room for; once a connection
    failed, its cause (``failure``, ``sync.failure``) rides along for the technician, whose sentence
    (``wording.check_sentence``: doctor's line) says it with what to do; the worker's own words stay in
    ``state``."""
    state = sync["connection"]
    if state == "connected":
        return _check("broker", Level.GREEN)
    # While the worker tries again, why its last connection failed: each cause has its own remedy.
    failure = {"failure": sync["last_failure"]} if sync.get("last_failure") else {}
    if state in ("starting", "connecting"):
        return _check("broker", Level.AMBER, "connecting", state=state, **failure)
    if state == "disconnected":
        return _check("broker", Level.AMBER, state=state, **failure)
    if state == REFUSED:  # reached, and refused: the technician's to fix, not the network's
        return _check("broker", Level.AMBER, REFUSED, state=state, **failure)
    if state == DAMAGED:  # the records, not the network: results the card lost a page of wait for a technician
        return _check("broker", Level.AMBER, "damaged", state=state)
    return _check("broker", Level.AMBER, "service", state=state)


def check_backlog(
    sync: Mapping[str, Any], max_rows: int, refuses_when_full: bool, past_age_cap: int | None = None
) -> Check:
    """Near the outbox's cap, red where it will refuse screenings; amber where it will delete the
    oldest unsent results instead (``drop_oldest``): screening goes on, but the network is the only
    thing that keeps those patients' results from being lost. ``past_age_cap``: the age cap in days,
    when an unsent result is past it (``records.store.oldest_past_age``); where that refuses, red
    too, before a patient is started whose photos could not be recorded.

    Results ``drop_oldest`` deleted are amber, before it deletes more, until a technician acknowledges
    them (``sync acknowledge-dropped``): mending the cause (the network, the cap) sends none of them,
    so no date or fix can say they were seen to; a person must, and the next drop is amber again."""
    count = sync["backlog"]
    if refuses_when_full and past_age_cap is not None:
        return _check("backlog", Level.RED, "too_old", count=count, cap=past_age_cap)
    full = count >= BACKLOG_RED_FRACTION * max_rows
    if full and refuses_when_full:
        return _check("backlog", Level.RED, count=count)
    if sync["dropped_unacknowledged"]:  # counted as ``count``, for the sentence's singular or plural
        return _check("backlog", Level.AMBER, "dropped", count=sync["dropped_unacknowledged"], waiting=count)
    if full:
        return _check("backlog", Level.AMBER, "dropping", count=count)
    days = _days(sync["oldest_unsent_age_s"])
    if days >= BACKLOG_WARNING_DAYS:
        return _check("backlog", Level.AMBER, count=count, days=days)
    if sync["undated_unsent"]:  # of an earlier boot, on an unset clock: no age can be told, so never "fresh"
        return _check("backlog", Level.AMBER, "undated", count=count)
    if sync["erasure_requests"]:  # the station keeps an erased patient's results until they are sent
        if sync["erasures_refused"]:  # by the site broker's ACL, older than them: no network sends them
            return _check("backlog", Level.AMBER, "erasures_refused", count=count, requests=sync["erasure_requests"])
        return _check("backlog", Level.AMBER, "erasures", count=count, requests=sync["erasure_requests"])
    if sync["erasures_withheld"]:  # never sent: the station keeps the results until its administrator acts
        return _check("backlog", Level.AMBER, "erasures_withheld", count=count, withheld=sync["erasures_withheld"])
    return _check("backlog", Level.GREEN, count=count)


def _days(age_s: int | None) -> int:
    """Whole days in an age in seconds; none told (``None``) counts as none."""
    return (age_s or 0) // 86400


def check_photos(settings: SyncConfig, photos: Mapping[str, Any]) -> list[Check]:
    """The photos shared with the review station (``records.store.photo_status``), for the technician: how
    many wait and since when, and, when any was set aside, how many and why (``_photos_set_aside``).
    Amber once the oldest has waited as long as the backlog's results turn amber after
    (``BACKLOG_WARNING_DAYS``, ``check_backlog``), or for a time no clock can tell: only the uploader's
    log said so. Never red: no screening waits on a photo. None on a device that shares none
    (``share_images = "none"``, the default), as the app's certificate has none without HTTPS, but while
    photos it shared before are still to send or set aside: those are the technician's to see go."""
    if not (settings.shares_images or photos["photos_waiting"] or photos["photos_set_aside"]):
        return []
    return [_photos_waiting(photos), *_photos_set_aside(photos)]


def _photos_waiting(photos: Mapping[str, Any]) -> Check:
    """How many photos wait and the oldest's wait, judged as ``check_backlog`` judges the results'."""
    count, age_s = photos["photos_waiting"], photos["photos_oldest_waiting_age_s"]
    if not count:
        return _check("photos", Level.GREEN, "none", count=count, uploaded=photos["photos_uploaded"])
    if _days(age_s) >= BACKLOG_WARNING_DAYS:
        return _check("photos", Level.AMBER, count=count, oldest_s=age_s)
    if photos["photos_undated_waiting"]:  # of an earlier boot, on an unset clock: never "fresh"
        return _check("photos", Level.AMBER, "undated", count=count)
    return _check("photos", Level.GREEN, count=count, oldest_s=age_s, uploaded=photos["photos_uploaded"])


def _photos_set_aside(photos: Mapping[str, Any]) -> list[Check]:
    """The photos set aside, by reason (``set_aside``): amber while any refusal waits for the technician
    to mend its cause and ``sync retry-photos``; green for those alone whose results the station erased
    at the patient's request, which nothing sends again. None when none was set aside."""
    set_aside = photos["photos_set_aside"]
    if not set_aside:
        return []
    level = Level.AMBER if photos["photos_refused"] else Level.GREEN
    return [_check("photos_refused", level, count=sum(set_aside.values()), set_aside=set_aside)]


def check_backup(last: datetime | None, first_screening: datetime | None, warning_days: int, now: datetime) -> Check:
    """Amber once the records hold screenings not backed up for more than ``warning_days``: the
    last backup is older, or there never was one and the first screening is. Nothing stops
    screening; a lost or broken card loses what the last backup does not hold. Off at 0."""
    if warning_days == 0:
        return _check("backup", Level.GREEN, "off")
    since = last or first_screening
    if since is None:
        return _check("backup", Level.GREEN, "none")
    if since > now + FUTURE_TOLERANCE:
        # Dated by a clock that ran fast (set by hand a year ahead, say), since set right: no age can
        # be told, and "0 days ago" would stay green until the real date caught up with it.
        return _check("backup", Level.AMBER, "undated")
    days = max(0, (now - since).days)
    late = now - since > timedelta(days=warning_days)
    if last is None:
        return _check("backup", Level.AMBER if late else Level.GREEN, "never" if late else "pending", days=days)
    return _check("backup", Level.AMBER if late else Level.GREEN, days=days, at=last)


def check_heartbeat(heartbeat: Heartbeat) -> Check:
    """A loop that let its promised next beat lapse is stuck: the watchdog stops, systemd restarts it."""
    overdue = heartbeat.overdue_s()
    if overdue > 0:
        return _check("loop", Level.RED, loop=heartbeat.name, overdue=round(overdue))
    return _check("loop", Level.GREEN, loop=heartbeat.name)


def _user_name(uid: int) -> str:
    """The account's name, or its number where no account has it (a file copied from another system)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _write_refused(path: Path, account: pwd.struct_passwd | None) -> Check | None:
    """Why this process (or ``account``, judged for: ``_refuses``) may not write ``path``: its file
    system mounted read-only (every write fails, whoever makes it: a card the kernel stopped writing
    to is remounted so), or only this process's view of it (the service's sandbox,
    ``_read_only_view``), or else its owner and mode, which shut that user out. ``None`` when
    ``path`` went since it was refused."""
    try:
        read_only = os.statvfs(path).f_flag & os.ST_RDONLY
        info = path.stat()
    except FileNotFoundError:
        return None
    if read_only:
        try:
            mount = mount_of(path, MOUNTINFO.read_text())
        except OSError:
            mount = None
        if mount is not None and _read_only_view(mount):
            # The folder, not the mount: records on the root file system would otherwise be told to
            # open all of / to the service.
            folder = path if stat.S_ISDIR(info.st_mode) else path.parent
            return _check("writable", Level.RED, "sandbox", path=path, folder=folder, writable=SERVICE_WRITABLE)
        return _check("writable", Level.RED, "read_only", path=path, mount=mount.point if mount else path)
    grant = "u+rwx" if stat.S_ISDIR(info.st_mode) else "u+rw"  # a folder is also searched, a file read
    return _check(
        "writable",
        Level.RED,
        "permission" if account is None else "service_permission",
        path=path,
        owner=_user_name(info.st_uid),
        mode=f"{stat.S_IMODE(info.st_mode):04o}",
        user=_user_name(os.getuid()) if account is None else account.pw_name,
        grant=grant,
    )


def _read_only_view(mount: Mount) -> bool:
    """Whether ``mount`` is read-only as this process sees it while its file system takes writes: the
    mark ``ProtectSystem=strict`` leaves on every path outside the unit's writable ones (a read-only
    bind mount in the service's own mount namespace). Records configured elsewhere (a USB disk at
    /mnt/data) were told "mounted read-only: look at dmesg, mount it read-write", a remedy that mends
    nothing: the host sees the disk writable. Only this process's /proc/self/mountinfo is asked: the
    unprivileged user cannot read PID 1's mount table or namespace (ProtectProc=invisible hides it),
    while a card the kernel stopped writing to, or one mounted ``ro``, marks its file system itself."""
    return mount.point_read_only and not mount.file_system_read_only


def _refuses(path: Path, mode: int, account: pwd.struct_passwd | None = None) -> bool:
    """Whether ``account`` may not ``mode`` ``path``, as the kernel answers that user
    (``service_user.may_write``), or, without one, whether the kernel refuses this process
    (``access(2)``, writing nothing), a path that is not there (``ENOENT``) refusing nothing. SQLite
    removes the records' log and shared memory as their last connection closes, another program's
    say, and makes them at the next: ``os.access``, whose ``False`` does not say why, read a log
    gone for that moment as refused, and the check then said it red by a file written again a
    moment later, or raised looking at it gone (doctor failed; the watchdog's thread died, and its
    pings stopped)."""
    if account is not None:
        return not may_write(path, mode, account)
    if libc().access(os.fsencode(path), mode) == 0:
        return False
    return ctypes.get_errno() != errno.ENOENT


# The symbolic links the kernel follows on one path before it gives up (ELOOP).
_MAX_LINKS = 40


def _folders_searched(path: Path) -> list[Path]:
    """The folders the kernel searches (their ``x`` bit) on its way to ``path``, in its order, from
    the root down: the first refused is the one to name, not one below it. Each symbolic link on the
    way is followed as the kernel follows it, from the folder it sits in, so a folder that only a
    link in the middle of a chain passes through is asked too: the parents of the records' path and
    of the file it resolves to left out ``/mnt`` of ``/srv/a -> /mnt/b -> /data/records``, and root
    said green while the services were refused there. A loop ends the walk where the kernel would."""
    searched: list[Path] = []
    here, names, links = Path("/"), list(path.absolute().parts[1:]), 0
    while names and links <= _MAX_LINKS:
        name = names.pop(0)
        searched.append(here)
        there = here.parent if name == ".." else here / name
        if not there.is_symlink():
            here = there
            continue
        links += 1
        target = Path(os.readlink(there))
        names[:0] = target.parts[1:] if target.is_absolute() else target.parts
        here = Path("/") if target.is_absolute() else here
    return list(dict.fromkeys(searched))


def _search_refused(folder: Path, account: pwd.struct_passwd) -> Check:
    """``folder``, above the records, refusing ``account`` its search, red: its owner and mode, and
    the ``chmod`` that gives the search bit of the class that user falls in
    (``service_user.permission_class``), and no more: a folder above the records (/srv, a mount
    point) is not the services' to own, nor theirs to list. Where the folder carries an ACL and that
    user is not its owner, the remedy is an ACL entry of that user's own (``service_search_acl``):
    one naming it and refusing it (``setfacl -m u:edgescreen:-``) was told ``chmod o+x`` on a folder
    already 0755, which changed nothing."""
    info = folder.stat()
    user_class = permission_class(info, account)
    return _check(
        "writable",
        Level.RED,
        "service_search_acl" if user_class != "u" and has_access_acl(folder) else "service_search",
        folder=folder,
        owner=_user_name(info.st_uid),
        mode=f"{stat.S_IMODE(info.st_mode):04o}",
        user=account.pw_name,
        grant=f"{user_class}+x",
    )


def records_not_writable(database: Path, account: pwd.struct_passwd | None = None) -> Check | None:
    """The records' folder, or the first of their files, that this process (or ``account``, the
    services' user root judges for: ``service_user``) may not write, red by why
    (``_write_refused``); ``None`` when it may write them all. SQLite opens a file it may only read
    read-only without a word: the log or the main file of a root shell's ``sqlite3``, a folder a
    restore as root left root's, a card remounted read-only. Every read then works, and so does
    ``BEGIN IMMEDIATE`` unless the log is the one refused (the lock lives in the shared memory, which
    the running app holds open), so the records looked healthy until a screening failed. The
    kernel's ``access`` asks what a write would ask, writing nothing: one call per file
    (``_refuses``). The folder must take new files too: the witness is renamed into it after each
    screening (``records/witness.py``), and SQLite makes the log and the shared memory there when it
    opens the records after they were removed. Records reached through a symbolic link keep those
    beside the file linked to (SQLite follows the link), so that folder and those files are asked
    too: a log of root's there refused every write while the check, asking beside the link, was
    green. Judged for ``account``, every folder on the way to them is asked first, as the kernel
    searches each, through every link (``_folders_searched``, ``_search_refused``): a 0700 parent of
    root's left the services unable to open the records while root, judging their files alone, said
    green. This process's own ``access``
    answers for those folders itself."""
    linked_to = database.resolve()
    folders = dict.fromkeys((database.parent, linked_to.parent), os.W_OK | os.X_OK)
    if account is not None:
        for above in _folders_searched(database):
            if above not in folders and not may_write(above, os.X_OK, account):
                return _search_refused(above, account)
    wanted = folders | dict.fromkeys(database_files(linked_to), os.W_OK)
    for path, mode in wanted.items():
        refused = _write_refused(path, account) if os.path.exists(path) and _refuses(path, mode, account) else None
        if refused is not None:
            return refused
    return None


def check_records_files_writable(database: Path) -> Check:
    """The readiness list's ``writable`` line: ``records_not_writable``, green when nothing refuses.
    It takes no lock: another program writing the records (the sync service, an erasure) holds it
    for as long as its write lasts, up to ``BUSY_TIMEOUT_S``, and the nurse's "Start patient", with
    every records call of the app queued behind it on the records thread, would wait that long,
    where before it waited on nobody's write. A lock wedged past that is the watchdog's to find
    (``check_records_writable``, ``health.liveness``), and the app's list shows what it found
    (``health.liveness.lock_held_still``)."""
    return records_not_writable(database) or _check("writable", Level.GREEN)


def check_records_writable(database: Path, account: pwd.struct_passwd | None = None) -> Check:
    """Whether the records can be written now: by their files' modes and file system
    (``records_not_writable``), then by their write lock, taken on a connection of our own and given
    back unused: a writer wedged holding the lock shows here, without writing a thing, named
    (``locked``). The watchdog and ``doctor`` ask this; the nurse's readiness list asks only the
    kernel (``check_records_files_writable``).

    It waits for the lock as long as the device's own writers do (``BUSY_TIMEOUT_S``): the device's
    own work may hold it that long (another process's long write: a large erasure, a migration), and
    a lock held longer is one the device's writes are failing on. Waiting 10 s, the probe took an
    erasure's checkpoint, which then waited a busy timeout for a backup's read, for a wedged writer.
    ``account``: the files are judged for that user (``records_not_writable``).

    Records this process holds alone on a full disk (the sync worker's, ``open_database``) refuse any
    other connection, this probe's too, and name this process as the holder: amber, and no probe,
    where the watchdog took the worker for wedged and had it restarted every minute."""
    refused = records_not_writable(database, account)
    if refused is not None:
        return refused
    if held_alone_here(database):
        return _check("writable", Level.AMBER, "held_alone", path=database)
    try:
        connection = sqlite3.connect(f"file:{database}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as error:  # a writer holding the lock is not a disk gone read-only
        if getattr(error, "sqlite_errorname", "") == "SQLITE_BUSY":
            return locked(database, error)
        return _check("writable", Level.RED, error=error)
    return _check("writable", Level.GREEN)


def check_service_writable(database: Path) -> Check:
    """``doctor``'s writable line: ``check_records_writable``, the files judged for the services' user
    when this process passes over file modes (root: ``service_user.judged_for``). Root with no such
    user here cannot tell, and says so, amber, with the command that can, where it said green."""
    account = judged_for()
    found = check_records_writable(database, account)
    if found.level is Level.GREEN and account is None and passes_over_file_modes():
        return _check("writable", Level.AMBER, "root", user=SERVICE_USER)
    return found


# The variants of a write lock held past a busy timeout by another process than this one: a restart
# of this one does not free it (``health.liveness``).
LOCKED_BY = ("locked_by_service", "locked_by", "locked_by_another")


def held_by_another(check: Check) -> bool:
    """Whether ``check`` is the write lock held past a busy timeout by another process (``locked``)."""
    return check.name == "writable" and check.message_key.rpartition(".")[2] in LOCKED_BY


def locked(database: Path, error: Exception, waited_s: float | None = None) -> Check:
    """The records' write lock held past a busy timeout (or the ``waited_s`` waited), red, naming who
    holds it as the kernel says (``lock_holder``): an EdgeScreen service (its unit, for ``systemctl
    status``), another program (its name and pid: stop it), or another process /proc does not name.
    Held by this process, or by nobody the kernel names (given back meanwhile), it is ``locked``: a
    writer of ours wedged, which a restart frees. Where the kernel's list of locks cannot be read (a
    PID namespace, a hardened kernel), nobody can be named nor ruled out: ``locked_unlisted`` says
    so, where "restart the device" was said of a lock another program may hold."""
    waited = BUSY_TIMEOUT_S if waited_s is None else waited_s
    if not locks_listed():
        return _check("writable", Level.RED, "locked_unlisted", error=error, seconds=waited)
    holder = write_lock_holder(database)
    if holder is None or holder.pid == os.getpid():
        return _check("writable", Level.RED, "locked", error=error)
    variant, named = _holder_named(holder)
    return _check("writable", Level.RED, f"locked_{variant}", error=error, seconds=waited, **named)


def _holder_named(holder: LockHolder) -> tuple[str, dict[str, int | str]]:
    """How a message names ``holder``, and by which values: ``by_service``, its EdgeScreen service (for
    ``systemctl``); ``by``, its program; ``by_another``, its pid alone, where /proc hides its name."""
    if holder.unit is not None:
        return "by_service", {"unit": holder.unit, "pid": holder.pid}
    if holder.program is not None:
        return "by", {"program": holder.program, "pid": holder.pid}
    return "by_another", {"pid": holder.pid}


def check_key_file(path: Path, records_exist: bool) -> Check:
    """The records key: present (once there are records), 32 bytes, and readable by its owner alone
    (``refuse_exposed``, the rule the records open it by: its mode said as they say it)."""
    try:
        refuse_exposed(path, "the records key")
        size = path.stat().st_size
    except FileNotFoundError:
        if records_exist:
            return _check("key", Level.RED, "missing", path=path)
        return _check("key", Level.GREEN, "new", path=path)
    except ExposedSecret as error:
        return _check("key", Level.RED, "exposed", path=path, mode=error.mode)
    except OSError as error:
        return _check("key", Level.RED, "unreadable", path=path, error=error)
    if size != KEY_BYTES:
        return _check("key", Level.RED, "size", path=path, size=size, expected=KEY_BYTES)
    return _check("key", Level.GREEN, path=path)


def check_certificates(
    paths: list[Path], now: datetime, name: str = "tls", read: Mapping[Path, x509.Certificate] | None = None
) -> Check:
    """The TLS files the sync worker presents or trusts (or, as ``name``, the app's for its tablets):
    amber within ``CERTIFICATE_WARNING_DAYS`` of expiry (time to renew), red once expired or
    unreadable (the broker refuses the device; the tablets, the app). A file the caller has ``read``
    already is judged as read: read again, one replaced meanwhile had one line judge two certificates."""
    if not paths:
        return _check(name, Level.AMBER, "none")
    read = read or {}
    soonest: tuple[int, Path] | None = None
    for path in paths:
        certificate = read[path] if path in read else _certificate(path, name)
        if isinstance(certificate, Check):
            return certificate
        days = (certificate.not_valid_after_utc - now).days
        if now > certificate.not_valid_after_utc or now < certificate.not_valid_before_utc:
            return _check(name, Level.RED, path=path, days=days)
        soonest = min(soonest or (days, path), (days, path))
    assert soonest is not None
    days, path = soonest
    return _check(name, Level.AMBER if days < CERTIFICATE_WARNING_DAYS else Level.GREEN, path=path, days=days)


def _certificate(path: Path, name: str) -> x509.Certificate | Check:
    """The certificate in ``path``, or the red line ``name`` says a file that cannot be read with."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        return _check(name, Level.RED, "unreadable", path=path, error=error)


def check_tls(settings: SyncConfig, device_id: str, now: datetime) -> Check:
    """The sync worker's TLS set-up: first whether its files make a context at all, built as the
    worker builds it (``sync.tls.client_context``), red with the cause (a key that is not the
    certificate's, a file that cannot be read) where the worker would refuse to start; then whether
    the certificate is this device's: the broker names the client after its CN and lets it publish
    under that name alone, so another device's certificate has every result refused ("Not
    authorized") while it connects; then the certificates' dates (``check_certificates``), the
    device's judged on the one reading its owner was (a certificate replaced as doctor ran had its
    owner and its dates taken from two files)."""
    read: dict[Path, x509.Certificate] = {}
    if settings.tls_ca_file:
        try:
            client_context(settings)
        except TlsUnusable as error:
            return tls_refused(error)
        if settings.tls_cert_file:
            certificate = _certificate(settings.tls_cert_file, "tls")
            if isinstance(certificate, Check):
                return certificate
            read[settings.tls_cert_file] = certificate
            not_this_device = _not_this_devices(settings.tls_cert_file, certificate, device_id)
            if not_this_device:
                return not_this_device
    paths = [path for path in (settings.tls_ca_file, settings.tls_cert_file) if path]
    return check_certificates(paths, now, read=read)


def _not_this_devices(path: Path, certificate: x509.Certificate, device_id: str) -> Check | None:
    """The red line of a device certificate that is not ``device_id``'s; ``None`` for this device's."""
    name = common_name(certificate)
    if name is None:  # no one's: the broker gives its client no name, so no topic of this device's
        return _check("tls", Level.RED, "no_common_name", path=path, device=device_id)
    if name != device_id:
        return _check("tls", Level.RED, "another_device", path=path, owner=name, device=device_id)
    return None


def tls_refused(error: TlsUnusable) -> Check:
    """TLS files the sync worker refuses, red by their kind: a key others can read has its mode to put
    right, not a certificate to install; what ``check_tls`` shows, and what ``sync run`` says when it stops."""
    if isinstance(error, TlsKeyExposed):
        return _check("tls", Level.RED, "exposed", path=error.path, mode=error.mode, error=error)
    return _check("tls", Level.RED, "unusable", error=error)


def check_app_tls(settings: AppConfig) -> Check:
    """How the app's pages and the operators' PINs reach tablets: red when ``[app] bind`` opens it to the
    network over plain HTTP (patient data and PINs would cross it in clear; ``edgescreen app`` refuses
    to start on it, in these words), green over HTTPS or on loopback alone. A host name other than
    ``localhost`` counts as the network: it is one to the tablets that use it."""
    if settings.tls:
        return _check("app_tls", Level.GREEN, "https", port=settings.tls_port)
    try:
        loopback = ipaddress.ip_address(settings.bind).is_loopback
    except ValueError:
        loopback = settings.bind == "localhost"
    return _check("app_tls", Level.GREEN if loopback else Level.RED, bind=settings.bind)


def check_app_certificate(settings: AppConfig, now: datetime) -> list[Check]:
    """The dates of the certificate the app shows tablets (``[app] tls_cert_file``), as the sync
    certificates' are judged: the config's check at the app's start reads it, not its dates, and an
    expired one has every tablet refuse the app. None without HTTPS (``check_app_tls`` says so)."""
    if settings.tls_cert_file is None:
        return []
    return [check_certificates([settings.tls_cert_file], now, "app_certificate")]


def check_verdict_keys(settings: SyncConfig) -> Check:
    """The station's verdict keys: amber without any (a verdict is then vouched for by the broker's ACL
    alone, and a forged "no referral" would be stored), red when one cannot be read as an Ed25519 public
    key (the sync worker then stores no verdict at all: each waits at the station)."""
    if not settings.verdict_public_keys:
        return _check("verdicts", Level.AMBER, "none")
    for path in settings.verdict_public_keys:
        try:
            read_public_key(path)
        except VerdictKeyError as error:
            return _check("verdicts", Level.RED, path=path, error=error)
    return _check("verdicts", Level.GREEN, count=len(settings.verdict_public_keys))


def _limits_apart(modality: str, limits: object) -> list[str]:
    """The config lines of one modality's limits that no profile ``edgescreen quality fit`` writes
    today could hold: a declared limit (``DEVICE_DECLARED``) set apart from its default, and a fitted
    one looser than its default (the command never loosens one)."""
    defaults = type(limits)()
    declared = DEVICE_DECLARED[modality]
    fitted = {rule.setting for rule in RULES[modality]} - declared | {"preview_min_sharpness"}
    apart = []
    for setting in sorted(declared | fitted):
        value, default = getattr(limits, setting), getattr(defaults, setting)
        looser = value < default if is_lower_limit(setting) else value > default
        if (setting in declared and value != default) or (setting in fitted and looser):
            apart.append(f"[quality.{modality}] {setting} = {value} (default {default})")
    return apart


def check_quality_limits(quality: QualityConfig) -> Check:
    """Amber, naming each line, when the config holds quality limits a profile written by today's
    ``edgescreen quality fit`` could not (``_limits_apart``). The declared limits hang on the
    patient, the immersion fluid or what any photo can show, not on the camera; a profile the
    command wrote before a limit was declared holds it as a setting read off the device's first
    photos (a lesion-contrast limit fitted there refuses faint and amelanotic lesions as no lesion),
    and one written before a measure or its default changed may hold a fitted limit now looser than
    the default. A deliberate setting may stay: the technician sees it named."""
    apart = [line for modality in MODALITIES for line in _limits_apart(modality, getattr(quality, modality))]
    if apart:
        return _check("quality", Level.AMBER, settings="; ".join(apart))
    return _check("quality", Level.GREEN)


def blocking(checks: list[Check]) -> list[Check]:
    """The red checks: while there is one, no screening starts."""
    return [check for check in checks if check.level is Level.RED]
