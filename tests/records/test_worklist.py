"""The nurse's worklist from real records: the day by the device's clock, a verdict that arrives days
after its screening, and the specialist's referrals the device did not make, until someone opens them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from firmware_app.records.screening import Review
from firmware_app.records.worklist import verdicts_to_act_on, worklist
from tests.records.kit import open_store, record_one, sample_record, small_photo

KOLKATA = timezone(timedelta(hours=5, minutes=30))


class Clock:
    """The records' clock, moved by the test; in UTC, as the device's own."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


def review(result_id: str, verdict: str, number: int) -> Review:
    return Review(f"rev-{number}", result_id, verdict, datetime.now(UTC), "dr-lopez", None)


def test_the_day_starts_at_the_devices_midnight_not_at_utcs(tmp_path) -> None:
    midnight = datetime(2026, 12, 2, tzinfo=KOLKATA)  # 18:30 UTC the day before
    clock = Clock(midnight - timedelta(minutes=30))
    store = open_store(tmp_path, clock=clock)
    late_yesterday = record_one(store, small_photo())
    clock.now = midnight + timedelta(minutes=30)
    early_today = record_one(store, small_photo())
    listed = [entry.result_id for entry in worklist(store.records, midnight)]
    assert listed == [early_today.result_id]
    assert late_yesterday.result_id not in listed


def test_a_verdict_that_arrives_days_later_is_on_todays_list_and_a_referral_the_device_missed_waits_to_be_opened(
    tmp_path,
) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = Clock(today - timedelta(days=3))
    store = open_store(tmp_path, clock=clock)
    cleared = record_one(store, small_photo(), sample_record(score=0.05))  # the device: no referral
    referred = record_one(store, small_photo(), sample_record(score=0.9))
    untouched = record_one(store, small_photo(), sample_record(score=0.05))
    assert worklist(store.records, today) == []
    clock.now = today + timedelta(hours=9)
    assert store.add_review(review(cleared.result_id, "refer", 1)) == "stored"
    assert store.add_review(review(referred.result_id, "refer", 2)) == "stored"

    entries = {entry.result_id: entry for entry in worklist(store.records, today)}
    assert set(entries) == {cleared.result_id, referred.result_id}  # not the one without a verdict
    assert untouched.result_id not in entries
    assert entries[cleared.result_id].overturned and not entries[referred.result_id].overturned
    assert entries[cleared.result_id].verdict_received_at == clock.now
    assert verdicts_to_act_on(store.records) == 1  # the device's referral agreed with: nothing to call back

    clock.now += timedelta(minutes=5)
    store.view(cleared.result_id)  # the nurse opens the record (audited) to call the patient back
    assert verdicts_to_act_on(store.records) == 0
    clock.now += timedelta(minutes=5)
    store.add_review(review(cleared.result_id, "no_refer", 3))  # an adjudication clears it
    assert not {e.result_id: e for e in worklist(store.records, today)}[cleared.result_id].overturned
    clock.now += timedelta(minutes=5)
    store.add_review(review(cleared.result_id, "refer", 4))  # and a later one refers again: unseen again
    assert verdicts_to_act_on(store.records) == 1
