"""The worklist on the 800x480 screen, in Debian's Chromium: the modality and the eye or body site share
a column, the one above the other, so the date keeps to one line (in French it wrapped on three); on a
desk they keep a column each. Screenshots go to ``EDGESCREEN_SCREENSHOTS``."""

from __future__ import annotations

from playwright.sync_api import Page, Playwright
from sqlalchemy import Engine

from review_station import accounts
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_french_in_chromium import SIZES, fits
from tests.review_station.web_kit import PASSWORD, add_results, station

# The number of lines a cell's first text (the date) takes.
LINES = (
    "(cell) => { const range = document.createRange(); range.selectNodeContents(cell.firstChild);"
    " return range.getClientRects().length; }"
)


def placed(page: Page, selector: str) -> tuple[float, float, float]:
    """(left, top, bottom) of the first row's cell."""
    box = page.locator(f"table.worklist tbody tr:first-child {selector}").bounding_box()
    assert box is not None
    return box["x"], box["y"], box["y"] + box["height"]


def open_worklist(page: Page, base: str, language: str) -> None:
    """Ana's worklist in ``language``."""
    page.context.add_cookies([{"name": "review_language", "value": language, "url": base}])
    page.goto(f"{base}/sign-in")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.worklist tbody tr[data-result]")


def test_on_the_small_screen_the_eye_sits_under_the_modality_and_the_date_keeps_to_one_line(
    engine: Engine, playwright: Playwright
) -> None:
    add_results(engine, "cam-01", "site-a", [0.9], payload={"eye": "L"})
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base:
        for width, height in SIZES:
            for language in ("en", "fr"):
                with chromium_page(playwright, width=width, height=height) as page:
                    open_worklist(page, base, language)
                    row = page.locator("table.worklist tbody tr:first-child")
                    assert row.locator("td:nth-child(2)").evaluate(LINES) == 1, (width, language)
                    modality = placed(page, "td:nth-child(5)")
                    eye = placed(page, "[data-test=photographed]")
                    if width < 960:  # one column: the eye under the modality
                        assert eye[0] == modality[0] and eye[1] >= modality[2] - 1, (modality, eye)
                    else:  # a column each, on one line
                        assert eye[0] > modality[0] and eye[1] == modality[1], (modality, eye)
                    assert fits(page, width)
                    snap(page, f"worklist-narrow-{language}-{width}")


def test_the_arrival_note_beside_a_date_stays_inside_its_row(engine: Engine, playwright: Playwright) -> None:
    """A result dated by its arrival (the device's clock untrusted) says so beside its date: a word in
    the cell, not a paragraph's padded box spilling over the rows around it."""
    add_results(engine, "cam-01", "site-a", [0.9], payload={"eye": "L", "clock": "unsynchronised"})
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base:
        for width, height in SIZES:
            for language in ("en", "fr"):
                with chromium_page(playwright, width=width, height=height) as page:
                    open_worklist(page, base, language)
                    row = page.locator("table.worklist tbody tr:first-child").bounding_box()
                    note = page.locator("[data-test=dated-by-arrival]").bounding_box()
                    assert row is not None and note is not None
                    assert row["y"] <= note["y"] and note["y"] + note["height"] <= row["y"] + row["height"], (
                        width,
                        language,
                        row,
                        note,
                    )
