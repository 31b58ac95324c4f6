"""A verdict stored before the wire refused times at ``datetime``'s limits (year 1, year 9999) still
shows on its patient's record, its time as stored, in a time zone where it has no local time: the
conversion raised OverflowError, and the record page answered "call the technician" for good."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firmware_app.records.screening import Review, ScreeningContext
from tests.records.kit import open_store, record_one, sample_record, small_photo
from tests.sync.test_malformed_verdicts import time_zone  # noqa: F401 (a fixture)
from tests.web.conftest import sign_in, snap, switch_to
from tests.web.test_worklist_and_records import _find

LIMITS = {
    "Etc/GMT+12": (datetime(1, 1, 1, tzinfo=UTC), {"en": "1 January 1, 00:00", "fr": "1 janvier 1 à 00:00"}),
    "Pacific/Kiritimati": (
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        {"en": "31 December 9999, 23:59", "fr": "31 décembre 9999 à 23:59"},
    ),
}


@pytest.mark.parametrize("zone", LIMITS)
def test_a_verdict_dated_at_the_limits_of_time_shows_on_the_record(page, app, time_zone, zone):  # noqa: F811
    reviewed_at, shown = LIMITS[zone]
    record = sample_record(ScreeningContext("L-1", eye="L"), score=0.9)
    store = open_store(app.directory)
    record_one(store, small_photo(), record)
    assert (
        store.add_review(Review("rev-old", record.result_id, "refer", reviewed_at, "dr-lopez", None, "soon"))
        == "stored"
    )
    store.records.close()
    time_zone(zone)
    sign_in(page, app)
    page.wait_for_url("**/ready")
    _find(page, app, "L-1")
    page.locator("form[action='/records/view'] button").first.click()
    page.wait_for_url("**/records/view")
    for language in ("en", "fr"):
        switch_to(page, language)
        detail = page.locator("[data-test=detail]").inner_text()
        assert shown[language] in detail, detail
        snap(page, f"record-verdict-at-the-limits-{zone.replace('/', '-')}")
