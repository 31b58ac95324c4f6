"""``edgescreen backup``, ``restore`` and ``doctor``: looking after a device that runs unattended."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from firmware_app.app import open_store
from firmware_app.backup import BackupSummary, backup, restore
from firmware_app.config import Config
from firmware_app.events import log_event
from firmware_app.health.checks import Check, Level, records_unusable
from firmware_app.health.doctor import doctor_checks
from firmware_app.messages import message, sentence
from firmware_app.own_words import in_own_words
from firmware_app.records.database import (
    DiskFull,
    RecordsDamaged,
    RecordsError,
    RecordsLocked,
    RecordsReadOnly,
    RequestRefused,
)
from firmware_app.records.identity import Identity
from firmware_app.service.termination import StopRequested, stop_on_termination
from firmware_app.wipe import NotErased, wipe
from firmware_app.wording import check_sentence, exports_said, readable_date


def _summary(key: str, summary: BackupSummary, language: str) -> str:
    """What a backup or a restore holds (``backup.done``, ``restore.done``), each count in its form."""
    return sentence(
        key,
        language,
        path=str(summary.path),
        screenings=sentence("count.screenings", language, count=summary.screenings),
        photos=sentence("count.photos", language, count=summary.images),
        events=sentence("count.events", language, count=summary.audit_events),
    )


def _damaged_photos(summary: BackupSummary, found: str, language: str) -> str:
    """Which photos do not open, and why: their sealed bytes changed on a worn card (one flipped bit
    fails the seal); the rest of each screening is whole. ``found``: where, by its catalogue key."""
    damaged = summary.damaged_photos
    results, said = ", ".join(damaged), message(found, language)
    return sentence("backup.photos_damaged", language, count=len(damaged), results=results, found=said)


class RecordsRefusedTheBackup(RecordsError):
    """The device's own records refused the backup: their disk full (the sync worker holding them alone
    on it, ``HeldAlone``), another process keeping them locked (``RecordsLocked``), damaged
    (``RecordsDamaged``) or not writable (``RecordsReadOnly``). Not the file the technician named, so
    said as every command says it (``records_unusable``), in the device's language (``said_in``), a full
    disk or records that cannot be written with why a backup needs to write there, even to another
    drive: the copy counts only once the records' audit log holds it. The cause's English is the log
    line's."""

    def __init__(self, cause: DiskFull | RecordsLocked | RecordsDamaged | RecordsReadOnly) -> None:
        super().__init__(str(cause))
        self.cause = cause

    def said_in(self, language: str) -> str:
        said = check_sentence(records_unusable(self.cause), language)
        if isinstance(self.cause, DiskFull):
            return f"{said} {message('backup.records_disk_full', language)}"
        if isinstance(self.cause, RecordsReadOnly):
            return f"{said} {message('backup.records_read_only', language)}"
        return said


def _backed_up(config: Config, out: Path) -> BackupSummary:
    """The device's records copied to ``out`` (``backup``), opened for it and closed again."""
    store = open_store(config, must_exist=True)  # a backup of records made for it would count 0 screenings
    try:
        return backup(store, out)
    finally:
        store.records.close()


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    """A copy of the records, said in the device's language; the detail of its refusals about the file
    it writes stays English, those of the device's own records are the device's (``RecordsRefusedTheBackup``)."""
    language = config.device.language
    try:
        summary = _backed_up(config, args.out)
    except (DiskFull, RecordsLocked, RecordsDamaged, RecordsReadOnly) as error:
        raise RecordsRefusedTheBackup(error) from error
    print(_summary("backup.done", summary, language))
    if summary.damaged_photos:
        print(_damaged_photos(summary, "backup.damaged_here", language))
    print(sentence("backup.key_apart", language, file=str(config.records.key_file)))
    return 0


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    """The records restored, what they lack and what the technician sets next, in the device's language."""
    language = config.device.language
    here = Identity(config.device.id, config.device.site)
    summary = restore(args.backup, config.records.database, config.records.key_file, here, args.replacing)
    owner = summary.identity or here
    if summary.damaged_photos:
        print(_summary("restore.done", summary, language))
        print(_damaged_photos(summary, "restore.damaged_there", language))
    else:
        print(_summary("restore.done", summary, language) + message("restore.every_photo_opens", language))
    if summary.not_restored:
        print(sentence("restore.not_restored", language, count=summary.not_restored))
    if erased := summary.erased_again:
        results = sentence("count.screenings", language, count=sum(erasure.results for erasure in erased))
        print(sentence("restore.erasures_applied", language, count=len(erased), screenings=results))
    # Dated as every line the device says is: its local time, the month in words (never ISO, UTC).
    taken_at = readable_date(summary.taken_at, language)  # a restore's always is: the backup's own event
    print(sentence("restore.newest", language, taken_at=taken_at, device=owner.device))
    if owner != here:
        values = {"config": str(config.source), "device": owner.device, "site": owner.site}
        print(sentence("restore.replacing", language, owner=owner.said_in(language), **values))
    return 0


def cmd_wipe(config: Config, args: argparse.Namespace) -> int:
    """Crypto-erase the records key, then overwrite and remove the records and all beside them; with
    ``--unsent-erasures``, the patients' erasures still to be sent written out first, for the station;
    with ``--discard-unsent-results``, the results and photos still to be sent erased with them, and counted."""
    if args.confirm != config.device.id:
        raise RequestRefused.saying("refused.wipe_unconfirmed", device=config.device.id, config=str(config.source))
    records, out = config.records, args.unsent_erasures
    wiped = wipe(
        records.database, records.key_file, config.models.directory, records.marker, out, args.discard_unsent_results
    )
    language, folder = config.device.language, str(config.records.database.parent)
    key = "wipe.key_erased" if wiped.key_erased else "wipe.key_not_found"
    print(sentence(key, language, file=str(config.records.key_file)))
    print(sentence("wipe.files", language, count=wiped.files, folder=folder))
    if wiped.kept is not None:
        print(sentence("wipe.models_kept", language, folder=str(wiped.kept)))
    if wiped.owed_unread:
        print(message("wipe.owed_unread", language))
    elif wiped.erasures_written:
        print(sentence("wipe.unsent_erasures_written", language, count=wiped.erasures_written, file=str(out)))
    elif out is not None:
        print(sentence("wipe.unsent_erasures_none", language, file=str(out)))
    if wiped.results_discarded:
        print(sentence("wipe.unsent_results_discarded", language, count=wiped.results_discarded))
    if wiped.photos_discarded:
        print(sentence("wipe.unsent_photos_discarded", language, count=wiped.photos_discarded))
    if wiped.exported.count:
        print(exports_said("wipe.exported", wiped.exported, language))
    print(message("wipe.flash", language))  # what a wipe cannot reach, said every time it runs
    if wiped.failed:
        raise NotErased(wiped.failed)
    return 0


def _check_json(check: Check, language: str) -> dict[str, Any]:
    return {
        "name": check.name,
        "level": check.level.value,
        "message": check_sentence(check, language),
        # Numbers and counts by name (photos set aside by reason) as they are; the rest as text.
        "values": {
            key: value if isinstance(value, int | float | dict) else str(value) for key, value in check.values.items()
        },
    }


def _log_failure(check: Check) -> None:
    """A failed check's own words (a camera's device path, a model's folder and what disagrees, a
    profile's bad field, SQLite's error; English) go to the log, one line per check
    (``doctor.<check>_failed``), on the technician's terminal above the report: they say which file or
    device to look at, while the report says what is wrong and what to do in the device's language, by
    the kind of failure (the check's key, a camera's ``CameraError.sentence``), as ``capture`` does.
    ``--json`` keeps them too, in the check's ``values``."""
    error = check.values.get("error")
    if error is not None:
        log_event(f"doctor.{check.name}_failed", logging.ERROR, error=error)


def cmd_doctor(config: Config, args: argparse.Namespace) -> int:
    """Every health check, red/amber/green with what to do; exit status 1 when any is red. SIGTERM,
    Ctrl-C or a closed terminal stop it around its probes of the models and the camera
    (``stop_on_termination``), the camera and the records closed, said in the device's language."""
    try:
        with stop_on_termination(config.device.language) as stop:
            found = doctor_checks(config, stop=stop)
    except StopRequested:
        log_event("doctor.stopped", logging.WARNING)
        print(f"edgescreen: {message('doctor.stopped', config.device.language)}", file=sys.stderr)
        return 1
    for check in found:
        _log_failure(check)
    checks = [_check_json(check, config.device.language) for check in found]
    counts = {level.value: sum(c["level"] == level.value for c in checks) for level in Level}
    if args.json:
        print(json.dumps({"checks": checks, **counts}))
    else:
        print(_doctor_report(checks, counts, config.device.language))
    return 1 if counts["red"] else 0


def _doctor_report(checks: list[dict[str, Any]], counts: dict[str, int], language: str) -> str:
    """The report as the technician reads it on a terminal, in the device's language: a line per check
    (its level, its name, what to do) and the count of each level; ``--json`` keeps the levels' codes."""
    levels = {level.value: message(f"doctor.level.{level.value}", language) for level in Level}
    level_width, name_width = max(map(len, levels.values())), max(len(c["name"]) for c in checks)
    lines = [f"{levels[c['level']]:<{level_width}}  {c['name']:<{name_width}}  {c['message']}" for c in checks]
    return "\n".join([*lines, f"edgescreen {sentence('doctor.summary', language, **counts)}"])


def add_device_commands(commands: argparse._SubParsersAction) -> None:
    save = commands.add_parser("backup", help="a consistent copy of the records, while the device runs")
    save.add_argument("--out", type=Path, required=True, metavar="FILE", help="the backup file (must not exist)")
    save.set_defaults(handler=cmd_backup)
    in_own_words(save)

    back = commands.add_parser("restore", help="restore a backup into the configured records (none may exist)")
    back.add_argument("backup", type=Path, metavar="FILE", help="a file `edgescreen backup` wrote")
    back.add_argument(
        "--replacing",
        metavar="DEVICE_ID",
        help="this device replaces the one the backup was made by (it takes that device's ids)",
    )
    back.set_defaults(handler=cmd_restore)
    in_own_words(back)

    erase_all = commands.add_parser(
        "wipe",
        help="erase every record of this device for good, before it leaves the clinic or changes site",
        description="Crypto-erase the records key (overwritten in place with random bytes, flushed, removed), then "
        "overwrite and remove every file in the records' folder but the installed models. It cannot be undone. "
        "Stop the services first.",
    )
    erase_all.add_argument(
        "--confirm", metavar="DEVICE_ID", required=True, help="this device's [device] id, typed to confirm"
    )
    erase_all.add_argument(
        "--unsent-erasures",
        type=Path,
        metavar="FILE",
        help="for a device that can no longer reach its review station: write the patients' erasures still to be "
        "sent to FILE (new, outside the records' folder: a USB drive) as the station's commands, then wipe",
    )
    erase_all.add_argument(
        "--discard-unsent-results",
        action="store_true",
        help="for a device whose results can never be sent (its broker gone, the device scrapped): erase the "
        "results and the specialists' photos still to be sent with the rest (no clinician will see them); the "
        "wipe says how many",
    )
    erase_all.set_defaults(handler=cmd_wipe)
    in_own_words(erase_all)

    doctor = commands.add_parser("doctor", help="every health check, red/amber/green, with what to do")
    doctor.add_argument("--json", action="store_true", help="one JSON report")
    doctor.set_defaults(handler=cmd_doctor)
