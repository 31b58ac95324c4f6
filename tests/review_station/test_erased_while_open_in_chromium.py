"""A result erased (its patient's erasure, from its device) while a reader has its page open, in Debian's
Chromium: the page's delivery poll is told once, says so, and stops."""

from __future__ import annotations

from playwright.sync_api import Playwright, Request
from sqlalchemy import Engine

from edgescreen_wire.erasure import ErasureRequest
from review_station import accounts
from review_station.erasure import erase_for_device
from review_station.verdicts import ReadForm, record_read
from review_station.web.app import LANGUAGE_COOKIE
from review_station.words import say
from tests.review_station.browser import chromium_page, served
from tests.review_station.web_kit import PASSWORD, add_results, station

# Seconds the page is left open once told: its poll asks every second, so a poll still running asks again.
LEFT_OPEN_S = 3


def test_a_page_whose_result_is_erased_while_open_says_so_once_and_stops_polling_its_delivery(
    engine: Engine, playwright: Playwright
) -> None:
    """The poll got 410 (the erased result's message page), which htmx swaps nowhere: the page went on
    showing "pending" and asking every second until the reader left it. Said in the page's language."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    config = station()
    _, reader = accounts.sign_in(engine, "ana", PASSWORD, config.web)
    record_read(engine, result_id, reader, ReadForm("refer", "soon"), config.review.second_read_sites)
    polls: list[Request] = []
    with served(config, engine) as base, chromium_page(playwright) as page:
        page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "fr", "url": base}])
        page.goto(f"{base}/sign-in?back=/results/{result_id}")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_selector("[data-delivery=pending]")  # the page polls its delivery every second
        page.on("request", lambda request: polls.append(request) if "/delivery" in request.url else None)
        told_erased = page.expect_response(lambda answer: "/delivery" in answer.url and answer.status != 204)
        with told_erased, engine.begin() as connection:
            erase_for_device(connection, ErasureRequest("cam-01", (result_id,)))
        told = len(polls)
        page.wait_for_timeout(LEFT_OPEN_S * 1000)
        assert len(polls) == told
        shown = page.inner_text("[data-test=delivery-status]")
        assert say("error.erased_result", "fr") in shown and "en attente" not in shown
