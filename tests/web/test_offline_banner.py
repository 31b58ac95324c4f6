"""The status bar's offline banner on a campaign: a site server out of reach for days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.records.database import transaction
from firmware_app.wording import duration
from tests.records.kit import open_store, record_one, small_photo
from tests.web.conftest import RunningApp, sign_in, start_app, switch_to

# Three days and five hours since the oldest result waiting was queued (real offline time is minutes in a test).
DAYS_OFFLINE = (3 * 24 + 5) * 60


@pytest.fixture()
def days_offline_app(tmp_path, retina_jpeg, retina_rgb) -> Iterator[RunningApp]:
    """The app just started with no broker, on records whose oldest unsent result was queued days ago
    (a device switched off each night of a campaign) and whose last success a clock that ran a year
    fast dated, since set right."""
    running = start_app(tmp_path, app="offline_banner_after_s = 1\n")
    app = next(running)
    app.show(retina_jpeg)
    queued = datetime.now(UTC) - timedelta(minutes=DAYS_OFFLINE)
    store = open_store(app.directory, clock=lambda: queued)
    try:
        record_one(store, small_photo(retina_rgb))
        with transaction(store.records.connection) as db:
            ahead = (datetime.now(UTC) + timedelta(days=365)).isoformat()
            db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('last_success', ?)", (ahead,))
    finally:
        store.records.close()
    yield app
    next(running, None)


def test_results_waiting_for_days_are_said_in_days_in_each_language_after_a_restart(page, days_offline_app):
    """It read "unreachable for 4620 minutes", then, measured from the app's start, "for 20 minutes" on
    day 3 of a device switched off each night; and a last success dated ahead by a fast clock hid it."""
    sign_in(page, days_offline_app)
    banner = page.locator("[data-test=offline-banner]")
    banner.wait_for(timeout=15_000)
    switch_to(page, "en")
    assert (
        "results have waited on this device for 3\u00a0days." in page.locator("[data-test=offline-banner]").inner_text()
    )
    switch_to(page, "fr")
    assert "attendent ici depuis 3\u00a0jours" in page.locator("[data-test=offline-banner]").inner_text()


def test_durations_are_said_in_minutes_then_hours_then_days():
    assert duration(90, "en") == "90\u00a0minutes" and duration(91, "en") == "1\u00a0hour"
    assert duration(91, "en", round_up=True) == "2\u00a0hours"  # a wait is never said shorter
    assert duration(48 * 60, "fr") == "48\u00a0heures" and duration(48 * 60 + 1, "fr") == "2\u00a0jours"
    assert duration(DAYS_OFFLINE, "fr") == "3\u00a0jours" and duration(24 * 60 * 7, "en") == "7\u00a0days"
