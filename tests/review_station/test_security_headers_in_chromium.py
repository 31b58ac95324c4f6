"""The station sends the nurse app's security headers, through its one middleware
(firmware_app/web/headers.py): its policy had no ``frame-ancestors``, ``form-action`` nor ``base-uri``,
so another site could show a station page in a frame of its own (a reader's clicks on "Save the read"
steered by what is drawn over it). Every station page still works in Chromium under the policy."""

from __future__ import annotations

import httpx2
from playwright.sync_api import Playwright
from sqlalchemy import Engine

from firmware_app.web.headers import POLICY
from review_station import accounts
from tests.mqtt_broker import wait_until
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_images import config_with, keys, with_photo  # noqa: F401 (keys: a fixture)
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.test_undelivered import read
from tests.review_station.web_kit import PASSWORD, signed_in_client, station

STATION_HEADERS = {
    "content-security-policy": POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def use_the_photo(page) -> None:
    """The photo viewer's script at work: the photo shown, zoomed, then its green channel."""
    photo = page.locator("#shared-photo")
    wait_until(lambda: photo.evaluate("element => element.naturalWidth > 0"), 10, "the photo")
    page.click("[data-zoom=in]")
    page.click("[data-view=red_free]")
    assert "scale" in photo.evaluate("element => element.style.transform")


def test_no_other_site_frames_the_station_and_every_page_keeps_to_the_policy(
    engine: Engine,
    keys,  # noqa: F811
    retina_rgb,
    playwright: Playwright,
):
    result_id, _ = with_photo(engine, keys, retina_rgb)
    accounts.add_user(engine, "ada", PASSWORD, "admin", by="test")  # every page is an admin's
    read(signed_in_client(engine, config_with(keys), "ana", "reviewer"), result_id)  # a verdict on its way
    with served(config_with(keys), engine) as base, chromium_page(playwright, 800, 480) as page:
        for path in ("/sign-in", "/static/htmx.min.js", "/static/photo-viewer.js", "/no-such-page"):
            headers = httpx2.get(f"{base}{path}").headers
            assert {name: headers.get(name) for name in STATION_HEADERS} == STATION_HEADERS, path
        # Another site's page showing the sign-in inside its own: Chromium shows nothing of it.
        page.set_content(f'<iframe src="{base}/sign-in" width="800" height="480"></iframe>')
        page.wait_for_timeout(1000)
        (framed,) = page.main_frame.child_frames
        assert "password" not in framed.evaluate("document.documentElement.innerHTML").lower()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
        sign_in_on(page, base, "ada")
        for language in ("en", "fr"):
            for path in ("/", f"/results/{result_id}", "/quarantine", "/dashboard", "/export"):
                assert page.goto(f"{base}{path}").status == 200, path
                page.wait_for_load_state("networkidle")
                if path.startswith("/results/"):
                    use_the_photo(page)
            page.click(f"[data-test=languages] a[lang={'fr' if language == 'en' else 'en'}]")
        assert refused == []


def test_a_first_page_in_a_new_browser_logs_no_error(engine: Engine, playwright: Playwright) -> None:
    """The station has no icon to serve: Chromium asked for /favicon.ico, and its 404 was an error in
    the console of every reader's first page ("Failed to load resource")."""
    with served(station(), engine) as base, chromium_page(playwright, 800, 480) as page:
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{base}/sign-in")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)  # the icon is asked for after the page's load
        assert errors == []
