"""The station's pages as a reader uses them, in Debian's Chromium: signing in, working through the
worklist result by result, by keyboard, and at phone width as well as on a desk."""

from __future__ import annotations

from sqlalchemy import Engine

from review_station import accounts
from tests.review_station.browser import chromium_page, served
from tests.review_station.web_kit import PASSWORD, station


def sign_in_on(page, base: str, username: str = "ana", password: str = PASSWORD) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_signing_in_ends_on_a_page_to_get_so_a_reload_never_resends_the_password(engine: Engine) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page() as page:
        stale = page.context.new_page()
        stale.goto(f"{base}/sign-in")
        sign_in_on(page, base, password="not the password")  # this sign-in page replaces the other's token
        assert page.url == f"{base}/sign-in?failed=1"
        stale.fill("input[name=username]", "ana")
        stale.fill("input[name=password]", PASSWORD)
        stale.click("button[type=submit]")
        assert stale.url == f"{base}/sign-in?stale=1" and "had expired" in stale.inner_text("main")
        requests = []
        stale.on("request", lambda request: requests.append(request.method))
        stale.reload()
        assert requests[0] == "GET"
        sign_in_on(page, base)
        assert page.url == f"{base}/" and "Worklist" in page.inner_text("h1")
