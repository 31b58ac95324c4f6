"""The ``edgescreen`` commands on the device's records and their sync: audit, erase, records, sync."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import sqlite3
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_app.app import open_store, run_sync
from firmware_app.config import Config
from firmware_app.durable import create_durably, fsync_directory, rename_without_replacing
from firmware_app.events import log_event
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.messages import CATALOGUE, message, sentence
from firmware_app.records.audit import KINDS
from firmware_app.records.database import RequestRefused, output_problem, records_problem
from firmware_app.records.outbox import (
    CRASHES,
    ERASURES_REFUSED,
    LAST_FAILURE,
    Outbox,
    process_alive,
    unacknowledged_drops,
)
from firmware_app.records.presence import RECORDS_GONE_EXIT, RecordsGone
from firmware_app.records.screening import refuse_control
from firmware_app.records.sealing import SealBroken
from firmware_app.records.store import Records, ScreeningStore, photo_status, unsent_ages
from firmware_app.records.uploads import UploadQueue
from firmware_app.service.notify import sd_notify
from firmware_app.service.records_wait import wait_for_records
from firmware_app.service.termination import stop_on_termination
from firmware_app.service.watchdog import supervise
from firmware_app.typed_argument import Refused
from firmware_app.wording import exports_said, failure_remedy, photo_reasons, readable_date

if TYPE_CHECKING:
    from firmware_app.sync.worker import SyncWorker

MEDIA_SUFFIX = {"image/jpeg": ".jpg"}
PATIENT_HELP = "the local patient reference, as entered at screening"
RESULT_ID_HELP = "the result id (`result_id` in the JSON of `edgescreen screen --json`)"
# Two unclean restarts within this time of each other, and the worker is crash-looping.
CRASH_LOOP_CRASHES = 2
CRASH_LOOP_WINDOW = timedelta(minutes=15)


def _with_store(config: Config, action: Any, read_only: bool = False) -> int:
    """``action`` on the records, which each of these commands only reads or acts on: never made here."""
    store = open_store(config, read_only=read_only, must_exist=True)
    try:
        return action(store)
    except (sqlite3.Error, ValueError) as error:  # a stored value that cannot be what was written
        raise records_problem(config.records.database, error) from error
    finally:
        store.records.close()


def cmd_audit_verify(config: Config, args: argparse.Namespace) -> int:
    """What the audit chain proves and what broke it, in the device's language."""
    language = config.device.language

    def verify(store: ScreeningStore) -> int:
        check = store.records.verify_audit()
        print("\n".join(check.sentences(language)))
        return 0 if check.intact else 4

    return _with_store(config, verify, read_only=True)


def _at_least_one(text: str) -> int:
    """A count of 1 or more (SQLite reads a negative LIMIT as no limit at all)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise Refused("argument.at_least_one", value=repr(text))
    return value


def cmd_audit_list(config: Config, args: argparse.Namespace) -> int:
    """The newest events, oldest first: what a technician needs of them (an erasure's result ids, to
    erase a shared photo at the station too) without opening the database. Details never name a patient."""

    def show(store: ScreeningStore) -> int:
        where, values = ("WHERE kind = ?", [args.kind]) if args.kind else ("", [])
        rows = store.records.connection.execute(
            f"SELECT seq, at, kind, details FROM audit {where} ORDER BY seq DESC LIMIT ?", [*values, args.last]
        ).fetchall()
        for seq, at, kind, details in reversed(rows):
            print(f"{seq}\t{at}\t{kind}\t{details}")
        return 0

    return _with_store(config, show, read_only=True)


def _refuse_patient(reference: str | None) -> None:
    """A patient reference no screening could be recorded under, refused before the records are read (an
    erasure of no one would be audited): one holding a control character, by the rule screening holds a
    reference to, in the device's language (argparse's ``type`` refused it in English, before the config
    was read); one given blank names no one, where it was told "no screening under the reference
    given", as if a reference had been mistyped."""
    refuse_control(reference, "the patient reference", "typed.what.patient")
    if reference is not None and not reference.strip():
        raise RequestRefused.saying("refused.patient_blank")


def cmd_erase(config: Config, args: argparse.Namespace) -> int:
    """Erase a patient, saying in the device's language what was erased, what was left for the
    technician to check and what may be held elsewhere."""
    language = config.device.language
    _refuse_patient(args.patient)

    def erase(store: ScreeningStore) -> int:
        erasure = store.erase_patient(args.patient)  # audited even when it matches nothing
        # Printed, never logged: the technician erasing is the one who must check them.
        for other, screenings in erasure.close.items():
            command = f"edgescreen erase --patient {shlex.quote(other)}"
            print(sentence("erase.close", language, count=screenings, reference=repr(other), command=command))
        if unreadable := erasure.unreadable_references:
            print(sentence("erase.unreadable", language, count=len(unreadable), results=", ".join(unreadable)))
        # A mistyped reference must not close a right-to-erasure request as done; a patient on a first
        # visit has nothing recorded yet, and the nurse is to be told all the same.
        if not erasure.results:
            if erasure.visits_open:
                print(message("erase.visit_open", language))
            # Without the reference: the refusal is logged (command.refused), and the journal must
            # never hold one, which no erasure could reach.
            raise RequestRefused.saying("refused.erase_no_patient")
        in_flight = erasure.unsent_in_flight
        done = {
            "screenings": sentence("count.screenings", language, count=erasure.results),
            "photos": sentence("count.photos", language, count=erasure.images),
            "withdrawn": sentence("count.withdrawn", language, count=erasure.unsent_withdrawn),
            "in_flight": sentence("erase.in_flight", language, count=in_flight) if in_flight else "",
        }
        print(sentence("erase.done", language, **done))
        if erasure.left_on_disk:
            print(message(f"erase.left_on_disk.{erasure.left_on_disk.cause}", language))
        if at_the_station := erasure.at_the_station:
            shared = len(erasure.shared_photos)
            photos = sentence("erase.with_photo", language, count=shared) if shared else ""
            command = "edgescreen-review results erase " + " ".join(at_the_station)
            print(sentence("erase.at_station", language, held=len(at_the_station), photos=photos, command=command))
        if erasure.exported.count:
            print(exports_said("erase.exported", erasure.exported, language))
        if erasure.visits_open:  # the app, another process, learns it only at the visit's next screen
            print(message("erase.visit_open", language))
        return 0

    return _with_store(config, erase)


def cmd_records_show(config: Config, args: argparse.Namespace) -> int:
    return _with_store(config, lambda store: print(json.dumps(store.view(args.result_id), indent=2)) or 0)


def cmd_records_export(config: Config, args: argparse.Namespace) -> int:
    """One result's images, or with ``--patient`` everything this device holds about one patient (a
    subject access request): each screening's full record as JSON beside its images. Records gone
    or never made are said before ``--out``, as every command says them before its output. Whole or
    not at all (``_StagedExport``): a refusal part-way leaves none of its files."""
    if (args.result_id is None) == (args.patient is None):
        raise RequestRefused.saying("refused.export_one_or_patient")
    _refuse_patient(args.patient)

    def export(store: ScreeningStore) -> int:
        if args.out.exists() and not args.out.is_dir():  # refused before the export is audited
            raise RequestRefused.saying("refused.export_out_is_file", path=str(args.out))
        result_ids = [args.result_id] if args.patient is None else list(store.search_patient(args.patient).result_ids)
        if not result_ids:
            raise RequestRefused.saying("refused.export_no_patient")
        staged = _StagedExport(args.out, config.device.language)
        try:
            damaged = _export_each(store, result_ids, staged, with_records=args.patient is not None)
            staged.publish()
        except BaseException:
            staged.discard()
            raise
        if damaged:
            said = sentence(
                "export.photo_damaged", config.device.language, count=len(damaged), results=", ".join(damaged)
            )
            print(f"edgescreen: {said}", file=sys.stderr)
            return 1
        return 0

    return _with_store(config, export)


def _export_each(store: ScreeningStore, result_ids: list[str], staged: _StagedExport, with_records: bool) -> list[str]:
    """Stage each result's images, and its record ``with_records``; the results whose photo is damaged."""
    damaged = []
    for result_id in result_ids:
        if with_records:
            # Not ``seen``: a copy for the patient leaves a referral on the nurse's call-back list.
            record = json.dumps(store.view(result_id, seen=False), indent=2, ensure_ascii=False)
            staged.write(f"{result_id}.json", record.encode())
        try:
            images = store.export_images(result_id)
        except SealBroken:  # one photo damaged on the card: the rest of a patient's export goes on
            damaged.append(result_id)
            continue
        for index, (media_type, data) in enumerate(images):
            staged.write(f"{result_id}-{index}{MEDIA_SUFFIX.get(media_type, '.bin')}", data)
    return damaged


class _StagedExport:
    """An export written into a folder of its own (this user's alone, 0700), and put under the
    names asked for once whole: one stopped part-way (a full drive, a file of a name already there,
    Ctrl-C) left its earlier files in ``--out``, which a technician could hand over as a patient's whole
    export. A new ``--out`` is that folder renamed, beside it, at once; an existing one (a USB drive's
    mount point, where no folder beside it is on the same drive) holds it, and gets its files renamed
    into it one by one, refused first for a name already there. A rename replaces a link planted in the
    moment since, never writes through it. A kill or a power cut leaves that folder, never a name asked
    for: named ``NAME.incomplete-*`` in plain sight, where a hidden one kept a patient's records on a
    drive handed on with nobody the wiser."""

    def __init__(self, out: Path, language: str) -> None:
        self.out, self.new = out, not out.exists()
        self.names: list[str] = []
        if not self.new and out.stat().st_mode & 0o077:
            print(f"edgescreen: {sentence('export.folder_open', language, folder=str(out))}", file=sys.stderr)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix=f"{out.name}.incomplete-", dir=out.parent if self.new else out))
        except OSError as error:
            raise output_problem(out, error) from error

    def write(self, name: str, data: bytes) -> None:
        """Stage ``name``, whole and flushed (``create_durably``: a photo cut short by a full drive would
        pass for the patient's), refused as ``--out``'s own file would be: there already (a file or a
        link, which in a shared folder could be planted to have the photo written where its planter
        reads it), or not written (said of its name in ``--out``, the one the technician knows)."""
        path = self.out / name
        if os.path.lexists(path):
            raise RequestRefused.saying("refused.export_file_exists", path=str(path))
        try:
            create_durably(self.folder / name, data, permissions=0o600)
        except OSError as error:
            raise output_problem(path, error) from error
        self.names.append(name)

    def publish(self) -> None:
        """Put the staged files under their names, and list them; a rename that fails takes back the
        ones made before it. One finding a file made under its name since ``write`` checked it (a
        technician's copy) is refused as ``write`` refuses it, that file left as it is
        (``rename_without_replacing``). A new ``--out``'s folder renamed fails onto a file or a folder
        with files made there since, and replaces only an empty folder: nothing is lost."""
        moved: list[Path] = []
        try:
            if self.new:
                self.folder.rename(self.out)
            else:
                for name in self.names:
                    rename_without_replacing(self.folder / name, self.out / name)
                    moved.append(self.out / name)
                self.folder.rmdir()
            fsync_directory(self.out.parent if self.new else self.out)
        except OSError as error:
            for path in moved:
                path.unlink(missing_ok=True)
            if isinstance(error, FileExistsError):
                raise RequestRefused.saying("refused.export_file_exists", path=error.filename2) from None
            raise output_problem(self.out, error) from error
        for name in self.names:
            print(self.out / name)

    def discard(self) -> None:
        """Remove what was staged: an export stopped leaves nothing of itself."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _connection(state: dict[str, str], now: datetime, language: str, in_words: bool) -> str:
    """The worker's state as a technician needs it, in ``language``: a crash loop and a dead worker say
    so, the last crash dated ``in_words`` for a person, else in ISO for the scripts (``sync_status``)."""
    connection = state.get("connection")
    said = _state_said(connection, language)
    crashes, last_crash = int(state.get(CRASHES, "0")), state.get("last_crash")
    if crashes >= CRASH_LOOP_CRASHES and last_crash and now - datetime.fromisoformat(last_crash) < CRASH_LOOP_WINDOW:
        at = readable_date(last_crash, language) if in_words else last_crash
        return sentence("sync.state.crash_looping", language, crashes=crashes, at=at, state=said)
    if connection != "stopped" and "worker_pid" in state and not process_alive(state["worker_pid"]):
        return sentence("sync.state.not_running", language, state=said)
    return said


def worker_state(records: Records, language: str) -> str:
    """The sync worker's state (``sync_status``'s ``connection``) said in ``language``, for a person
    beside ``sync_status``'s English, whose states the code compares."""
    return _connection(Outbox(records).state(), records.clock(), language, in_words=True)


def _state_said(connection: str | None, language: str) -> str:
    """One of the worker's states (``Outbox.set_connection``'s) by its catalogue key; one this version
    has no key for (a newer worker's) as recorded."""
    key = f"sync.state.{connection or 'never_started'}"
    return message(key, language) if key in CATALOGUE else str(connection)


def _crashed(state: dict[str, str]) -> bool:
    """Whether an unclean restart is counted in ``crashes``: the count is 0 after a clean stop."""
    return int(state.get(CRASHES, "0")) > 0 and "last_crash" in state


def _crash_said(state: dict[str, str], language: str) -> str:
    """Why the worker last ended uncleanly: the error it caught (its words, the technician's), or the
    state it was killed in, said in ``language``. Records of an older release keep that sentence,
    in English, as the error."""
    error, ended_in = state.get("last_crash_detail"), state.get("last_crash_state")
    if error:
        return error
    if ended_in:
        return sentence("sync.crash.killed", language, state=_state_said(ended_in, language))
    return message("sync.crash.no_reason", language)


def _last_crash(state: dict[str, str]) -> str | None:
    """When and why the latest of the unclean restarts counted in ``crashes`` happened, for ``--json``'s
    scripts: the ISO time, the reason in English; none when the count is 0 (a clean stop ends it)."""
    return f"{state['last_crash']}: {_crash_said(state, 'en')}" if _crashed(state) else None


def last_crash_said(records: Records, language: str) -> str | None:
    """``_last_crash`` for a person: its date in words in the device's local time, why in ``language``."""
    state = Outbox(records).state()
    if not _crashed(state):
        return None
    at = readable_date(state["last_crash"], language)
    return sentence("sync.crash.at", language, at=at, why=_crash_said(state, language))


def sync_status(records: Records) -> dict[str, Any]:
    """The outbox and the worker as the records hold them, in English: the worker's state
    (``connection``) is what the readiness list and ``--json``'s scripts read; a person reads it
    said in the device's language (``worker_state``)."""
    outbox = Outbox(records)
    backlog, state = outbox.backlog(), outbox.state()
    now = records.clock()  # the clock the results were queued by (a test's own)
    ages = unsent_ages(records)
    return {
        "connection": _connection(state, now, "en", in_words=False),
        "connection_since": state.get("connection_since"),
        "connection_detail": state.get("connection_detail") or None,
        "backlog": backlog.unsent,
        "oldest_unsent": backlog.oldest_unsent.isoformat() if backlog.oldest_unsent else None,
        # Of the oldest unsent result that has an age (records.store.unsent_ages: this boot's by a clock
        # never set); those of another boot dated by a clock not synchronised are counted apart: never 0.
        "oldest_unsent_age_s": round(ages.oldest.total_seconds()) if ages.oldest is not None else None,
        "undated_unsent": ages.undated,
        "sent": backlog.sent,
        "withheld": backlog.withheld,
        # Deleted unsent by [sync] overflow_policy = "drop_oldest": a backlog of 0 is not "all sent".
        "dropped": backlog.dropped,
        # Of them, those no technician has acknowledged (``sync acknowledge-dropped``): doctor amber for them.
        "dropped_unacknowledged": unacknowledged_drops(backlog.dropped, state),
        # A patient's erasure asks the station to erase her results: not sent yet, a wipe would lose it.
        "erasure_requests": backlog.erasure_requests,
        # Altered on the card, never to be sent (``outbox.erasure_fault``): counted apart, waiting for nothing.
        "erasures_withheld": backlog.erasures_withheld,
        # Of the requests waiting, refused by the broker as the worker last tried them: its ACL's to mend.
        "erasures_refused": min(int(state.get(ERASURES_REFUSED, "0")), backlog.erasure_requests),
        "last_success": state.get("last_success"),
        "crashes": int(state.get(CRASHES, "0")),
        "last_crash": _last_crash(state),
        **photo_status(records),
        # Why the worker's last connection failed (``sync.failure``), until one succeeds.
        "last_failure": state.get(LAST_FAILURE) or None,
    }


def warn_of_the_clock(records: Records, language: str) -> None:
    """One line on stderr when the clock that dates what a command records or shows is one the records do
    not trust (``Records.trusted_now``: not synchronised, or before the build), the reading behind the
    amber clock of the nurse's app and ``doctor``: the command line said nothing of it. On stderr, so
    that a ``--json`` output stays the results alone."""
    if records.trusted_now() is None:
        now = readable_date(records.clock(), language)
        print(f"edgescreen: {sentence('records.clock_untrusted', language, now=now)}", file=sys.stderr)


def cmd_sync_status(config: Config, args: argparse.Namespace) -> int:
    def status(store: ScreeningStore) -> int:
        warn_of_the_clock(store.records, config.device.language)
        report = sync_status(store.records)
        if not args.json:  # a person reads it: its codes are the scripts'
            report["connection"] = worker_state(store.records, config.device.language)
            report["last_crash"] = last_crash_said(store.records, config.device.language)
            report["photos_set_aside"] = photo_reasons(report["photos_set_aside"], config.device.language) or None
        if report["last_failure"]:  # the remedy, in the device's language: the technician reads it here
            report["what_to_do"] = failure_remedy(report["last_failure"], config.device.language)
        if args.json:
            print(json.dumps(report))
        else:  # each field by its label in the device's language, the English key staying --json's
            labels = {key: message(f"sync.field.{key}", config.device.language) for key in report}
            width = max(map(len, labels.values()))
            for key, value in report.items():
                print(f"{labels[key]:<{width}}  {'-' if value is None else value}")
        return 0

    return _with_store(config, status, read_only=True)


def cmd_sync_retry_photos(config: Config, args: argparse.Namespace) -> int:
    def retry(store: ScreeningStore) -> int:
        queue = UploadQueue(store.records)
        retried = queue.retry_refused()
        print(sentence("sync.photos_retried", config.device.language, count=retried))
        erased = queue.backlog().erased_at_the_station
        if erased:  # set aside too, and not queued again: said, so that the technician does not wonder why
            print(sentence("sync.photos_erased_at_the_station", config.device.language, count=erased))
        return 0

    return _with_store(config, retry)


def cmd_sync_acknowledge_dropped(config: Config, args: argparse.Namespace) -> int:
    def acknowledge(store: ScreeningStore) -> int:
        acknowledged = Outbox(store.records).acknowledge_dropped()
        print(sentence("sync.dropped_acknowledged", config.device.language, count=acknowledged))
        return 0

    return _with_store(config, acknowledge)


def cmd_sync_run(config: Config, args: argparse.Namespace) -> int:
    """Run the worker in the foreground; SIGTERM or Ctrl-C stops it cleanly ("offline" on status).
    Under systemd it is ready once its records are open, and pings the watchdog while its loop runs.
    Records gone from their path (a records drive not mounted yet at boot) are said once; under
    systemd (without ``--until-drained``) it then waits for them (``service/records_wait.py``) and
    ends with ``RECORDS_GONE_EXIT`` once they are there, to be started on them; elsewhere it ends so
    at once. Never the 2 of a configuration error, which the service is never restarted on."""
    loops: list[Heartbeat] = []  # the sync loop's, then the photo uploader's: watched as they join
    workers: list[SyncWorker] = []

    def started(worker: SyncWorker) -> None:
        workers.append(worker)
        supervise(config.records.database, loops, "sync worker running")

    with stop_on_termination(config.device.language) as stop:
        try:
            run_sync(config, stop, until_drained=args.until_drained, started=started, heartbeats=loops)
        except RecordsGone as error:
            log_event("sync.records_gone", logging.WARNING, error=error)  # in English, once per start
            print(f"edgescreen: {error.said_in(config.device.language)}", file=sys.stderr)
            waiting = f"waiting for the records: {error}"
            back = not args.until_drained and wait_for_records(config.records.database, stop, waiting)
            if back:
                log_event("records.back", path=config.records.database)
            if back or not stop.is_set():  # started again on them by systemd; or, from a shell, said and ended
                return RECORDS_GONE_EXIT
    sd_notify("STOPPING=1")  # stopped, while it ran or while it waited
    return _erasures_refused(config, sum(worker.erasures_refused for worker in workers))


def _erasures_refused(config: Config, refused: int) -> int:
    """The erasure requests the broker refused, which ended ``--until-drained`` with nothing else left to
    send: said in one sentence (how many, and the broker's ACL to update), exit status 1."""
    if not refused:
        return 0
    broker = f"{config.sync.broker_host}:{config.sync.broker_port}"
    said = sentence("sync.erasures_refused", config.device.language, count=refused, broker=broker)
    print(f"edgescreen: {said}", file=sys.stderr)
    return 1


def add_records_commands(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit", required=True
    )
    audit.add_parser("verify", help="check the hash chain; name the first bad event").set_defaults(
        handler=cmd_audit_verify
    )
    listing = audit.add_parser("list", help="the newest events (number, time, kind, details; no patient is named)")
    listing.add_argument("--kind", choices=KINDS, help="only events of this kind, e.g. erasure")
    listing.add_argument("--last", type=_at_least_one, default=50, help="how many of the newest events (default 50)")
    listing.set_defaults(handler=cmd_audit_list)

    erase = commands.add_parser(
        "erase",
        help="remove everything about one patient (right to erasure)",
        description="Remove every screening, photo, verdict and unsent result of one patient from this device "
        "(right to erasure). It cannot be undone. Results already sent, which name no patient, are erased at the "
        "review station too: the sync service sends it the request (a station older than this release is "
        "erased by its administrator: `edgescreen-review results erase`). "
        "The audit log records the erasure without the reference.",
    )
    erase.add_argument("--patient", required=True, help=PATIENT_HELP)
    erase.set_defaults(handler=cmd_erase)

    records = commands.add_parser("records", help="read local records (audited)").add_subparsers(
        dest="records", required=True
    )
    show = records.add_parser("show", help="the full local record of one result, patient reference included")
    show.add_argument("result_id", help=RESULT_ID_HELP)
    show.set_defaults(handler=cmd_records_show)
    export = records.add_parser(
        "export",
        help="decrypt the images of one result, or all one patient's records and images, into a folder",
        description="With RESULT_ID: that result's images. With --patient: every screening recorded under the "
        "patient reference, each as RESULT_ID.json (the full record: reference, note, quality, triage, verdicts "
        "and comments) beside its images, for a subject access request; its verdicts stay unseen on the nurse's "
        "call-back list. Each record and image read is audited; the audit never names the patient.",
    )
    export.add_argument("result_id", nargs="?", help=RESULT_ID_HELP)
    export.add_argument("--patient", help=PATIENT_HELP)
    export.add_argument("--out", type=Path, required=True, help="folder to write the images to")
    export.set_defaults(handler=cmd_records_export)

    sync = commands.add_parser("sync", help="the outbox and the site broker").add_subparsers(dest="sync", required=True)
    status = sync.add_parser("status", help="backlog, last success, connection state")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_sync_status)
    retry = sync.add_parser("retry-photos", help="queue the photos the review station refused again, once mended")
    retry.set_defaults(handler=cmd_sync_retry_photos)
    acknowledge = sync.add_parser(
        "acknowledge-dropped", help="stop doctor warning of the results drop_oldest deleted unsent, once seen to"
    )
    acknowledge.set_defaults(handler=cmd_sync_acknowledge_dropped)
    run = sync.add_parser("run", help="run the sync worker in the foreground")
    run.add_argument(
        "--until-drained",
        action="store_true",
        help="exit once every queued result is acknowledged and every photo still to send is at the review station",
    )
    run.set_defaults(handler=cmd_sync_run)
