"""Composition root: turns the configuration into working parts, and nothing else.

Models are loaded (and verified) the first time a modality is asked for, then kept: a fundus camera
never pays for loading the melanoma model.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from edgescreen_wire.result import RESULT_V1, encode_result
from edgescreen_wire.review import REVIEW_V2
from firmware_app.bundles.manifest import is_signed_bundle, load_installed
from firmware_app.calibration.profile import CalibrationProfile, ProfileError, device_profile
from firmware_app.capture.camera import Camera, CameraMisconfigured, CameraSettings, Controls, Size
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture.frame import Frame
from firmware_app.capture.opencv_camera import OpenCVCamera
from firmware_app.capture.picamera2_camera import Picamera2Camera
from firmware_app.config import Config, DeviceConfig, ModelsConfig, config_digest
from firmware_app.events import log_event
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.inference.model import TriageModel, require_modality
from firmware_app.pipeline import Recorder, ScreeningPipeline
from firmware_app.quality.gate import QualityGate
from firmware_app.records.database import held_alone_here
from firmware_app.records.identity import Identity
from firmware_app.records.images import JPEG, KeptPhoto, PhotoKeeper
from firmware_app.records.outbox import TLS_UNUSABLE, Outbox
from firmware_app.records.presence import require_records
from firmware_app.records.screening import ScreeningRecord
from firmware_app.records.store import OutboxLimits, Records, ScreeningStore
from firmware_app.records.uploads import UploadQueue
from firmware_app.sharing.policy import ImageSharing
from firmware_app.sync.lock import WorkerLock
from firmware_app.sync.payload import result_payload
from firmware_app.sync.retry import LOOP_SECONDS, RECORDS_RETRY_SECONDS, backoff_delay
from firmware_app.sync.tls import TlsUnusable

if TYPE_CHECKING:
    from firmware_app.sync.worker import SyncWorker


class ModelShelf:
    """The configured model for each modality, loaded on first use: by whichever thread asks first
    (the pipeline's input maker, the web app's records thread), and only once."""

    def __init__(self, config: Config) -> None:
        self._config = config.models
        self._loaded: dict[str, TriageModel] = {}
        self._loading = threading.Lock()

    def __call__(self, modality: str) -> TriageModel:
        with self._loading:
            if modality not in self._loaded:
                self._loaded[modality] = self._load(modality)
            return self._loaded[modality]

    def _load(self, modality: str) -> TriageModel:
        model_dir = model_folder(self._config, modality)
        model = load_installed(model_dir, self._config.trusted_keys, self._config.threads)
        require_modality(model.card, modality, model_dir)
        log_event(
            "model.loaded",
            modality=modality,
            id=model.card.id,
            version=model.card.version,
            sha256=model.card.sha256,
            signed=is_signed_bundle(model_dir),
            runtime=model.runtime,
            threads=model.threads,
        )
        return model


def model_folder(models: ModelsConfig, modality: str) -> Path:
    """The folder of the model configured for ``modality``."""
    return models.directory / getattr(models, modality)


# How a pipeline gets its profile from the config: ``load_calibration``, or the app's own.
CalibrationLoader = Callable[[Config], CalibrationProfile | None]


def load_calibration(config: Config) -> CalibrationProfile | None:
    """The device's profile; ``None`` (and a warning) when it has none. A broken one, or another
    device's, is a ``ProfileError``."""
    if config.calibration.profile is None:
        log_event("calibration.none", logging.WARNING, note="no [calibration] profile: results say uncalibrated")
        return None
    profile = device_profile(config.calibration.profile, config.device.id)
    log_event("calibration.loaded", id=profile.id, steps=",".join(profile.steps()), path=config.calibration.profile)
    return profile


def build_pipeline(
    config: Config, recorder: Recorder | None = None, calibration: CalibrationLoader = load_calibration
) -> ScreeningPipeline:
    """The screening pipeline, with the profile ``calibration`` loads (by default: the config's, or
    a ``ProfileError``)."""
    return ScreeningPipeline(
        ModelShelf(config),
        config.models.operating_point or None,
        QualityGate(config.quality),
        calibration(config),
        recorder,
        research_run=config.quality.research_run,
    )


def profile_misfit(error: ProfileError) -> CameraMisconfigured:
    """A profile that cannot be applied to the camera's frames (a lens step made at other proportions,
    another camera's profile) as the camera set up wrong: no cable fixes it, the technician's
    configuration does, and the nurse is told so rather than to check the cable."""
    return CameraMisconfigured(f"its frames do not fit the calibration profile: {error}", "camera.profile_misfit")


def build_camera(config: Config) -> tuple[Camera, Controls]:
    """The configured camera (not yet open) and the manual controls to set once it is."""
    wanted = config.camera
    settings = CameraSettings(
        preview=Size(wanted.preview_width, wanted.preview_height),
        still=Size(wanted.still_width, wanted.still_height),
        frame_timeout_s=wanted.frame_timeout,
        open_attempts=wanted.open_attempts,
        open_backoff_s=wanted.open_backoff,
    )
    camera: Camera
    if wanted.backend == "picamera2":
        camera = Picamera2Camera(wanted.device, settings)
    elif wanted.backend == "opencv":
        camera = OpenCVCamera(wanted.device, wanted.source, settings)
    else:
        camera = FilesCamera(wanted.files, settings)
    return camera, Controls(wanted.exposure_us, wanted.analogue_gain, wanted.lens_position)


def open_store(
    config: Config, key_required: bool = True, read_only: bool = False, must_exist: bool = False, alone: bool = False
) -> ScreeningStore:
    """The device's records, with the disk reserve and outbox caps of the configuration; work that
    opens no sealed value passes ``key_required=False`` (sync) or ``read_only=True`` (status, audit),
    work that only reads or acts on records already made ``must_exist``, the sync worker under its
    lock ``alone`` (``Records``)."""
    identity = Identity(config.device.id, config.device.site)
    records = Records(
        config.records.database,
        config.records.key_file,
        key_required=key_required,
        read_only=read_only,
        must_exist=must_exist,
        identity=identity,
        marker=config.records.marker,
        alone=alone,
    )
    limits = OutboxLimits(
        max_rows=config.sync.outbox_max_rows,
        max_age=timedelta(days=config.sync.outbox_max_age_days),
        policy=config.sync.overflow_policy,
    )
    return ScreeningStore(records, config.records.disk_reserve_mb * 2**20, limits)


class DurableRecorder:
    """Records a screening with its sealed photo and its validated, anonymised payload in one go;
    with ``sharing``, the photo sealed to the review station is queued in the same transaction."""

    def __init__(
        self,
        store: ScreeningStore,
        device: DeviceConfig,
        schema: str = RESULT_V1,
        sharing: ImageSharing | None = None,
        review_schema: str = REVIEW_V2,
    ) -> None:
        self._store, self._device, self._schema, self._sharing = store, device, schema, sharing
        self._review_schema = review_schema

        self._keeper = PhotoKeeper()

    def keep(self, frame: Frame) -> KeptPhoto:
        """Start encoding the frame this screening will record (see ``records.images``)."""
        return self._keeper.keep(frame)

    def close(self) -> None:
        """End the photo keeper's worker once the photos it was given are encoded."""
        self._keeper.close()

    def __call__(self, record: ScreeningRecord, photo: KeptPhoto | None) -> None:
        """Record it; with no ``photo`` (an eye not photographed) nothing is kept or shared but the result."""
        record = dataclasses.replace(record, clock=self._store.records.clock_state(record.captured_at))
        shared = self._sharing.seal(record, photo.frame.pixels) if self._sharing and photo else None
        document = result_payload(record, self._device.id, self._device.site, self._schema, shared, self._review_schema)
        payload = encode_result(document)
        self._store.record_screening(record, [(JPEG, photo.jpeg())] if photo else [], payload, shared)


@contextmanager
def recording_pipeline(
    config: Config,
    calibration: CalibrationLoader = load_calibration,
    admit: Callable[[Records], None] | None = None,
) -> Iterator[tuple[ScreeningPipeline, ScreeningStore]]:
    """A pipeline that records every screening, and its store: when the block ends, however it
    ends, the pipeline is closed (its workers finish what they were given), then the records (which
    write the last witness, ``records/witness.py``). The profile is loaded before the records are
    opened: a refused one leaves nothing open. ``admit`` may refuse the records (by raising) before
    anything is written to them: the command line's quick_check, where the app has its readiness
    list."""
    profile = calibration(config)
    sharing = ImageSharing.from_config(config.sync)
    store = open_store(config)
    try:
        if admit is not None:
            admit(store.records)
        store.note_configuration(config_digest(config))
        recorder = DurableRecorder(store, config.device, config.sync.result_schema, sharing, config.sync.review_schema)
        with build_pipeline(config, recorder, lambda _: profile) as pipeline:
            yield pipeline, store
    finally:
        store.records.close()


class UploadThread:
    """The photo uploader beside the sync worker, on its own records connection (SQLite connections
    stay in their thread); it runs only where a review station is configured.

    Its loop beats ``heartbeat``, which the sync service's watchdog watches beside the sync loop's.
    An unexpected error (a bad answer, a broken records connection, a TLS file unreadable) is logged
    and the uploader starts again after the sync worker's backoff, on a fresh connection: photos
    wait in their queue, never behind a thread that died silently."""

    def __init__(self, config: Config, until_drained: bool) -> None:
        self._config, self._until_drained = config, until_drained
        self._stop = threading.Event()
        self._rng = random.Random()
        self.heartbeat = Heartbeat("photo uploader")
        self._thread = threading.Thread(target=self._run, name="image-uploads", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        crashes = 0
        while not self._stop.is_set():
            self.heartbeat.beat(self._config.sync.connect_timeout_s)
            if held_alone_here(self._config.records.database):
                # The sync worker beside it holds the records alone on a full disk: opening them, the
                # uploader waited out the busy timeout and was told the disk is full, a crash each retry.
                self.heartbeat.beat(RECORDS_RETRY_SECONDS)
                self._stop.wait(RECORDS_RETRY_SECONDS)
                continue
            try:
                self._upload()
                return
            except Exception as error:
                settings = self._config.sync
                delay = backoff_delay(crashes, settings.backoff_initial_s, settings.backoff_max_s, self._rng)
                crashes += 1
                log_event(
                    "sync.uploads_crashed",
                    level=logging.ERROR,
                    error=f"{type(error).__name__}: {error}"[:300],
                    crashes=crashes,
                    retry_in_s=round(delay, 2),
                )
                self.heartbeat.beat(delay)
                self._stop.wait(delay)

    def _upload(self) -> None:
        # Imported here, not at the top, like the sync worker in ``run_sync``: the HTTPS client (ssl,
        # http, email) costs the process about 2.5 MB, and only the sync side ever uploads a photo.
        from firmware_app.sharing.uploader import ImageUploader, StationClient

        store = open_store(self._config, key_required=False)
        try:
            client = StationClient(self._config.sync)
            queue = UploadQueue(store.records)
            ImageUploader(queue, client, self._config.sync, self._stop, self.heartbeat).run(self._until_drained)
        finally:
            store.records.close()

    def finish(self, stop: threading.Event, wait: bool) -> None:
        """With ``wait``, until the queue is drained or ``stop`` is set; then stop the uploader."""
        while wait and self._thread.is_alive() and not stop.is_set():
            self._thread.join(LOOP_SECONDS)
        self._stop.set()
        self._thread.join()


def _sync_worker(store: ScreeningStore, config: Config, stop: threading.Event) -> SyncWorker:
    """The sync worker, or ``TlsUnusable`` once said where the technician looks: the log and
    ``sync status`` (its connection state ``TLS_UNUSABLE``, the cause as its detail)."""
    # Imported here, not at the top: MQTT (paho, with ssl, email and http) costs the process about
    # 9 MB, and a device's screening process never syncs (edgescreen-app.service runs --no-sync).
    from firmware_app.sync.worker import SyncWorker

    outbox = Outbox(store.records)
    try:
        return SyncWorker(
            outbox, store, config.sync, config.device, timedelta(days=config.records.image_retention_days), stop
        )
    except TlsUnusable as error:
        log_event("sync.tls_unusable", level=logging.ERROR, error=error)
        outbox.set_connection(TLS_UNUSABLE, str(error))
        raise


def run_sync(
    config: Config,
    stop: threading.Event | None = None,
    until_drained: bool = False,
    wait_for_lock: bool = True,
    started: Callable[[SyncWorker], object] = lambda worker: None,
    heartbeats: list[Heartbeat] | None = None,
) -> bool:
    """Run the sync worker on its own records connection (call it in its own thread or process);
    ``started`` is told the worker once its records are open (readiness, its heartbeat). The
    heartbeat of each loop (the sync worker's, the photo uploader's) joins ``heartbeats`` as the
    loop starts: the list a watchdog reads at each check.

    Only one worker per device runs (``sync/lock.py``): with ``wait_for_lock`` this one stands by
    until the running one ends, else it hands over at once. ``False``: it never ran.
    """
    stop = stop or threading.Event()
    # Refused before the lock file is made beside records gone from their path (a drive's mount point).
    require_records(config.records.database, config.records.key_file, first_start=True, marker=config.records.marker)
    lock = WorkerLock(config.records.database)
    if not lock.acquire():
        if not wait_for_lock:
            return False
        log_event("sync.standby", reason="another sync worker of this device is running", lock=lock.path)
        if not lock.wait(stop):
            return False
    try:
        store = open_store(config, key_required=False, alone=True)
        if store.records.alone:
            log_event("sync.records_alone", level=logging.WARNING, reason="the disk is full", path=store.records.path)
        try:
            worker = _sync_worker(store, config, stop)
            loops = heartbeats if heartbeats is not None else []
            loops.append(worker.heartbeat)
            started(worker)
            uploads = UploadThread(config, until_drained) if config.sync.station_url else None
            if uploads:
                loops.append(uploads.heartbeat)
            drained = False
            try:
                worker.run(until_drained=until_drained)
                drained = until_drained
            finally:
                if uploads:
                    uploads.finish(stop, wait=drained)
        finally:
            store.records.close()
    finally:
        lock.release()
    return True
