"""Untrusted text on the station's pages, in Debian's Chromium: a topic or a stored comment with a
right-to-left override reorders none of the station's own text (the words are measured where they are
drawn); and the verdict's delivery state is a live region whose content changes only when the delivery does."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Playwright
from sqlalchemy import Engine, update

from review_station import accounts, devices
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import deliveries, reads
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import result_bytes
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.web_kit import PASSWORD, add_results, station

# Where a word is drawn: the line (its top) and left edge of its first occurrence in the element's text.
DRAWN_AT = """([selector, word]) => {
  const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.textContent.indexOf(word);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    const box = range.getClientRects()[0];  // where the word starts, should it wrap
    return [Math.round(box.top), box.left];
  }
  return null;
}"""


def in_reading_order(page, selector: str, *words: str) -> bool:
    """Whether ``words`` are drawn in this order, line by line and left to right on a line (an override
    would reverse them)."""
    places = [page.evaluate(DRAWN_AT, [selector, word]) for word in words]
    return None not in places and places == sorted(places)


def test_an_override_in_a_topic_leaves_the_quarantine_reason_in_order(engine: Engine, playwright: Playwright) -> None:
    devices.enrol(engine, "cam-a1", "site-a", by="test")
    _, payload = result_bytes("cam-a1", "site-a")
    with engine.begin() as connection:
        topic = "edgescreen/v1/\u202esite-a/cam-a1/result"
        store_batch(connection, [Incoming(topic, payload, datetime.now(UTC))], devices.active_sites(connection))
    accounts.add_user(engine, "root", PASSWORD, "admin", by="test")
    with served(station(), engine) as base, chromium_page(playwright, width=1200, height=800) as page:
        sign_in_on(page, base, "root")
        page.goto(f"{base}/quarantine")
        reason = page.locator("#refused [data-test=reason]")
        assert "[U+202E]site-a/cam-a1: a device may only file its own results" in reason.inner_text()
        assert reason.evaluate("e => e.tagName") == "BDI"
        assert in_reading_order(page, "#refused [data-test=reason]", "payload", "topic", "device", "results")
        assert in_reading_order(page, "#refused [data-test=topic]", "edgescreen", "site-a", "cam-a1", "result")
        snap(page, "quarantine-override-1200")


def read_referable(page, result_url: str, comment: str = "") -> None:
    """Record a moderate, referable read on a result's page, with ``comment`` when given."""
    page.goto(result_url)
    page.select_option("select[name=icdr_grade]", "moderate")
    page.select_option("select[name=maculopathy]", "absent")
    page.select_option("select[name=verdict]", "refer")
    if comment:
        page.fill("textarea[name=comment]", comment)
    page.click("text=Record the read")


def test_a_comment_with_an_override_is_refused_and_one_stored_before_reads_in_order(
    engine: Engine, playwright: Playwright
) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright, width=1200, height=800) as page:
        sign_in_on(page, base)
        read_referable(page, f"{base}/results/{result_id}", "Refer \u202eevig ton od")
        alert = page.locator("[role=alert]")
        assert "U+202E, character 7" in alert.inner_text()  # refused, the comment kept to correct
        assert page.input_value("textarea[name=comment]") == "Refer \u202eevig ton od"
        snap(page, "result-override-refused-1200")
        page.fill("textarea[name=comment]", "Refer")
        page.click("text=Record the read")
        page.wait_for_selector("[data-test=comment]")
        # A comment stored before the read form refused overrides: its override shown as a code.
        with engine.begin() as connection:
            connection.execute(update(reads).values(comment="Refer \u202eevig ton od"))
        page.reload()
        comment = page.locator("[data-test=comment]")
        assert comment.inner_text() == "Refer [U+202E]evig ton od"
        assert in_reading_order(page, "tr.comment", "Comment:", "Refer", "evig", "od")
        snap(page, "result-override-stored-1200")


# Counts the delivery paragraphs put into the live region: htmx puts a new one there on every swap.
COUNT_SWAPS = """e => {
  window.deliverySwaps = 0;
  new MutationObserver(records => {
    for (const record of records)
      window.deliverySwaps += [...record.addedNodes].filter(node => node.id === "delivery").length;
  }).observe(e, {childList: true, subtree: true});
}"""


def test_the_delivery_live_region_changes_only_when_the_delivery_does(engine: Engine, playwright: Playwright) -> None:
    """The region is the stable container, and a poll that finds the delivery as the page shows it
    (204) leaves its content alone: a screen reader announces the state when it changes, not on every
    poll."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        page.select_option("select[name=icdr_grade]", "moderate")
        page.select_option("select[name=maculopathy]", "absent")
        page.select_option("select[name=verdict]", "refer")
        page.click("text=Record the read")
        status = page.locator("[role=status]")
        assert status.get_attribute("aria-live") == "polite" and status.locator("#delivery").count() == 1
        assert "pending" in status.inner_text()
        status.evaluate("e => { e.dataset.kept = 'yes'; }")  # the very element, after the swaps
        status.evaluate(COUNT_SWAPS)
        polls: list[int] = []
        page.on("response", lambda response: polls.append(response.status) if "/delivery" in response.url else None)
        for _ in range(2):  # polls, each second: two, however long a loaded machine takes to make them
            page.wait_for_event("response", lambda response: "/delivery" in response.url, timeout=30_000)
        assert len(polls) >= 2 and page.evaluate("window.deliverySwaps") == 0
        assert set(polls) == {204}
        snap(page, "result-delivery-pending-800")
        with engine.begin() as connection:
            connection.execute(update(deliveries).values(state="stored"))
        page.wait_for_selector("[data-delivery=stored]")
        page.wait_for_timeout(2500)  # a stored verdict is final: no more polls, no more swaps
        assert page.evaluate("window.deliverySwaps") == 1
        assert status.get_attribute("data-kept") == "yes" and "the device has stored it" in status.inner_text()
        snap(page, "result-delivery-stored-800")


def test_a_comment_of_one_long_word_wraps_in_its_row_and_leaves_the_page_its_width(
    engine: Engine, playwright: Playwright
) -> None:
    """A comment is the reader's own text: a link pasted in it (no space for a line to break at) wraps
    inside its row, shown whole, rather than push the result page sideways off a laptop's screen."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    link = "https://eye-clinic.example/referrals/guidance?" + "&".join(f"criterion{n}=moderate" for n in range(12))
    with served(station(), engine) as base, chromium_page(playwright, width=1024, height=600) as page:
        sign_in_on(page, base)
        read_referable(page, f"{base}/results/{result_id}", f"See {link}")
        page.wait_for_selector("[data-test=comment]")
        assert page.inner_text("[data-test=comment]") == f"See {link}"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1024
        snap(page, "result-long-comment-1024")
