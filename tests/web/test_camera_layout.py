"""The camera screen at the device's 800x480, in each state it has while the nurse aims: the first
photo of an eye, an eye photographed again ("Keep the earlier photo" beside the way out), and the same
beside what the review station erased of the visit, each with the longest guidance of the screen's
language. The picture is what a fundus camera or a dermatoscope is aimed by: under the notice and the
way back it shrank to 171 px; and the automatic shutter's box, as wide as the shutter above it and
framed like a button ("Take it once…" over "Take photo"), read as a second shutter."""

from __future__ import annotations

import pytest

from firmware_app.messages import CATALOGUE, message
from tests.web.conftest import (
    SCREEN,
    RunningApp,
    cannot_photograph,
    every_line_shown,
    first_eye_screened,
    longest_guidance_shown,
    new_patient,
    shoot,
    sign_in,
    snap,
    switch_to,
    unscrolled,
)
from tests.web.test_back_button import dermatoscope  # noqa: F401 (a fixture)
from tests.web.test_result_erased_by_the_station import erased_by_the_station

# The picture's least height: 60% of the screen's, 288 px of 480 (it is 300 with nothing to shrink it).
PICTURE_SHARE = 0.6

# What the nurse sees and taps on the camera screen: each must stand clear of all the others.
PARTS = (
    "#preview",
    "h1.slot",
    "[data-test=erased-note]",
    "#guidance",
    "label.choice",
    "[data-test=shutter]",
    "[data-test=not-photographed]",
    "[data-test=lesion-way-out]",
    "[data-test=keep-earlier]",
    "#working",
)

# Each visible control of the screen: its box and whether it is filled (light words on a dark ground).
CONTROLS = """() => [...document.querySelectorAll("main :is(button, a.button, label.choice)")]
  .filter((e) => e.getBoundingClientRect().height > 0).map((e) => {
    const box = e.getBoundingClientRect();
    const channels = getComputedStyle(e).color.match(/[\\d.]+/g).map(Number);
    return {test: e.dataset.test || e.className, area: box.width * box.height, button: !e.matches("label"),
            filled: channels.slice(0, 3).every((c) => c > 200), framed: getComputedStyle(e).borderTopWidth !== "0px"};
  })"""


def boxes(page) -> dict[str, dict[str, float]]:
    """Each part of ``PARTS`` on the screen, by its selector: its box as the browser draws it."""
    shown = {}
    for selector in PARTS:
        for index, element in enumerate(page.locator(selector).all()):
            box = element.bounding_box()
            if box and box["height"] > 0:
                shown[f"{selector}#{index}"] = box
    return shown


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two boxes share any area (touching edges do not count)."""
    return (
        min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 0.5
        and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 0.5
    )


def laid_out_for_aiming(page, name: str) -> None:
    """The state on the screen, with the longest guidance put in: the picture at its least height, no
    part over another or off the screen, every line of the guidance and the notice read, one primary
    button (the shutter, the one filled, the largest button by a quarter at least; the tick box beside it
    with no frame)."""
    longest_guidance_shown(page)
    language = page.locator("html").get_attribute("lang")
    said = {message(key, language) for key in CATALOGUE if key.startswith("quality.")}
    assert set(page.locator("#guidance > div").all_inner_texts()) <= said  # the screen's own language
    snap(page, name)
    shown = boxes(page)
    assert shown["#preview#0"]["height"] >= PICTURE_SHARE * SCREEN["height"], shown["#preview#0"]
    names = list(shown)
    assert [(a, b) for i, a in enumerate(names) for b in names[i + 1 :] if overlap(shown[a], shown[b])] == []
    for box in shown.values():
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["width"] <= SCREEN["width"] and box["y"] + box["height"] <= SCREEN["height"], box
    assert unscrolled(page) and every_line_shown(page.locator("#guidance"))
    assert all(every_line_shown(note) for note in page.locator("[data-test=erased-note]").all())
    controls = page.evaluate(CONTROLS)
    assert [control["test"] for control in controls if control["filled"]] == ["shutter"]
    shutter = next(control["area"] for control in controls if control["test"] == "shutter")
    others = [control for control in controls if control["test"] != "shutter"]
    assert all(shutter >= 1.25 * control["area"] for control in others if control["button"]), controls
    assert not any(control["framed"] for control in others if not control["button"]), controls


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_picture_stays_large_and_clear_of_the_rest_in_every_state(page, app, language):
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, f"CAM-{language.upper()}")
    page.locator("[data-test=retake-slot]").click()  # the right eye again: its earlier photo to keep
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    laid_out_for_aiming(page, "camera-keep")
    page.locator("[data-test=keep-earlier]").click()
    page.wait_for_url("**/result")

    page.locator("[data-test=next-slot]").click()  # the left eye's first photo
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    laid_out_for_aiming(page, "camera-first")

    cannot_photograph(page)  # the left eye photographed after all, beside the right eye's erased result
    erased_by_the_station(app, "R")
    page.reload()
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    assert page.locator("[data-test=erased-note]").count() == 1
    assert page.locator("[data-test=keep-earlier]").count() == 1
    laid_out_for_aiming(page, "camera-keep-and-notice")
    page.locator("#working").evaluate("(working) => { working.hidden = false; }")  # as the shutter shows it
    laid_out_for_aiming(page, "camera-working")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_lesions_picture_stays_large_and_clear_of_the_rest(page, dermatoscope: RunningApp, language):  # noqa: F811
    """The dermatoscope's camera: its own way out ("Cannot photograph this lesion"), then the lesion
    photographed again, "Keep the earlier photo" beside it."""
    sign_in(page, dermatoscope)
    switch_to(page, language)
    new_patient(page, dermatoscope, f"LES-{language.upper()}", "dermoscopy", "trunk")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    laid_out_for_aiming(page, "camera-lesion-first")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    laid_out_for_aiming(page, "camera-lesion-keep")
