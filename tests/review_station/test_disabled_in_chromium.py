"""A reader whose account is disabled while they read, in Debian's Chromium: told, once, that the session
open in the browser ended, and never why (sign-in never says an account is disabled: someone else may
be at the desk)."""

from __future__ import annotations

import json

from playwright.sync_api import Playwright
from sqlalchemy import Engine, select, update

from review_station import accounts
from review_station.storage.tables import audit, users
from review_station.web.app import LANGUAGE_COOKIE
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_pages_in_chromium import sign_in_here, sign_in_on
from tests.review_station.web_kit import PASSWORD, SESSION_ENDED, add_results, station


def test_a_reader_whose_account_was_disabled_is_told_once_that_the_session_ended_and_re_enabled_signs_in_afresh(
    engine: Engine, playwright: Playwright
) -> None:
    """Before, disabling deleted the session, and the reader's next page was the sign-in page with
    nothing said. Now it says the session open in this browser ended, in the reader's language, then
    nothing more; signing in is refused as any refusal is, until the account is enabled again, when it
    signs in afresh and leads back to the page the reader was on. Each session's end is audited once."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    config = station()
    back = f"back=%2Fresults%2F{result_id}"
    with served(config, engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        for language in ("en", "fr"):
            page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": base}])
            page.goto(f"{base}/results/{result_id}")
            assert page.url == f"{base}/results/{result_id}"
            accounts.disable_user(engine, "ana", by="admin", settings=config.web)
            page.reload()
            assert page.url == f"{base}/sign-in?ended=1&{back}"
            assert page.inner_text("[role=alert]") == SESSION_ENDED[language]
            snap(page, f"sign-in-disabled-{language}")
            page.goto(f"{base}/results/{result_id}")
            assert page.url == f"{base}/sign-in?{back}" and page.locator("[role=alert]").count() == 0  # told once
            sign_in_here(page)
            assert page.url == f"{base}/sign-in?failed=1&{back}"  # disabled: refused as any refusal is
            with engine.begin() as connection:
                connection.execute(update(users).values(disabled=False))
            sign_in_here(page)
            assert page.url == f"{base}/results/{result_id}" and page.locator("#read-form").count() == 1
    with engine.connect() as connection:
        ends = connection.execute(select(audit.c.details).where(audit.c.kind == "sign_out")).scalars().all()
    assert [json.loads(end)["why"] for end in ends] == ["disabled", "disabled"]
