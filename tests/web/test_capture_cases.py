"""Capture in the browser beyond the fundus flow: dermoscopy, two tabs and one camera, a camera that
is lost and retried, and a full disk that refuses the screening before the photo."""

from __future__ import annotations

import sqlite3

from tests.web.conftest import DERMOSCOPY_SAMPLE, new_patient, shoot, sign_in, snap, start_app


def test_dermoscopy_patient_gets_the_lesion_measurements_and_the_disclaimer(page, app):
    app.show(DERMOSCOPY_SAMPLE)
    sign_in(page, app)
    new_patient(page, app, "D-100", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    assert page.locator("h1.slot").inner_text() == "Trunk"
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-lesion]").get_attribute("data-outcome") in ("refer", "no_refer")
    assert "sensitivity" in page.locator("[data-test=performance]").inner_text()
    lesion = page.locator("[data-test=lesion]").inner_text()
    assert "no scale calibration" in lesion and "Skin tone" in lesion
    assert page.locator("[data-test=patient-outcome]").count() == 0  # one lesion: its triage is the outcome
    snap(page, "result-dermoscopy")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT modality, body_site FROM screening").fetchall() == [("dermoscopy", "trunk")]


def test_a_second_tab_is_told_the_camera_is_in_use_and_gets_it_once_the_first_closes(page, app):
    sign_in(page, app)
    new_patient(page, app, "T-2")
    page.wait_for_selector("#guidance[data-seq]")
    second = page.context.new_page()
    second.set_viewport_size({"width": 800, "height": 480})
    response = second.goto(f"{app.url}/capture")
    assert response.status == 409
    assert "in use on another screen" in second.locator("[data-test=message]").inner_text()
    snap(second, "camera-in-use")
    page.goto(f"{app.url}/today")  # the first screen leaves: its lease is released on the way out
    second.get_by_role("link", name="Try again").click()
    second.wait_for_selector("#guidance[data-seq]", timeout=15_000)
    second.close()


def test_a_lost_camera_shows_a_banner_with_retry(page, app, retina_jpeg):
    app.show()  # no photos: the files camera cannot open
    sign_in(page, app)
    new_patient(page, app, "C-3")
    banner = page.locator("[data-test=camera-banner]")
    banner.wait_for(timeout=15_000)
    assert "Retry" in banner.inner_text()
    assert "stopped answering" in page.locator("#guidance").inner_text()
    snap(page, "camera-lost")
    app.show(retina_jpeg)
    banner.get_by_role("button").click()
    page.goto(f"{app.url}/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=15_000)
    assert page.locator("[data-test=camera-banner]").count() == 0


def test_a_full_disk_refuses_the_screening_before_the_photo(page, tmp_path, retina_jpeg):
    running = start_app(tmp_path, reserve_mb=1_000_000)
    app = next(running)
    app.show(retina_jpeg)
    try:
        sign_in(page, app)
        page.wait_for_url("**/ready")
        assert page.locator("[data-test=check-disk]").get_attribute("data-level") == "red"
        assert page.locator("[data-test=blocked]").is_visible()
        assert page.get_by_text("Start screening").count() == 0
        snap(page, "ready-disk-full")
        new_patient(page, app, "F-1")
        assert page.locator("[data-test=check-disk]").get_attribute("data-level") == "red"
        assert page.locator("#preview").count() == 0  # no camera, no photo
        with sqlite3.connect(app.directory / "records.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0
    finally:
        next(running, None)
