"""A request far larger than any form of the station, refused before it is read: Starlette read a form
whole (up to a thousand fields of 1 MB) before the sign-in's CSRF check refused it, so anyone who
reached the sign-in page made the station hold as much as they sent."""

from __future__ import annotations

import tracemalloc

import httpx2
import pytest
from markupsafe import escape
from playwright.sync_api import Playwright
from sqlalchemy import Engine

from review_station.words import say
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.web_kit import station
from tests.web.test_security import form_of

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_form_is_refused_before_it_is_read_in_the_readers_language(engine: Engine, declared: bool) -> None:
    headers = FORM | ({"content-length": str(sum(len(piece) for piece in form_of(50)))} if declared else {})
    with served(station(), engine) as base:
        tracemalloc.start()  # the station runs in this process: what it holds is counted here
        try:
            response = httpx2.post(f"{base}/sign-in", content=form_of(50), headers=headers, timeout=60)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 413
        assert str(escape(say("error.form_too_large", "en"))) in response.text
        assert peak < 16 * 2**20  # the page, not the body: before, 303 "stale form" after holding all 50 MB
        french = httpx2.post(
            f"{base}/sign-in", content=form_of(1), headers=FORM, cookies={"review_language": "fr"}, timeout=60
        )
        assert french.status_code == 413 and str(escape(say("error.form_too_large", "fr"))) in french.text


# The refusal's page, as Chromium shows it to a reader: a sentence, begun with a capital and ended with a
# full stop, as the device's (``app.form_too_large``) is; it began lower-case, a fragment on its own page.
SAID = {
    "en": "This request was far larger than any form of this station: nothing was done.",
    "fr": "Cette requête était bien plus grande que tout formulaire de cette station\u00a0: rien n'a été fait.",
}


def test_a_huge_form_sent_from_chromium_is_refused_in_a_sentence(engine: Engine, playwright: Playwright) -> None:
    with served(station(), engine) as base, chromium_page(playwright, width=800, height=480) as page:
        for language, said in SAID.items():
            page.context.add_cookies([{"name": "review_language", "value": language, "url": base}])
            page.goto(f"{base}/sign-in")
            # A field of 128 KB on the sign-in form: twice what the station reads of any request.
            page.eval_on_selector(
                "form",
                "(form) => form.append(Object.assign(document.createElement('input'),"
                " {type: 'hidden', name: 'huge', value: 'a'.repeat(131072)}))",
            )
            with page.expect_navigation():
                page.fill("input[name=username]", "ana")
                page.fill("input[name=password]", "whatever")
                page.click("button[type=submit]")
            assert page.inner_text("p.error") == said
            snap(page, f"form-too-large-{language}")
