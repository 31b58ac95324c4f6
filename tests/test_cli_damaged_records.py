"""``screen``, ``capture`` and ``run`` on records a worn card has damaged, or that lost screenings
they had committed: refused as the nurse's app refuses them, before anything is written."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from firmware_app.cli import main
from tests.records.kit import open_store, record_one, small_photo, write_config
from tests.records.test_witness import lose_the_wal, record

# Each command that records a screening, as a nurse or the device's service runs it: ``capture`` on
# the default files camera (the bundled samples), ``run`` on the bundled samples with no broker.
COMMANDS = {
    "screen": ["screen", "--modality", "fundus", "{photo}"],
    "capture": ["capture", "--modality", "fundus", "--eye", "L", "--auto"],
    "run": ["run", "--sync-wait", "0"],
}
DAMAGED = {
    "en": "Keep a copy of the records file as it is, then restore the last backup onto a new card",
    "fr": "Gardez une copie du fichier des dossiers tel quel, puis restaurez la dernière sauvegarde",
}


def damage_a_page(directory: Path) -> None:
    """Zero one page in the middle of the closed records file, as a worn SD card loses one: a page
    of a photo, which ``PRAGMA quick_check`` finds and a new screening's insert never reads."""
    with sqlite3.connect(directory / "records.sqlite3") as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.close()
    with (directory / "records.sqlite3").open("r+b") as records:
        records.seek((pages // 2) * 4096)
        records.write(bytes(4096))


def written(directory: Path, copy: Path) -> tuple[int, int, list[str]]:
    """The screenings and outbox rows the records hold, and the kind of each audit event, read on a
    copy of their files (the command's own file is left as it found it; these tables' pages are whole)."""
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    for part in directory.glob("records.sqlite3*"):
        shutil.copy2(part, copy / part.name)
    connection = sqlite3.connect(copy / "records.sqlite3")
    try:
        screenings, queued = (
            connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("screening", "outbox")
        )
        return screenings, queued, [kind for (kind,) in connection.execute("SELECT kind FROM audit ORDER BY seq")]
    finally:
        connection.close()


def refused(tmp_path: Path, config: Path, command: str, photo: Path, capsys, audited: list[str]) -> str:
    """Run ``command`` on the records; assert it is refused (exit 5, nothing on stdout) having added
    no screening, no outbox row and no audit event but those ``audited``; return its stderr."""
    before = written(tmp_path, tmp_path / "before")
    status = main(["--config", str(config), *(arg.format(photo=photo) for arg in COMMANDS[command])])
    captured = capsys.readouterr()
    assert status == 5, captured
    assert captured.out == ""  # no result line, no disclaimer under nothing
    screenings, queued, events = written(tmp_path, tmp_path / "after")
    assert (screenings, queued, events) == (before[0], before[1], before[2] + audited)
    return captured.err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("language", DAMAGED)
def test_records_with_a_damaged_page_are_refused_and_nothing_is_recorded(
    tmp_path, retina_rgb, retina_jpeg, capsys, command, language
):
    """The nurse's app blocks screening while quick_check finds a damaged page (its readiness list);
    ``screen`` went on recording into the damaged file, exit status 0."""
    config = write_config(tmp_path, 1)
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    store = open_store(tmp_path)
    for _ in range(3):
        record_one(store, small_photo(retina_rgb, size=600))
    store.records.close()
    damage_a_page(tmp_path)
    said = refused(tmp_path, config, command, retina_jpeg, capsys, audited=[])
    assert DAMAGED[language] in said
    # quick_check's own words, for the technician: the log line held the nurse's sentence instead.
    (logged,) = [line for line in said.splitlines() if " records.unusable " in line]
    assert "health.records.red" in logged and "in database main" in logged, logged


@pytest.mark.parametrize("command", COMMANDS)
def test_records_that_lost_committed_screenings_are_refused_and_nothing_is_recorded(
    tmp_path, retina_jpeg, capsys, command
):
    """The nurse's app blocks screening once the records lost screenings their witness saw committed
    (a card that lost its write-ahead log); ``screen`` went on recording after the loss."""
    config = write_config(tmp_path, 1)
    record(tmp_path, 2)
    lose_the_wal(tmp_path, config, 3)
    # The loss itself is entered in the audit log at its first sighting (records/witness.py), by design.
    said = refused(tmp_path, config, command, retina_jpeg, capsys, audited=["loss"])
    assert "Saved screenings missing from the records: 3," in said
