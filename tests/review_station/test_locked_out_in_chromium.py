"""A reader locked out after wrong passwords, in Debian's Chromium: refused with the right password too,
then, once an administrator runs ``users unlock`` at the station's console, signed in at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Playwright
from sqlalchemy import Engine

from review_station import accounts
from review_station.web.app import LANGUAGE_COOKIE
from review_station.words import say
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import station_config
from tests.review_station.test_cli import review
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.web_kit import PASSWORD, station


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_reader_locked_out_signs_in_as_soon_as_an_administrator_unlocks_the_account(
    tmp_path, engine: Engine, playwright: Playwright, language: str
) -> None:
    """Before, the reader could only wait ``lockout_minutes``: the station had no command to lift a
    lockout of an account that is not disabled. The page refuses the locked account as it refuses any
    sign-in (it never says an account is locked), in the reader's language."""
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    config = station()
    console = station_config(tmp_path, engine, 1883, extra=f'language = "{language}"\n')
    with served(config, engine) as base, chromium_page(playwright, width=800, height=480) as page:
        page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": base}])
        for _ in range(config.web.lockout_failures):
            sign_in_on(page, base, password="not the password")
        sign_in_on(page, base)
        assert page.url == f"{base}/sign-in?failed=1"
        assert page.inner_text("[role=alert]") == say("sign_in.failed", language)
        unlocked = review(console, "users", "unlock", "ana")
        assert unlocked.returncode == 0, unlocked.stderr
        sign_in_on(page, base)
        assert page.url == f"{base}/" and say("nav.worklist", language) in page.inner_text("h1")
