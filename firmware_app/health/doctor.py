"""``edgescreen doctor``: every check of the device at once, for the technician and for scripts.

It is the nurse's readiness list (``readiness``) plus what only a technician can act on: every
sealed value opening with the key (a worn card's flipped bits), the records key's mode, the TLS
certificates' expiry, the review station's verdict keys, the model bundles' signatures, and the
device's ids on the wire. The same check functions answer the readiness screen, the watchdog and
this report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from firmware_app.app import build_camera, model_folder, open_store, profile_misfit
from firmware_app.bundles.manifest import installed_name, load_installed
from firmware_app.calibration.apply import apply
from firmware_app.calibration.profile import ProfileError, device_profile
from firmware_app.config import Config
from firmware_app.health.checks import (
    Check,
    Level,
    check_app_certificate,
    check_app_tls,
    check_calibration,
    check_camera,
    check_clock,
    check_encryption,
    check_erased,
    check_identity,
    check_key_file,
    check_models,
    check_photos,
    check_quality_limits,
    check_sealed,
    check_service_writable,
    check_tls,
    check_verdict_keys,
    no_records_yet,
    records_not_writable,
    records_unusable,
)
from firmware_app.health.readiness import disk_check, readiness
from firmware_app.health.service_user import judged_for
from firmware_app.inference.card import MODALITIES
from firmware_app.inference.model import require_modality
from firmware_app.records.clock import kernel_clock_synchronised
from firmware_app.records.database import RecordsError, present
from firmware_app.records.identity import Identity
from firmware_app.records.store import photo_status
from firmware_app.service.termination import between_stop_points

# The doctor's two probes of the device: the models loaded, the camera opened and read.
Probes = tuple[Callable[[], list[str]], Callable[[], bool]]


def verify_models(config: Config) -> Callable[[], list[str]]:
    """Each configured model verified as the screening loads it (``bundles.manifest.load_installed``):
    a signed bundle in full, a bare model folder against its card only, and named so."""

    def load() -> list[str]:
        names = []
        for modality in MODALITIES:
            model_dir = model_folder(config.models, modality)
            model = load_installed(model_dir, config.models.trusted_keys, config.models.threads)
            require_modality(model.card, modality, model_dir)
            names.append(installed_name(model, model_dir))
        return names

    return load


def probe_camera(config: Config) -> Callable[[], bool]:
    """Open the camera, read a preview frame and take one still, and apply the calibration profile
    to both as the screening will: a profile that does not fit the camera's frames (a lens step made
    at other proportions than the preview's or the configured still size's) is the camera set up
    wrong (red), where every capture would fail while doctor said green. The still is doctor's
    alone: the app's readiness list, run at every sign-in, reads a preview frame only."""

    def probe() -> bool:
        camera, _ = build_camera(config)
        with camera:
            frames = [next(iter(camera.preview_frames())), *camera.capture_burst(1)]
        if config.calibration.profile is None:
            return True
        try:
            profile = device_profile(config.calibration.profile, config.device.id)
        except ProfileError:  # the calibration check says why it cannot be read
            return True
        try:
            for frame in frames:
                apply(profile, frame)
        except ProfileError as error:
            raise profile_misfit(error) from None
        return True

    return probe


def _without_records(config: Config, now: datetime, probes: Probes) -> list[Check]:
    """The checks that need no records, for when the records cannot be opened."""
    load_models, probe = probes
    return [
        check_models(load_models),
        check_camera(probe),
        check_calibration(config.calibration.profile, config.device.id, now),
        disk_check(config),
        check_clock(now, kernel_clock_synchronised()),
    ]


def _unopened(config: Config, records: Check) -> list[Check]:
    """``records``, why the records are not opened (none yet, or they would not open), and, when their
    folder or a file of theirs may not be written, which one and whose, or their file system
    read-only: what SQLite's error does not say, and what the first screening would fail on. Only
    the kernel is asked: no connection is opened to records that are not opened."""
    refused = records_not_writable(config.records.database, judged_for())
    return [records, *([refused] if refused else [])]


def doctor_checks(config: Config, now: datetime | None = None, stop: threading.Event | None = None) -> list[Check]:
    """Every check; with ``stop`` (``stop_on_termination``), ``StopRequested`` from a stop point
    around the probes once it is set, the records closed on the way out."""
    now = now or datetime.now(UTC)
    stop = stop or threading.Event()
    probes = between_stop_points(verify_models(config), stop), between_stop_points(probe_camera(config), stop)
    key = check_key_file(config.records.key_file, present(config.records.database))
    configured = Identity(config.device.id, config.device.site)
    encryption = check_encryption(config.records.database.parent)
    device = [
        *(
            key,
            encryption,
            check_tls(config.sync, config.device.id, now),
            check_verdict_keys(config.sync),
            check_app_tls(config.app),
        ),
        *check_app_certificate(config.app, now),
    ]

    def technician(*identity: Check) -> list[Check]:
        """The technician's checks; ``identity`` where the readiness list (which holds it) did not run."""
        return [*device, *identity, check_quality_limits(config.quality)]

    unrecorded = check_identity(configured)  # no records to compare with: the placeholders alone
    if key.level is Level.RED:  # opening the records without their key would only fail (or make a new key)
        return [*_without_records(config, now, probes), *technician(unrecorded)]
    if not present(config.records.database):  # opening would make them, and a key: `restore` then refuses
        none = no_records_yet(config.records.database, config.records.key_file, config.records.marker)
        return [*_without_records(config, now, probes), *_unopened(config, none), *technician(unrecorded)]
    try:
        store = open_store(config)
    except RecordsError as error:
        unusable = records_unusable(error)
        return [*_without_records(config, now, probes), *_unopened(config, unusable), *technician(unrecorded)]
    try:
        # The writable line waits for the write lock as the device's writers do: a technician asks
        # why screenings fail, and a lock held past a busy timeout is named with its holder. Run as
        # root, it judges the files for the services' user.
        checks = readiness(config, store.records, *probes, now, writable=check_service_writable)
        photos = check_photos(config.sync, photo_status(store.records))
        return [*checks, check_sealed(store.records), check_erased(store.records), *photos, *technician()]
    finally:
        store.records.close()
