"""A result whose quality was never checked (sent with no quality: ``quality`` is null) had an empty
Quality cell on the worklist, as if the station had lost it: the cell says "not checked", in the result
page's words for it (``describe.not_checked``), in English and French."""

from __future__ import annotations

from playwright.sync_api import Playwright
from sqlalchemy import Engine

from review_station import accounts
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_french_in_chromium import fits
from tests.review_station.test_worklist_narrow_in_chromium import open_worklist
from tests.review_station.web_kit import PASSWORD, add_results, station

UNCHECKED = {"triage": "ungradable", "score": None, "threshold": None, "quality": None}
SAID = {"en": "not checked", "fr": "non vérifiée"}


def test_the_worklist_says_a_quality_never_checked_was_not_checked(engine: Engine, playwright: Playwright) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.5], payload=UNCHECKED)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base:
        for language, said in SAID.items():
            with chromium_page(playwright, width=800, height=480) as page:
                open_worklist(page, base, language)
                quality = page.locator(f"tr[data-result='{result_id}'] td").nth(6)  # the Quality column
                snap(page, f"worklist-quality-not-checked-{language}")
                assert quality.inner_text() == said and fits(page, 800)
                page.goto(f"{base}/results/{result_id}")  # the result page's word, which the cell reuses
                assert said in page.inner_text("table.figures")
