"""A result's figures in Debian's Chromium: a row that details the one above it (a quality defect under
"Image quality", a measure under its defect) is set in under it, as the catalogue's leading spaces ask.
The page collapsed them: "defect" stood flush with "Image quality", a lower-case heading of its own, in
English and French. Screenshots go to ``EDGESCREEN_SCREENSHOTS``."""

from __future__ import annotations

from playwright.sync_api import Page, Playwright
from sqlalchemy import Engine

from review_station import accounts
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_not_photographed_in_chromium import REFUSED
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.web_kit import add_results, station

# The left of a figure's label: where its first letter is drawn, after any leading spaces.
LETTER_X = """(label) => {
  const text = label.firstChild, range = document.createRange();
  const first = text.textContent.search(/\\S/);
  range.setStart(text, first);
  range.setEnd(text, first + 1);
  return range.getBoundingClientRect().left;
}"""


def letter_x(page: Page, label: str) -> float:
    return page.locator("table.figures th").filter(has_text=label).first.evaluate(LETTER_X)


def test_a_defect_and_its_measure_are_set_in_under_the_image_quality(engine: Engine, playwright: Playwright) -> None:
    quality = {**REFUSED["quality"], "reasons": ["blurred"], "measures": {"sharpness": 12.5}}  # the device's codes
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], payload={**REFUSED, "quality": quality})
    accounts.add_user(engine, "ana", "a long enough secret", "reviewer", by="test")
    labels = {"en": ("Image quality", "defect"), "fr": ("Qualité d'image", "défaut")}
    with served(station(), engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        for language, (heading, detail) in labels.items():
            page.context.add_cookies([{"name": "review_language", "value": language, "url": base}])
            page.goto(f"{base}/results/{result_id}")
            assert letter_x(page, detail) > letter_x(page, heading) + 8, language
            assert letter_x(page, "sharpness" if language == "en" else "netteté") > letter_x(page, heading) + 8
            snap(page, f"figures-defect-{language}")
