"""The Ready screen at 800x480 after a day's campaign (30 screenings): the kiosk has no scroll bar a
nurse finds, so it fits the screen whole, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_app.records.screening import ScreeningContext
from tests.records.kit import open_store, record_one, sample_record, small_photo
from tests.web.conftest import AUDIT, sign_in, snap, switch_to, unscrolled

DAY = 30


def a_days_campaign(app, retina_rgb, reference: str) -> None:
    """30 screenings: the patient searched for came back every day for a month, both eyes on the last."""
    store = open_store(app.directory)
    start = datetime.now(UTC) - timedelta(days=DAY)
    for day in range(DAY):
        context = ScreeningContext(eye="R" if day % 2 else "L", patient_ref=reference)
        record_one(store, small_photo(retina_rgb), sample_record(context, captured_at=start + timedelta(days=day)))


def test_ready_fits_the_screen_after_a_days_campaign(page, app, retina_rgb):
    a_days_campaign(app, retina_rgb, "AB-12")
    page.goto(f"{app.url}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        sign_in(page, app)
        page.wait_for_url("**/ready")
        snap(page, "fit-ready")
        assert unscrolled(page) and page.evaluate(AUDIT) == [], f"ready ({language}) scrolls"
        page.locator("[data-test=sign-out]").click()
        page.wait_for_url("**/signin")
