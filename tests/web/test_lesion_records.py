"""A patient's lesions on the hand-out and the records screen: two lesions of one body site (the body
picture's regions are coarse) are told apart by their photos, as the specialist a lesion is referred
to, and a verdict calling the patient back for one of them, need."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import write_rgb
from tests.lesion_renderer import render_lesion
from tests.web.conftest import (
    RunningApp,
    new_patient,
    on_screen,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
    unscrolled,
)

DARK_BROWN, PALE_BROWN = (70, 40, 30), (170, 120, 95)


@pytest.fixture()
def dermatoscope(tmp_path: Path) -> Iterator[RunningApp]:
    running = start_app(tmp_path, sections={"device": 'modality = "dermoscopy"\n'})
    app = next(running)
    yield app
    next(running, None)


def shown_pixels(page, photo: str = "record-photo") -> np.ndarray:
    """The photo ``data-test=photo`` as the page holds it (a data URI), decoded to RGB."""
    source = page.locator(f"[data-test={photo}]").get_attribute("src")
    assert source.startswith("data:image/jpeg;base64,")  # in the page: no address, nothing cached
    data = np.frombuffer(base64.b64decode(source.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_two_lesions_of_one_site_are_told_apart_by_their_photos_on_hand_out_and_record(page, dermatoscope, tmp_path):
    app = dermatoscope
    lesions = {
        "dark": write_rgb(tmp_path / "dark.png", render_lesion(seed=2, radius=0.15, pigment=DARK_BROWN).rgb),
        "pale": write_rgb(tmp_path / "pale.png", render_lesion(seed=5, radius=0.3, pigment=PALE_BROWN).rgb),
    }
    app.show(lesions["dark"])
    sign_in(page, app)
    for name, photo in lesions.items():  # one patient, two lesions on the trunk, one visit each
        app.show(photo)
        new_patient(page, app, "D-20", "dermoscopy", "trunk")
        page.wait_for_url("**/capture")
        shoot(page)
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
        page.locator("[data-test=handout]").click()  # the patient's page shows the lesion it is about
        assert_shows(shown_pixels(page, "handout-photo"), lesions, name)
        assert "The lesion this result is about" in page.locator("[data-test=handout]").inner_text()
        snap(page, f"handout-lesion-{name}")
        page.locator("[data-test=language]").click()
        assert "La lésion dont parle ce résultat" in page.locator("[data-test=handout]").inner_text()
        snap(page, f"handout-lesion-{name}")
        page.locator("[data-test=language]").click()
        page.goto(f"{app.url}/result")
        page.locator("[data-test=finish]").click()
        page.wait_for_url("**/patient")
    page.goto(f"{app.url}/records")
    page.locator("#reference").fill("D-20")
    page.locator("[data-test=find]").click()
    assert page.locator("[data-test=found]").inner_text() == "2 screenings found."
    for row in range(2):  # newest first
        if row:  # from the record opened, back to the list under the search
            page.locator("[data-test=see-list]").click()
        page.locator("form[action='/records/view'] button").nth(row).click()
        assert page.locator("[data-test=record-photo]").get_attribute("alt") == "Trunk"
        name = "pale" if row == 0 else "dark"
        assert_shows(shown_pixels(page), lesions, name)
    snap(page, "record-lesion-photo")
    page.locator("[data-test=language]").click()
    assert page.locator("[data-test=record-photo]").get_attribute("alt") == "Tronc"
    snap(page, "record-lesion-photo")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:  # as the retention purge leaves it
        db.execute("DELETE FROM image")
    page.reload()
    assert "n'est plus conservée" in page.locator("[data-test=record-photo-gone]").inner_text()
    page.locator("[data-test=language]").click()
    assert "no longer kept" in page.locator("[data-test=record-photo-gone]").inner_text()


def assert_shows(pixels: np.ndarray, lesions: dict[str, Path], name: str) -> None:
    """``pixels`` (at most 400 px wide) are lesion ``name``'s photo, far closer to it than to the other's."""
    height, width = pixels.shape[:2]
    assert width <= 400
    other = next(key for key in lesions if key != name)
    own, others = (
        cv2.resize(cv2.cvtColor(cv2.imread(str(lesions[key])), cv2.COLOR_BGR2RGB), (width, height))
        for key in (name, other)
    )
    assert np.abs(pixels.astype(int) - own).mean() < np.abs(pixels.astype(int) - others).mean() / 2, name


def test_another_lesion_of_the_patient_opens_at_the_body_picture_with_the_reference_kept(page, dermatoscope, tmp_path):
    """ "Another lesion" on a lesion's result: the patient form at its second step with the same
    reference, so a patient's lesions are never filed under a retyped (mistyped) reference; the next
    patient's form comes empty."""
    app = dermatoscope
    app.show(write_rgb(tmp_path / "naevus.png", render_lesion(seed=2, radius=0.15, pigment=DARK_BROWN).rgb))
    sign_in(page, app)
    new_patient(page, app, "D-40", "dermoscopy", "trunk")
    for language, label in (("en", "Another lesion"), ("fr", "Autre lésion")):
        page.wait_for_url("**/capture")
        shoot(page)
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
        switch_to(page, language)
        another = page.locator("[data-test=another-lesion]")
        assert another.inner_text() == label and on_screen(another) and unscrolled(page)
        snap(page, "result-another-lesion")
        another.click()
        page.wait_for_url("**/patient")
        # At the body picture, the reference kept: only where, and consent, to give.
        assert page.locator(".body-map").is_visible() and page.locator("#reference").input_value() == "D-40"
        snap(page, "another-lesion-form")
        if language == "en":
            page.locator('.body-map [data-value="upper_limb"]').first.click()
            page.locator("input[name=consent]").check()
            page.locator("[data-test=start]").click()
    page.goto(f"{app.url}/patient")  # not that patient's lesion: a new patient's form
    assert page.locator("#reference").input_value() == "" and not page.locator(".body-map").is_visible()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert sorted(db.execute("SELECT body_site FROM screening").fetchall()) == [("trunk",), ("upper_limb",)]
    page.goto(f"{app.url}/records")
    page.locator("#reference").fill("D-40")
    page.locator("[data-test=find]").click()
    assert page.locator("[data-test=found]").inner_text() == "2 dépistages trouvés."


def test_another_lesion_the_checks_refused_is_never_offered_to_a_later_patient(
    page, dermatoscope, tmp_path, monkeypatch
):
    """ "Another lesion" tapped as a check turned red (the camera's cable knocked): the checks sent her to
    "Ready to screen?" and the patient's reference stayed in the session, to open the next "New
    patient", maybe hours later, at the body picture where the reference is not shown: the next
    patient's lesion filed under this one. It is dropped once the form is refused."""
    monkeypatch.setattr("firmware_app.web.device.READINESS_FRESH_S", 0.0)  # each form load runs the checks
    app = dermatoscope
    lesion = write_rgb(tmp_path / "naevus.png", render_lesion(seed=2, radius=0.15, pigment=DARK_BROWN).rgb)
    app.show(lesion)
    sign_in(page, app)
    new_patient(page, app, "D-41", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    app.show()  # no photo: the camera check turns red
    page.locator("[data-test=another-lesion]").click()
    page.wait_for_url("**/ready")
    assert page.locator("[data-test=blocked]").is_visible()
    app.show(lesion)  # the camera back
    page.goto(f"{app.url}/ready")  # "Check again"
    assert page.locator("[data-test=blocked]").count() == 0
    page.goto(f"{app.url}/patient")  # a later patient
    for language in ("en", "fr"):
        switch_to(page, language)
        assert page.locator(".step-1").is_visible() and page.locator("#reference").input_value() == "", language
        snap(page, "patient-after-refused-another-lesion")


def test_new_patient_before_a_lesion_is_photographed_records_no_eye_and_today_still_opens(page, dermatoscope, tmp_path):
    """A skin visit left with no photo used: finishing it for a new patient records nothing of the
    lesion (it is no eye: Today's not-photographed rows are eyes, and the catalogue has no words for
    one named by the lesion's slot: Today would fail for the rest of the day)."""
    app = dermatoscope
    app.show(write_rgb(tmp_path / "dark.png", render_lesion(seed=2, radius=0.15, pigment=DARK_BROWN).rgb))
    sign_in(page, app)
    new_patient(page, app, "D-30", "dermoscopy", "trunk")
    page.wait_for_url("**/capture")
    page.goto(f"{app.url}/patient")
    leave = page.locator("[data-test=leave-visit]")
    assert "No photo of this lesion was used: nothing is recorded for it." in leave.inner_text()
    assert page.locator("[data-test=leave-eye]").count() == 0
    page.locator("[data-test=leave-start]").click()
    page.locator('[data-keypad="reference"]').wait_for()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM audit WHERE kind = 'visit'").fetchone()[0] == 0
    assert page.goto(f"{app.url}/today").status == 200
