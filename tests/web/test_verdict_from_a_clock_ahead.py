"""A verdict the station dated later than the device received it (the station's clock ahead: a year, a
day) showed its patient's record that date alone, a specialist's decision from the future. The record
says when it arrived here, and that the station's clock, ahead of the device's, gave the other date; a
verdict dated before its arrival shows its date as before. The order of the amendments is kept: the
station dated them all by its one clock (``verdicts.REVIEW_ORDER``). A verdict received while this
device's clock was not set (before its build: a Pi without its network time) is not said to be from a
clock ahead: the arrival's date cannot be true, the station's is the one to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_app.records.clock import BUILD_DATE
from firmware_app.records.screening import Review, ScreeningContext
from tests.records.kit import open_store, record_one, sample_record, small_photo
from tests.sync.test_malformed_verdicts import time_zone  # noqa: F401 (a fixture)
from tests.web.conftest import sign_in, snap, switch_to
from tests.web.test_worklist_and_records import _find

RECEIVED = datetime(2026, 12, 4, 9, 15, tzinfo=UTC)  # the device's clock, when both verdicts arrived
SAID = {
    "en": (
        "Specialist: no referral (dr-lopez, 4 December 2026, 09:10) (replaced",
        "Specialist: refer (dr-lopez, received 4 December 2026, 09:15; the station's clock, ahead of this "
        "device's, dated it 4 December 2027, 09:15)",
    ),
    "fr": (
        "Spécialiste\u00a0: pas d'orientation (dr-lopez, 4 décembre 2026 à 09:10) (remplacé",
        "Spécialiste\u00a0: adresser (dr-lopez, reçu le 4 décembre 2026 à 09:15\u00a0; l'horloge de la station, "
        "en avance sur celle de cet appareil, l'a daté du 4 décembre 2027 à 09:15)",
    ),
}
# The same verdicts received on a clock not set (a day in 1970): each shows the date the station gave it.
NOT_SET = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)
SAID_ON_A_CLOCK_NOT_SET = {
    "en": (
        "Specialist: no referral (dr-lopez, 4 December 2026, 09:10) (replaced",
        "Specialist: refer (dr-lopez, 4 December 2027, 09:15)",
    ),
    "fr": (
        "Spécialiste\u00a0: pas d'orientation (dr-lopez, 4 décembre 2026 à 09:10) (remplacé",
        "Spécialiste\u00a0: adresser (dr-lopez, 4 décembre 2027 à 09:15)",
    ),
}


def _verdicts_shown(page, app, received: datetime, said: dict[str, tuple[str, str]]) -> None:
    """Record a result and two verdicts arriving at ``received`` on this device's clock, the second dated
    a year after it by the station, then read the record's two verdict lines in each language."""
    assert RECEIVED > BUILD_DATE  # a date this device can have had
    record = sample_record(ScreeningContext("L-1", eye="L"), score=0.9)
    store = open_store(app.directory, clock=lambda: received)
    record_one(store, small_photo(), record)
    first = Review("rev-1", record.result_id, "no_refer", RECEIVED - timedelta(minutes=5), "dr-lopez", None)
    ahead = Review("rev-2", record.result_id, "refer", RECEIVED + timedelta(days=365), "dr-lopez", None, "soon")
    assert [store.add_review(review) for review in (first, ahead)] == ["stored", "stored"]
    store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    _find(page, app, "L-1")
    page.locator("form[action='/records/view'] button").first.click()
    page.wait_for_url("**/records/view")
    for language, (replaced, standing) in said.items():
        switch_to(page, language)
        snap(page, "record-verdict-from-a-clock-ahead")
        shown = [text for text in page.locator("[data-test=detail] dd").all_inner_texts() if "dr-lopez" in text]
        assert len(shown) == 2 and shown[0].startswith(replaced) and shown[1].startswith(standing), shown
        assert page.evaluate("document.documentElement.scrollWidth") <= 800


def test_a_verdict_dated_after_it_arrived_says_when_it_arrived(page, app, time_zone):  # noqa: F811
    time_zone("UTC")
    _verdicts_shown(page, app, RECEIVED, SAID)


def test_a_verdict_received_on_a_clock_not_set_shows_the_stations_date(page, app, time_zone):  # noqa: F811
    """Received in "1970", every verdict read "received 1 January 1970; the station's clock, ahead of
    this device's, dated it …": a date that cannot be true, and the station blamed for this clock."""
    time_zone("UTC")
    _verdicts_shown(page, app, NOT_SET, SAID_ON_A_CLOCK_NOT_SET)
