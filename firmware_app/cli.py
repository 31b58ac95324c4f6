"""The ``edgescreen`` command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from firmware_app import __version__
from firmware_app.app import build_camera, model_folder, open_store, profile_misfit, recording_pipeline, run_sync
from firmware_app.bundles.install import damaged_copies
from firmware_app.bundles.manifest import held_to_signature, installed_copy_gone, load_installed
from firmware_app.calibrate_command import add_calibrate_command
from firmware_app.calibration.profile import ProfileError, ProfileMisfit
from firmware_app.capture.camera import CameraError
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.capture.photo_to_screen import AlreadyCalibrated, read_photo_to_screen
from firmware_app.capture_flow import CaptureOptions, CaptureStopped, CaptureTimedOut, capture_and_screen
from firmware_app.config import (
    SAMPLES_DIR,
    Config,
    ConfigError,
    ModelsConfig,
    config_error_app,
    config_error_languages,
    load_config,
)
from firmware_app.device_cli import RecordsRefusedTheBackup, add_device_commands
from firmware_app.events import image_ref, log_event, setup_logging
from firmware_app.health.checks import (
    Check,
    Level,
    camera_misconfigured,
    check_records,
    model_refused,
    profile_refused,
    records_unusable,
    tls_refused,
)
from firmware_app.health.readiness import clock_check, committed_check
from firmware_app.inference.card import CARD_SCHEMA, MODALITIES, CardError
from firmware_app.inference.model import CARD_FILE, ModelError
from firmware_app.memory import MESSAGE_KEY as MEMORY_MESSAGE
from firmware_app.memory import OutOfMemory
from firmware_app.messages import message, sentence
from firmware_app.models_cli import add_bundle_commands, clean_damaged
from firmware_app.operators_cli import add_operators_commands
from firmware_app.own_words import speaks_own_words
from firmware_app.pipeline import ScreeningPipeline, ScreeningResult, log_subject
from firmware_app.quality.gate import QualityGate, Speed
from firmware_app.quality.guidance import guidance
from firmware_app.quality_fit_command import add_quality_fit_command, route
from firmware_app.records.database import RecordsError, RequestRefused, records_problem
from firmware_app.records.outbox import REFUSED, TLS_UNUSABLE
from firmware_app.records.screening import BODY_SITES, EYES, ScreeningContext
from firmware_app.records.store import Records, ScreenedBefore, ScreeningRefused, ScreeningStore
from firmware_app.records_cli import add_records_commands, sync_status, warn_of_the_clock, worker_state
from firmware_app.report import quality_json, quality_line, result_json, result_line
from firmware_app.service.reader_gone import quiet_when_reader_gone
from firmware_app.service.termination import stop_on_termination
from firmware_app.sync.tls import TlsUnusable
from firmware_app.typed_argument import Refused, configured_language, speaking
from firmware_app.wipe import NotErased
from firmware_app.wording import check_sentence, decimal, readable_date, seconds


def _progress(items: Sequence[Path], label: str) -> Iterable[Path]:
    """A progress bar on a terminal for long runs; plain iteration when piped or logged."""
    if len(items) < 5 or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="image", file=sys.stderr)


def _error_object(path: Path, modality: str, code: str, said: str, **more: int) -> str:
    """One image's error as ``--json`` prints it: ``error`` is what is said, in the device's language
    for a refusal; ``code`` is English and stays as it is, for a script to tell the kinds apart."""
    return json.dumps({"image": str(path), "modality": modality, "error": said, "code": code, **more})


def _print_failure(event: str, path: Path, modality: str, error: ImageError, as_json: bool, language: str) -> None:
    """An image that could not be read: reported for that image, why in the device's language (the
    log keeps the English), and the run goes on."""
    log_event(event, level=logging.WARNING, image=image_ref(path), error=error.reason)
    why = error.sentence(language)
    print(_error_object(path, modality, "unreadable", why) if as_json else f"{path}  ERROR  {why}")


def screen_images(
    config: Config,
    images: Sequence[Path],
    modality_of: dict[Path, str],
    as_json: bool,
    context: ScreeningContext | None = None,
    stop: threading.Event | None = None,
    skip_screened: bool = True,
) -> int:
    """Screen and record each image; one unreadable, exported from the records or of proportions the
    profile's lens step does not fit is reported and skipped (exit status 1). One the records hold a
    screening of, for the same patient, eye or body site (a batch run again after a power cut, the
    same file given twice), is named with its result and skipped: it was screened.

    A screening the records refuse (disk reserve, outbox cap) stops the run: every later one would be
    refused too, and the nurse must be told at once. So does ``stop`` once set (SIGTERM, Ctrl-C:
    ``stop_on_termination``), after the image in hand: the records are closed as after the last one.
    """
    stop = stop or threading.Event()
    with recording_pipeline(config, admit=admit_screening) as (pipeline, store):
        warn_of_the_clock(store.records, config.device.language)
        context = context or ScreeningContext()
        batch = _Batch(pipeline, store, modality_of, as_json, context, config.device.language, skip_screened)
        status = _screen_each(batch, images, stop)
    _say_dropped(store, config.device.language)
    return status


def _say_dropped(store: ScreeningStore, language: str) -> None:
    """The results these screenings had ``drop_oldest`` delete unsent from the full outbox, in one
    line once the pipeline has recorded its last: no specialist will see them, and only a log line
    (``records.outbox_dropped``) said so."""
    if store.dropped_unsent:
        print(f"edgescreen: {sentence('screen.dropped', language, count=store.dropped_unsent)}", file=sys.stderr)


class Blocked(RuntimeError):
    """A check the app's readiness list holds red, which blocks screening there (``admit_screening``):
    said by that check's sentence, in the device's language; the message is the check's key and values,
    the technician's detail for the log line ``event``."""

    def __init__(self, check: Check, event: str) -> None:
        super().__init__(" ".join([check.message_key, *(f"{k}={v}" for k, v in check.values.items())]))
        self.check, self.event = check, event


def admit_screening(records: Records) -> None:
    """Refuse records that ``PRAGMA quick_check`` finds damaged, or that lost screenings they had
    committed (their witness, ``records/witness.py``), and a clock they prove wrong (before this
    version's build, or unsynchronised and behind a screening dated by a synchronised one), as the
    app's readiness list blocks screening on the same checks in the same words: recording more onto
    a card that fails buries the last backup's worth under damage, and the restore that mends it would
    lose what is screened meanwhile; a screening dated by a wrong clock is filed under a day it was not
    taken on. An unsynchronised clock that can be right is amber there, and screens here too.
    Run once per command, before anything is written: quick_check reads the whole file, which a run
    of images must not pay per image."""
    checks = [
        ("records.unusable", check_records(records)),
        ("records.unusable", committed_check(records)),
        ("clock.wrong", clock_check(records, records.clock())),  # the clock that would date the screenings
    ]
    for event, check in checks:
        if check.level is Level.RED:
            raise Blocked(check, event)


@dataclass(frozen=True)
class _Batch:
    """What each photo of a batch is screened with, and how its outcome is said."""

    pipeline: ScreeningPipeline
    store: ScreeningStore
    modality_of: dict[Path, str]
    as_json: bool
    context: ScreeningContext
    language: str
    # Photos the records hold a screening of are named and skipped (``_screened_before``); ``run``'s
    # samples are its check of the device and screened every time.
    skip_screened: bool


def _screen_each(batch: _Batch, images: Sequence[Path], stop: threading.Event) -> int:
    failed = left = refused = again = 0
    modality_of, as_json, language = batch.modality_of, batch.as_json, batch.language
    for done, path in enumerate(_progress(images, "screening")):
        if stop.is_set():
            left = len(images) - done
            break
        try:
            frame = read_photo_to_screen(path)
            if earlier := _screened_before(batch, frame, modality_of[path]):
                again += 1
                # For a reviewer of the audit, presented again and not screened: by the result alone (the
                # file's name may be the patient's).
                batch.store.audit("already_screened", {"result_id": earlier.result_id})
                _print_screened_before(path, modality_of[path], earlier, as_json, language)
                continue
            result = batch.pipeline.screen(frame, modality_of[path], batch.context)
        except ScreeningRefused as error:  # every later one would be refused too: said at this photo
            refused = _refused(error, language, path)
            if as_json:  # and in the JSON, for a script reading it alone: with the photos not screened from it on
                said = message(error.message_key, language)
                print(_error_object(path, modality_of[path], "not_recorded", said, not_screened=len(images) - done))
            # That photo is named above: the stop is said when others were left unscreened with it.
            left = len(images) - done if done + 1 < len(images) else 0
            break
        except (AlreadyCalibrated, ProfileMisfit) as refusal:
            failed += 1
            _print_refused(path, modality_of[path], refusal, as_json, language)
            continue
        except ImageError as error:
            failed += 1
            _print_failure("screen.image_failed", path, modality_of[path], error, as_json, language)
            continue
        _print_result(result, as_json, language)
    if again:
        print(f"edgescreen: {sentence('screen.not_again', language, count=again)}", file=sys.stderr)
    if left:
        _print_stopped(left, language)
    if not as_json:
        print(message("disclaimer", language))
    return refused or (1 if failed or left else 0)


def _screened_before(batch: _Batch, frame: Frame, modality: str) -> ScreenedBefore | None:
    """The screening the records hold of this photo that screening it now would repeat, when the batch
    skips those (``_Batch.skip_screened``): one the quality gate alone found ungradable, or one triaged
    by the model that would triage it now. The model is loaded only when there is one to compare: an
    ungradable photo never loads it (a device whose model is missing still says it is ungradable)."""
    if not batch.skip_screened:
        return None
    earlier = batch.store.screened_before(frame.source_sha256, modality, batch.context)
    if not earlier:
        return None
    if ungradable := next((screening for screening in earlier if screening.model_sha256 is None), None):
        return ungradable
    model = batch.pipeline.model(modality).reference.sha256
    return next((screening for screening in earlier if screening.model_sha256 == model), None)


def _print_screened_before(path: Path, modality: str, earlier: ScreenedBefore, as_json: bool, language: str) -> None:
    """A photo the records hold a screening of (``ScreeningStore.screened_before``), left out: named
    with that result and when it was recorded, so the nurse knows it was screened, not lost; its
    ``--json`` object gives the result's id, as a screening's does, and ``skipped`` says why."""
    log_event("screen.already_screened", image=image_ref(path), result_id=earlier.result_id)
    at = readable_date(earlier.recorded_at, language)
    why = sentence("screen.screened_before", language, result_id=earlier.result_id, at=at)
    if not as_json:
        print(message("photo.screened_before", language).format(path=path, why=why), flush=True)
        return
    shown = {"image": str(path), "modality": modality, "skipped": why, "code": "already_screened"}
    print(json.dumps(shown | {"result_id": earlier.result_id, "recorded_at": earlier.recorded_at}), flush=True)


def _print_stopped(left: int, language: str) -> None:
    """The run stopped before ``left`` images (SIGTERM, Ctrl-C; the records refusing the first of
    them): said once, not per image, as the results above it stand recorded."""
    log_event("screen.stopped", logging.WARNING, not_screened=left)
    print(f"edgescreen: {sentence('screen.stopped', language, count=left)}", file=sys.stderr)


def _print_refused(
    path: Path, modality: str, refusal: AlreadyCalibrated | ProfileMisfit, as_json: bool, language: str
) -> None:
    """A photo file screening leaves out, reported for that photo, and the run goes on: one ``records
    export`` wrote (the pipeline would calibrate its calibrated pixels again), or one whose proportions
    the profile's lens step does not fit (cropped, another camera's: the photo's fault, where the
    camera's own frames that misfit are the camera set up wrong, ``cmd_capture``)."""
    if isinstance(refusal, AlreadyCalibrated):
        code, detail = "calibrated_export", {"exported_from": refusal.mark.result_id}
    else:
        code, detail = "profile_misfit", {"reason": str(refusal)}  # the sizes, for the technician
    log_event("screen.image_refused", logging.WARNING, image=image_ref(path), **detail)
    why = refusal.sentence(language)
    refused = message("photo.refused", language).format(path=path, why=why)
    print(_error_object(path, modality, code, why) if as_json else refused)


def _refused(error: ScreeningRefused, language: str, path: Path | None = None) -> int:
    """The records refused a screening: said in the device's language, naming the photo a run of
    them stopped at (``capture`` has none: its frame is the one just taken), with the refusal's figures
    where the catalogue words them (``detail_in``: how many wait, and the cap)."""
    where = {} if path is None else {"image": image_ref(path)}
    log_event("screen.refused", logging.ERROR, **where, error=error)  # the English detail, for the technician
    photo = "" if path is None else f"{path}: "
    detail = error.detail_in(language)
    said = message(error.message_key, language) + ("" if detail is None else f" ({detail})")
    print(f"edgescreen: {photo}{said}", file=sys.stderr)
    return 5


def _print_result(result: ScreeningResult, as_json: bool, language: str) -> None:
    log_event("screen.done", **log_subject(result), modality=result.modality, triage=result.triage.outcome.value)
    print(json.dumps(result_json(result, language)) if as_json else result_line(result, language), flush=True)


def _context(args: argparse.Namespace, modality: str) -> ScreeningContext:
    """The nurse's context from the command line. One that does not fit raises ``ContextError``, a
    request refused as asked: ``main`` says it in the device's language and logs its English."""
    context = ScreeningContext(args.patient, args.eye, args.body_site, args.note)
    context.for_modality(modality)
    return context


def cmd_screen(config: Config, args: argparse.Namespace) -> int:
    modality = args.modality or config.device.modality
    context = _context(args, modality)
    modality_of = {path: modality for path in args.images}
    with stop_on_termination(config.device.language) as stop:
        return screen_images(config, args.images, modality_of, args.json, context, stop)


def cmd_capture(config: Config, args: argparse.Namespace) -> int:
    """Aim with the configured camera, take a burst, screen and record its best frame."""
    modality, language = args.modality or config.device.modality, config.device.language
    if modality not in config.screened_modalities:
        said = sentence(
            "capture.other_modality",
            language,
            modality=modality,
            backend=config.camera.backend,
            screened=config.device.modality,
            config=str(config.source),
        )
        print(f"edgescreen: {said}", file=sys.stderr)
        return 2
    context = _context(args, modality)
    auto = args.auto or not sys.stdin.isatty()
    options = CaptureOptions(modality, language, config.camera.burst, auto, args.preview_frames, args.timeout)
    camera, controls = build_camera(config)
    try:
        with (
            stop_on_termination(language) as stop,
            recording_pipeline(config, admit=admit_screening) as (pipeline, store),
        ):
            warn_of_the_clock(store.records, language)
            gate = QualityGate(config.quality)
            result = capture_and_screen(camera, controls, pipeline, gate, options, context, stop=stop)
    except CaptureStopped as error:  # the camera and the records closed on the way here
        log_event("capture.stopped", logging.WARNING, detail=error)
        print(f"edgescreen: {message('capture.stopped', language)}", file=sys.stderr)
        return 1
    except CameraError as error:
        log_event("capture.camera_failed", backend=camera.name, error=error)
        what = error.sentence(language)  # the camera's own words are the technician's: in the log line above
        print(f"edgescreen: {message('capture.camera_failed', language).format(error=what)}", file=sys.stderr)
        return 6
    except CaptureTimedOut as error:
        log_event("capture.timed_out", timeout_s=args.timeout)
        print(f"edgescreen: {error}", file=sys.stderr)
        return 7
    except ScreeningRefused as error:
        return _refused(error, language)
    _print_result(result, args.json, language)
    if not args.json:
        print(message("disclaimer", language))
    _say_dropped(store, language)
    return 0


def cmd_quality(config: Config, args: argparse.Namespace) -> int:
    """The quality gate alone: verdict, reasons and guidance for each image, no model. An image is
    judged as given, no calibration profile applied: a photo ``records export`` wrote (calibrated
    already) is judged as the device's gate judged it, so it is not refused as screening refuses it."""
    gate = QualityGate(config.quality)
    modality = args.modality or config.device.modality
    speed = Speed.PREVIEW if args.preview else Speed.FULL
    language = config.device.language
    failed = 0
    for path in _progress(args.images, "checking"):
        try:
            report = gate.check(read_frame(path), modality, speed)
        except ImageError as error:
            failed += 1
            _print_failure("quality.image_failed", path, modality, error, args.json, language)
            continue
        log_event("quality.checked", image=image_ref(path), modality=modality, verdict=report.verdict.value)
        if args.json:
            document = {"image": str(path), "modality": modality, "speed": speed.value, **quality_json(report)}
            print(json.dumps(document | {"guidance": guidance(report.reasons, modality, language)}), flush=True)
        else:
            print(f"{path}  {modality}  {report.verdict.value.upper()}  {quality_line(report, language)}", flush=True)
    return 1 if failed else 0


def _sync_once(config: Config, wait_s: float, stop: threading.Event) -> str:
    """Give the sync worker up to ``wait_s`` to deliver the outbox; say where the results stand.

    With no broker reachable nothing is lost: the results wait in the outbox for the sync service.
    ``stop`` (SIGTERM, Ctrl-C: ``stop_on_termination``) ends the worker at once, its records closed,
    or keeps it from starting when it came while screening; the results left are said as not sent.
    """
    ran: list[bool] = []

    def deliver() -> None:
        with contextlib.suppress(TlsUnusable):  # said in the status read below
            ran.append(run_sync(config, stop, until_drained=True, wait_for_lock=False))

    stopped = stop.is_set()  # while screening: the sync is not started
    if not stopped:
        worker = threading.Thread(target=deliver, name="sync", daemon=True)
        worker.start()
        worker.join(wait_s)
        stopped = stop.is_set()  # asked to stop, rather than out of time
        stop.set()
        worker.join(10)
    held: str | None = None  # the state of the worker another process (the app, the sync service) holds
    store = open_store(config, read_only=True)
    try:
        status = sync_status(store.records)
        if ran == [False]:
            held = worker_state(store.records, config.device.language)
    finally:
        store.records.close()
    return f"sync: {_sync_standing(config, status, held, stopped, wait_s)}"


def _sync_standing(config: Config, status: dict[str, Any], held: str | None, stopped: bool, wait_s: float) -> str:
    """Where ``run``'s results stand after its sync (``sync_status``), in the device's language: the
    nurse who ran it reads this line after the triage lines, so it speaks as they do; the sync's own
    detail (a TLS file, the broker's refusal) stays the technician's words, as ``sync status`` shows it.
    ``held``: another process (the app, the sync service) holds the sync, in this state (``worker_state``),
    and says how it stands."""
    language, backlog = config.device.language, status["backlog"]
    broker = f"{config.sync.broker_host}:{config.sync.broker_port}"
    if held is not None:
        if status["connection"] == "connected":
            return sentence("run.sync.held_delivering", language, count=backlog)
        return sentence("run.sync.held_waiting", language, count=backlog, broker=broker, state=held)
    if stopped and backlog:
        log_event("sync.stopped", logging.WARNING, not_sent=backlog)
        return sentence("sync.stopped", language, count=backlog)
    if backlog == 0 and not status["dropped"] and not status["withheld"]:
        return sentence("run.sync.delivered", language, count=status["sent"], broker=broker)
    if backlog == 0:
        dropped = sentence("run.sync.dropped", language, count=status["dropped"])
        withheld = sentence("run.sync.withheld", language, count=status["withheld"])
        return sentence(
            "run.sync.delivered_not_all",
            language,
            count=status["sent"],
            broker=broker,
            dropped=dropped,
            withheld=withheld,
        )
    detail = status["connection_detail"]
    if status["connection"] == TLS_UNUSABLE:
        return sentence("run.sync.tls_unusable", language, count=backlog, detail=detail)
    if status["connection"] == REFUSED:
        return sentence("run.sync.refused", language, count=backlog, broker=broker, detail=detail)
    return sentence("run.sync.not_taken", language, count=backlog, broker=broker, wait=seconds(wait_s, language))


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """The device's main job: screen the bundled samples, record them, and sync to the broker if there is
    one. SIGTERM or Ctrl-C stops it after the photo in hand, or ends the sync: either says what was not done."""
    samples = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    modality_of = {p: next(m for m in MODALITIES if p.name.startswith(m)) for p in samples}
    with stop_on_termination(config.device.language) as stop:
        status = screen_images(config, samples, modality_of, args.json, stop=stop, skip_screened=False)
        print(_sync_once(config, args.sync_wait, stop), file=sys.stderr if args.json else sys.stdout)
    return status


def _port(text: str) -> int:
    """A TCP port number from the command line, refused with why before anything starts."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise Refused("argument.port", value=repr(text))
    return int(text)


def cmd_app_unconfigured(args: argparse.Namespace, problem: str, languages: tuple[str, ...]) -> int:
    """``edgescreen app`` whose config does not load: the nurse's screen, and a tablet's when the file's
    ``[app]`` still says where they are, says so in ``languages`` (``serve_unconfigured``)."""
    from firmware_app.web.run import serve_unconfigured

    return serve_unconfigured(problem, args.port, languages, config_error_app(args.config))


def cmd_app(config: Config, args: argparse.Namespace) -> int:
    """The nurse's touchscreen app ([app] bind and port), until Ctrl-C."""
    from firmware_app.web.run import serve  # the web stack is loaded only by the command that needs it

    if args.port is not None:
        try:
            config = replace(config, app=replace(config.app, port=args.port))
        except ConfigError:  # the port of the tablets' HTTPS listener ([app] tls_port), its only check
            print(
                f"edgescreen: {sentence('app.port_is_tablets', config.device.language, port=args.port)}",
                file=sys.stderr,
            )
            return 2
    return serve(config, with_sync=not args.no_sync)


def _model_summary(model_dir: Path, models: ModelsConfig) -> dict[str, Any]:
    """A model folder as the screening would load it (``load_installed``: a signed bundle in full), signed
    when held to its signature: an installed copy refused for its removed manifest was said unsigned, as
    a development build that loads unsigned."""
    signed = held_to_signature(model_dir)
    summary: dict[str, Any] = {"id": model_dir.name, "directory": str(model_dir), "signed": signed}
    try:
        model = load_installed(model_dir, models.trusted_keys, models.threads)
    except ModelError as error:
        return summary | {"verified": False, "error": str(error)}
    card = model.card
    metrics = card.document.get("metrics", {}).get("int8", {})
    point = card.operating_point(None)
    return summary | {
        "verified": True,
        "id": card.id,
        "version": card.version,
        "modality": card.modality,
        "task": card.task,
        "sha256": card.sha256,
        "runtime": model.runtime,
        "default_operating_point": {
            "name": point.name,
            "threshold": point.threshold,
            "sensitivity": point.sensitivity.value,
            "specificity": point.specificity.value,
        },
        "test_auc": metrics.get("test", {}).get("auc"),
        "external_auc": {k: v.get("auc") for k, v in metrics.items() if k.startswith("external")},
    }


def cmd_models(config: Config, args: argparse.Namespace) -> int:
    """List installed models with their verification status and headline metrics."""
    if args.clean_damaged:
        return clean_damaged(config)
    directory = config.models.directory
    # Hidden entries are an installed bundle's previous version and its store (firmware_app.bundles.install).
    listed = [p for p in directory.iterdir() if not p.name.startswith(".")] if directory.is_dir() else []
    model_dirs = sorted(p for p in listed if (p / CARD_FILE).is_file())
    language = config.device.language
    if not model_dirs:
        print(sentence("models.none", language, card=CARD_FILE, folder=str(directory)), file=sys.stderr)
    summaries = [_model_summary(d, config.models) for d in model_dirs]
    for s in summaries:
        if args.json:
            print(json.dumps(s))
        elif not s["verified"]:  # the refusal's own words name the file at fault: English, for the technician
            print(f"{s['id']}  {message('models.not_verified', language)}  {s['error']}")
        else:
            print(_model_line(s, language))
    # No card where a modality's model is configured: what the loader refuses as ``ModelMissing``.
    missing = [modality for modality in MODALITIES if not (model_folder(config.models, modality) / CARD_FILE).is_file()]
    beside = sys.stderr if args.json else sys.stdout  # with --json: stdout keeps one object per installed model
    for modality in missing:
        print(_missing_line(modality, model_folder(config.models, modality), language), file=beside)
    for copy, size in damaged_copies(directory).items():
        print(sentence("models.damaged_kept", language, path=str(copy), size=size), file=beside)
    return 0 if model_dirs and all(s["verified"] for s in summaries) and not missing else 1


def _missing_line(modality: str, folder: Path, language: str) -> str:
    """A configured modality with no model in its folder, which the listing of installed models left
    unsaid while its screenings are refused: said with ``doctor``'s sentence for the same cause
    (``health.models.missing``: install it, or correct ``[models]``; ``health.models.gone``, a link to
    an installed copy deleted since: install it again, or roll back)."""
    cause = "gone" if installed_copy_gone(folder) else "missing"
    remedy = message(f"health.models.{cause}", language)
    name = message(f"modality.{modality}", language)
    said = {"modality": modality, "name": name, "folder": str(folder), "copy": str(folder.resolve()), "remedy": remedy}
    return sentence(f"models.{cause}", language, **said)


def _model_line(summary: dict[str, Any], language: str) -> str:
    """A verified model as ``edgescreen models`` lists it, in the device's language; an unsigned one
    stands out in capitals."""
    point, auc = summary["default_operating_point"], summary["test_auc"]
    auc_text = message("models.no_auc", language)
    if auc:
        figures = [decimal(figure, language, places=3) for figure in (auc["value"], *auc["ci95"])]
        auc_text = sentence("models.test_auc", language, **dict(zip(("auc", "low", "high"), figures, strict=True)))
    return sentence(
        "models.listed",
        language,
        model=summary["id"],
        version=summary["version"],
        signed=message("models.signed", language)
        if summary["signed"]
        else message("models.unsigned", language).upper(),
        runtime=summary["runtime"],
        modality=summary["modality"],
        auc=auc_text,
        point=point["name"],
        sensitivity=round(point["sensitivity"] * 100),
        specificity=round(point["specificity"] * 100),
    )


def _add_screening_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--modality", choices=MODALITIES, help="default: [device] modality in the config")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--patient", help="local patient reference: kept encrypted on this device, never sent")
    parser.add_argument("--eye", choices=EYES, help="fundus: which eye")
    parser.add_argument("--body-site", choices=BODY_SITES, help="dermoscopy: the coarse body site")
    parser.add_argument("--note", help="free-text note: kept encrypted on this device, never sent")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgescreen",
        description="On-device triage of fundus and dermoscopy photos. A triage aid, never a diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"edgescreen {__version__}")
    parser.add_argument(
        "--config", help="TOML config file (default: $EDGESCREEN_CONFIG, then /etc/edgescreen/config.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="the device's main job: screen the bundled samples, record them, sync them to the broker"
    )
    run.add_argument("--json", action="store_true", help="one JSON object per line")
    run.add_argument(
        "--sync-wait", type=float, default=10.0, metavar="SECONDS", help="how long to try the broker (default 10)"
    )
    run.set_defaults(handler=cmd_run)

    app = commands.add_parser("app", help="the nurse's touchscreen app: a local web app ([app] bind, port)")
    app.add_argument(
        "--no-sync", action="store_true", help="leave the outbox to the edgescreen-sync service (as its unit does)"
    )
    app.add_argument("--port", type=_port, metavar="N", help="serve on this port instead of [app] port (8080)")
    app.set_defaults(handler=cmd_app, unconfigured=cmd_app_unconfigured)

    screen = commands.add_parser("screen", help="screen image files and print the triage")
    _add_screening_arguments(screen)
    screen.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="photos to screen (JPEG or PNG)")
    screen.set_defaults(handler=cmd_screen)

    capture = commands.add_parser("capture", help="aim with the camera's live preview, take a burst, screen it")
    _add_screening_arguments(capture)
    capture.add_argument(
        "--auto",
        action="store_true",
        help="take the burst without Enter, once the preview passes (always so when stdin is not a terminal)",
    )
    capture.add_argument(
        "--preview-frames", type=int, default=30, metavar="N", help="auto: take the burst after N frames at most"
    )
    capture.add_argument("--timeout", type=float, default=120.0, metavar="S", help="give up aiming after S seconds")
    capture.set_defaults(handler=cmd_capture)

    quality = commands.add_parser("quality", help="check image quality only: verdict, reasons, guidance")
    quality.add_argument("--modality", choices=MODALITIES, help="default: [device] modality in the config")
    quality.add_argument("--preview", action="store_true", help="the cheap live-preview check, not the full one")
    quality.add_argument("--json", action="store_true", help="one JSON object per line")
    quality.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="photos to check (JPEG or PNG)")
    quality.set_defaults(handler=cmd_quality)
    add_quality_fit_command(commands)

    models = commands.add_parser("models", help=f"list installed models ({CARD_SCHEMA}) and verify them")
    models.add_argument("--json", action="store_true", help="one JSON object per line")
    models.add_argument(
        "--clean-damaged",
        action="store_true",
        help="remove the damaged copies repairs kept for inspection (never a copy a link names), instead of listing",
    )
    models.set_defaults(handler=cmd_models)
    add_bundle_commands(models)

    add_calibrate_command(commands)
    add_records_commands(commands)
    add_device_commands(commands)
    add_operators_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return quiet_when_reader_gone(lambda: _command(argv))


def _command(argv: Sequence[str] | None) -> int:
    words = route(sys.argv[1:] if argv is None else argv)
    with speaking(configured_language(words, config_error_languages)):
        args = build_parser().parse_args(words)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        languages = config_error_languages(args.config)
        for language in languages:
            print(f"edgescreen: {message('config.error', language).format(problem=error)}", file=sys.stderr)
        return args.unconfigured(args, str(error), languages) if "unconfigured" in args else 2
    setup_logging(config.logging.level)
    try:
        return args.handler(config, args)
    except (OutOfMemory, MemoryError) as error:  # before anything was recorded: said as such, never a traceback
        said = str(error) or type(error).__name__  # a bare MemoryError has no text, and is always true
        log_event("device.out_of_memory", logging.ERROR, error=said)
        print(f"edgescreen: {message(MEMORY_MESSAGE, config.device.language)} ({said})", file=sys.stderr)
        return 8
    except (ModelError, CardError) as error:  # RuntimeMissing too: said as no model can run
        log_event("model.refused", logging.ERROR, error=error)
        return _stopped(model_refused(error), error, config, args, 3)
    except ProfileError as error:
        log_event("calibration.refused", logging.ERROR, error=error)
        misfit = isinstance(error, ProfileMisfit)  # a camera's frames (a file's: _screen_each): set up otherwise
        check = camera_misconfigured(profile_misfit(error)) if misfit else profile_refused(error)
        return _stopped(check, error, config, args, 2)
    except TlsUnusable as error:  # logged, and kept for `sync status`, by run_sync
        return _stopped(tls_refused(error), error, config, args, 2)
    except Blocked as error:
        log_event(error.event, logging.ERROR, error=error)
        return _stopped(error.check, error, config, args, 5)
    except RequestRefused as error:
        log_event("command.refused", logging.WARNING, error=error)  # in English, for the technician
        print(f"edgescreen: {error.said_in(config.device.language)}", file=sys.stderr)
        return 2
    except (RecordsError, sqlite3.Error) as error:
        # Any SQLite error reaching here is the records' (a damaged page read late, a full disk).
        problem = error if isinstance(error, RecordsError) else records_problem(config.records.database, error)
        log_event("records.unusable", logging.ERROR, error=problem)
        return _stopped(records_unusable(problem), problem, config, args, 5)


def _stopped(check: Check, error: BaseException, config: Config, args: argparse.Namespace, status: int) -> int:
    """A command stopped by the device's state (a model, the profile, the records, the TLS files) says
    it as the readiness list and ``doctor`` do, by the same check, in the device's language; the
    error's own English words are the log line's, which the caller wrote (``own_words``: the tools that
    say what is wrong with the file they were given, but a refusal about the device's own drive, which
    carries its catalogue sentence, in the device's language: a bundle its models' disk cannot hold, the
    files a wipe could not erase, the device's records refusing a backup)."""
    language = config.device.language
    said_in = isinstance(error, RequestRefused | NotErased | RecordsRefusedTheBackup)
    own = error.said_in(language) if said_in else str(error)
    said = own if speaks_own_words(args) else check_sentence(check, language)
    print(f"edgescreen: {said}", file=sys.stderr)
    return status
