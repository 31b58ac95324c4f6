"""``edgescreen wipe``: the key crypto-erased first, then everything in the records' folder but the models."""

from __future__ import annotations

import os

import pytest

import firmware_app.wipe
from edgescreen_wire.erasure import ErasureRequest
from edgescreen_wire.result import RESULT_V2
from edgescreen_wire.sealed_image import read_public_key
from firmware_app.cli import main
from firmware_app.config import LANGUAGES, SAMPLES_DIR
from firmware_app.messages import message, sentence
from firmware_app.records.database import RequestRefused
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.uploads import UploadQueue
from firmware_app.sharing.policy import ImageSharing
from firmware_app.sync.lock import WorkerLock
from firmware_app.wipe import _write_unsent_erasures
from firmware_app.wording import readable_date
from tests.conftest import filled, read_only_view
from tests.records.kit import DEVICE, in_language, open_store, record_one, sample_record, small_photo
from tests.sharing.kit import station_keys
from tests.test_cli import edgescreen
from tests.test_cli_records import export_times


def device(tmp_path):
    """Records in a state folder of their own, as on a device, with what a technician leaves there; its
    one result sent (the broker's PUBACK), as on a device ready to be wiped."""
    state = tmp_path / "state"
    store = open_store(state)
    record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref="MRN-777-MARTIN", eye="L")))
    send_all(store)
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


def send_all(store) -> None:
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])


def test_wipe_overwrites_the_key_in_place_then_removes_everything_but_the_models(tmp_path, monkeypatch, capsys):
    state, store, config = device(tmp_path)
    record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref="MRN-9-ERASED")))
    store.erase_patient("MRN-9-ERASED")  # in the ledger a restore makes it again from (records/erasure_ledger.py)
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
    assert set(overwritten["records.sqlite3.erasures"]) == {0}
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


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_file_the_wipe_could_not_erase_is_named_with_the_systems_reason_in_the_devices_language(tmp_path, language):
    """A file on a read-only file system (a failing card the kernel remounted so) was named with the
    system's English reason on a French device ("could not erase: ...: Read-only file system"): said
    now in the device's language, as every refusal says a system's reason (``system_reason``), and the
    wipe still ends with status 5."""
    state, store, config = device(tmp_path)
    store.records.close()
    stuck = state / "install-records/records-2026-06-01.sqlite3"
    with read_only_view(stuck.parent, stuck.parent):
        wiped = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert wiped.returncode == 5, wiped.stderr
    reason = message("system.EROFS", language)
    files = sentence("wipe.not_erased_file", language, path=str(stuck), reason=reason)
    assert f"edgescreen: {sentence('wipe.not_erased', language, files=files)}\n" in wiped.stderr, wiped.stderr
    assert stuck.exists() and not (state / "records.key").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_says_how_often_and_when_decrypted_photos_were_exported_which_it_cannot_reach(tmp_path, language):
    """The audit log's exports (the nurse app's download, ``records export``) are decrypted copies off
    the records: the wipe said nothing of them, and the device left with its technician unaware."""
    state, store, config = device(tmp_path)
    (result_id,) = [row[0] for row in store.records.connection.execute("SELECT result_id FROM screening")]
    store.export_images(result_id)
    store.export_images(result_id)
    store.records.close()
    times = export_times(state / "records.sqlite3")
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    wiped = edgescreen("wipe", "--confirm", DEVICE.id, config=config)
    assert wiped.returncode == 0, wiped.stderr
    first, last = (readable_date(times[0], language), readable_date(times[-1], language))
    assert sentence("wipe.exported", language, count=2, first=first, last=last) in wiped.stdout.splitlines()


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
    assert "sync run --until-drained" in said[0] and "--unsent-erasures" in said[0]
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
def test_wipe_of_damaged_records_says_what_waited_to_be_sent_is_lost_and_who_erases_by_hand(tmp_path, language):
    """Records that cannot be read (a damaged file) are wiped all the same, as a device leaving the
    clinic must be; but what waited to be sent goes with them, unread. The wipe only logged that, in
    English, then said only the erasures were lost: the three results waiting here, and any shared
    photo, went unmentioned, as if none waited. It says all three, in the device's language, and who
    must act. (Without its key, the records still read: what waits is not sealed, and refuses the wipe.)"""
    state, _, config = results_unsent(tmp_path)
    with (state / "records.sqlite3").open("r+b") as file:
        file.write(b"\xff" * 100)  # the header gone: no longer a database
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 0, run.stderr
    lost, flash = run.stdout.splitlines()[-2:]
    assert [lost, flash] == [message("wipe.owed_unread", language), message("wipe.flash", language)]
    assert all(word in lost for word in {"en": ("results", "photos"), "fr": ("résultats", "photos")}[language])
    assert not (state / "records.sqlite3").exists()


def test_wipe_of_records_whose_erasure_queue_cannot_be_read_says_what_waited_is_lost(tmp_path):
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
    assert run.stdout.splitlines()[-2:] == [message("wipe.owed_unread", "en"), message("wipe.flash", "en")]
    assert not (state / "records.sqlite3").exists() and not (state / "records.key").exists()


def test_the_refusal_for_queued_erasures_names_the_way_out_for_a_device_that_cannot_reach_its_station():
    """A device whose broker is gone for good could never send them, so never be wiped: the refusal
    names the option that writes them out for the station's administrator, in each form and language."""
    for language in LANGUAGES:
        for count in (1, 2):
            assert "--unsent-erasures" in sentence("refused.wipe_erasures_queued", language, count=count)


def erasures_waiting(tmp_path):
    """``device`` with its patient and a second one erased after their results reached the broker: two
    erasure requests wait for the review station, the records their one copy. The results' ids too."""
    state, store, config = device(tmp_path)
    record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref="MRN-778-DURAND", eye="R")))
    result_ids = [row[0] for row in store.records.connection.execute("SELECT result_id FROM screening")]
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    store.erase_patient("MRN-777-MARTIN")
    store.erase_patient("MRN-778-DURAND")
    store.records.close()
    return state, config, result_ids


def wipe_with(config, unsent_erasures, *options: str) -> int:
    wipe = ["wipe", "--confirm", DEVICE.id, "--unsent-erasures", str(unsent_erasures), *options]
    return main(["--config", str(config), *wipe])


def untouched(state) -> bool:
    return (state / "records.key").is_file() and (state / "records.sqlite3").is_file()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_with_unsent_erasures_writes_the_station_s_commands_to_the_file_then_wipes(tmp_path, language):
    """A device that can never reach its station again is wiped all the same, its patients' erasures
    kept: written first, as the commands the station's administrator runs, with the device's id."""
    state, config, result_ids = erasures_waiting(tmp_path)
    (tmp_path / "usb").mkdir()
    out = tmp_path / "usb" / "erasures.txt"
    files = sum(path.is_file() for path in state.rglob("*") if "models" not in path.parts)
    in_language(config, language)
    run = edgescreen("wipe", "--confirm", DEVICE.id, "--unsent-erasures", str(out), config=config)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        sentence("wipe.key_erased", language, file=str(state / "records.key")),
        sentence("wipe.files", language, count=files, folder=str(state)),
        sentence("wipe.models_kept", language, folder=str(state / "models")),
        sentence("wipe.unsent_erasures_written", language, count=2, file=str(out)),
        message("wipe.flash", language),
    ]
    written = out.read_text()
    assert all(f"# {message('wipe.unsent_erasures_file', language)}" in written for language in LANGUAGES)
    commands = [line for line in written.splitlines() if not line.startswith("# ")]
    assert sorted(commands) == sorted(f"edgescreen-review results erase {result_id}" for result_id in result_ids)
    lines = written.splitlines()
    assert all(lines[lines.index(command) - 1] == f"# device_id: {DEVICE.id}" for command in commands)
    assert "MRN" not in written
    assert "wipe.unsent_erasures_written" in run.stderr  # the event log: how many and where, no id
    assert not any(result_id in run.stderr for result_id in result_ids)
    assert not (state / "records.key").exists() and not (state / "records.sqlite3").exists()


@pytest.mark.parametrize("where", ["records folder", "a link to it"])
def test_wipe_refuses_an_unsent_erasures_file_the_wipe_would_erase_and_wipes_nothing(tmp_path, capsys, where):
    state, config, _ = erasures_waiting(tmp_path)
    (tmp_path / "link").symlink_to(state)
    folder = {"records folder": state, "a link to it": tmp_path / "link"}[where]
    inside = folder / "erasures.txt"
    assert wipe_with(config, inside) == 2
    refused = sentence("refused.wipe_unsent_erasures_inside", "en", file=str(inside), folder=str(state))
    assert f"edgescreen: {refused}" in capsys.readouterr().err
    assert not inside.exists() and untouched(state)


@pytest.mark.parametrize("where", ["missing folder", "under a file"])
def test_wipe_refuses_an_unsent_erasures_file_it_cannot_write_saying_why_and_wipes_nothing(tmp_path, capsys, where):
    """As root, a folder's mode stops no write: a folder that is not there, or a path under a regular
    file, makes the open itself fail, as a missing or read-only USB drive would."""
    state, config, _ = erasures_waiting(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / {"missing folder": "usb", "under a file": "a-file"}[where] / "erasures.txt"
    assert wipe_with(config, out) == 2
    reason = {"missing folder": "No such file or directory", "under a file": "Not a directory"}[where]
    refused = sentence("refused.wipe_unsent_erasures_unwritable", "en", file=str(out), reason=reason)
    assert f"edgescreen: {refused}" in capsys.readouterr().err
    assert "nothing was wiped" in refused and untouched(state)


def test_wipe_refuses_an_unsent_erasures_file_on_a_full_or_read_only_drive_and_wipes_nothing(
    tmp_path, tiny_filesystem, capsys
):
    state, config, _ = erasures_waiting(tmp_path)
    with read_only_view(tiny_filesystem, tmp_path / "read-only") as read_only:
        assert wipe_with(config, read_only / "erasures.txt") == 2
        assert "Read-only file system" in capsys.readouterr().err
    filled(tiny_filesystem)
    assert wipe_with(config, tiny_filesystem / "erasures.txt") == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not (tiny_filesystem / "erasures.txt").exists() and untouched(state)


def test_wipe_never_overwrites_an_unsent_erasures_file_another_wipe_wrote(tmp_path, capsys):
    """One USB drive, one file name, several devices decommissioned in turn: the first device's
    commands must not be lost to the second's."""
    state, config, _ = erasures_waiting(tmp_path)
    out = tmp_path / "erasures.txt"
    out.write_text("edgescreen-review results erase 0123456789abcdef0123456789abcdef\n")
    assert wipe_with(config, out) == 2
    refused = sentence("refused.wipe_unsent_erasures_exists", "en", file=str(out))
    assert f"edgescreen: {refused}" in capsys.readouterr().err
    assert out.read_text() == "edgescreen-review results erase 0123456789abcdef0123456789abcdef\n"
    assert untouched(state)


EARLIER_EXPORT = "edgescreen-review results erase 0123456789abcdef0123456789abcdef\n"


def test_the_unsent_erasures_writer_refuses_a_file_that_is_there_and_leaves_what_it_holds(tmp_path):
    """The wipe checks FILE is new, reads the records, and only then writes: a FILE made in between (a
    second wipe onto the same USB drive, a technician's earlier export appearing) was replaced, and the
    erasures it held, in no records once its device was wiped, lost."""
    out = tmp_path / "erasures.txt"
    out.write_text(EARLIER_EXPORT)
    with pytest.raises(RequestRefused) as refused:
        _write_unsent_erasures(out, [ErasureRequest(DEVICE.id, ("f" * 32,))])
    assert refused.value.key == "refused.wipe_unsent_erasures_exists"
    assert out.read_text() == EARLIER_EXPORT


def test_wipe_refuses_an_unsent_erasures_file_made_after_its_check_and_wipes_nothing(tmp_path, monkeypatch, capsys):
    """The same race through the whole wipe: FILE appears while the wipe reads the records' requests."""
    state, config, _ = erasures_waiting(tmp_path)
    out = tmp_path / "erasures.txt"
    read_requests = firmware_app.wipe._owed

    def another_wipe_writes_first(*args):
        queued = read_requests(*args)
        out.write_text(EARLIER_EXPORT)
        return queued

    monkeypatch.setattr(firmware_app.wipe, "_owed", another_wipe_writes_first)
    assert wipe_with(config, out) == 2
    refused = sentence("refused.wipe_unsent_erasures_exists", "en", file=str(out))
    assert f"edgescreen: {refused}" in capsys.readouterr().err
    assert out.read_text() == EARLIER_EXPORT and untouched(state)


def test_wipe_with_unsent_erasures_and_none_waiting_writes_no_file_and_says_so(tmp_path, capsys):
    state, store, config = device(tmp_path)
    store.records.close()
    out = tmp_path / "erasures.txt"
    assert wipe_with(config, out) == 0
    assert sentence("wipe.unsent_erasures_none", "en", file=str(out)) in capsys.readouterr().out.splitlines()
    assert not out.exists() and not (state / "records.key").exists()


def test_wipe_with_unsent_erasures_of_damaged_records_says_them_lost_as_without_the_option(tmp_path, capsys):
    state, store, config = device(tmp_path)
    store.records.close()
    with (state / "records.sqlite3").open("r+b") as file:
        file.write(b"\xff" * 100)
    out = tmp_path / "erasures.txt"
    assert wipe_with(config, out) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-2:] == [message("wipe.owed_unread", "en"), message("wipe.flash", "en")]
    assert not out.exists() and not any(str(out) in line for line in said)


def results_unsent(tmp_path):
    """``device`` with four more screenings the broker has not taken, one of them withheld as altered
    (``Outbox.withhold``), never to be sent: ``sync status`` says backlog 3. The records are the one
    copy of those three results: no clinician has seen them."""
    state, store, config = device(tmp_path)
    for patient in ("MRN-778-DURAND", "MRN-779-PETIT", "MRN-780-ROUX", "MRN-781-BLANC"):
        record_one(store, small_photo(), sample_record(ScreeningContext(patient_ref=patient, eye="R")))
    outbox = Outbox(store.records)
    outbox.withhold(outbox.pending(0, 1)[0], "payload digest mismatch")
    assert outbox.backlog().unsent == 3
    store.records.close()
    return state, store, config


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_is_refused_while_results_wait_to_reach_the_review_station(tmp_path, language):
    """Backlog 3, and the wipe exited 0 saying the key and the files were erased, never a word of the
    three screenings no clinician would now see: README's "let it send everything first" was a step the
    wipe never checked. It is refused, naming how many and how to send them; sent, the wipe goes on."""
    state, store, config = results_unsent(tmp_path)
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.wipe_results_unsent', language, count=3)}"]
    assert "sync run --until-drained" in said[0] and "--discard-unsent-results" in said[0]
    assert untouched(state)

    store = open_store(state)
    send_all(store)
    store.records.close()
    assert edgescreen("wipe", "--confirm", DEVICE.id, config=config).returncode == 0
    assert not (state / "records.key").exists() and not (state / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_with_discard_unsent_results_erases_them_and_says_how_many(tmp_path, language):
    """A device whose results can never be sent (its broker gone, the device scrapped) is wiped all the
    same when the technician says so, and the wipe says how many results no clinician will see."""
    state, _, config = results_unsent(tmp_path)
    files = sum(path.is_file() for path in state.rglob("*") if "models" not in path.parts)
    in_language(config, language)
    run = edgescreen("wipe", "--confirm", DEVICE.id, "--discard-unsent-results", config=config)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        sentence("wipe.key_erased", language, file=str(state / "records.key")),
        sentence("wipe.files", language, count=files, folder=str(state)),
        sentence("wipe.models_kept", language, folder=str(state / "models")),
        sentence("wipe.unsent_results_discarded", language, count=3),
        message("wipe.flash", language),
    ]
    assert "wipe.unsent_results_discarded" in run.stderr  # the event log, with the count
    assert not (state / "records.key").exists() and not (state / "records.sqlite3").exists()


def test_wipe_refused_for_unsent_results_writes_no_unsent_erasures_file(tmp_path, capsys):
    """Erasures and results both waiting, ``--unsent-erasures`` given alone: the refusal comes before
    FILE is written, so the wipe run again with both options does not find FILE there and refuse it."""
    state, store, config = results_unsent(tmp_path)
    store = open_store(state)
    store.erase_patient("MRN-777-MARTIN")  # its result sent: an erasure request for the station
    store.records.close()
    out = tmp_path / "erasures.txt"
    assert wipe_with(config, out) == 2
    assert sentence("refused.wipe_results_unsent", "en", count=3) in capsys.readouterr().err
    assert not out.exists() and untouched(state)
    assert wipe_with(config, out, "--discard-unsent-results") == 0
    said = capsys.readouterr().out.splitlines()
    assert sentence("wipe.unsent_erasures_written", "en", count=1, file=str(out)) in said
    assert sentence("wipe.unsent_results_discarded", "en", count=3) in said
    assert out.is_file() and not (state / "records.key").exists()


def test_the_refusal_for_unsent_results_names_both_ways_out_in_each_form_and_language():
    for language in LANGUAGES:
        for count in (1, 2):
            said = sentence("refused.wipe_results_unsent", language, count=count)
            assert "edgescreen sync run --until-drained" in said and "--discard-unsent-results" in said


def photos_unsent(tmp_path, retina_rgb):
    """``device`` with four referred screenings whose photos the site shares with the review station's
    specialists (``[sync] share_images``), every result sent: two photos wait to be uploaded, the
    records their one copy. Of the rest, none counts: one the station has, and one whose result was
    withheld as altered (never sent, so never offered: ``UploadQueue.next_ready``)."""
    state, store, config = device(tmp_path)
    _, public = station_keys(tmp_path / "station")
    sharing = ImageSharing("referred", 2048, False, read_public_key(public))
    withheld, uploaded, *waiting = [
        record_one(
            store,
            small_photo(retina_rgb, 128),
            sample_record(ScreeningContext(patient_ref=f"MRN-79{n}-ROUX", eye="L"), score=0.9),
            RESULT_V2,
            sharing=sharing,
        )
        for n in range(4)
    ]
    outbox, queue = Outbox(store.records), UploadQueue(store.records)
    row = next(row for row in outbox.pending(0, 10) if row.result_id == withheld.result_id)
    outbox.withhold(row, "payload digest mismatch")
    send_all(store)
    queue.mark_uploaded(uploaded.result_id, 201)
    assert outbox.backlog().unsent == 0 and queue.backlog().to_send == 2  # not the withheld result's
    store.records.close()
    return state, config, sharing, [record.result_id for record in waiting]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_is_refused_while_photos_wait_to_be_uploaded_to_the_review_station(tmp_path, retina_rgb, language):
    """Every result sent, two referred patients' photos still to be uploaded: the wipe exited 0, and the
    specialists who were to read those photos never got them, with no one told. It is refused, naming
    how many and how to send them; uploaded, the wipe goes on."""
    state, config, _, waiting = photos_unsent(tmp_path, retina_rgb)
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.wipe_photos_unsent', language, count=2)}"]
    assert "sync run --until-drained" in said[0] and "--discard-unsent-results" in said[0]
    assert untouched(state)

    store = open_store(state)
    for result_id in waiting:
        UploadQueue(store.records).mark_uploaded(result_id, 201)
    store.records.close()
    assert edgescreen("wipe", "--confirm", DEVICE.id, config=config).returncode == 0
    assert not (state / "records.key").exists() and not (state / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_with_discard_unsent_results_erases_waiting_photos_and_says_how_many(tmp_path, retina_rgb, language):
    """A device that can never reach its station is wiped all the same when the technician says so,
    and the wipe says how many photos the specialists will never get."""
    state, config, _, _ = photos_unsent(tmp_path, retina_rgb)
    files = sum(path.is_file() for path in state.rglob("*") if "models" not in path.parts)
    in_language(config, language)
    run = edgescreen("wipe", "--confirm", DEVICE.id, "--discard-unsent-results", config=config)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        sentence("wipe.key_erased", language, file=str(state / "records.key")),
        sentence("wipe.files", language, count=files, folder=str(state)),
        sentence("wipe.models_kept", language, folder=str(state / "models")),
        sentence("wipe.unsent_photos_discarded", language, count=2),
        message("wipe.flash", language),
    ]
    assert "wipe.unsent_photos_discarded count=2" in run.stderr  # the event log
    assert not (state / "records.key").exists() and not (state / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_one_refusal_names_both_the_results_and_the_photos_waiting(tmp_path, retina_rgb, language):
    """A result not sent yet with its photo, beside the two photos waiting: the one refusal names both
    counts, so the technician who adds ``--discard-unsent-results`` knows all it loses; the wipe then
    says both."""
    state, config, sharing, _ = photos_unsent(tmp_path, retina_rgb)
    store = open_store(state)
    referred = sample_record(ScreeningContext(patient_ref="MRN-799-FAURE", eye="R"), score=0.9)
    record_one(store, small_photo(retina_rgb, 128), referred, RESULT_V2, sharing=sharing)
    store.records.close()
    in_language(config, language)
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=config)
    assert run.returncode == 2 and untouched(state), run.stderr
    results = sentence("wipe.results_waiting", language, count=1)
    photos = sentence("wipe.photos_waiting", language, count=3)
    refusal = sentence("refused.wipe_results_and_photos_unsent", language, results=results, photos=photos)
    assert f"edgescreen: {refusal}" in run.stderr.splitlines()
    assert "--discard-unsent-results" in refusal and "1" in results and "3" in photos

    run = edgescreen("wipe", "--confirm", DEVICE.id, "--discard-unsent-results", config=config)
    assert run.returncode == 0, run.stderr
    said = run.stdout.splitlines()
    assert sentence("wipe.unsent_results_discarded", language, count=1) in said
    assert sentence("wipe.unsent_photos_discarded", language, count=3) in said


def refuse_photos(state, result_ids) -> None:
    """The station refused these photos (its size limit, a certificate): set aside as the uploader does."""
    store = open_store(state)
    for result_id in result_ids:
        UploadQueue(store.records).refuse(result_id, "the station refused it (413)")
    store.records.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wipe_is_refused_while_photos_the_review_station_refused_are_kept(tmp_path, retina_rgb, language):
    """Photos the station refused are kept for ``sync retry-photos`` once the cause is mended: the wipe
    erased them without a word, counted neither as waiting nor as lost, and the specialists never got
    them. It is refused, naming how many and both ways out; with the discard it says it lost them."""
    state, config, _, waiting = photos_unsent(tmp_path, retina_rgb)
    refuse_photos(state, waiting)
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    said = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == [f"edgescreen: {sentence('refused.wipe_photos_refused', language, count=2)}"]
    assert untouched(state)

    run = edgescreen("wipe", "--confirm", DEVICE.id, "--discard-unsent-results", config=config)
    assert run.returncode == 0, run.stderr
    assert sentence("wipe.unsent_photos_discarded", language, count=2) in run.stdout.splitlines()
    assert "wipe.unsent_photos_discarded count=2" in run.stderr  # the event log
    assert not (state / "records.key").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_one_refusal_names_the_results_and_photos_waiting_and_the_photos_refused(tmp_path, retina_rgb, language):
    """A result not sent yet with its photo, one photo waiting and one the station refused: the one
    refusal names all three, and how to send the refused one again."""
    state, config, sharing, waiting = photos_unsent(tmp_path, retina_rgb)
    refuse_photos(state, waiting[:1])
    store = open_store(state)
    referred = sample_record(ScreeningContext(patient_ref="MRN-799-FAURE", eye="R"), score=0.9)
    record_one(store, small_photo(retina_rgb, 128), referred, RESULT_V2, sharing=sharing)
    store.records.close()
    run = edgescreen("wipe", "--confirm", DEVICE.id, config=in_language(config, language))
    assert run.returncode == 2 and untouched(state), run.stderr
    results = sentence("wipe.results_waiting", language, count=1)
    owed = f"{results}, {sentence('wipe.photos_waiting', language, count=2)}"
    refused = sentence("wipe.photos_refused", language, count=1)
    refusal = sentence("refused.wipe_unsent_and_photos_refused", language, owed=owed, refused=refused)
    assert f"edgescreen: {refusal}" in run.stderr.splitlines()

    run = edgescreen("wipe", "--confirm", DEVICE.id, "--discard-unsent-results", config=config)
    assert run.returncode == 0, run.stderr
    said = run.stdout.splitlines()
    assert sentence("wipe.unsent_results_discarded", language, count=1) in said
    assert sentence("wipe.unsent_photos_discarded", language, count=3) in said


def test_the_refusal_for_refused_photos_names_both_ways_out_in_each_form_and_language():
    for language in LANGUAGES:
        for count in (1, 2):
            said = sentence("refused.wipe_photos_refused", language, count=count)
            assert "edgescreen sync retry-photos" in said and "--discard-unsent-results" in said
        several = sentence("refused.wipe_unsent_and_photos_refused", language, owed="", refused="")
        assert "edgescreen sync retry-photos" in several and "--discard-unsent-results" in several


def test_the_refusal_for_unsent_photos_names_both_ways_out_in_each_form_and_language():
    for language in LANGUAGES:
        for count in (1, 2):
            said = sentence("refused.wipe_photos_unsent", language, count=count)
            assert "edgescreen sync run --until-drained" in said and "--discard-unsent-results" in said
        both = sentence("refused.wipe_results_and_photos_unsent", language, results="", photos="")
        assert "edgescreen sync run --until-drained" in both and "--discard-unsent-results" in both
