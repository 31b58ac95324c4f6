"""The station tells a device which of its results it erased (``edgescreen.erased/1``, retained,
signed), and the device erases those it still holds: a patient erased on the device who came back with
a backup restored, or a result an administrator erased at the station. Real mosquitto, real sync
worker, real ingester (both databases); a notice not signed by the station erases nothing."""

from __future__ import annotations

import json
import logging

from sqlalchemy import Engine

from edgescreen_wire.erased import encode_erased_notice
from edgescreen_wire.topics import ERASED, device_topic
from edgescreen_wire.verdict_signature import read_private_key
from firmware_app.backup import backup, restore
from firmware_app.records.database import database_files
from firmware_app.records.identity import Identity
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from review_station import devices
from review_station.cli import main as review_main
from review_station.erased_notices import due_notices, owe_notices
from tests.mqtt_broker import wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.review_station.kit import Publisher, counts, running_station
from tests.review_station.test_erasure_from_device import queued_requests
from tests.review_station.test_signed_verdicts import keyed_station
from tests.sync.kit import BackgroundWorker
from tests.sync.signing import station_key, trusting


def held_on_device(store, result_id: str) -> tuple[int, int]:
    """(screenings, photos) the device holds of one result."""
    connection = store.records.connection
    screenings = connection.execute("SELECT count(*) FROM screening WHERE result_id = ?", (result_id,)).fetchone()[0]
    photos = connection.execute("SELECT count(*) FROM image WHERE result_id = ?", (result_id,)).fetchone()[0]
    return screenings, photos


def erasure_events(store) -> list[dict[str, object]]:
    rows = store.records.connection.execute("SELECT details FROM audit WHERE kind = 'erasure' ORDER BY seq")
    return [json.loads(details) for (details,) in rows]


def screened(store, patient: str) -> str:
    record = sample_record(ScreeningContext(patient_ref=patient, eye="L"))
    return record_one(store, small_photo(), record).result_id


def all_sent(store) -> bool:
    return Outbox(store.records).backlog().unsent == 0


def station_and_device(tmp_path, engine: Engine, running) -> tuple:
    """The station's config and verdict public key, its ingester running, and the device enrolled, its
    folder made: (config, public key, device folder)."""
    devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
    config, public = keyed_station(tmp_path, engine, running.broker.port)
    running.start_ingester(config)
    device_dir = tmp_path / "device"
    device_dir.mkdir()
    return config, public, device_dir


def test_a_patient_erased_then_restored_from_a_backup_is_erased_again_by_the_stations_notice(
    tmp_path, engine: Engine
) -> None:
    with running_station(tmp_path, engine) as running:
        _, public, device_dir = station_and_device(tmp_path, engine, running)
        device_config = write_config(device_dir, running.broker.port, trusting(public))
        store = open_store(device_dir)
        erased, kept = screened(store, "MRN-5"), screened(store, "MRN-6")
        worker = BackgroundWorker(device_config)
        wait_until(lambda: counts(engine)[0] == 2 and all_sent(store), 30, "both results sent to the station")
        backup(store, tmp_path / "backup.sqlite3")  # taken before the erasure: it holds the patient

        assert store.erase_patient("MRN-5").at_the_station == (erased,)
        wait_until(lambda: counts(engine)[0] == 1, 30, "the erasure carried out at the station")
        worker.stop()
        # The card replaced, the records restored from the backup: the patient is back on the device.
        store.records.close()
        for path in database_files(device_dir / "records.sqlite3"):
            path.unlink(missing_ok=True)
        restore(
            tmp_path / "backup.sqlite3",
            device_dir / "records.sqlite3",
            device_dir / "records.key",
            Identity(DEVICE.id, DEVICE.site),
        )
        store = open_store(device_dir)
        assert held_on_device(store, erased) == (1, 1)

        worker = BackgroundWorker(device_config)
        running.at_the_end(worker.stop)
        wait_until(lambda: held_on_device(store, erased) == (0, 0), 30, "the station's notice carried out")
        assert held_on_device(store, kept) == (1, 1)
        # Nothing goes back to the station: no erasure request, no result to send again.
        assert queued_requests(store) == 0 and all_sent(store)
        assert counts(engine)[0] == 1
        event = erasure_events(store)[-1]
        assert event["result_ids"] == [erased] and event["results_at_the_station"] == []
        assert event["by"] == "the review station"
        assert "MRN-5" not in json.dumps(event)
        check = store.records.verify_audit()
        assert check.first_bad is None and check.altered_result is None
        worker.check_alive()


def test_an_administrators_erasure_at_the_station_reaches_the_device(tmp_path, engine: Engine) -> None:
    with running_station(tmp_path, engine) as running:
        config, public, device_dir = station_and_device(tmp_path, engine, running)
        store = open_store(device_dir)
        erased, kept = screened(store, "MRN-5"), screened(store, "MRN-6")
        worker = BackgroundWorker(write_config(device_dir, running.broker.port, trusting(public)))
        running.at_the_end(worker.stop)
        wait_until(lambda: counts(engine)[0] == 2 and all_sent(store), 30, "both results sent to the station")

        assert review_main(["--config", str(config), "results", "erase", erased]) == 0
        wait_until(lambda: held_on_device(store, erased) == (0, 0), 30, "the administrator's erasure on the device")
        assert held_on_device(store, kept) == (1, 1)
        assert queued_requests(store) == 0 and counts(engine)[0] == 1
        assert erasure_events(store)[-1]["result_ids"] == [erased]
        worker.check_alive()


def test_an_administrators_erasure_of_a_result_not_received_yet_reaches_its_device_once_it_arrives(
    tmp_path, engine: Engine
) -> None:
    """The administrator names a result still on the device (its network down, a bridge holding it):
    tombstoned for any device, it is dropped when it arrives, and the device that sent it, which still
    holds it, was told by no notice: none could name it before a device sent it."""
    with running_station(tmp_path, engine) as running:
        config, public, device_dir = station_and_device(tmp_path, engine, running)
        store = open_store(device_dir)
        erased, kept = screened(store, "MRN-5"), screened(store, "MRN-6")
        # Not here: said unknown (status 1), and tombstoned for whichever device sends it.
        assert review_main(["--config", str(config), "results", "erase", erased]) == 1

        worker = BackgroundWorker(write_config(device_dir, running.broker.port, trusting(public)))
        running.at_the_end(worker.stop)
        wait_until(lambda: held_on_device(store, erased) == (0, 0), 30, "the erasure on the device once sent")
        assert held_on_device(store, kept) == (1, 1) and counts(engine)[0] == 1
        assert queued_requests(store) == 0
        worker.check_alive()


def test_devices_whose_notice_is_withheld_do_not_starve_the_others(engine: Engine) -> None:
    """The notices due are read a hundred devices at a time; a device whose notice the ingester
    withholds on this connection (no key, or too many ids) was read again each time, so past a hundred
    of them the devices after them were never told."""
    for n in range(3):
        devices.enrol(engine, f"cam-{n}", DEVICE.site, by="test")
    with engine.begin() as connection:
        owe_notices(connection, [(f"{n:032x}", f"cam-{n}") for n in range(3)])
        assert [notice.device_id for notice in due_notices(connection, limit=2)] == ["cam-0", "cam-1"]
        due = due_notices(connection, {"cam-0", "cam-1"}, limit=2)
    assert [(notice.device_id, notice.result_ids) for notice in due] == [("cam-2", (f"{2:032x}",))]


def test_a_notice_not_signed_by_the_station_or_for_another_device_erases_nothing(
    tmp_path, engine: Engine, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="edgescreen")
    with running_station(tmp_path, engine) as running:
        _, public = keyed_station(tmp_path, engine, running.broker.port)
        # The station's command set up its logging, which stops at its own handler: the test hears it too.
        logging.getLogger("edgescreen").addHandler(caplog.handler)
        station = read_private_key(tmp_path / "station" / "verdict.key")
        forger, _ = station_key(tmp_path, "forger")
        device_dir = tmp_path / "device"
        device_dir.mkdir()
        store = open_store(device_dir)
        target, sentinel = screened(store, "MRN-5"), screened(store, "MRN-6")
        worker = BackgroundWorker(write_config(device_dir, running.broker.port, trusting(public)))
        running.at_the_end(worker.stop)
        wait_until(lambda: all_sent(store), 30, "the results sent")
        publisher = Publisher(running.broker.port)
        running.at_the_end(publisher.close)
        topic = device_topic(DEVICE.site, DEVICE.id, ERASED)
        genuine = json.loads(encode_erased_notice(DEVICE.id, [target], station))
        signature = genuine["signature"]
        wrong = genuine | {"signature": signature[:10] + ("B" if signature[10] == "A" else "A") + signature[11:]}
        messages = [
            encode_erased_notice(DEVICE.id, [target], forger),  # another key
            json.dumps(wrong).encode(),  # a signature that does not verify
            json.dumps({k: v for k, v in genuine.items() if k != "signature"}).encode(),  # none at all
            encode_erased_notice("cam-02", [target], station),  # another device's, on this one's topic
            json.dumps(genuine | {"erased": genuine["erased"] | {"patient": "MRN-5"}}).encode(),  # malformed
            b"not json",
            encode_erased_notice(DEVICE.id, [sentinel], station),  # the station's: handled after the others
        ]
        publisher.publish_all([(topic, message) for message in messages])
        wait_until(lambda: held_on_device(store, sentinel) == (0, 0), 30, "the station's own notice")
        assert held_on_device(store, target) == (1, 1)
        assert caplog.text.count("sync.erased_notice_not_signed") == 2
        assert caplog.text.count("sync.erased_notice_not_ours") == 1
        assert caplog.text.count("sync.erased_notice_rejected") == 3
        assert "MRN-5" not in caplog.text
        worker.check_alive()
