"""The station tells a device which of its results it erased (``edgescreen.erased/1``, retained,
signed), and the device erases those it still holds: a patient erased on the device who came back with
a backup restored, or a result an administrator erased at the station. Real mosquitto, real sync
worker, real ingester (both databases); a notice not signed by the station erases nothing."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine, select, text, update

from edgescreen_wire.erased import MAX_NOTICE_IDS, encode_erased_notice
from edgescreen_wire.topics import ERASED, device_topic
from edgescreen_wire.verdict_signature import read_private_key
from firmware_app.backup import backup, restore
from firmware_app.records.database import database_files
from firmware_app.records.erasure_ledger import ledger_path
from firmware_app.records.identity import Identity
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from review_station import devices
from review_station.cli import EXIT_DATABASE
from review_station.cli import main as review_main
from review_station.config import load_review_config
from review_station.erased_notices import Unsent, due_notices, not_sent, noticed, owe_notices, unsent_notices
from review_station.ingest.ingester import Ingester, verdict_signer
from review_station.storage.tables import erased_notices
from review_station.words import moment, say, unsent_why
from tests.mqtt_broker import Broker, free_port, wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.review_station.kit import IngesterThread, Publisher, counts, running_station, station_config
from tests.review_station.test_broker_queues import station_tls
from tests.review_station.test_erasure_from_device import queued_requests
from tests.review_station.test_signed_verdicts import keyed_station
from tests.review_station.web_kit import signed_in_client, station
from tests.sync.kit import BackgroundWorker
from tests.sync.signing import station_key, trusting
from tests.sync.test_security import make_test_certs, site_broker_config


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
        # The card replaced, the records restored from the backup: the patient is back on the device (the
        # ledger of its erasures, which the restore makes again, went with the old card).
        store.records.close()
        for path in (*database_files(device_dir / "records.sqlite3"), ledger_path(device_dir / "records.sqlite3")):
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


def owed_a_day(engine: Engine) -> list[Unsent]:
    """The notices unsent that the dashboard will show in a day (``unsent_notice_alert_h``: 24 h)."""
    with engine.connect() as connection:
        return unsent_notices(connection, 24, now=datetime.now(UTC) + timedelta(hours=25))


def owed_since(engine: Engine, when: datetime) -> None:
    """Every result owed since ``when``: a day's wait without waiting a day."""
    with engine.begin() as connection:
        connection.execute(update(erased_notices).values(owed_at=when))


def test_a_notice_the_station_cannot_send_is_shown_to_the_administrator_once_overdue(
    tmp_path, engine: Engine, capsys
) -> None:
    """A notice withheld (here: more ids than a notice carries) was only in the log: the device keeps
    patients the station erased. Past ``[dashboard] unsent_notice_alert_h`` it is on the dashboard and in
    ``devices list``, with its device, site, count, since when and why, in English and in French; a
    notice the broker took is not."""
    with running_station(tmp_path, engine) as running:
        config, _, _ = station_and_device(tmp_path, engine, running)
        devices.enrol(engine, "cam-02", DEVICE.site, by="test")
        too_many = [(f"{n:032x}", DEVICE.id) for n in range(MAX_NOTICE_IDS + 1)]
        with engine.begin() as connection:
            owe_notices(connection, [*too_many, ("f" * 32, "cam-02")])
        wait_until(lambda: [item.reason for item in owed_a_day(engine)] == ["not_encoded"], 30, "the reason kept")
        [item] = owed_a_day(engine)
        assert (item.device_id, item.site_id, item.results) == (DEVICE.id, DEVICE.site, MAX_NOTICE_IDS + 1)
        admin = signed_in_client(engine, station(), "ada", "admin")
        assert 'id="unsent-notices"' not in admin.get("/dashboard").text  # owed a moment ago: not yet
        when = datetime.now(UTC) - timedelta(hours=25)
        owed_since(engine, when)
        since = when.strftime("%Y-%m-%d %H:%M")
        for language in ("en", "fr"):
            admin.get(f"/language/{language}")
            page = admin.get("/dashboard").text
            table = page[page.index('id="unsent-notices"') :]
            table = table[: table.index("</table>")]
            row = f"<td>{DEVICE.id}</td><td>{DEVICE.site}</td><td>{MAX_NOTICE_IDS + 1}</td><td>{since}</td>"
            assert row in table and "cam-02" not in table
            assert str(escape(say("unsent_notice.why.not_encoded", language, most=MAX_NOTICE_IDS))) in table
            assert f"{0:032x}" not in page  # ids only counted: nothing of a patient
        capsys.readouterr()
        assert review_main(["--config", str(config), "devices", "list", "--json"]) == 0
        listed = {row["device"]: row["unsent_notice"] for row in map(json.loads, capsys.readouterr().out.splitlines())}
        assert listed["cam-02"] is None
        assert listed[DEVICE.id]["results"] == MAX_NOTICE_IDS + 1 and listed[DEVICE.id]["reason"] == "not_encoded"
        assert review_main(["--config", str(config), "devices", "list"]) == 0
        owed = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("device=")]
        why = say("unsent_notice.why.not_encoded", "en", most=MAX_NOTICE_IDS)
        assert len(owed) == 1 and DEVICE.id in owed[0] and str(MAX_NOTICE_IDS + 1) in owed[0]
        assert moment(when, "en") in owed[0] and why in owed[0]


def test_a_result_erased_again_is_owed_since_its_first_erasure_until_a_notice_names_it(engine: Engine) -> None:
    """Owed since the first erasure while no notice took it (a second one must not hide a day's wait),
    and since the new one once a notice took it; the reason a notice was not sent goes with the notice."""
    devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
    first, second = "a" * 32, "b" * 32

    def owed() -> tuple:
        with engine.connect() as connection:
            [item] = unsent_notices(connection, 0.1, now=datetime.now(UTC) + timedelta(hours=1))
        return item.since, item.results, item.reason

    with engine.begin() as connection:
        owe_notices(connection, [(first, DEVICE.id)])
    since, _, _ = owed()
    with engine.begin() as connection:
        not_sent(connection, DEVICE.id, "refused", "Not authorized")
        owe_notices(connection, [(first, DEVICE.id), (second, DEVICE.id)])
    assert owed() == (since, 2, "refused")
    with engine.begin() as connection:
        noticed(connection, *due_notices(connection))
        assert unsent_notices(connection, 0.1, now=datetime.now(UTC) + timedelta(hours=1)) == []
        owe_notices(connection, [(first, DEVICE.id)])
    later, results, reason = owed()
    assert later > since and (results, reason) == (1, "unknown")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_certs(tmp_path_factory.mktemp("certs"), DEVICE.id, "review-ingest-1")


def test_a_notice_the_brokers_acl_refuses_is_shown_with_the_brokers_reason(tmp_path, engine: Engine, certs) -> None:
    """The shipped site broker with an ACL older than the ``erased`` topic refuses the station's notice:
    the broker's reason is kept with it, and the dashboard says it, and what to check."""
    directory, port = tmp_path / "broker", free_port()
    directory.mkdir()
    text = site_broker_config(directory, certs, port)
    acl = directory / "acl"
    acl.write_text("".join(line for line in acl.read_text().splitlines(True) if "/erased" not in line))
    broker = Broker(directory, text, port).start()
    try:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        config, _ = keyed_station(tmp_path, engine, port, broker=station_tls(certs))
        with engine.begin() as connection:
            owe_notices(connection, [("a" * 32, DEVICE.id)])
        ingester = IngesterThread(config, engine)
        try:
            refused = [(DEVICE.id, "refused", "Not authorized")]
            wait_until(
                lambda: [(item.device_id, item.reason, item.detail) for item in owed_a_day(engine)] == refused,
                30,
                "the broker's refusal kept",
            )
        finally:
            ingester.stop()
        owed_since(engine, datetime.now(UTC) - timedelta(hours=25))
        page = signed_in_client(engine, station(), "ada", "admin").get("/dashboard").text
        assert str(escape(unsent_why("refused", "Not authorized", "en"))) in page
    finally:
        broker.stop()


def test_a_notice_paho_does_not_publish_is_kept_with_its_reason_and_sent_once_the_broker_is_back(
    tmp_path, engine: Engine
) -> None:
    """paho refuses a publication (``publish``'s rc not success) on a connection it has found lost: the
    ingester publishes only while connected, so its notice meets that when the broker goes between its
    loop's read and the publication, which no test can time. Here the real broker is stopped under the
    ingester's own client, which its loop sees lost; the notice it then publishes is withheld, paho's
    reason kept for the dashboard, and an ingester sends it once the broker is back."""
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        config, _ = keyed_station(tmp_path, engine, running.broker.port)
        with engine.begin() as connection:
            owe_notices(connection, [("a" * 32, DEVICE.id)])
            [notice] = due_notices(connection)
        settings = load_review_config(str(config))
        ingester = Ingester(engine, settings.broker, signer=verdict_signer(settings.verdicts.private_key_file))
        client = ingester._new_client()
        client.connect("127.0.0.1", running.broker.port)
        wait_until(lambda: client.loop(0.05) == mqtt.MQTT_ERR_SUCCESS and client.is_connected(), 30, "connected")
        running.broker.stop()
        wait_until(lambda: client.loop(0.05) != mqtt.MQTT_ERR_SUCCESS, 30, "the connection seen lost")

        ingester._send_notice(client, notice)
        refused = [(DEVICE.id, "not_published", mqtt.error_string(mqtt.MQTT_ERR_NO_CONN))]
        assert [(item.device_id, item.reason, item.detail) for item in owed_a_day(engine)] == refused
        running.broker.start()
        running.start_ingester(config)
        wait_until(lambda: owed_a_day(engine) == [], 30, "the notice taken by the broker")
        with engine.connect() as connection:
            row = connection.execute(select(erased_notices)).one()
        assert (row.noticed, row.unsent_reason, row.unsent_detail) == (True, None, None)


def test_a_database_error_while_the_notices_are_checked_says_the_database_could_not_be_read(
    tmp_path, engine: Engine, capsys
) -> None:
    """The notices owed kept where the dashboard and ``devices list`` cannot read them (their table gone
    from the real database, as a schema not migrated leaves it): ``devices list`` ended in a traceback
    and the dashboard in "Something went wrong", neither saying the database; each now says the
    station's database could not be read, in the station's or the reader's language, and the command
    logs the database's error."""
    devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
    with engine.begin() as connection:
        owe_notices(connection, [("a" * 32, DEVICE.id)])
    config = station_config(tmp_path, engine, free_port())
    admin = signed_in_client(engine, station(), "ada", "admin")
    admin_page = TestClient(admin.app, cookies=admin.cookies, raise_server_exceptions=False)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE erased_notices RENAME TO erased_notices_elsewhere"))
    for language in ("en", "fr"):
        admin_page.cookies.set("review_language", language)
        answer = admin_page.get("/dashboard")
        assert answer.status_code == 500 and str(escape(say("error.database_text", language))) in answer.text
    capsys.readouterr()
    assert review_main(["--config", str(config), "devices", "list"]) == EXIT_DATABASE
    said = capsys.readouterr().err
    assert "review.database_failed" in said and "erased_notices" in said
    assert say("cli.database_error", "en", problem="").rstrip() in said
