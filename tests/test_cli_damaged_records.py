"""``screen``, ``capture`` and ``run`` on records a worn card has damaged, that lost screenings they
had committed, or on a clock the records prove wrong: refused as the nurse's app refuses them, before
anything is written."""

from __future__ import annotations

import functools
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware_app import app
from firmware_app.cli import main
from firmware_app.messages import sentence
from firmware_app.records.store import Records
from firmware_app.wording import readable_date
from tests.records.kit import in_language, open_store, record_one, small_photo, write_config
from tests.records.test_witness import lose_the_wal, record

# Each command that records a screening, as a nurse or the device's service runs it: ``capture`` on
# the default files camera (the bundled samples), ``run`` on the bundled samples with no broker.
COMMANDS = {
    "screen": ["screen", "--modality", "fundus", "{photo}"],
    "capture": ["capture", "--modality", "fundus", "--eye", "L", "--auto"],
    "run": ["run", "--sync-wait", "0"],
}
CLOCK_WRONG = {"en": "The clock is wrong (", "fr": "L'horloge est fausse ("}
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


def recorded_synchronised(directory: Path, now: datetime) -> None:
    """One screening recorded at ``now`` on a clock the kernel called synchronised: a time once known true."""
    store = open_store(directory, clock=lambda: now, synchronised=True)
    record_one(store, small_photo())
    store.records.close()


def on_the_clock(monkeypatch, now: datetime, synchronised: bool) -> None:
    """The commands' records read ``now`` off a clock the kernel calls ``synchronised`` or not."""
    clocked = functools.partial(Records, clock=lambda: now, synchronised=lambda: synchronised)
    monkeypatch.setattr(app, "Records", clocked)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("language", CLOCK_WRONG)
def test_a_clock_set_back_behind_a_synchronised_screening_is_refused_and_nothing_is_recorded(
    tmp_path, retina_jpeg, capsys, monkeypatch, command, language
):
    """The nurse's app blocks screening while the clock is a day behind a screening recorded on a
    synchronised clock (doctor red: set the date and time); ``screen`` recorded a result dated by it,
    exit status 0, saying nothing of the clock."""
    config = write_config(tmp_path, 1)
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    now = datetime.now(UTC)
    recorded_synchronised(tmp_path, now)
    on_the_clock(monkeypatch, now - timedelta(days=1), synchronised=False)
    said = refused(tmp_path, config, command, retina_jpeg, capsys, audited=[])
    assert CLOCK_WRONG[language] in said, said


@pytest.mark.parametrize("synchronised", [True, False])
def test_a_clock_in_1970_is_refused_whatever_the_kernel_says(tmp_path, retina_jpeg, capsys, monkeypatch, synchronised):
    """A Pi booted without its saved time: no screening is dated before this version's build."""
    config = write_config(tmp_path, 1)
    open_store(tmp_path).records.close()
    on_the_clock(monkeypatch, datetime(1970, 1, 1, 0, 5, tzinfo=UTC), synchronised)
    said = refused(tmp_path, config, "screen", retina_jpeg, capsys, audited=[])
    assert CLOCK_WRONG["en"] in said and "): set the date and time before screening." in said, said


def test_an_unsynchronised_clock_that_can_be_right_still_screens(tmp_path, retina_jpeg, capsys, monkeypatch):
    """A campaign without NTP: the app's readiness list only warns of it (amber), so screening goes on."""
    config = write_config(tmp_path, 1)
    now = datetime.now(UTC)
    recorded_synchronised(tmp_path, now)
    on_the_clock(monkeypatch, now - timedelta(hours=1), synchronised=False)  # fake-hwclock's last save
    status = main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)])
    assert status == 0, capsys.readouterr()
    assert written(tmp_path, tmp_path / "after")[0] == 2


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    "command", [["screen", "--modality", "fundus", "--json", "{photo}"], ["sync", "status", "--json"]]
)
def test_a_command_that_dates_records_warns_on_stderr_of_a_clock_not_synchronised(
    tmp_path, retina_jpeg, capsys, monkeypatch, command, language
):
    """The nurse's app and ``doctor`` show a clock not set by network time amber; ``screen`` and ``sync
    status``, which date what they record and show by it, said nothing of it. One line on stderr now, in
    the device's language, read off the records' own clock as the app reads it; nothing on a synchronised
    clock, and the ``--json`` output stays JSON alone."""
    config = in_language(write_config(tmp_path, 1), language)
    now = datetime.now(UTC)
    recorded_synchronised(tmp_path, now)
    warning = sentence("records.clock_untrusted", language, now=readable_date(now, language))
    for synchronised in (False, True):
        on_the_clock(monkeypatch, now, synchronised)
        status = main(["--config", str(config), *(arg.format(photo=retina_jpeg) for arg in command)])
        captured = capsys.readouterr()
        assert status == 0, captured
        assert [json.loads(line) for line in captured.out.splitlines()]  # JSON alone
        warned = [line for line in captured.err.splitlines() if warning in line]
        assert warned == ([] if synchronised else [f"edgescreen: {warning}"]), captured.err
