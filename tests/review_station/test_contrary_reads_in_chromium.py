"""A coordinator finds a refused contrary read in Debian's Chromium: the worklist's filter (swapped in
by htmx) leaves the flagged result with its badge, the result page shows the refused read, and
confirming the read that stands takes the badge away."""

from __future__ import annotations

from playwright.sync_api import Playwright
from sqlalchemy import Engine

from review_station import accounts
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_contrary_reads import ROUTINE, URGENT, race
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.web_kit import PASSWORD, station


def test_a_coordinator_filters_to_the_refused_contrary_read_and_confirms_the_read_that_stands(
    engine: Engine, playwright: Playwright
) -> None:
    raced, other = race(engine, ROUTINE, URGENT, comment="new vessels on the disc")
    accounts.add_user(engine, "cleo", PASSWORD, "coordinator", by="test")
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base, "cleo")
        page.wait_for_selector("tr[data-result]")
        badge, unflagged = (page.locator(f'tr[data-result="{row}"] .contrary') for row in (raced, other))
        assert badge.is_visible() and unflagged.count() == 0
        page.select_option("select[name=contrary]", "open")
        page.wait_for_url(f"{base}/?*contrary=open*")
        page.wait_for_function(f"() => !document.querySelector('tr[data-result=\"{other}\"]')")
        assert page.locator("tr[data-result]").count() == 1 and badge.is_visible()
        snap(page, "worklist-contrary")
        page.click(f'tr[data-result="{raced}"] a')
        refused = page.locator('[data-test="contrary-reads"]')
        assert "new vessels on the disc" in refused.inner_text() and "ben" in refused.inner_text()
        snap(page, "result-contrary")
        page.get_by_role("button", name="Confirm the read that stands").click()
        page.wait_for_selector('[data-contrary="confirmed"]')
        page.click("text=← Worklist")
        page.wait_for_selector("text=No result matches these filters.")  # still filtered: nothing left to settle
