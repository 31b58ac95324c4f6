"""A request far larger than any form of the station, refused before it is read: Starlette read a form
whole (up to a thousand fields of 1 MB) before the sign-in's CSRF check refused it, so anyone who
reached the sign-in page made the station hold as much as they sent."""

from __future__ import annotations

import tracemalloc

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import Engine

from review_station.web.words import say
from tests.review_station.browser import served
from tests.review_station.web_kit import station
from tests.web.test_security import form_of

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_form_is_refused_before_it_is_read_in_the_readers_language(engine: Engine, declared: bool) -> None:
    headers = FORM | ({"content-length": str(sum(len(piece) for piece in form_of(50)))} if declared else {})
    with served(station(), engine) as base:
        tracemalloc.start()  # the station runs in this process: what it holds is counted here
        try:
            response = httpx.post(f"{base}/sign-in", content=form_of(50), headers=headers, timeout=60)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 413
        assert str(escape(say("error.form_too_large", "en"))) in response.text
        assert peak < 16 * 2**20  # the page, not the body: before, 303 "stale form" after holding all 50 MB
        french = httpx.post(
            f"{base}/sign-in", content=form_of(1), headers=FORM, cookies={"review_language": "fr"}, timeout=60
        )
        assert french.status_code == 413 and str(escape(say("error.form_too_large", "fr"))) in french.text
