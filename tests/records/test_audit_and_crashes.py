"""Audit tamper detection through ``edgescreen audit verify``, and crashes at any instant of recording."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, write_rgb
from tests.records.kit import in_language, open_store, record_one, small_photo, write_config
from tests.test_cli import edgescreen


@pytest.fixture()
def recorded(tmp_path, retina_rgb):
    """A records folder with five screenings, a view and an erasure: a varied audit chain."""
    store = open_store(tmp_path)
    photo = small_photo(retina_rgb)
    first = record_one(store, photo)
    for _ in range(4):
        record_one(store, photo)
    store.view(first.result_id)
    store.erase_patient("nobody")
    store.records.close()
    return write_config(tmp_path, port=1)


def tamper(config: Path, *statements: str) -> None:
    db = sqlite3.connect(config.parent / "records.sqlite3", isolation_level=None)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    for statement in statements:
        db.execute(statement)
    db.close()


def test_an_intact_log_verifies(recorded):
    run = edgescreen("audit", "verify", config=recorded)
    assert run.returncode == 0, run.stderr
    assert "intact: 8 events" in run.stdout


@pytest.mark.parametrize(
    ("statements", "first_bad", "words"),
    [
        (["UPDATE audit SET details = replace(details, 'fundus', 'dermoscopy') WHERE seq = 3"], 3, "altered"),
        (["DELETE FROM audit WHERE seq = 4"], 4, "missing"),
        (
            [
                "UPDATE audit SET seq = -1 WHERE seq = 5",
                "UPDATE audit SET seq = 5 WHERE seq = 6",
                "UPDATE audit SET seq = 6 WHERE seq = -1",
            ],
            5,
            "deleted or reordered",
        ),
        (["DELETE FROM audit WHERE seq >= 7"], 7, "ends at event 6"),
    ],
    ids=["edited", "deleted", "reordered", "truncated"],
)
def test_tampering_is_detected_and_the_first_bad_event_named(recorded, statements, first_bad, words):
    tamper(recorded, *statements)
    run = edgescreen("audit", "verify", config=recorded)
    assert run.returncode == 4
    assert f"BROKEN at event {first_bad}:" in run.stdout and words in run.stdout


@pytest.mark.parametrize(
    ("statements", "first_bad", "finding"),
    [
        (
            ["UPDATE audit SET details = replace(details, 'fundus', 'dermoscopy') WHERE seq = 3"],
            3,
            "l'événement 3 (screening) a été modifié\u00a0: son empreinte ne correspond pas",
        ),
        (["DELETE FROM audit WHERE seq = 4"], 4, "l'événement 4 manque (le suivant est le 5)"),
        (
            [
                "UPDATE audit SET seq = -1 WHERE seq = 5",
                "UPDATE audit SET seq = 5 WHERE seq = 6",
                "UPDATE audit SET seq = 6 WHERE seq = -1",
            ],
            5,
            "l'événement 5 ne suit pas l'événement 4\u00a0: supprimé ou déplacé",
        ),
        (
            ["DELETE FROM audit WHERE seq >= 7"],
            7,
            "le journal s'arrête à l'événement 6, mais son dernier était l'événement 8",
        ),
    ],
    ids=["edited", "deleted", "reordered", "truncated"],
)
def test_a_french_device_says_what_broke_the_chain_in_french(recorded, statements, first_bad, finding):
    """What broke the chain was English on a French device ("event 4 is missing (next is 5)")."""
    tamper(recorded, *statements)
    run = edgescreen("audit", "verify", config=in_language(recorded, "fr"))
    assert run.returncode == 4, run.stderr
    assert run.stdout.splitlines()[0] == f"journal d'audit ROMPU à l'événement {first_bad}\u00a0: {finding}"


def test_the_database_itself_refuses_to_edit_or_delete_audit_events(tmp_path, retina_rgb):
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb))
    for statement in ("UPDATE audit SET kind = 'view'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.records.connection.execute(statement)


def check_all_or_nothing(directory: Path) -> int:
    """Every screening has its image, outbox row and audit event; the file and the chain are sound."""
    store = open_store(directory)
    db = store.records.connection
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    screenings = {r[0] for r in db.execute("SELECT result_id FROM screening")}
    assert {r[0] for r in db.execute("SELECT result_id FROM image")} == screenings
    assert {r[0] for r in db.execute("SELECT result_id FROM outbox")} == screenings
    audited = {
        r[0] for r in db.execute("SELECT json_extract(details, '$.result_id') FROM audit WHERE kind='screening'")
    }
    assert audited == screenings
    assert store.records.verify_audit().intact
    store.records.close()
    return len(screenings)


def test_killing_the_device_at_random_instants_leaves_each_screening_whole_or_absent(tmp_path, retina_rgb):
    config = write_config(tmp_path, port=1)
    photo = write_rgb(tmp_path / "photo.jpg", small_photo(retina_rgb, 256))
    rng = random.Random(5)
    confirmed: set[str] = set()
    for _ in range(12):
        device = subprocess.Popen(
            [sys.executable, "-m", "tests.records.device_process", str(config), str(photo), "100000"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        first = device.stdout.readline()  # started: a loaded machine can take a second just for that
        time.sleep(rng.uniform(0.05, 0.5))
        device.send_signal(signal.SIGKILL)
        output, _ = device.communicate()
        confirmed.update((first + output).split())
        count = check_all_or_nothing(tmp_path)
        assert count >= len(confirmed)  # every id printed after its commit is there
    store = open_store(tmp_path)
    kept = {r[0] for r in store.records.connection.execute("SELECT result_id FROM screening")}
    assert confirmed <= kept and len(confirmed) > 12
