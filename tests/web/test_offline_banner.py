"""The status bar's offline banner on a campaign: a site server out of reach for days."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmware_app.web import pages_capture, pages_records, pages_session
from firmware_app.web.wording import duration
from tests.web.conftest import RunningApp, sign_in, start_app, switch_to

# Three days and five hours without the site server (real offline time is minutes in a test).
DAYS_OFFLINE = (3 * 24 + 5) * 60


@pytest.fixture()
def days_offline_app(tmp_path, retina_jpeg, monkeypatch) -> Iterator[RunningApp]:
    """The app with no broker, its status bar's own computation kept, the time offline set to days."""
    real = pages_session.status

    def days_offline(web) -> dict:
        bar = real(web)
        if bar["offline_minutes"] is not None:
            bar["offline_minutes"] = DAYS_OFFLINE
        return bar

    for module in (pages_session, pages_capture, pages_records):
        monkeypatch.setattr(module, "status", days_offline)
    running = start_app(tmp_path, app="offline_banner_after_s = 1\n")
    app = next(running)
    app.show(retina_jpeg)
    yield app
    next(running, None)


def test_a_site_server_out_of_reach_for_days_is_said_in_days_in_each_language(page, days_offline_app):
    """It read "unreachable for 4620 minutes": a count nobody reads at a glance."""
    sign_in(page, days_offline_app)
    banner = page.locator("[data-test=offline-banner]")
    banner.wait_for(timeout=15_000)
    switch_to(page, "en")
    assert "unreachable for 3\u00a0days:" in page.locator("[data-test=offline-banner]").inner_text()
    switch_to(page, "fr")
    assert "injoignable depuis 3\u00a0jours" in page.locator("[data-test=offline-banner]").inner_text()


def test_durations_are_said_in_minutes_then_hours_then_days():
    assert duration(90, "en") == "90\u00a0minutes" and duration(91, "en") == "1\u00a0hour"
    assert duration(91, "en", round_up=True) == "2\u00a0hours"  # a wait is never said shorter
    assert duration(48 * 60, "fr") == "48\u00a0heures" and duration(48 * 60 + 1, "fr") == "2\u00a0jours"
    assert duration(DAYS_OFFLINE, "fr") == "3\u00a0jours" and duration(24 * 60 * 7, "en") == "7\u00a0days"
