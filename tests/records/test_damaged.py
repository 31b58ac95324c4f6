"""Issue 8, point 11: a damaged records file gives a clean error naming the file (exit 5) or, for
``audit verify``, BROKEN (exit 4); never a traceback. Single bytes are flipped all over a real file."""

from __future__ import annotations

import random
import resource
import shutil
import sqlite3
import subprocess
import sys

import pytest

from firmware_app.cli import main
from firmware_app.records.outbox import Outbox
from firmware_app.sync.review import parse_review
from tests.conftest import PROJECT_ROOT, other_copies
from tests.records.kit import open_store, record_one, sample_record, small_photo, write_config
from tests.sync.test_worker import review
from tests.test_cli import edgescreen

FLIPS = 80


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, retina_rgb):
    """A records file with results, a review, an erasure and sync state, checkpointed (no WAL)."""
    directory = tmp_path_factory.mktemp("pristine")
    store = open_store(directory)
    photo = small_photo(retina_rgb, 32)
    ids = [record_one(store, photo, sample_record()).result_id for _ in range(6)]
    store.add_review(parse_review(review(ids[0])))
    store.erase_patient("nobody")
    Outbox(store.records).set_connection("stopped")
    store.records.close()
    return directory


def damaged_copy(pristine, directory, offset: int):
    for name in ("records.sqlite3", "records.key"):
        shutil.copy(pristine / name, directory / name)
    data = bytearray((directory / "records.sqlite3").read_bytes())
    data[offset % len(data)] ^= 0xFF
    (directory / "records.sqlite3").write_bytes(bytes(data))
    return write_config(directory, port=1)


def offsets(pristine) -> list[int]:
    size = (pristine / "records.sqlite3").stat().st_size
    header = [60, 61, 62, 63, 18, 19, 28]  # user_version, the WAL flags, the page count
    return header + random.Random(11).sample(range(100, size), FLIPS - len(header))


def test_no_single_byte_corruption_ends_in_a_traceback(pristine, tmp_path, capsys):
    outcomes = {}
    for index, offset in enumerate(offsets(pristine)):
        directory = tmp_path / str(index)
        directory.mkdir()
        config = damaged_copy(pristine, directory, offset)
        for command in (["audit", "verify"], ["sync", "status"]):
            status = main(["--config", str(config), *command])  # an exception here fails the test
            captured = capsys.readouterr()
            assert status in (0, 4, 5), (offset, command, status)
            if status == 5:
                assert str(directory / "records.sqlite3") in captured.err, captured.err
            outcomes[status] = outcomes.get(status, 0) + 1
    print(f"exit statuses over {FLIPS} corruptions x 2 commands: {dict(sorted(outcomes.items()))}")
    assert outcomes.get(5, 0) + outcomes.get(4, 0) > 0  # the damage was seen


def test_a_flipped_user_version_is_named_damaged(pristine, tmp_path, capsys):
    config = damaged_copy(pristine, tmp_path, 60)  # the high byte: a negative schema version
    assert main(["--config", str(config), "sync", "status"]) == 5
    assert "the records file is damaged" in capsys.readouterr().err  # on main: IndexError


def test_the_pristine_copy_is_fine(pristine, tmp_path):
    config = damaged_copy(pristine, tmp_path, 0)
    (tmp_path / "records.sqlite3").write_bytes((pristine / "records.sqlite3").read_bytes())
    assert main(["--config", str(config), "audit", "verify"]) == 0
    assert sqlite3.connect(tmp_path / "records.sqlite3").execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_card_that_refuses_writes_is_named_with_what_to_do_and_nothing_is_half_written(tmp_path, retina_jpeg):
    """The kernel refuses the records' writes (a file-size limit here: the I/O error a worn card
    gives), and the screening said only "cannot use the records (disk I/O error)"."""
    config = write_config(tmp_path, port=1)
    assert edgescreen("screen", str(retina_jpeg), config=config).returncode == 0
    grown = (tmp_path / "records.sqlite3").stat().st_size  # checkpointed when the command closed the records
    photos = map(str, other_copies(retina_jpeg, tmp_path, 40))
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "screen", *photos]
    refused = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (grown + 2**20, resource.RLIM_INFINITY)),
    )
    assert refused.returncode == 5, refused.stderr
    assert "the card could not read or write the records (disk I/O error; nothing was half-written)" in refused.stderr
    assert "replace the card, restoring the backup onto the new one" in refused.stderr
    store = open_store(tmp_path)
    try:
        counts = tuple(
            store.records.connection.execute(
                "SELECT (SELECT count(*) FROM screening), (SELECT count(*) FROM image), (SELECT count(*) FROM outbox)"
            ).fetchone()
        )
    finally:
        store.records.close()
    assert counts[0] > 1 and counts == (counts[0],) * 3
    assert edgescreen("audit", "verify", config=config).returncode == 0
