"""Real Chromium (Debian's) through Playwright, and the web app served by uvicorn on a loopback port.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from playwright.sync_api import Page, Playwright
from sqlalchemy import Engine

from review_station.config import ReviewConfig
from review_station.web.app import create_app
from tests.chromium import launch_args
from tests.mqtt_broker import free_port
from tests.web_server import running


@contextmanager
def served(config: ReviewConfig, engine: Engine) -> Iterator[str]:
    """The web app on a free loopback port for the duration; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, engine), host="127.0.0.1", port=port, log_level="warning")
    )
    with running(server, 30, 15):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def chromium_page(playwright: Playwright, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A fresh browser page in Debian's Chromium, in a context of its own (``page.context.new_page()``
    opens another tab of the same browser, sharing its cookies). ``playwright`` is pytest-playwright's
    one instance of the session, which tests/web's pages use too: a second ``sync_playwright()`` started
    while that one runs fails ("Sync API inside the asyncio loop"), depending on the order tests ran in."""
    browser = playwright.chromium.launch(**launch_args())
    try:
        yield browser.new_context(viewport={"width": width, "height": height}).new_page()
    finally:
        browser.close()
