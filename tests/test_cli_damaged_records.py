"""``edgescreen screen`` on records a worn card has damaged: refused as the nurse's app refuses it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firmware_app.cli import main
from tests.records.kit import open_store, record_one, small_photo, write_config
from tests.records.test_witness import lose_the_wal, record


def damage_a_page(directory: Path) -> None:
    """Zero one page in the middle of the closed records file, as a worn SD card loses one: a page
    of a photo, which ``PRAGMA quick_check`` finds and a new screening's insert never reads."""
    with sqlite3.connect(directory / "records.sqlite3") as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.close()
    with (directory / "records.sqlite3").open("r+b") as records:
        records.seek((pages // 2) * 4096)
        records.write(bytes(4096))


def screenings(directory: Path) -> int:
    """How many screenings the file holds (the screening table's pages are whole)."""
    connection = sqlite3.connect(directory / "records.sqlite3")
    try:
        return connection.execute("SELECT count(*) FROM screening").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Keep a copy of the records file as it is, then restore the last backup onto a new card"),
        ("fr", "Gardez une copie du fichier des dossiers tel quel, puis restaurez la dernière sauvegarde"),
    ],
)
def test_screen_refuses_records_with_a_damaged_page_and_records_nothing(
    tmp_path, retina_rgb, retina_jpeg, capsys, language, words
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

    status = main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)])
    captured = capsys.readouterr()
    assert status == 5, captured
    assert words in captured.err, captured.err
    assert captured.out == ""  # no result line, no disclaimer under nothing
    assert screenings(tmp_path) == 3


def test_screen_refuses_records_that_lost_committed_screenings_and_records_nothing(tmp_path, retina_jpeg, capsys):
    """The nurse's app blocks screening once the records lost screenings their witness saw committed
    (a card that lost its write-ahead log); ``screen`` went on recording after the loss."""
    config = write_config(tmp_path, 1)
    record(tmp_path, 2)
    lose_the_wal(tmp_path, config, 3)
    status = main(["--config", str(config), "screen", "--modality", "fundus", str(retina_jpeg)])
    captured = capsys.readouterr()
    assert status == 5, captured
    assert "Saved screenings missing from the records: 3," in captured.err and captured.out == ""
    assert screenings(tmp_path) == 2
