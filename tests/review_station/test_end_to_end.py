"""End to end: a device records and syncs, the ingester stores, a reviewer reads in Chromium, the
device stores the verdict and acknowledges it, and the page shows ``stored``."""

from __future__ import annotations

import os
from pathlib import Path

import paho.mqtt.client as mqtt
from playwright.sync_api import Playwright, expect
from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V1, RESULT_V2, RESULT_V3
from edgescreen_wire.topics import REVIEW, STATUS, device_topic
from firmware_app.sync.review import parse_review
from review_station import accounts, devices
from review_station.storage.tables import deliveries, results
from tests.mqtt_broker import Tap, stop_network_loop, wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import counts, running_station
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station
from tests.sync.kit import BackgroundWorker
from tests.sync.test_worker import review

SCREENSHOTS = os.environ.get("EDGESCREEN_SCREENSHOTS")  # a folder to keep the pages' pictures in


def snap(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_device_to_specialist_and_back(tmp_path, engine: Engine, retina_rgb, playwright: Playwright) -> None:
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
        running.start_ingester()
        device_dir = tmp_path / "device"
        device_dir.mkdir()
        store = open_store(device_dir)
        photo = small_photo(retina_rgb)
        # The referral in edgescreen.result/3, which asks for the verdict's urgency and findings
        # (edgescreen.review/2); /1 and /2 results (devices configured before) stored beside it.
        refer = record_one(store, photo, sample_record(score=0.9), RESULT_V3)
        for score, schema in ((0.05, RESULT_V1), (0.1, RESULT_V2)):
            record_one(store, photo, sample_record(score=score), schema)
        worker = BackgroundWorker(write_config(device_dir, running.broker.port))
        running.at_the_end(worker.stop)
        wait_until(lambda: counts(engine)[0] == 3, 30, "the device's 3 results at the station")
        with engine.connect() as connection:
            stored = connection.execute(select(results.c.schema, results.c.operating_point)).all()
        assert sorted(stored, key=str) == sorted(
            [(RESULT_V3, "screening"), (RESULT_V1, None), (RESULT_V2, "screening")], key=str
        )

        with served(station(), engine) as base, chromium_page(playwright) as page:
            page.goto(f"{base}/")
            page.fill("input[name=username]", "ana")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=Worklist")
            page.select_option("select[name=triage]", "refer")
            expect(page.locator("tr[data-result]")).to_have_count(1)
            snap(page, "worklist")
            page.click(f'tr[data-result="{refer.result_id}"] a')
            page.wait_for_selector("text=Record the read")
            page.select_option("select[name=verdict]", "refer")
            page.select_option("select[name=icdr_grade]", "moderate")
            page.select_option("select[name=maculopathy]", "absent")
            page.select_option("select[name=urgency]", "soon")
            page.fill("textarea[name=comment]", "Refer to the eye clinic within 4 weeks.")
            page.click("text=Record the read")
            page.wait_for_selector('[data-delivery="stored"]', timeout=30_000)
            snap(page, "result-stored")
        reviews = store.view(refer.result_id)["reviews"]  # the comment is stored sealed
        stored = [(review["verdict"], review["reviewer"], review["comment"]) for review in reviews]
        assert stored == [("refer", "ana", "Refer to the eye clinic within 4 weeks.")]
        assert [(r["urgency"], r["icdr_grade"], r["maculopathy"]) for r in reviews] == [("soon", "moderate", "absent")]


def test_a_verdict_whose_review_id_the_device_holds_already_is_sent_again_under_a_new_id(
    tmp_path, engine: Engine, retina_rgb
) -> None:
    # The device answers "conflict" when the review id is taken there by another review: nothing is
    # stored, and the station must resend under a new id (edgescreen_wire/review.py).
    with running_station(tmp_path, engine) as running:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        device_dir = tmp_path / "device"
        device_dir.mkdir()
        store = open_store(device_dir)
        photo = small_photo(retina_rgb)
        taken_by, refer = record_one(store, photo), record_one(store, photo, sample_record(score=0.9))
        # The ingester first: results the worker publishes before its subscription exists go to nobody.
        ingester = running.start_ingester()
        worker = BackgroundWorker(write_config(device_dir, running.broker.port))
        running.at_the_end(worker.stop)
        wait_until(lambda: counts(engine)[0] == 2, 30, "the device's 2 results at the station")
        ingester.stop()  # the read is queued, not sent, until the device holds its id for another result
        client = signed_in_client(engine, station(), "ana", "reviewer")
        form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
        form["csrf"] = csrf_of(client, f"/results/{refer.result_id}")
        assert client.post(f"/results/{refer.result_id}/reads", data=form).status_code == 303
        with engine.connect() as connection:
            first_id = connection.execute(select(deliveries.c.review_id)).scalar_one()
        assert store.add_review(parse_review(review(taken_by.result_id, review_id=first_id))) == "stored"
        running.start_ingester()
        wait_until(
            lambda: 'data-delivery="stored"' in client.get(f"/results/{refer.result_id}/delivery").text,
            30,
            "the verdict stored on the device",
        )
        shown = client.get(f"/results/{refer.result_id}/delivery").text
        assert "the device has stored it" in shown and "hx-get" not in shown  # settled: polling stops
        [verdict] = store.view(refer.result_id)["reviews"]
        assert (verdict["verdict"], verdict["reviewer"]) == ("refer", "ana")
        with engine.connect() as connection:
            assert connection.execute(select(deliveries.c.review_id)).scalar_one() != first_id


def test_a_verdict_for_an_offline_device_is_not_sent_again_until_it_is_back(tmp_path, engine: Engine) -> None:
    """While a campaign device is away its copy waits in its persistent session at the broker: one
    copy, not one per ``review_retry_s`` (2 s here; 60 s by default, 1,440 copies a day).

    The retries it is spared are counted on another device's verdict, unacknowledged and never said
    offline: sent with it in the first round, and again at each retry since, in the same rounds."""
    with running_station(tmp_path, engine) as running:
        [result_id] = add_results(engine, DEVICE.id, DEVICE.site, [0.9])
        [other_id] = add_results(engine, "cam-02", DEVICE.site, [0.9])
        client = signed_in_client(engine, station(), "ana", "reviewer")
        for read in (result_id, other_id):
            form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
            form["csrf"] = csrf_of(client, f"/results/{read}")
            assert client.post(f"/results/{read}/reads", data=form).status_code == 303
        status = device_topic(DEVICE.site, DEVICE.id, STATUS)
        away, other = device_topic(DEVICE.site, DEVICE.id, REVIEW), device_topic(DEVICE.site, "cam-02", REVIEW)
        tap = Tap(running.broker.port, [away, other])
        running.at_the_end(tap.close)
        publish_retained(running.broker.port, status, b"offline")  # the device's last will, as it left
        running.start_ingester()
        wait_until(lambda: len(tap.on(away)) == 1, 30, "the verdict sent once")
        # The other verdict's third copy was sent in a round in which this one, first sent before the
        # other's first retry, was as long unacknowledged: a copy of it sent then would have come
        # before the other's fourth (one publisher, one subscriber: in the order sent).
        wait_until(lambda: len(tap.on(other)) >= 4, 30, "three retries of the other device's verdict")
        assert len(tap.on(away)) == 1
        publish_retained(running.broker.port, status, b"online")  # back, and still no acknowledgement
        wait_until(lambda: len(tap.on(away)) == 2, 30, "the verdict sent again once the device is back")


def publish_retained(port: int, topic: str, payload: bytes) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    stop_network_loop(client)
    client.disconnect()
