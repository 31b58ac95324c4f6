"""Commands run where the configured records are not: a records drive not mounted (their key still
there: ``doctor``'s red "records missing"), or a device that never screened. Each command that only
reads or acts on records made them, empty, with a new key where there was none: ``backup`` said
"backed up: 0 screenings" with exit status 0, and ``screen`` started new records in the empty mount
point, hidden once the drive came back. Now each refuses, in the device's language, and the folder is
left as it was: no records file, no key, no -wal or -shm, no folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from firmware_app.config import SAMPLES_DIR
from firmware_app.messages import sentence
from firmware_app.records.database import database_files
from firmware_app.records.presence import RECORDS_GONE_EXIT
from firmware_app.records.witness import witness_path
from tests.conftest import PROJECT_ROOT
from tests.records.kit import in_language, open_store, write_config
from tests.test_cli import edgescreen

RESULT_ID = "f" * 32
NAEVUS = SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"
# The commands that only read or act on records already made; each given the folder it may write to.
ON_RECORDS = {
    "backup": lambda out: ["backup", "--out", str(out / "backup.sqlite3")],
    "records show": lambda out: ["records", "show", RESULT_ID],
    "records export": lambda out: ["records", "export", RESULT_ID, "--out", str(out / "export")],
    "erase": lambda out: ["erase", "--patient", "mrn-22"],
    "operators list": lambda out: ["operators", "list"],
    "sync retry-photos": lambda out: ["sync", "retry-photos"],
    "sync acknowledge-dropped": lambda out: ["sync", "acknowledge-dropped"],
    # These two made nothing already; where the records are gone they said "no records yet".
    "sync status": lambda out: ["sync", "status"],
    "audit verify": lambda out: ["audit", "verify"],
}
# The command that makes the records on a device's first start, and must not where they are gone.
FIRST_START = {"screen": lambda out: ["screen", "--modality", "dermoscopy", str(NAEVUS)]}


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``, with its size and modification time."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*")}


def records_gone(tmp_path: Path, language: str) -> Path:
    """A device whose records were made, then are not at their path (the drive not mounted): their key
    is there. Returns its config."""
    config = in_language(write_config(tmp_path, 1), language)
    open_store(tmp_path).records.close()
    database = tmp_path / "records.sqlite3"
    for path in (*database_files(database), witness_path(database)):
        path.unlink(missing_ok=True)
    assert (tmp_path / "records.key").exists()
    return config


def refused(run, catalogue_key: str, language: str, **values: str) -> None:
    """``run`` refused with the catalogue's sentence ``catalogue_key``, exit status 2, no traceback."""
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence(catalogue_key, language, **values)}"], run.stderr


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("command", [*ON_RECORDS, *FIRST_START])
def test_records_gone_while_their_key_is_there_are_refused_and_nothing_is_made(tmp_path, command, language):
    config = records_gone(tmp_path, language)
    out = tmp_path / "usb"
    out.mkdir()
    before = tree(tmp_path)
    run = edgescreen(*{**ON_RECORDS, **FIRST_START}[command](out), config=config)
    values = {"path": str(tmp_path / "records.sqlite3"), "key_file": str(tmp_path / "records.key")}
    refused(run, "refused.records_missing", language, **values)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("command", list(ON_RECORDS))
def test_on_a_device_that_never_screened_they_refuse_and_make_neither_records_nor_a_key(tmp_path, command, language):
    var = tmp_path / "var"  # the records' folder is made with them
    config = in_language(write_config(tmp_path, 1), language)
    config.write_text(config.read_text().replace(f"{tmp_path}/records.", f"{var}/records."))
    out = tmp_path / "usb"
    out.mkdir()
    before = tree(tmp_path)
    run = edgescreen(*ON_RECORDS[command](out), config=config)
    refused(run, "refused.no_records_yet", language, path=str(var / "records.sqlite3"))
    assert tree(tmp_path) == before and not var.exists()


def test_screen_on_a_devices_first_start_makes_its_records_and_key(tmp_path):
    """The first screening of a new device is where its records begin: that is not refused."""
    var = tmp_path / "var"
    config = write_config(tmp_path, 1)
    config.write_text(config.read_text().replace(f"{tmp_path}/records.", f"{var}/records."))
    run = edgescreen("screen", "--modality", "dermoscopy", str(NAEVUS), config=config)
    assert run.returncode == 0, run.stderr
    assert (var / "records.sqlite3").exists() and (var / "records.key").exists()


def key_on_the_drive(tmp_path: Path, language: str = "en") -> tuple[Path, Path, Path]:
    """A device keeping its records and their key on a drive (``drive/``, its mount point), its marker on
    its own card (``card/``). Returns its config, the records' path and the marker's."""
    drive, card = tmp_path / "drive", tmp_path / "card"
    card.mkdir()
    config = in_language(write_config(tmp_path, 1), language)
    text = config.read_text().replace(f"{tmp_path}/records.", f"{drive}/records.")
    config.write_text(text.replace("disk_reserve_mb = 0\n", f'disk_reserve_mb = 0\nmarker = "{card}/records.made"\n'))
    return config, drive / "records.sqlite3", card / "records.made"


def test_a_first_start_with_the_key_on_the_records_drive_makes_them_and_their_marker(tmp_path):
    """A genuine first start (neither records, nor key, nor marker) still makes the records, and the
    marker on the device's card names them."""
    config, database, marker = key_on_the_drive(tmp_path)
    run = edgescreen("screen", "--modality", "dermoscopy", str(NAEVUS), config=config)
    assert run.returncode == 0, run.stderr
    assert database.exists() and (database.parent / "records.key").exists()
    assert marker.read_text() == str(database)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("command", ["screen", "backup", "sync run"])
def test_records_and_their_key_gone_with_their_drive_are_refused_where_the_marker_names_them(
    tmp_path, command, language
):
    """The key kept on the records' drive: with the drive not mounted, its empty mount point looked like
    a device's first start, and ``screen`` (as ``run``, the app and the sync service) made new records
    and a new key there, out of view once the drive was back. Now the marker the first start left on
    the device's card names them: refused as records gone (the sync service's exit status, 9, is the one
    systemd restarts it on), and nothing is made on the drive's mount point."""
    config, database, marker = key_on_the_drive(tmp_path, language)
    assert edgescreen("screen", "--modality", "dermoscopy", str(NAEVUS), config=config).returncode == 0
    shutil.rmtree(database.parent)  # the drive not mounted: its mount point empty
    database.parent.mkdir()
    before = tree(tmp_path)
    args = {**ON_RECORDS, **FIRST_START, "sync run": lambda out: ["sync", "run", "--until-drained"]}[command]
    run = edgescreen(*args(tmp_path / "card"), config=config)
    values = {"path": str(database), "marker": str(marker)}
    if command == "sync run":
        assert run.returncode == RECORDS_GONE_EXIT, run.stderr
        said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
        assert said == [f"edgescreen: {sentence('refused.records_made_there', language, **values)}"]
    else:
        refused(run, "refused.records_made_there", language, **values)
    assert tree(tmp_path) == before
    assert marker.read_text() == str(database)


def test_a_marker_written_by_hand_with_a_newline_names_the_records_all_the_same(tmp_path):
    """A technician who restores the marker by hand (``echo /path > marker``) ends it with a newline: it
    named records nobody had made, so with the drive not mounted the device said its records were
    elsewhere, at the very path it was given. Surrounding white space is not part of the name; a space
    inside the path still is."""
    folder = tmp_path / "edge screen"
    folder.mkdir()
    config, database, marker = key_on_the_drive(folder)
    assert edgescreen(*FIRST_START["screen"](folder), config=config).returncode == 0
    marker.write_text(f"{database}\n")
    shutil.rmtree(database.parent)  # the drive not mounted: its mount point empty
    database.parent.mkdir()
    before = tree(folder)
    run = edgescreen(*FIRST_START["screen"](folder), config=config)
    refused(run, "refused.records_made_there", "en", path=str(database), marker=str(marker))
    assert tree(folder) == before


@pytest.mark.parametrize("language", ["en", "fr"])
def test_export_to_a_file_says_the_records_are_gone_first_as_every_command_does(tmp_path, language):
    """``records export --out`` naming a file refused the file first: the technician mended it only to be
    told next that the records drive was not mounted, which every other command says first."""
    config = records_gone(tmp_path, language)
    out = tmp_path / "usb" / "export.txt"
    out.parent.mkdir()
    out.write_text("a file, not a folder")
    run = edgescreen("records", "export", RESULT_ID, "--out", str(out), config=config)
    values = {"path": str(tmp_path / "records.sqlite3"), "key_file": str(tmp_path / "records.key")}
    refused(run, "refused.records_missing", language, **values)


def test_the_marker_names_the_records_however_the_config_was_given(tmp_path):
    """A config whose paths are relative to its folder: given by a relative ``--config`` (a technician in
    /etc/edgescreen), its paths stayed relative, and a writer's open rewrote the marker in that spelling;
    with the drive then not mounted, the service's config (an absolute path) no longer matched it, and
    ``screen`` made new records and a new key in the empty mount point. One name for the same records."""
    folder, drive = tmp_path / "etc", tmp_path / "drive"
    folder.mkdir()
    config = write_config(folder, 1)
    text = config.read_text().replace(f"{folder}/records.", "../drive/records.")
    config.write_text(text.replace("disk_reserve_mb = 0\n", 'disk_reserve_mb = 0\nmarker = "../card/records.made"\n'))
    given_relatively = Path(os.path.relpath(config, PROJECT_ROOT))  # the commands run in PROJECT_ROOT
    assert edgescreen(*FIRST_START["screen"](tmp_path), config=config).returncode == 0
    assert edgescreen("operators", "list", config=given_relatively).returncode == 0  # a writer's open
    shutil.rmtree(drive)  # the drive not mounted: its mount point empty
    drive.mkdir()
    values = {"path": f"{folder}/../drive/records.sqlite3", "marker": f"{folder}/../card/records.made"}
    refused(edgescreen(*FIRST_START["screen"](tmp_path), config=config), "refused.records_made_there", "en", **values)
    assert list(drive.iterdir()) == []
    assert (tmp_path / "card" / "records.made").read_text() == str(drive / "records.sqlite3")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_first_start_where_the_config_no_longer_names_the_devices_records_is_refused(tmp_path, language):
    """``[records] database`` changed (a typo, or the path changed before the records were moved there):
    the first screening made new records and a new key at the new path, and moved the marker to them, the
    device's records left whole where the marker had named them, out of view. Now it is refused, the
    marker naming them, and nothing is made."""
    config, database, marker = key_on_the_drive(tmp_path, language)
    assert edgescreen(*FIRST_START["screen"](tmp_path), config=config).returncode == 0
    elsewhere = tmp_path / "typo"
    elsewhere.mkdir()
    config.write_text(config.read_text().replace(f'"{database.parent}/', f'"{elsewhere}/'))
    run = edgescreen(*FIRST_START["screen"](tmp_path), config=config)
    values = {"path": str(elsewhere / "records.sqlite3"), "named": str(database), "marker": str(marker)}
    refused(run, "refused.records_elsewhere", language, **values)
    assert list(elsewhere.iterdir()) == [] and marker.read_text() == str(database)
