"""The nurse's worklist from real records: the day by the device's clock, a verdict that arrives days
after its screening, and the specialist's referrals the device did not make, until someone opens them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from firmware_app.inference.triage import Outcome, Triage
from firmware_app.records.open_visits import (
    close_lost_visits,
    close_visit_not_finished,
    visit_finished,
    visit_recorded,
    visit_started,
)
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import Review, ScreeningContext
from firmware_app.records.sealing import SealBroken
from firmware_app.records.store import ScreeningStore
from firmware_app.records.worklist import (
    NOT_PHOTOGRAPHED,
    VISIT_EVENT,
    CallBacks,
    entries_of,
    lost_visit_listed,
    not_photographed_event,
    verdicts_to_act_on,
    worklist,
)
from tests.records.kit import (
    BEFORE_LAST_BACKUP,
    back_to,
    damage_a_sealed_value,
    flip_a_bit_on_the_card,
    open_store,
    record_one,
    sample_record,
    small_photo,
)

KOLKATA = timezone(timedelta(hours=5, minutes=30))


class Clock:
    """The records' clock, moved by the test; in UTC, as the device's own."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


def review(result_id: str, verdict: str, number: int, reviewed_at: datetime | None = None) -> Review:
    return Review(f"rev-{number}", result_id, verdict, reviewed_at or datetime.now(UTC), "dr-lopez", None)


def test_the_day_starts_at_the_devices_midnight_not_at_utcs(tmp_path) -> None:
    midnight = datetime(2026, 12, 2, tzinfo=KOLKATA)  # 18:30 UTC the day before
    clock = Clock(midnight - timedelta(minutes=30))
    store = open_store(tmp_path, clock=clock)
    late_yesterday = record_one(store, small_photo(), sample_record(captured_at=clock()))
    clock.now = midnight + timedelta(minutes=30)
    early_today = record_one(store, small_photo(), sample_record(captured_at=clock()))
    listed = [entry.result_id for entry in worklist(store.records, midnight)]
    assert listed == [early_today.result_id]
    assert late_yesterday.result_id not in listed


def test_a_verdict_that_arrives_days_later_is_on_todays_list_and_a_referral_the_device_missed_waits_to_be_opened(
    tmp_path,
) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = Clock(today - timedelta(days=3))
    store = open_store(tmp_path, clock=clock)
    # the device: no referral for the first and the last
    cleared = record_one(store, small_photo(), sample_record(captured_at=clock(), score=0.05))
    referred = record_one(store, small_photo(), sample_record(captured_at=clock(), score=0.9))
    untouched = record_one(store, small_photo(), sample_record(captured_at=clock(), score=0.05))
    assert worklist(store.records, today) == []
    clock.now = today + timedelta(hours=9)
    assert store.add_review(review(cleared.result_id, "refer", 1)) == "stored"
    assert store.add_review(review(referred.result_id, "refer", 2)) == "stored"

    entries = {entry.result_id: entry for entry in worklist(store.records, today)}
    assert set(entries) == {cleared.result_id, referred.result_id}  # not the one without a verdict
    assert untouched.result_id not in entries
    assert entries[cleared.result_id].call_back == "refer" and entries[referred.result_id].call_back is None
    assert entries[cleared.result_id].verdict_received_at == clock.now
    assert verdicts_to_act_on(store).patients == 1  # the device's referral agreed with: nothing to call back
    # Not opened by the next morning: still on the list the banner leads to, though it came yesterday.
    tomorrow = today + timedelta(days=1)
    assert [e.result_id for e in worklist(store.records, tomorrow, with_verdict_only=True)] == [cleared.result_id]

    clock.now += timedelta(minutes=5)
    store.view(cleared.result_id)  # the nurse opens the record (audited) to call the patient back
    assert verdicts_to_act_on(store).patients == 0
    assert worklist(store.records, tomorrow) == []


def test_a_payload_altered_while_offline_reads_withheld_before_the_sync_worker_comes_to_it(tmp_path) -> None:
    """The worker withholds a payload that no longer matches its screening's event only when it tries
    to publish it: on a campaign offline for days, Today said "Waiting to send" of it all that time.
    Today now asks the same digest of the unsent results it shows; one the broker acknowledged before
    the edit stays acknowledged (the station has the payload as recorded)."""
    store = open_store(tmp_path)
    intact, queued, published, acknowledged = (record_one(store, small_photo()).result_id for _ in range(4))
    outbox = Outbox(store.records)
    rows = {row.result_id: row.seq for row in outbox.claim(0, 10)}
    outbox.mark_sent([rows[acknowledged]], published=[rows[published], rows[acknowledged]])
    outbox.release([rows[intact], rows[queued]])
    today = datetime.now(UTC) - timedelta(hours=1)
    before = {entry.result_id: entry.sync for entry in worklist(store.records, today)}
    assert before == {intact: "queued", queued: "queued", published: "sent", acknowledged: "acknowledged"}
    with closing(sqlite3.connect(tmp_path / "records.sqlite3")) as db, db:  # an SQL edit on the card
        edit = "UPDATE outbox SET payload = replace(payload, 'fundus', 'xundus') WHERE result_id IN (?, ?, ?)"
        db.execute(edit, (queued, published, acknowledged))
    after = {entry.result_id: entry.sync for entry in worklist(store.records, today)}
    assert after == {intact: "queued", queued: "withheld", published: "withheld", acknowledged: "acknowledged"}
    assert outbox.backlog().withheld == 0  # the worker's mark, still to be made: Today only reads


def test_the_latest_verdict_is_the_stations_latest_whatever_the_devices_clock_or_the_arrival_order(tmp_path) -> None:
    decided = datetime(2026, 12, 1, 9, tzinfo=UTC)
    clock = Clock(decided)
    store = open_store(tmp_path, clock=clock)
    cleared = record_one(store, small_photo(), sample_record(score=0.05))
    clock.now = decided + timedelta(days=400)  # a clock far ahead when the first verdict arrives...
    store.add_review(review(cleared.result_id, "refer", 1, decided))
    clock.now = decided + timedelta(hours=2)  # ...then set right before the amendment arrives
    store.add_review(review(cleared.result_id, "no_refer", 2, decided + timedelta(hours=1)))
    [entry] = entries_of(store.records, [cleared.result_id])
    assert entry.verdict == "no_refer" and entry.call_back is None and verdicts_to_act_on(store).patients == 0
    # An older verdict arriving after a newer one (two ingesters) does not replace it either.
    store.add_review(review(cleared.result_id, "ungradable", 3, decided - timedelta(hours=1)))
    assert entries_of(store.records, [cleared.result_id])[0].verdict == "no_refer"
    verdicts = [r["verdict"] for r in store.view(cleared.result_id)["reviews"]]
    assert verdicts == ["ungradable", "refer", "no_refer"]  # oldest decision first: the last one stands


def test_a_photo_the_specialist_cannot_grade_calls_the_patient_back_too(tmp_path) -> None:
    store = open_store(tmp_path)
    cleared = record_one(store, small_photo(), sample_record(score=0.05))
    store.add_review(review(cleared.result_id, "ungradable", 1))
    [entry] = entries_of(store.records, [cleared.result_id])
    assert entry.call_back == "ungradable" and verdicts_to_act_on(store).patients == 1


def test_the_specialists_urgency_and_findings_are_kept_and_an_urgent_call_back_is_counted(tmp_path) -> None:
    """``edgescreen.review/2``: the urgency travels to Today (the call-back's badge names it) and the
    banner, the findings to the record; a later verdict without them (``/1``) leaves none standing."""
    store = open_store(tmp_path)
    cleared = record_one(store, small_photo(), sample_record(score=0.05))
    other = record_one(store, small_photo(), sample_record(score=0.05))
    urgent = Review(
        "rev-1", cleared.result_id, "refer", datetime.now(UTC), "dr-lopez", None, "urgent", "proliferative", "present"
    )
    assert store.add_review(urgent) == "stored"
    store.add_review(replace(review(other.result_id, "refer", 2), urgency="soon", icdr_grade="moderate"))
    entries = {entry.result_id: entry for entry in entries_of(store.records, [cleared.result_id, other.result_id])}
    assert (entries[cleared.result_id].call_back, entries[other.result_id].call_back) == ("urgent", "soon")
    assert verdicts_to_act_on(store) == CallBacks(patients=2, urgent=1)
    [kept] = store.view(cleared.result_id)["reviews"]
    assert (kept["urgency"], kept["icdr_grade"], kept["maculopathy"], kept["diagnosis"]) == (
        "urgent",
        "proliferative",
        "present",
        None,
    )
    assert verdicts_to_act_on(store) == CallBacks(patients=1, urgent=0)  # opened: called back
    store.add_review(review(other.result_id, "refer", 3, datetime.now(UTC) + timedelta(minutes=1)))
    assert entries_of(store.records, [other.result_id])[0].call_back == "refer"


# (device's triage, specialist's verdict, urgency) -> the call-back's reason (its badge on Today), if any.
CALL_BACKS = {
    ("refer", "refer", "routine"): None,  # what the nurse told the patient
    ("refer", "refer", "soon"): "soon",
    ("refer", "refer", "urgent"): "urgent",
    ("refer", "ungradable", "soon"): "soon",
    ("refer", "no_refer", "routine"): "no_refer",  # the referral the nurse arranged: tell, cancel it
    ("ungradable", "refer", "routine"): "refer_unless_referred",
    ("ungradable", "ungradable", "routine"): None,  # the retake or examination the nurse asked for
    ("ungradable", "no_refer", "routine"): "no_refer_if_referred",  # referred for want of a readable photo
    ("ungradable", "refer", "urgent"): "urgent",
    ("no_refer", "refer", "routine"): "refer",
    ("no_refer", "refer", "urgent"): "urgent",  # one badge: the urgency is what to act on
    ("no_refer", "ungradable", "soon"): "soon",
}


def test_what_the_specialists_verdict_asks_of_the_nurse_whatever_the_device_triaged(tmp_path) -> None:
    """The device gives no urgency: a patient it referred was told of a routine referral, one whose photo
    it could not grade of a referral or a retake. The specialist's urgent or "soon" referral or "not
    gradable" asks to bring that forward: a call-back until the record is opened, on any day, named by
    its urgency (on main a "soon" was only a badge on Today the day it came, and an urgent referral of
    a cleared patient showed as a routine call-back beside an "Urgent" badge). A referral of an
    ungradable photo is one too, "unless already referred"; a routine one of a referred patient is
    what the nurse already said. A "no referral" of a referred patient is one: the referral the nurse
    arranged is not needed; so is one of an ungradable photo, "if referred" for it."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = Clock(today - timedelta(days=3))
    store = open_store(tmp_path, clock=clock)
    scores = {"refer": 0.9, "no_refer": 0.05}
    results = {}
    for triaged, verdict, urgency in CALL_BACKS:
        record = sample_record(captured_at=clock(), score=scores.get(triaged, 0.5))
        if triaged == "ungradable":
            record = replace(record, triage=Triage(Outcome.UNGRADABLE))
        results[record_one(store, small_photo(), record).result_id] = (triaged, verdict, urgency)
    clock.now = today + timedelta(hours=9)
    for number, (result_id, (_, verdict, urgency)) in enumerate(results.items()):
        store.add_review(replace(review(result_id, verdict, number), urgency=urgency))
    calls = {entry.result_id: entry.call_back for entry in entries_of(store.records, list(results))}
    assert {results[result_id]: reason for result_id, reason in calls.items()} == CALL_BACKS
    called = [result_id for result_id, reason in calls.items() if reason]
    urgent = [result_id for result_id in called if calls[result_id] == "urgent"]
    assert verdicts_to_act_on(store) == CallBacks(patients=len(called), urgent=len(urgent))
    # Not opened the day it came: still on the list the banner leads to, days later.
    later = today + timedelta(days=4)
    assert sorted(entry.result_id for entry in worklist(store.records, later)) == sorted(called)
    store.view(urgent[0])
    assert verdicts_to_act_on(store) == CallBacks(patients=len(called) - 1, urgent=len(urgent) - 1)
    # The record opened to make the call names what Today's badge names, opened before or not (on main
    # its view said nothing of it); a screening no specialist has read yet asks nothing.
    assert {result_id: store.view(result_id)["call_back"] for result_id in results} == calls
    unread = record_one(store, small_photo(), sample_record(score=0.05))
    assert store.view(unread.result_id)["call_back"] is None


def test_a_referral_of_an_ungradable_photo_whose_retake_cleared_the_eye_is_a_call_back(tmp_path) -> None:
    """The right eye's photo could not be graded; its retake came back "no referral", which the eye
    stands at (``protocol.slot_outcome``), so the patient went home told "no referral". The specialist
    refers the first photo (routine) and has not read the retake: on main nothing but a badge on Today
    the day it came told the nurse; now it is on the call-back list until the record is opened."""
    store = open_store(tmp_path)
    context = ScreeningContext("MRN-12", eye="R")
    ungradable = replace(sample_record(context), triage=Triage(Outcome.UNGRADABLE))
    record_one(store, small_photo(), ungradable)
    record_one(store, small_photo(), sample_record(context, score=0.05))  # the retake
    store.add_review(review(ungradable.result_id, "refer", 1))
    [entry] = entries_of(store.records, [ungradable.result_id])
    assert entry.call_back == "refer_unless_referred"
    assert verdicts_to_act_on(store) == CallBacks(patients=1, urgent=0)


def test_a_referral_amended_back_after_a_no_referral_call_back_calls_the_patient_back_again(tmp_path) -> None:
    """The device referred the patient; the specialist's "no referral" had the nurse tell them and
    cancel the referral (its call-back, opened); the specialist then amends it back to a referral, or
    to "not gradable". The patient now stands told "no referral": before, the amendment asked nothing,
    as if the device's referral still held."""
    store = open_store(tmp_path)
    reviewed_at = datetime.now(UTC)
    for number, amended in enumerate(("refer", "ungradable")):
        referred = record_one(store, small_photo(), sample_record(score=0.9))
        store.add_review(review(referred.result_id, "no_refer", 10 * number, reviewed_at))
        assert store.view(referred.result_id)["call_back"] == "no_refer"  # told, referral cancelled
        assert verdicts_to_act_on(store) == CallBacks(patients=number, urgent=0)
        store.add_review(review(referred.result_id, amended, 10 * number + 1, reviewed_at + timedelta(minutes=5)))
        [entry] = entries_of(store.records, [referred.result_id])
        assert (entry.call_back, entry.awaiting_call_back) == (amended, True)
        assert verdicts_to_act_on(store) == CallBacks(patients=number + 1, urgent=0)
    # A referral the specialist never said otherwise of stays what the nurse told the patient; so does
    # one amended back before anyone opened the "no referral": the nurse told nobody of it.
    confirmed, unopened = (record_one(store, small_photo(), sample_record(score=0.9)) for _ in range(2))
    store.add_review(review(confirmed.result_id, "refer", 99, reviewed_at))
    store.add_review(review(unopened.result_id, "no_refer", 100, reviewed_at))
    store.add_review(review(unopened.result_id, "refer", 101, reviewed_at + timedelta(minutes=5)))
    listed = entries_of(store.records, [confirmed.result_id, unopened.result_id])
    assert [entry.call_back for entry in listed] == [None, None]


def test_a_referral_of_a_cleared_patient_amended_to_no_referral_calls_them_back(tmp_path) -> None:
    """The device cleared the patient; the specialist's referral (urgent or not) had the nurse call them
    back and refer them (its call-back, opened); the specialist then amends it to "no referral", as a
    verdict sent in error. The patient waits for a referral nobody needs, as one the device referred:
    before, the amendment asked nothing."""
    store = open_store(tmp_path)
    reviewed_at = datetime.now(UTC)
    for number, urgency in enumerate(("routine", "urgent")):
        cleared = record_one(store, small_photo(), sample_record(score=0.05))
        referral = replace(review(cleared.result_id, "refer", 10 * number, reviewed_at), urgency=urgency)
        store.add_review(referral)
        assert store.view(cleared.result_id)["call_back"] in ("refer", "urgent")  # called back, referred
        assert verdicts_to_act_on(store) == CallBacks(patients=number, urgent=0)
        store.add_review(review(cleared.result_id, "no_refer", 10 * number + 1, reviewed_at + timedelta(minutes=5)))
        [entry] = entries_of(store.records, [cleared.result_id])
        assert (entry.call_back, entry.awaiting_call_back) == ("no_refer", True)
        assert verdicts_to_act_on(store) == CallBacks(patients=number + 1, urgent=0)
    # A cleared patient the specialist never referred is told nothing new.
    confirmed = record_one(store, small_photo(), sample_record(score=0.05))
    store.add_review(review(confirmed.result_id, "no_refer", 99, reviewed_at))
    assert entries_of(store.records, [confirmed.result_id])[0].call_back is None


def test_today_starts_with_the_call_backs_still_waiting_the_urgent_ones_first(tmp_path) -> None:
    """The banner's "1 urgent" leads to Today, but on main its list was by time alone: an urgent
    call-back received at 9:00 came below every verdict received since, past the fold of a long day.
    The call-backs still waiting now lead, the urgent one on top, then the rest latest first; an
    opened one goes back to its time."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = Clock(today + timedelta(hours=8))
    store = open_store(tmp_path, clock=clock)
    urgent, cleared, *agreed = (
        record_one(store, small_photo(), sample_record(captured_at=clock(), score=score)).result_id
        for score in (0.9, 0.05, 0.9, 0.9, 0.9)
    )
    verdicts = {urgent: "urgent", cleared: "routine"} | dict.fromkeys(agreed, "routine")
    for number, (result_id, urgency) in enumerate(verdicts.items()):
        clock.now = today + timedelta(hours=9, minutes=30 * number)
        store.add_review(replace(review(result_id, "refer", number, clock.now), urgency=urgency))
    latest_first = list(reversed(agreed))
    assert [entry.result_id for entry in worklist(store.records, today)] == [urgent, cleared, *latest_first]
    assert next(entry.result_id for entry in worklist(store.records, today, with_verdict_only=True)) == urgent
    store.view(urgent)
    assert [entry.result_id for entry in worklist(store.records, today)] == [cleared, *latest_first, urgent]


def test_call_backs_count_patients_not_their_eyes_or_lesions(tmp_path) -> None:
    """The nurse calls a patient: both eyes of one referred, or a reference typed once in capitals and
    once not, are one call. A screening without a reference, or whose reference the card damaged,
    counts alone (once too often rather than hidden); a patient is urgent if any of their results is."""
    store = open_store(tmp_path)
    patients = (("R", "MRN-1"), ("L", " mrn-1"), ("R", "MRN-2"), ("L", "MRN-2"), ("R", None), ("L", None))
    results = [
        record_one(store, small_photo(), sample_record(ScreeningContext(ref, eye=eye), score=0.05)).result_id
        for eye, ref in patients
    ]
    for number, result_id in enumerate(results):
        store.add_review(replace(review(result_id, "refer", number), urgency="urgent" if number == 1 else "soon"))
    assert verdicts_to_act_on(store) == CallBacks(patients=4, urgent=1)
    store.view(results[1])  # one eye's record opened: the other eye's call-back is the same patient's
    assert verdicts_to_act_on(store) == CallBacks(patients=4, urgent=0)
    store.records.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (sealed,) = store.records.connection.execute(
        "SELECT patient_sealed FROM screening WHERE result_id = ?", (results[3],)
    ).fetchone()
    store.records.close()
    flip_a_bit_on_the_card(tmp_path / "records.sqlite3", sealed)
    assert verdicts_to_act_on(open_store(tmp_path)) == CallBacks(patients=5, urgent=0)


def test_a_morning_on_fake_hwclock_time_stays_on_today_after_ntp_steps_the_clock_forward(tmp_path) -> None:
    midnight = datetime(2026, 12, 2, tzinfo=KOLKATA)
    clock = Clock(midnight - timedelta(days=2) + timedelta(hours=9))  # booted on the saved time, 2 days behind
    store = open_store(tmp_path, clock=clock, synchronised=False)
    morning = record_one(store, small_photo(), sample_record(captured_at=clock()))
    store.records.close()
    clock.now = midnight + timedelta(hours=11)  # NTP answers
    store = open_store(tmp_path, clock=clock, synchronised=True)
    noon = record_one(store, small_photo(), sample_record(captured_at=clock()))
    entries = {entry.result_id: entry for entry in worklist(store.records, midnight)}
    assert list(entries) == [noon.result_id, morning.result_id]
    assert entries[morning.result_id].clock_not_set and not entries[noon.result_id].clock_not_set
    store.records.close()
    store = open_store(tmp_path, clock=clock, boot="the next boot")  # a screening of an earlier boot
    assert [entry.result_id for entry in worklist(store.records, midnight)] == [noon.result_id]


def test_a_screening_dated_ahead_by_a_fast_clock_leaves_today_with_its_boot(tmp_path) -> None:
    midnight = datetime(2026, 12, 2, tzinfo=KOLKATA)
    clock = Clock(midnight + timedelta(days=2, hours=9))  # booted on a time 2 days ahead
    store = open_store(tmp_path, clock=clock, synchronised=False)
    ahead = record_one(store, small_photo(), sample_record(captured_at=clock()))
    store.records.close()
    clock.now = midnight + timedelta(hours=10)  # NTP sets the clock back
    store = open_store(tmp_path, clock=clock)
    [entry] = worklist(store.records, midnight)
    assert entry.result_id == ahead.result_id and entry.clock_not_set  # today's: recorded on this boot
    store.records.close()
    store = open_store(tmp_path, clock=clock, boot="the next boot")
    assert worklist(store.records, midnight) == []  # not days on top of the list
    assert worklist(store.records, midnight - timedelta(days=3)) == []  # whatever day: it is after now


def finish_without_the_left_eye(store) -> None:
    """What the nurse's app audits when a visit is finished with the right eye photographed and the
    left not: the event names the right eye's result, whose record names the patient to call back."""
    records = store.records
    clock = records.clock_state(records.clock()).value
    right = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-LEFT-EYE", eye="R"))).result_id
    store.audit(VISIT_EVENT, not_photographed_event(["L"], "amina", clock, records.boot(), [right]))


def missed_eyes(store, since: datetime) -> list[bool]:
    """Today's not-photographed rows, each as whether it is marked "clock not set"."""
    return [entry.clock_not_set for entry in worklist(store.records, since) if entry.outcome == NOT_PHOTOGRAPHED]


@pytest.mark.parametrize("off_by", [timedelta(days=-2), timedelta(days=2)], ids=["behind", "ahead"])
def test_a_verdict_received_before_ntp_set_the_clock_follows_the_screenings_rule(tmp_path, off_by) -> None:
    """A verdict the broker delivers at boot, before NTP, is dated by fake-hwclock's saved time. Two
    days behind, it never showed on Today the day it came (a routine "no referral" is no call-back to
    keep it there); two days ahead, it stayed on Today two days. Now, like a screening, it is on
    Today on this boot whatever its date, and by its date once the device has restarted."""
    midnight = datetime(2026, 12, 2, tzinfo=KOLKATA)
    clock = Clock(midnight - timedelta(days=2, hours=1))  # screened on an earlier boot, its clock set
    store = open_store(tmp_path, clock=clock, boot="an earlier boot")
    screened = record_one(store, small_photo(), sample_record(captured_at=clock(), score=0.05)).result_id
    store.records.close()
    clock.now = midnight + timedelta(hours=8) + off_by  # booted on the saved time; the verdict comes
    store = open_store(tmp_path, clock=clock, synchronised=False)
    assert store.add_review(review(screened, "no_refer", 1)) == "stored"
    clock.now = midnight + timedelta(hours=9)  # NTP answers
    store.records.synchronised = lambda: True
    assert [entry.result_id for entry in worklist(store.records, midnight)] == [screened]
    store.records.close()
    store = open_store(tmp_path, clock=clock, boot="the next boot")
    assert worklist(store.records, midnight) == []  # its date was not today's


def test_a_missed_eye_follows_the_screenings_rule_when_ntp_steps_the_clock_either_way(tmp_path) -> None:
    """As a screening: a visit finished on fake-hwclock's time two days behind stays on Today after NTP
    steps the clock forward, one two days ahead leaves it once the boot ends, not days later."""
    midnight = datetime(2026, 12, 2, tzinfo=KOLKATA)
    for name, booted_on in (("behind", -2), ("ahead", 2)):
        clock = Clock(midnight + timedelta(days=booted_on, hours=9))
        store = open_store(tmp_path / name, clock=clock, synchronised=False)
        finish_without_the_left_eye(store)
        store.records.close()
        clock.now = midnight + timedelta(hours=11)  # NTP answers
        store = open_store(tmp_path / name, clock=clock)
        assert missed_eyes(store, midnight) == [True]
        store.records.close()
        store = open_store(tmp_path / name, clock=clock, boot="the next boot")
        assert missed_eyes(store, midnight) == []
        assert missed_eyes(store, midnight - timedelta(days=3)) == ([True] if name == "behind" else [])
        store.records.close()


# The schema before the migration that added ``review.opened_at`` (records/database.py).
BEFORE_OPENED_AT = 8


def back_to_before_opened_at(store) -> None:
    """Undo the migrations since ``BEFORE_OPENED_AT`` on real records: their columns and index gone,
    the version set back, as a device still on the release without the call-back list holds them."""
    db = store.records.connection
    db.execute("DROP INDEX review_result")
    for column in ("opened_at", "urgency", "icdr_grade", "maculopathy", "diagnosis"):
        db.execute(f"ALTER TABLE review DROP COLUMN {column}")
    back_to(db, BEFORE_OPENED_AT)
    store.records.close()


def test_verdicts_opened_before_the_call_back_list_are_not_called_back_after_the_upgrade(tmp_path) -> None:
    clock = Clock(datetime(2026, 6, 1, 9, tzinfo=UTC))
    store = open_store(tmp_path, clock=clock)
    unread = record_one(store, small_photo(), sample_record(score=0.05))  # cleared by the device
    opened = record_one(store, small_photo(), sample_record(score=0.05))
    clock.now += timedelta(days=2)
    assert store.add_review(review(unread.result_id, "refer", 1)) == "stored"
    assert store.add_review(review(opened.result_id, "ungradable", 2)) == "stored"
    received = clock.now
    clock.now += timedelta(hours=3)
    store.view(opened.result_id)  # the nurse opened it then (audited)
    back_to_before_opened_at(store)

    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)  # months later, the upgrade
    store = open_store(tmp_path, clock=clock)
    seen = dict(store.records.connection.execute("SELECT result_id, opened_at FROM review"))
    # Opened after it arrived: seen then. Never opened: still to be called back, as nothing shows
    # that anyone read it.
    assert seen == {unread.result_id: None, opened.result_id: (received + timedelta(hours=3)).isoformat()}
    assert verdicts_to_act_on(store).patients == 1
    assert store.records.verify_audit().intact  # marked seen by the views the audit holds
    later = record_one(store, small_photo(), sample_record(score=0.05))
    assert store.add_review(review(later.result_id, "refer", 3)) == "stored"
    assert verdicts_to_act_on(store).patients == 2  # a verdict after the upgrade waits to be opened


def test_a_no_referral_of_a_patient_the_device_referred_is_a_call_back_unless_opened_before_the_upgrade(
    tmp_path,
) -> None:
    """The device referred both patients, the nurse arranged their referrals, and the specialist found
    none needed: nothing prompted the nurse, and each waited for an appointment nobody needed. Now it is a
    call-back of its own kind, until the record is opened; one opened before the upgrade (before the
    release that marks verdicts opened) stays seen."""
    clock = Clock(datetime(2026, 6, 1, 9, tzinfo=UTC))
    store = open_store(tmp_path, clock=clock)
    unread = record_one(store, small_photo(), sample_record(ScreeningContext("P-UNREAD"), score=0.9))
    opened = record_one(store, small_photo(), sample_record(ScreeningContext("P-OPENED"), score=0.9))
    clock.now += timedelta(days=2)
    for number, referred in enumerate((unread, opened)):
        assert referred.triage.outcome == Outcome.REFER
        assert store.add_review(review(referred.result_id, "no_refer", number)) == "stored"
    clock.now += timedelta(hours=3)
    store.view(opened.result_id)  # the nurse opened it then (audited)
    back_to_before_opened_at(store)

    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)  # months later, the upgrade
    store = open_store(tmp_path, clock=clock)
    entries = entries_of(store.records, [unread.result_id, opened.result_id])
    asks = {entry.result_id: (entry.call_back, entry.awaiting_call_back) for entry in entries}
    assert asks == {unread.result_id: ("no_refer", True), opened.result_id: ("no_refer", False)}
    assert verdicts_to_act_on(store) == CallBacks(1, 0)
    assert store.view(unread.result_id)["call_back"] == "no_refer"  # the record says it as Today does
    assert verdicts_to_act_on(store) == CallBacks(0, 0)


def test_a_verdict_the_upgrade_marked_seen_by_a_view_dated_after_it_still_verifies(tmp_path) -> None:
    """The upgrade marks a verdict seen by a view dated after it arrived, whatever their order in the
    audit: a view while the clock ran ahead, before the verdict arrived on a clock set right, counts.
    ``audit verify`` checks a verdict marked seen against the views, and must take the upgrade's word."""
    clock = Clock(datetime(2026, 6, 1, 9, tzinfo=UTC))
    store = open_store(tmp_path, clock=clock)
    opened = record_one(store, small_photo(), sample_record(score=0.05))
    clock.now += timedelta(days=3)  # ahead
    store.view(opened.result_id)
    clock.now -= timedelta(days=2)  # set right
    assert store.add_review(review(opened.result_id, "refer", 1)) == "stored"
    back_to_before_opened_at(store)
    store = open_store(tmp_path, clock=clock)
    assert store.records.connection.execute("SELECT opened_at FROM review").fetchone()[0] is not None
    assert store.records.verify_audit().intact


def test_an_unread_verdict_on_a_device_that_had_the_call_back_list_stays_to_be_called_back(tmp_path) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    store = open_store(tmp_path, clock=clock)
    unread = record_one(store, small_photo(), sample_record(score=0.05))
    assert store.add_review(review(unread.result_id, "refer", 1)) == "stored"
    back_to(store.records.connection, BEFORE_LAST_BACKUP - 1)  # the release before the backfill
    store.records.close()
    store = open_store(tmp_path, clock=clock)
    assert verdicts_to_act_on(store).patients == 1


def cleared_then_referred(tmp_path, comment: str | None = None) -> tuple[ScreeningStore, str]:
    """A screening of patient MRN-4471 the device cleared, and a specialist's referral of it
    (``rev-1``, with ``comment``): a call-back, whose record the damage tests below then harm."""
    store = open_store(tmp_path)
    context = ScreeningContext(eye="L", patient_ref="MRN-4471")
    cleared = record_one(store, small_photo(), sample_record(context, score=0.05)).result_id
    store.add_review(Review("rev-1", cleared, "refer", datetime.now(UTC), "dr-lopez", comment))
    return store, cleared


def test_a_call_back_whose_record_does_not_open_stays_to_be_called_back(tmp_path) -> None:
    """On main the verdicts were marked seen before the record was read: a patient reference a worn
    card had damaged failed the view (an error page) and cleared the call-back all the same, so the
    banner and the red badge went without the nurse ever seeing the referral or whom to call."""
    store, cleared = cleared_then_referred(tmp_path)
    damage_a_sealed_value(store, "SELECT patient_sealed FROM screening")
    store = open_store(tmp_path)
    with pytest.raises(SealBroken):
        store.view(cleared)
    assert verdicts_to_act_on(store).patients == 1
    assert entries_of(store.records, [cleared])[0].call_back == "refer"


def test_a_comment_the_card_damaged_leaves_the_verdict_and_the_patient_to_call_back_readable(tmp_path, caplog) -> None:
    """On main one damaged comment failed the whole view: the nurse could not read the referral, nor
    the patient's reference a call-back needs, though neither was damaged."""
    store, cleared = cleared_then_referred(tmp_path, "Neovessels at the disc: see this week")
    damage_a_sealed_value(store, "SELECT comment_sealed FROM review")
    store = open_store(tmp_path)
    record = store.view(cleared)
    assert record["patient_ref"] == "MRN-4471"
    [shown] = record["reviews"]
    assert (shown["verdict"], shown["comment"], shown["comment_unreadable"]) == ("refer", None, True)
    assert verdicts_to_act_on(store).patients == 0  # the referral was shown: called back
    (logged,) = [r.getMessage() for r in caplog.records if "records.comment_unreadable" in r.getMessage()]
    assert "rev-1" in logged and cleared in logged


def test_a_photo_the_card_damaged_leaves_the_record_of_a_call_back_readable(tmp_path, caplog) -> None:
    """On main the record with its photo (what the nurse's records screen asks for, fundus or lesion)
    failed whole when the photo, the largest value and so the likeliest a worn card hits, did not open:
    neither the referral nor the patient to call back could be read."""
    store, cleared = cleared_then_referred(tmp_path)
    damage_a_sealed_value(store, "SELECT sealed FROM image")
    store = open_store(tmp_path)
    record = store.view(cleared, with_photo=True)
    assert (record["patient_ref"], record["photo"], record["photo_unreadable"]) == ("MRN-4471", None, True)
    assert [shown["verdict"] for shown in record["reviews"]] == ["refer"]
    assert verdicts_to_act_on(store).patients == 0  # the referral was shown: called back
    (logged,) = [r.getMessage() for r in caplog.records if "records.photo_unreadable" in r.getMessage()]
    assert cleared in logged


def test_a_patient_erased_since_leaves_no_eye_to_call_back_on_today(tmp_path) -> None:
    """Erasure removed the patient's screenings, and Today still said "Not photographed yet: call back"
    for the eye their visit left: a prompt to call back someone the device must no longer know. The
    visit's event names its result ids only (the audit log is never erased): once none is recorded,
    the row goes; a visit of another patient keeps its own."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    store = open_store(tmp_path)
    records = store.records
    clock = records.clock_state(records.clock()).value
    for reference in ("MRN-ERASE-ME", "MRN-KEEP-ME"):
        right = record_one(store, small_photo(), sample_record(ScreeningContext(reference, eye="R"))).result_id
        store.audit(VISIT_EVENT, not_photographed_event(["L"], "amina", clock, records.boot(), [right]))
    assert len(missed_eyes(store, today)) == 2
    store.erase_patient("MRN-ERASE-ME")
    kept = [entry.result_id for entry in worklist(store.records, today) if entry.outcome == NOT_PHOTOGRAPHED]
    assert kept == list(store.search_patient("MRN-KEEP-ME").result_ids)


def test_a_visit_lost_to_a_restart_lists_the_eyes_it_left_to_call_back_and_keeps_no_patient(tmp_path) -> None:
    """The visit lived in the app's memory: a restart with the right eye recorded and the left not
    lost it, and Today never listed the left eye. Kept in the records from its start (its eyes and
    results, no patient), it is listed when the app next starts as not finished, for the eye it left,
    opening the record of the eye it photographed; a visit finished, or all photographed, is not."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    store = open_store(tmp_path)
    visit_started(store, "lost", "MRN-LOST-1", ["R", "L"], "amina")
    right = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-LOST-1", eye="R"))).result_id
    visit_recorded(store, "lost", right)
    visit_started(store, "finished", "MRN-FINISHED", ["L"], "amina")
    visit_finished(store, "finished", None)
    visit_started(store, "all-done", "MRN-DONE-2", ["L"], "amina")
    left = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-DONE-2", eye="L"))).result_id
    visit_recorded(store, "all-done", left)
    kept = store.records.connection.execute("SELECT * FROM open_visit").fetchall()
    assert len(kept) == 2 and not any(b"MRN" in str(tuple(row)).encode() for row in kept)
    assert missed_eyes(store, today) == []  # open, not lost: the app holding them may finish them
    store.records.close()

    store = open_store(tmp_path)
    assert close_lost_visits(store.records) == 2
    lost = [entry for entry in worklist(store.records, today) if entry.outcome == NOT_PHOTOGRAPHED]
    assert [(entry.eye, entry.result_id, entry.triage) for entry in lost] == [("L", right, "visit_not_finished")]
    assert store.records.connection.execute("SELECT count(*) FROM open_visit").fetchone()[0] == 0
    assert close_lost_visits(store.records) == 0  # listed once, not at every start
    assert len(missed_eyes(store, today)) == 1
    store.erase_patient("MRN-LOST-1")
    assert missed_eyes(store, today) == []


def test_a_visit_dropped_unfinished_lists_its_eye_at_once_and_leaves_the_others_open(tmp_path) -> None:
    """A session dropping its visit unfinished (sign-out mid-visit, another operator at the locked
    screen) left its row open until the next restart, maybe days later: its eye reached Today only
    then. Closed at once as a lost visit is, it is listed now, and the other visits stay open."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    store = open_store(tmp_path)
    visit_started(store, "dropped", "MRN-DROP-1", ["R", "L"], "amina")
    right = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-DROP-1", eye="R"))).result_id
    visit_recorded(store, "dropped", right)
    visit_started(store, "other", "MRN-OTHER", ["L"], "amina")
    close_visit_not_finished(store.records, "dropped")
    lost = [entry for entry in worklist(store.records, today) if entry.outcome == NOT_PHOTOGRAPHED]
    assert [(entry.eye, entry.result_id, entry.triage) for entry in lost] == [("L", right, "visit_not_finished")]
    close_visit_not_finished(store.records, "dropped")  # closed once: a second call lists nothing more
    assert len(missed_eyes(store, today)) == 1
    assert close_lost_visits(store.records) == 1  # only the other visit was still open


def test_a_visit_lost_before_any_photo_lists_no_row_that_opens_nobody(tmp_path) -> None:
    """A visit lost before any photo (a restart, a sign-out or a forgotten screen right after Start)
    listed its eyes "Visit not finished: call back" with nothing to open: no record of it names the
    patient (the visit keeps none, the audit log never can), so the nurse had a call-back and nobody to
    call. It is not listed; the audit log keeps it, and a visit with a photo still lists its eye."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    store = open_store(tmp_path)
    visit_started(store, "before-any-photo", "MRN-NO-PHOTO", ["R", "L"], "amina")
    visit_started(store, "one-photo", "MRN-ONE-PHOTO", ["R", "L"], "amina")
    right = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-ONE-PHOTO", eye="R"))).result_id
    visit_recorded(store, "one-photo", right)
    assert close_lost_visits(store.records) == 2
    lost = [entry for entry in worklist(store.records, today) if entry.outcome == NOT_PHOTOGRAPHED]
    assert [(entry.eye, entry.result_id) for entry in lost] == [("L", right)]
    audited = store.records.connection.execute("SELECT count(*) FROM audit WHERE kind = ?", (VISIT_EVENT,))
    assert audited.fetchone()[0] == 2


def test_a_lost_visit_is_said_listed_only_when_today_lists_its_eye_since_it_was_lost(tmp_path) -> None:
    """The sign-in screen after a restart sends the nurse to Today only when Today lists an eye of a visit
    lost since then: one lost before any photo lists nothing, an eye the nurse left with "Finish anyway"
    is no lost visit, and a visit lost before ``lost_from`` (an earlier run's, say) is not this one."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    store = open_store(tmp_path)
    started = store.records.clock()
    visit_started(store, "before-any-photo", "MRN-NO-PHOTO", ["R", "L"], "amina")
    close_visit_not_finished(store.records, "before-any-photo")
    right = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-FINISHED", eye="R"))).result_id
    visit_started(store, "finished", "MRN-FINISHED", ["R", "L"], "amina")
    visit_recorded(store, "finished", right)
    visit_finished(store, "finished", not_photographed_event(["L"], "amina", results=[right]))
    assert not lost_visit_listed(store.records, today, started)
    visit_started(store, "one-photo", "MRN-LOST", ["R", "L"], "amina")
    left = record_one(store, small_photo(), sample_record(ScreeningContext("MRN-LOST", eye="L"))).result_id
    visit_recorded(store, "one-photo", left)
    close_visit_not_finished(store.records, "one-photo")
    assert lost_visit_listed(store.records, today, started)
    assert not lost_visit_listed(store.records, today, store.records.clock() + timedelta(seconds=1))
