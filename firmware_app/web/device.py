"""The running device behind the app: one records thread, the sync thread and the camera owner.

SQLite connections belong to the thread that opened them, and screening (model load, inference,
the durable write) takes long: so every records and pipeline call runs on one dedicated thread
(``Device.run``) and the event loop never waits on them. The sync worker keeps its own thread and
connection, as the sync service would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

from firmware_app.app import build_camera, load_calibration, model_folder, recording_pipeline, run_sync
from firmware_app.bundles.manifest import installed_name
from firmware_app.calibration.profile import CalibrationProfile, ProfileError
from firmware_app.capture.camera import Camera, Controls
from firmware_app.capture.codes import CodeReader
from firmware_app.capture.files_camera import list_images
from firmware_app.capture_flow import preview_check
from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.health.checks import Check, Level, blocking, check_records_files_writable
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.health.liveness import lock_held_still
from firmware_app.health.readiness import Scans, disk_check, full_scans, readiness
from firmware_app.inference.card import MODALITIES
from firmware_app.inference.model import ModelError
from firmware_app.operators import Operators
from firmware_app.pipeline import ScreeningPipeline
from firmware_app.quality.gate import QualityGate
from firmware_app.records.open_visits import close_lost_visits
from firmware_app.records.store import Records, ScreeningStore
from firmware_app.service.watchdog import Watchdog, supervise
from firmware_app.web.answer_time import camera_step_s
from firmware_app.web.camera_owner import CameraOwner

T = TypeVar("T")
# How long one run of the readiness checks answers for starting a patient (the form, then its post):
# a camera probe and the models are too slow to run twice in a row. The steps of a visit never run
# them (``visit_checks``).
READINESS_FRESH_S = 5.0


def _log_failure(done: Future) -> None:
    """The failure of work ``Device.run_later`` queued, logged: nobody waits on its answer."""
    if (error := done.exception()) is not None:
        log_event("app.records_work_failed", level=40, error=error)


def calibration_or_none(config: Config) -> CalibrationProfile | None:
    """The configured profile, or none when it cannot be read. A broken profile (cut short, edited
    by hand, gone) used to stop the app at start, so the nurse's screen stayed blank and the
    readiness list never said why; now the app starts and that list holds the profile red, which
    blocks every screening (``health.checks.check_calibration``): nothing is screened uncalibrated
    while a profile is configured."""
    try:
        return load_calibration(config)
    except ProfileError as error:
        log_event("calibration.refused", level=40, error=error)
        return None


class Device:
    def __init__(self, config: Config, with_sync: bool = True) -> None:
        self.config = config
        # Off when the edgescreen-sync service runs the worker: two workers would share one MQTT client id.
        self._with_sync = with_sync
        self.started_at = time.time()
        self.gate = QualityGate(config.quality)
        self._records_thread = ThreadPoolExecutor(1, thread_name_prefix="records")
        self._stop_sync = threading.Event()
        self._sync_thread = threading.Thread(target=self._sync, name="sync", daemon=True)
        self.camera = CameraOwner(
            self._open_camera, self._preview_check, CodeReader(), step_s=camera_step_s(config.camera)
        )
        self.pipeline: ScreeningPipeline
        self.store: ScreeningStore
        # The pipeline and its records, open from ``start`` to ``stop`` (on the records thread).
        self._opened = ExitStack()
        self.operators: Operators
        self.model_names: list[str] = []
        # Set when a shutdown begins: live streams end on their own instead of being cut off.
        self.closing = threading.Event()
        # The loops the systemd watchdog watches (the sync worker's joins once its records are open).
        self.heartbeats: list[Heartbeat] = [self.camera.heartbeat]
        self.watchdog: Watchdog | None = None
        # The last readiness checks and when they ran (``readiness``).
        self._checks: list[Check] = []
        self._checked_at = float("-inf")
        # The last full scans (quick_check, the whole audit chain), and whether they are being redone.
        self._scans: Scans | None = None
        self._rescanning = threading.Lock()
        self._scans_lock = threading.Lock()

    def start(self) -> None:
        self._records_thread.submit(self._open_records).result()
        if self._with_sync:
            self._sync_thread.start()
        self.camera.start()
        log_event("app.started")

    def _open_records(self) -> None:
        self.pipeline, self.store = self._opened.enter_context(recording_pipeline(self.config, calibration_or_none))
        self.operators = Operators(self.store.records)
        # The visits the app's last run held in memory died with it: their eyes go on Today to call back.
        if lost := close_lost_visits(self.store.records):
            log_event("app.visits_not_finished", level=30, visits=lost)

    def _sync(self) -> None:
        try:
            run_sync(self.config, self._stop_sync, heartbeats=self.heartbeats)  # the sync loop's and the uploader's
        except Exception as error:  # the app keeps screening; results wait in the outbox
            log_event("app.sync_failed", level=40, error=error)

    def _open_camera(self, modality: str) -> tuple[Camera, Controls]:
        """The configured camera. A files camera replays only the photos named for the modality being
        screened when its folders hold any (the bundled samples are ``fundus-*`` and ``dermoscopy-*``),
        so the demo's fundus preview and bursts never show a skin photo."""
        config = self.config
        if config.camera.backend == "files":
            named = tuple(p for p in list_images(config.camera.files) if p.name.startswith(modality))
            if named:
                config = dataclasses.replace(config, camera=dataclasses.replace(config.camera, files=named))
        return build_camera(config)

    def probe_camera(self) -> bool:
        return self.camera.probe(self.config.device.modality)

    def _preview_check(self, modality: str) -> Callable:
        return preview_check(self.pipeline, self.gate, modality)

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the records thread without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._records_thread, work)

    def run_later(self, work: Callable[[], object]) -> None:
        """Queue ``work`` on the records thread, not waiting for it: for a write no answer waits on (a
        visit a forgotten session dropped). One thread, so a read queued after it sees it written. A
        failure cannot reach the screen: it goes to the log."""
        self._records_thread.submit(work).add_done_callback(_log_failure)

    def load_models(self) -> list[str]:
        """Load and verify the model of every modality (records thread) as the screening does; their
        names as ``doctor`` gives them (``bundles.manifest.installed_name``)."""
        models = self.config.models
        names = [
            installed_name(self.pipeline.model(modality), model_folder(models, modality)) for modality in MODALITIES
        ]
        self.model_names = names
        return names

    def readiness(self, fresh: bool = False) -> list[Check]:
        """The readiness checks (records thread): run again when ``fresh`` (the nurse's "Check
        again", "Ready to screen?" at sign-in) or older than ``READINESS_FRESH_S``, else the last
        run's. A fresh run, and the first, runs every check in full; starting a patient runs on the
        last full scans (``health.readiness``), whose cost does not grow with the records, and has
        them redone in the background once they are due."""
        now = time.monotonic()
        if fresh or now - self._checked_at > READINESS_FRESH_S:
            full = fresh or self._scans is None
            scans = None if full else self._scans
            self._checks = readiness(
                self.config,
                self.store.records,
                self.load_models,
                self.probe_camera,
                scans=scans,
                calibration_in_use=self.pipeline.calibration,
                writable=self._writable,
            )
            if full:
                self._keep(Scans.of(self._checks, now))
            elif self._scans is not None and self._scans.due(now):
                self._rescan()
            self._checked_at = now
            log_event("app.readiness_run", ms=round((time.monotonic() - now) * 1000), full=full)
        return self._checks

    def _writable(self, database: Path) -> Check:
        """The readiness list's writable line: the kernel's answer on the records' files, or, while
        they take writes, the write lock this app's watchdog found another process holding past a
        busy timeout, if it holds it still (``lock_held_still``)."""
        files = check_records_files_writable(database)
        if files.level is not Level.GREEN or self.watchdog is None:
            return files
        return lock_held_still(self.watchdog.found, database) or files

    def _keep(self, scans: Scans) -> None:
        """Hold ``scans`` unless newer ones are held (``Scans.newer``): the records thread and the
        background scan both keep theirs."""
        with self._scans_lock:
            self._scans = scans.newer(self._scans)

    def _rescan(self) -> None:
        """Redo the full scans on a thread and records connection of their own, so that no start of a
        patient and no screening waits on them; the next start reads their verdicts. One at a time."""
        if not self._rescanning.acquire(blocking=False):
            return

        def scan() -> None:
            try:
                records = Records(self.config.records.database, self.config.records.key_file, read_only=True)
                try:
                    scans = full_scans(records)
                finally:
                    records.close()
                self._keep(scans)
                log_event("app.full_scans", records=scans.records.level, audit=scans.audit.level)
            except Exception as error:  # the last scans stand; the next start tries again
                log_event("app.full_scans_failed", level=40, error=error)
            finally:
                self._rescanning.release()

        threading.Thread(target=scan, name="full-scans", daemon=True).start()

    def visit_checks(self) -> list[Check]:
        """What the steps of a visit (capture screen, shutter, "Use this photo") are held to: the last
        full run's checks, whatever their age, with the disk measured now. The full run takes
        seconds on records used for months, and between the shutter and the burst the eye moves; it
        ran when the patient was started (and runs at every "Check again"), so a visit always has one.
        The disk is the one check a visit itself changes, and statvfs costs nothing: it is measured
        whatever the last run held."""
        live = disk_check(self.config)
        return [live, *(check for check in self._checks if check.name != live.name)]

    @property
    def screening_blocked(self) -> bool:
        """Whether the last readiness checks held a red one, however old: the nav bar offers no new
        patient then but a way to run them again (a red may clear by itself; the pages themselves
        refuse a patient whatever the nav showed, ``pages_session.refused``)."""
        return bool(blocking(self._checks))

    async def announce_ready(self) -> None:
        """Tell systemd the app is ready once its models verify (its records are open since ``start``);
        a refused model withholds it, so systemd restarts the app while the readiness screen says why."""
        try:
            names = await self.run(self.load_models)
        except ModelError as error:
            log_event("service.not_ready", level=40, error=error)
            return
        self.watchdog = supervise(self.config.records.database, self.heartbeats, f"ready: {', '.join(names)}")

    def stop(self) -> None:
        """Ctrl-C, SIGTERM or a closed terminal: close the camera, stop the sync worker, close the pipeline
        (its workers finish what they were given) and the records (the last witness written), in that order."""
        if self.watchdog is not None:
            self.watchdog.stop()
        self.camera.stop()
        self._stop_sync.set()
        if self._sync_thread.is_alive():
            self._sync_thread.join(15)
        log_event("app.sync_stopped", alive=self._sync_thread.is_alive())
        self._records_thread.submit(self._opened.close).result()
        self._records_thread.shutdown()
        log_event("app.stopped")
