"""The sync service at boot with its records drive not mounted yet: the records are gone from their path
(their key is there). `sync run` refused them with exit status 2, which edgescreen-sync.service is never
restarted on (a configuration error's): once the drive was mounted, results stopped flowing until
someone restarted the service. Now it stops with a status systemd restarts, says why once, makes
nothing in the empty mount point, and drains the outbox once the records are back."""

from __future__ import annotations

import json

import pytest

from firmware_app.messages import sentence
from firmware_app.records.database import database_files
from firmware_app.records.presence import RECORDS_GONE_EXIT
from firmware_app.records.witness import witness_path
from tests.mqtt_broker import Tap, wait_until
from tests.records.kit import in_language, open_store, record_one, small_photo, write_config
from tests.test_cli import edgescreen
from tests.test_cli_missing_records import tree


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sync_run_waits_for_records_gone_by_exiting_restartable_and_drains_once_they_are_back(
    tmp_path, retina_rgb, broker, language
):
    config = in_language(write_config(tmp_path, broker.port), language)
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo(retina_rgb, 32)).result_id
    store.records.close()
    database = tmp_path / "records.sqlite3"
    unmounted = tmp_path / "on-the-drive"
    unmounted.mkdir()
    records = [path for path in (*database_files(database), witness_path(database)) if path.exists()]
    for path in records:
        path.rename(unmounted / path.name)
    before = tree(tmp_path)

    gone = edgescreen("sync", "run", "--until-drained", config=config)

    assert gone.returncode == RECORDS_GONE_EXIT != 2, gone.stderr
    values = {"path": str(database), "key_file": str(tmp_path / "records.key")}
    said = [line for line in gone.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.records_missing', language, **values)}"]
    logged = [line for line in gone.stderr.splitlines() if "sync.records_gone" in line]
    assert len(logged) == 1 and "is the records drive mounted?" in logged[0]  # the journal's English
    assert "Traceback" not in gone.stderr
    assert tree(tmp_path) == before  # no records, no sync lock in the empty mount point

    for path in records:  # the drive mounted: the same records at their path
        (unmounted / path.name).rename(path)
    tap = Tap(broker.port)
    try:
        back = edgescreen("sync", "run", "--until-drained", config=config)
        assert back.returncode == 0, back.stderr
        wait_until(lambda: tap.on("/result"), 10, "the recorded result at the broker")
        assert [json.loads(payload)["result_id"] for payload in tap.on("/result")] == [result_id]
    finally:
        tap.close()
    assert json.loads(edgescreen("sync", "status", "--json", config=config).stdout)["backlog"] == 0
