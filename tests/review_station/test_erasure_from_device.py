"""A patient erased on the device is erased at the station too: the device queues an
``edgescreen.erasure/1`` with the erasure, its sync worker publishes it over the real broker, and the
real ingester erases the results with everything the station holds of them (both databases). The
request waits while the broker is down; a result arriving after its erasure is not stored; a device
naming another device's result, or a malformed request, erases nothing."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from sqlalchemy import Engine, event, func, select

from edgescreen_wire.erasure import MAX_ERASED_IDS, ErasureRequest, erasure_documents
from edgescreen_wire.review import encode_review_ack
from edgescreen_wire.topics import ERASURE, device_topic
from firmware_app.records.screening import ScreeningContext
from review_station import accounts, devices
from review_station.erasure import erase_for_device, erase_results
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import audit, deliveries, erased_results, quarantine, results
from review_station.verdicts import ReadForm, record_read
from review_station.web.app import LANGUAGE_COOKIE
from review_station.words import say
from tests.mqtt_broker import wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.review_station.kit import (
    Publisher,
    counts,
    result_bytes,
    result_topic,
    running_station,
    waiting_on_a_lock,
)
from tests.review_station.test_erasure import held
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, hold_photo, signed_in_client, station
from tests.sync.kit import BackgroundWorker

NOTHING_HELD = dict.fromkeys(("results", "reads", "deliveries", "images", "contrary_reads"), 0)


def erasure_events(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(select(audit.c.details).where(audit.c.kind == "result_erased").order_by(audit.c.seq))
        return [json.loads(details) for details in rows.scalars()]


def queued_requests(store) -> int:
    return store.records.connection.execute("SELECT count(*) FROM erasure_outbox").fetchone()[0]


def test_a_patient_erased_on_the_device_is_erased_at_the_station(tmp_path, engine: Engine, retina_rgb) -> None:
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
        running.start_ingester()
        (tmp_path / "device").mkdir()
        store = open_store(tmp_path / "device")
        photo = small_photo(retina_rgb)
        patient = [sample_record(ScreeningContext(patient_ref="MRN-5", eye=eye)) for eye in "LR"]
        erased = [record_one(store, photo, record) for record in patient]
        kept = record_one(store, photo, sample_record(ScreeningContext(patient_ref="MRN-6", eye="L")))
        worker = BackgroundWorker(write_config(tmp_path / "device", running.broker.port))
        running.at_the_end(worker.stop)
        wait_until(lambda: counts(engine)[0] == 3, 30, "the device's 3 results at the station")
        first = erased[0].result_id
        _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
        record_read(engine, first, ana, ReadForm("refer", "soon", "moderate", "absent"), ())
        hold_photo(engine, first, b"sealed photo")
        assert held(engine, first) == {**NOTHING_HELD, "results": 1, "reads": 1, "deliveries": 1, "images": 1}

        erasure = store.erase_patient("MRN-5")
        ids = sorted(record.result_id for record in erased)
        assert list(erasure.at_the_station) == ids

        wait_until(lambda: counts(engine)[0] == 1, 30, "the erasure carried out at the station")
        for result_id in ids:
            assert held(engine, result_id) == NOTHING_HELD
        assert held(engine, kept.result_id)["results"] == 1
        assert erasure_events(engine) == [{"results": ids, "by": f"device {DEVICE.id}"}]
        wait_until(lambda: queued_requests(store) == 0, 10, "the request deleted once the broker had it")
        worker.check_alive()


def test_an_erasure_made_while_the_broker_is_down_reaches_the_station_later(tmp_path, engine: Engine, retina_rgb):
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        running.start_ingester()
        (tmp_path / "device").mkdir()
        config = write_config(tmp_path / "device", running.broker.port)
        store = open_store(tmp_path / "device")
        sent = record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="MRN-7", eye="L")))
        worker = BackgroundWorker(config)
        running.at_the_end(worker.stop)
        wait_until(lambda: counts(engine)[0] == 1, 30, "the result at the station")
        worker.stop()
        running.broker.stop()

        assert store.erase_patient("MRN-7").at_the_station == (sent.result_id,)
        assert queued_requests(store) == 1
        worker = BackgroundWorker(config)  # a restart of the sync service, the broker still down
        running.at_the_end(worker.stop)
        time.sleep(2)
        assert queued_requests(store) == 1 and counts(engine)[0] == 1

        running.broker.start()
        wait_until(lambda: counts(engine)[0] == 0, 60, "the erasure at the station once the broker is back")
        assert held(engine, sent.result_id) == NOTHING_HELD
        wait_until(lambda: queued_requests(store) == 0, 10, "the request deleted once the broker had it")


def test_a_result_arriving_after_its_erasure_is_not_stored_and_a_repeated_erasure_erases_nothing_more(
    tmp_path, engine: Engine
) -> None:
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, "cam-01", "site-a", by="test")
        ingester = running.start_ingester()
        device = Publisher(running.broker.port)
        running.at_the_end(device.close)
        late, late_payload = result_bytes("cam-01", "site-a")
        stored, stored_payload = result_bytes("cam-01", "site-a")
        device.publish_all([(result_topic("site-a", "cam-01"), stored_payload)])
        wait_until(lambda: counts(engine)[0] == 1, 30, "the stored result")
        [request] = erasure_documents("cam-01", [late, stored])
        topic = device_topic("site-a", "cam-01", ERASURE)
        device.publish_all([(topic, request)])
        wait_until(lambda: counts(engine)[0] == 0, 30, "the erasure")
        # The in-flight copy arrives after its erasure, then the request again (a redelivery).
        device.publish_all([(result_topic("site-a", "cam-01"), late_payload), (topic, request)])
        wait_until(lambda: ingester.ingester.totals.erasures == 2, 30, "the request again")
        wait_until(lambda: ingester.ingester.totals.erased_before == 1, 30, "the late copy refused")
        assert counts(engine) == (0, 0, 0)  # not stored, not quarantined: nothing of it kept
        assert erasure_events(engine) == [{"results": [stored], "by": "device cam-01"}]
        with engine.connect() as connection:
            stones = dict(connection.execute(select(erased_results.c.result_id, erased_results.c.device_id)).all())
        assert stones == {late: "cam-01", stored: "cam-01"}


def test_a_device_naming_another_devices_result_erases_nothing(tmp_path, engine: Engine) -> None:
    with running_station(tmp_path, engine) as running:
        [theirs] = add_results(engine, "cam-01", "site-a", [0.9])
        [own] = add_results(engine, "cam-02", "site-a", [0.9])
        running.start_ingester()
        intruder = Publisher(running.broker.port)
        running.at_the_end(intruder.close)
        [request] = erasure_documents("cam-02", [own, theirs])
        intruder.publish_all([(device_topic("site-a", "cam-02", ERASURE), request)])
        wait_until(lambda: counts(engine)[2] == 1, 30, "the request quarantined")
        assert counts(engine)[0] == 2 and erasure_events(engine) == []
        with engine.connect() as connection:
            reason = connection.execute(select(quarantine.c.reason)).scalar_one()
            assert connection.execute(select(func.count()).select_from(erased_results)).scalar_one() == 0
        assert reason == f"device cam-02 asked to erase results of another device: {theirs}"


def test_malformed_erasure_requests_are_quarantined_and_erase_nothing(tmp_path, engine: Engine) -> None:
    with running_station(tmp_path, engine) as running:
        [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
        running.start_ingester()
        device = Publisher(running.broker.port)
        running.at_the_end(device.close)
        topic = device_topic("site-a", "cam-01", ERASURE)
        good = {"schema": "edgescreen.erasure/1", "device_id": "cam-01", "result_ids": [result_id]}
        malformed = [
            good | {"patient": "MRN-5"},  # a field the wire does not carry
            good | {"result_ids": ["MRN-5 Jeanne Dupont"]},  # not a result id
            good | {"result_ids": [result_id.upper()]},
            good | {"result_ids": []},
            good | {"result_ids": [result_id, result_id]},
            good | {"device_id": "cam-02"},  # another device's id on cam-01's topic
            good | {"schema": "edgescreen.erasure/2"},
            good | {"result_ids": [f"{n:032x}" for n in range(MAX_ERASED_IDS + 1)]},  # too many
        ]
        messages = [(topic, json.dumps(document).encode()) for document in malformed]
        messages += [(topic, b"not json"), (topic, b"[" * 100_000), (topic, b" " * 60_000)]  # huge
        messages += [(device_topic("site-b", "cam-01", ERASURE), json.dumps(good).encode())]  # not its site
        device.publish_all(messages)
        wait_until(lambda: counts(engine)[2] == len(messages), 30, "every request quarantined")
        assert counts(engine)[0] == 1 and erasure_events(engine) == []
        with engine.connect() as connection:
            reasons = connection.execute(select(quarantine.c.reason).order_by(quarantine.c.id)).scalars().all()
        assert reasons[0] == "invalid erasure: erasure: field 'patient' is not allowed"
        assert reasons[5] == "the erasure says device cam-02, the topic cam-01: a device erases its own only"
        assert reasons[-1] == "device cam-01 is not enrolled at site-b: its erasure is not carried out"
        assert all(reason.startswith("invalid erasure: ") for reason in reasons[:5] + reasons[6:-1])
        device.publish_all([(topic, json.dumps(good).encode())])  # the ingester goes on
        wait_until(lambda: counts(engine)[0] == 0, 30, "a valid request carried out after them")


def test_an_erasure_from_a_device_not_enrolled_yet_keeps_its_waiting_results_from_its_enrolment(
    tmp_path, engine: Engine
) -> None:
    """A device syncs before its enrolment (its results wait in quarantine, the device counts them
    delivered), then a patient is erased on it: the request is the only one it sends, so the patient's
    results must neither stay in the quarantine nor come into the worklist at the enrolment."""
    with running_station(tmp_path, engine) as running:
        ingester = running.start_ingester()
        device = Publisher(running.broker.port)
        running.at_the_end(device.close)
        erased, erased_payload = result_bytes("cam-09", "site-a")
        kept, kept_payload = result_bytes("cam-09", "site-a")
        device.publish_all([(result_topic("site-a", "cam-09"), payload) for payload in (erased_payload, kept_payload)])
        wait_until(lambda: counts(engine)[2] == 2, 30, "both results waiting for the enrolment")
        [request] = erasure_documents("cam-09", [erased])
        device.publish_all([(device_topic("site-a", "cam-09", ERASURE), request)])
        wait_until(lambda: ingester.ingester.totals.erasures == 1, 30, "the erasure carried out")
        assert counts(engine) == (0, 0, 1)  # the erased result's copy left the quarantine with it
        assert erasure_events(engine) == [{"results": [erased], "by": "device cam-09"}]
        # A late copy of it (a redelivery) arrives before the enrolment.
        device.publish_all([(result_topic("site-a", "cam-09"), erased_payload)])
        wait_until(lambda: ingester.ingester.totals.erased_before == 1, 30, "the late copy refused")
        assert counts(engine) == (0, 0, 1)

        devices.enrol(engine, "cam-09", "site-a", by="test")
        with engine.connect() as connection:
            stored = connection.execute(select(results.c.result_id)).scalars().all()
        assert stored == [kept]
        assert counts(engine) == (1, 1, 0)


def test_a_retired_devices_erasure_leaves_its_stored_results_for_the_administrator(tmp_path, engine: Engine) -> None:
    """A retired device may have been stolen with its key: its request erases none of the results it
    filed while enrolled (quarantined, naming them for the administrator's ``results erase``)."""
    with running_station(tmp_path, engine) as running:
        [stored] = add_results(engine, "cam-01", "site-a", [0.9])
        devices.retire(engine, "cam-01", by="test")
        running.start_ingester()
        device = Publisher(running.broker.port)
        running.at_the_end(device.close)
        [request] = erasure_documents("cam-01", [stored])
        device.publish_all([(device_topic("site-a", "cam-01", ERASURE), request)])
        wait_until(lambda: counts(engine)[2] == 1, 30, "the request quarantined")
        assert counts(engine)[0] == 1 and erasure_events(engine) == []
        with engine.connect() as connection:
            reason = connection.execute(select(quarantine.c.reason)).scalar_one()
        assert reason == f"device cam-01 is not enrolled (or is retired): the results here it names stay: {stored}"


def test_an_erasure_removes_the_copies_quarantined_for_another_reason_its_device_sent(tmp_path, engine: Engine) -> None:
    """An enrolled device's result, also held in quarantine for another reason (a copy on another site's
    topic): the patient's erasure takes the copy with the result, and a copy arriving after it is not
    quarantined either. A copy another device filed stays for the device's request, not for the
    administrator's, which takes every copy the station holds."""
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, "cam-01", "site-a", by="test")
        ingester = running.start_ingester()
        device = Publisher(running.broker.port)
        running.at_the_end(device.close)
        erased, payload = result_bytes("cam-01", "site-a")
        elsewhere = result_topic("site-b", "cam-01")  # cam-01 is enrolled at site-a: quarantined
        device.publish_all([(result_topic("site-a", "cam-01"), payload), (elsewhere, payload)])
        device.publish_all([(result_topic("site-a", "cam-02"), payload)])  # cam-02 filing cam-01's result
        wait_until(lambda: counts(engine) == (1, 1, 2), 30, "the result stored, its two copies quarantined")
        [request] = erasure_documents("cam-01", [erased])
        device.publish_all([(device_topic("site-a", "cam-01", ERASURE), request)])
        wait_until(lambda: counts(engine)[0] == 0, 30, "the erasure carried out")
        with engine.connect() as connection:
            left = connection.execute(select(quarantine.c.topic, quarantine.c.result_id)).all()
        assert left == [(result_topic("site-a", "cam-02"), erased)]
        assert erasure_events(engine) == [{"results": [erased], "by": "device cam-01"}]

        device.publish_all([(elsewhere, payload)])  # the wrong-site copy again, after the erasure
        wait_until(lambda: ingester.ingester.totals.erased_before == 1, 30, "the late copy refused")
        assert counts(engine) == (0, 0, 1)

        done = erase_results(engine, [erased], "cli")
        assert done.already == [erased] and counts(engine) == (0, 0, 0)


def test_a_reader_whose_result_its_device_erased_meanwhile_is_told_it_was_erased_not_that_none_exists(
    engine: Engine,
) -> None:
    """The result was open in the reader's tab, a read half written, when its patient's erasure reached
    the station: "No such result" on recording the read sent them looking for a mistyped id. A reader of
    another site still learns nothing of it."""
    [result_id] = add_results(engine, DEVICE.id, DEVICE.site, [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    form = {"verdict": "refer", "urgency": "soon", "csrf": csrf_of(client, f"/results/{result_id}")}
    with engine.begin() as connection:
        erase_for_device(connection, ErasureRequest(DEVICE.id, (result_id,)))
    recorded = client.post(f"/results/{result_id}/reads", data=form)
    assert recorded.status_code == 410 and str(escape(say("error.erased_result", "en"))) in recorded.text
    client.cookies.set(LANGUAGE_COOKIE, "fr")
    shown = client.get(f"/results/{result_id}")
    assert shown.status_code == 410 and str(escape(say("error.erased_result", "fr"))) in shown.text
    elsewhere = signed_in_client(engine, station(), "bo", "reviewer", sites=frozenset({"another-site"}))
    shown = elsewhere.get(f"/results/{result_id}")
    assert shown.status_code == 404 and "No such result." in shown.text


FUNDUS = ReadForm("refer", "urgent", "proliferative", "present")


@pytest.mark.parametrize("then", ["answer", "result"])
def test_a_read_and_an_ingest_batch_erasing_a_result_then_touching_what_the_read_holds_both_commit(
    engine: Engine, then: str
) -> None:
    """A read holds what it changes (the result's tallies, an amendment the verdict's delivery too,
    superseded), then takes the audit's lock to audit itself. An ingest batch carrying the device's
    erasure of another result took the audit's lock for the erasure, then waited for what the read held:
    ``answer``, the device's answer to the amended verdict (``conflict``: sent again under a new id,
    ``resend_under_new_id``); ``result``, a new result counted in the tally the first read moves its
    result out of (``_copies_again``). PostgreSQL found the two waiting on each other and failed one (an
    error page for the reader, or the batch rolled back and received again)."""
    accounts.add_user(engine, "cleo", PASSWORD, "coordinator", by="test")
    _, cleo = accounts.sign_in(engine, "cleo", PASSWORD, station().web)
    read_id, erased_id = add_results(engine, "cam-01", "site-a", [0.9, 0.1])
    now = datetime.now(UTC)
    [erasure] = erasure_documents("cam-01", [erased_id])
    messages = [Incoming(device_topic("site-a", "cam-01", ERASURE), erasure, now)]
    amends = None
    if then == "answer":
        record_read(engine, read_id, cleo, FUNDUS, ())
        with engine.connect() as connection:
            amends, topic = connection.execute(
                select(deliveries.c.review_id, deliveries.c.topic).where(deliveries.c.result_id == read_id)
            ).one()
        messages.append(Incoming(f"{topic}_ack", encode_review_ack(amends, read_id, "conflict"), now))
    else:
        messages.append(Incoming(result_topic("site-a", "cam-01"), result_bytes("cam-01", "site-a", score=0.9)[1], now))
    failed: list[Exception] = []

    def ingest() -> None:
        try:
            with engine.begin() as connection:
                store_batch(connection, messages, {"cam-01": "site-a"})
        except Exception as error:
            failed.append(error)

    batch = threading.Thread(target=ingest)

    def batch_while_reading(connection, cursor, statement: str, *_: object) -> None:
        # The read holds what it changes, and has not audited itself yet: the batch waits for it, or
        # needs nothing it holds and commits.
        if statement.startswith("INSERT INTO deliveries") and threading.current_thread() is threading.main_thread():
            batch.start()
            wait_until(lambda: not batch.is_alive() or waiting_on_a_lock(engine), 10, "the batch waiting, or done")

    event.listen(engine, "before_cursor_execute", batch_while_reading)
    try:
        record_read(engine, read_id, cleo, FUNDUS, (), amends=amends)
    except Exception as error:
        failed.append(error)
    finally:
        event.remove(engine, "before_cursor_execute", batch_while_reading)
    batch.join(30)
    assert not failed and not batch.is_alive(), failed
    assert counts(engine)[0] == (1 if then == "answer" else 2)  # the erasure was carried out
