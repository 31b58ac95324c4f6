"""``edgescreen backup``, ``restore`` and ``doctor``: looking after a device that runs unattended."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from firmware_app.app import open_store
from firmware_app.backup import BackupSummary, backup, restore
from firmware_app.config import Config
from firmware_app.health.checks import Check, Level
from firmware_app.health.doctor import doctor_checks
from firmware_app.messages import message
from firmware_app.records.database import DiskFull
from firmware_app.web.wording import check_values


def _summary(action: str, summary: BackupSummary) -> str:
    return (
        f"{action} {summary.path}: {summary.screenings} screening(s), {summary.images} image(s), "
        f"audit log intact ({summary.audit_events} events)"
    )


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    try:
        store = open_store(config)
    except DiskFull as error:  # even to another drive: the copy counts only once the audit log holds it
        raise DiskFull(
            f"{error}. A backup is a copy of the patients' data, so it is entered in the records' audit log "
            "before it counts, and that needs a little space on the records' own disk too: free some there "
            "(files that are not EdgeScreen's, or old system logs: `journalctl --vacuum-size=50M`), then back up again"
        ) from error
    try:
        summary = backup(store, args.out)
    finally:
        store.records.close()
    print(_summary("backed up to", summary))
    print(f"the key file {config.records.key_file} is NOT in the backup: keep a copy of it apart (README, Backup)")
    return 0


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    summary = restore(args.backup, config.records.database, config.records.key_file)
    print(_summary("restored", summary) + "; every image opens with the key")
    print(
        f"The backup's newest event is dated {summary.taken_at} by the old device's clock (wrong if that clock was "
        "not set): nothing recorded after it is here. Screenings made "
        "since are lost with the old records; specialists' verdicts the device received since come back once "
        f"the station's administrator runs `edgescreen-review devices resend-verdicts {config.device.id}`; "
        "and a patient erased since is back: erase them again."
    )
    return 0


def _check_json(check: Check, language: str) -> dict[str, Any]:
    return {
        "name": check.name,
        "level": check.level.value,
        "message": message(check.message_key, language).format(**check_values(check.values, language)),
        "values": {key: value if isinstance(value, int | float) else str(value) for key, value in check.values.items()},
    }


def cmd_doctor(config: Config, args: argparse.Namespace) -> int:
    """Every health check, red/amber/green with what to do; exit status 1 when any is red."""
    checks = [_check_json(check, config.device.language) for check in doctor_checks(config)]
    counts = {level.value: sum(c["level"] == level.value for c in checks) for level in Level}
    if args.json:
        print(json.dumps({"checks": checks, **counts}))
    else:
        width = max(len(c["name"]) for c in checks)
        for check in checks:
            print(f"{check['level'].upper():<5}  {check['name']:<{width}}  {check['message']}")
        print(f"edgescreen doctor: {counts['red']} red, {counts['amber']} amber, {counts['green']} green")
    return 1 if counts["red"] else 0


def add_device_commands(commands: argparse._SubParsersAction) -> None:
    save = commands.add_parser("backup", help="a consistent copy of the records, while the device runs")
    save.add_argument("--out", type=Path, required=True, metavar="FILE", help="the backup file (must not exist)")
    save.set_defaults(handler=cmd_backup)

    back = commands.add_parser("restore", help="restore a backup into the configured records (none may exist)")
    back.add_argument("backup", type=Path, metavar="FILE", help="a file `edgescreen backup` wrote")
    back.set_defaults(handler=cmd_restore)

    doctor = commands.add_parser("doctor", help="every health check, red/amber/green, with what to do")
    doctor.add_argument("--json", action="store_true", help="one JSON report")
    doctor.set_defaults(handler=cmd_doctor)
