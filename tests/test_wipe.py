"""``edgescreen wipe``: the key crypto-erased first, then everything in the records' folder but the models."""

from __future__ import annotations

import os

import pytest

from firmware_app.cli import main
from firmware_app.config import SAMPLES_DIR
from firmware_app.messages import message, sentence
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.sync.lock import WorkerLock
from tests.records.kit import DEVICE, in_language, open_store, record_one, sample_record, small_photo
from tests.test_cli import edgescreen


def device(tmp_path):
    """Records in a state folder of their own, as on a device, with what a technician leaves there."""
    state = tmp_path / "state"
    store = open_store(state)
    record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref="MRN-777-MARTIN", eye="L")))
    (state / "install-records").mkdir()
    (state / "install-records/records-2026-06-01.sqlite3").write_bytes(b"SQLite format 3\0" + b"MRN-777" * 100)
    (state / "models/dr-referable").mkdir(parents=True)
    (state / "models/dr-referable/model.tflite").write_bytes(b"weights")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "{DEVICE.id}"\nsite = "{DEVICE.site}"\n[models]\ndirectory = "{state}/models"\n'
        f'[records]\ndatabase = "{state}/records.sqlite3"\nkey_file = "{state}/records.key"\n'
    )
    return state, store, config


def test_wipe_overwrites_the_key_in_place_then_removes_everything_but_the_models(tmp_path, monkeypatch, capsys):
    state, store, config = device(tmp_path)
    key = state / "records.key"
    old_key = key.read_bytes()
    overwritten: dict[str, bytes] = {}
    real_unlink = os.unlink

    def unlink_seen(path, *args, **kwargs):  # what each file held when it was removed
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as file:
                overwritten[os.path.basename(path)] = file.read()
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink_seen)
    assert main(["--config", str(config), "wipe", "--confirm", DEVICE.id]) == 0
    store.records.close()
    out = capsys.readouterr().out
    assert "crypto-erased" in out and "only full-disk encryption" in out
    assert len(overwritten["records.key"]) == 32 and overwritten["records.key"] != old_key
    assert set(overwritten["records.sqlite3"]) == {0}
    assert set(overwritten["records-2026-06-01.sqlite3"]) == {0}
    left = sorted(str(path.relative_to(state)) for path in state.rglob("*"))
    assert left == ["models", "models/dr-referable", "models/dr-referable/model.tflite"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_says_what_it_erased_and_what_it_cannot_reach_in_the_devices_language(tmp_path, language):
    """On main English whatever the device's language, with "file(s)"."""
    state, store, config = device(tmp_path)
    store.records.close()
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    files = sum(path.is_file() for path in state.rglob("*") if "models" not in path.parts)
    wiped = edgescreen("wipe", "--confirm", DEVICE.id, config=config)
    assert wiped.returncode == 0, wiped.stderr
    assert wiped.stdout.splitlines() == [
        sentence("wipe.key_erased", language, file=str(state / "records.key")),
        sentence("wipe.files", language, count=files, folder=str(state)),
        sentence("wipe.models_kept", language, folder=str(state / "models")),
        message("wipe.flash", language),
    ]
    assert ("écrasés de zéros" in wiped.stdout) == (language == "fr")


def test_wipe_is_refused_without_this_device_s_id_or_while_the_sync_worker_runs(tmp_path, capsys):
    state, store, config = device(tmp_path)
    store.records.close()
    assert main(["--config", str(config), "wipe", "--confirm", "cam-02"]) == 2
    assert f"--confirm {DEVICE.id}" in capsys.readouterr().err
    worker = WorkerLock(state / "records.sqlite3")
    assert worker.acquire()
    try:
        assert main(["--config", str(config), "wipe", "--confirm", DEVICE.id]) == 2
        assert "sync worker" in capsys.readouterr().err
    finally:
        worker.release()
    assert (state / "records.key").is_file() and (state / "records.sqlite3").is_file()


def test_wipe_refuses_a_records_folder_that_holds_the_software(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "checkout"
    (folder / "firmware_app").mkdir(parents=True)
    monkeypatch.setattr("firmware_app.wipe.PROJECT_ROOT", folder / "firmware_app" / "..")
    config = tmp_path / "config.toml"
    config.write_text(f'[records]\ndatabase = "{folder}/records.sqlite3"\n')
    assert main(["--config", str(config), "wipe", "--confirm", "demo-device"]) == 2
    assert "holds more than the records" in capsys.readouterr().err
    assert (folder / "firmware_app").is_dir()


def test_wipe_removes_the_marker_kept_off_the_records_drive_so_the_device_starts_afresh(tmp_path):
    """Records and their key on a drive, the marker naming them on the device's card: a wipe that left
    the marker had a re-assigned device's first screening refused as records gone, for good."""
    state, store, config = device(tmp_path)
    store.records.close()
    card = tmp_path / "card"
    config.write_text(config.read_text() + f'marker = "{card}/records.made"\n')
    assert edgescreen("operators", "list", config=config).returncode == 0  # a writer's open notes the records
    assert (card / "records.made").read_text() == str(state / "records.sqlite3")
    assert edgescreen("wipe", "--confirm", DEVICE.id, config=config).returncode == 0
    assert not (card / "records.made").exists()
    config.write_text(config.read_text().replace(f'[models]\ndirectory = "{state}/models"\n', ""))  # the real ones
    naevus = SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"
    first = edgescreen("screen", "--modality", "dermoscopy", str(naevus), config=config)
    assert first.returncode == 0, first.stderr
    assert (card / "records.made").read_text() == str(state / "records.sqlite3")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_refuses_records_gone_with_their_drive_and_keeps_the_marker(tmp_path, language):
    """Records and their key on a drive not mounted: the wipe found nothing to erase in the empty mount
    point, removed the marker and exited 0, the records and key left whole on the drive, and the
    device's next start made new records there. Now it is refused, saying the drive is not mounted."""
    state, store, config = device(tmp_path)
    store.records.close()
    card = tmp_path / "card"
    config.write_text(config.read_text() + f'marker = "{card}/records.made"\n')
    assert edgescreen("operators", "list", config=in_language(config, language)).returncode == 0
    state.rename(tmp_path / "drive")  # the drive not mounted: its mount point empty
    state.mkdir()
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=config)
    values = {"path": str(state / "records.sqlite3"), "marker": str(card / "records.made")}
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.wipe_records_gone', language, **values)}"]
    assert (card / "records.made").read_text() == str(state / "records.sqlite3")
    assert list(state.iterdir()) == [] and (tmp_path / "drive" / "records.key").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_is_refused_while_a_patients_erasure_waits_to_reach_the_review_station(tmp_path, language):
    """The request is the records' one copy of what the station must erase: wiped first, the station
    would keep the erased patient's results for good. Sent (the broker's PUBACK), the wipe goes on."""
    state, store, config = device(tmp_path)
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-777-MARTIN")
    [request] = outbox.pending_erasures(0, 10)
    store.records.close()
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.wipe_erasures_queued', language, count=1)}"]
    assert "sync run --until-drained" in said[0]
    assert (state / "records.key").is_file() and (state / "records.sqlite3").is_file()

    store = open_store(state)
    Outbox(store.records).erasure_delivered(request.seq)
    store.records.close()
    assert edgescreen("wipe", "--confirm", DEVICE.id, config=config).returncode == 0
    assert not (state / "records.key").exists() and not (state / "records.sqlite3").exists()


def test_wipe_is_not_refused_for_an_erasure_request_withheld_as_altered(tmp_path):
    """A request altered on the card is never sent (``outbox.erasure_fault``): it waits for nothing, and
    refusing the wipe for it would keep the device from ever being wiped."""
    state, store, config = device(tmp_path)
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-777-MARTIN")
    store.records.connection.execute("UPDATE erasure_outbox SET payload = ?", (b'{"altered": true}',))
    assert Outbox(store.records).backlog().erasures_withheld == 1
    store.records.close()
    assert edgescreen("wipe", "--confirm", DEVICE.id, config=config).returncode == 0
    assert not (state / "records.key").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_of_damaged_records_says_queued_erasures_are_lost_and_who_erases_by_hand(tmp_path, language):
    """Records that cannot be read (a damaged file) are wiped all the same, as a device leaving the
    clinic must be; but any patient's erasure still queued goes with them, unread. The wipe only
    logged that, in English: it says it, in the device's language, and who must act. (Without its
    key, the records still read: their erasure requests are not sealed, and still refuse the wipe.)"""
    state, store, config = device(tmp_path)
    store.records.close()
    with (state / "records.sqlite3").open("r+b") as file:
        file.write(b"\xff" * 100)  # the header gone: no longer a database
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-2:] == [message("wipe.erasures_unread", language), message("wipe.flash", language)]
    assert not (state / "records.sqlite3").exists()


def test_wipe_of_records_whose_erasure_queue_cannot_be_read_says_queued_erasures_are_lost(tmp_path):
    """Records that open, their erasure queue's page damaged: the read fails after the opening did, and
    the wipe goes on all the same, saying what it loses, as for records that do not open."""
    state, store, config = device(tmp_path)
    db = store.records.connection
    page = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'erasure_outbox'").fetchone()[0]
    store.records.close()
    with (state / "records.sqlite3").open("r+b") as file:
        file.seek((root - 1) * page)
        file.write(b"\xff" * page)
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=config)
    assert run.returncode == 0, run.stderr
    assert "database disk image is malformed" in run.stderr
    assert run.stdout.splitlines()[-2:] == [message("wipe.erasures_unread", "en"), message("wipe.flash", "en")]
    assert not (state / "records.sqlite3").exists() and not (state / "records.key").exists()
