"""``edgescreen backup``, ``restore`` and ``doctor``: looking after a device that runs unattended."""

from __future__ import annotations

import argparse
from pathlib import Path

from firmware_app.app import open_store
from firmware_app.backup import BackupSummary, backup, restore
from firmware_app.config import Config


def _summary(action: str, summary: BackupSummary) -> str:
    return (
        f"{action} {summary.path}: {summary.screenings} screening(s), {summary.images} image(s), "
        f"audit log intact ({summary.audit_events} events)"
    )


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    store = open_store(config)
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
    return 0


def add_device_commands(commands: argparse._SubParsersAction) -> None:
    save = commands.add_parser("backup", help="a consistent copy of the records, while the device runs")
    save.add_argument("--out", type=Path, required=True, metavar="FILE", help="the backup file (must not exist)")
    save.set_defaults(handler=cmd_backup)

    back = commands.add_parser("restore", help="restore a backup into the configured records (none may exist)")
    back.add_argument("backup", type=Path, metavar="FILE")
    back.set_defaults(handler=cmd_restore)
