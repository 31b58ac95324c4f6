"""End to end: a device records and syncs, the ingester stores, a reviewer reads in Chromium, the
device stores the verdict and acknowledges it, and the page shows ``stored``."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V1, RESULT_V2
from review_station import accounts, devices
from review_station.storage.tables import results
from tests.mqtt_broker import wait_until
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo, write_config
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import IngesterThread, counts, roomy_broker, station_config
from tests.review_station.web_kit import PASSWORD, station
from tests.sync.kit import BackgroundWorker

SCREENSHOTS = os.environ.get("EDGESCREEN_SCREENSHOTS")  # a folder to keep the pages' pictures in


def snap(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_device_to_specialist_and_back(tmp_path, engine: Engine, retina_rgb) -> None:
    broker = roomy_broker(tmp_path / "broker").start()
    ingester = worker = None
    try:
        devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
        accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
        ingester = IngesterThread(station_config(tmp_path / "station", engine, broker.port), engine)
        device_dir = tmp_path / "device"
        device_dir.mkdir()
        store = open_store(device_dir)
        photo = small_photo(retina_rgb)
        refer = record_one(store, photo, sample_record(score=0.9))
        # One result in edgescreen.result/2 (as once the device is configured for it): stored beside /1 ones.
        for score, schema in ((0.05, RESULT_V1), (0.1, RESULT_V2)):
            record_one(store, photo, sample_record(score=score), schema)
        worker = BackgroundWorker(write_config(device_dir, broker.port))
        wait_until(lambda: counts(engine)[0] == 3, 30, "the device's 3 results at the station")
        with engine.connect() as connection:
            stored = connection.execute(select(results.c.schema, results.c.operating_point)).all()
        assert sorted(stored, key=str) == sorted(
            [(RESULT_V1, None), (RESULT_V1, None), (RESULT_V2, "screening")], key=str
        )

        with served(station(), engine) as base, chromium_page() as page:
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
    finally:
        if worker:
            worker.stop()
        if ingester:
            ingester.stop()
        broker.stop()
