"""Issue 8, point 3: a wrong clock neither blocks nor deletes results, and says so on the result.

A Pi without a real-time clock boots in 1970 until NTP sets it; a hand-set clock may be a year ahead.
The clock here is the store's injected one, set as those clocks would be."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from edgescreen_wire.result import validate_result
from firmware_app.health.checks import check_backlog
from firmware_app.messages import sentence
from firmware_app.records.clock import BUILD_DATE, ClockState, kernel_clock_synchronised, reading_state
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import Review
from firmware_app.records.store import OutboxFull, OutboxLimits, oldest_past_age, unsent_ages
from firmware_app.records_cli import sync_status
from tests.records.kit import open_store, record_one, sample_record, small_photo

BOOTED_IN_1970 = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)
RIGHT = BUILD_DATE + timedelta(days=200)


@pytest.fixture(scope="module")
def photo(retina_rgb):
    return small_photo(retina_rgb)


class Clock:
    """The wall clock, set by assigning ``now`` (as NTP or a hand steps it), and the boot's clock that
    nothing sets (``boottime``): only ``wait`` moves both, as time passing does."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.uptime = 0.0

    def __call__(self) -> datetime:
        return self.now

    def boottime(self) -> float:
        return self.uptime

    def wait(self, time: timedelta) -> None:
        self.now += time
        self.uptime += time.total_seconds()


def test_the_kernel_is_asked_whether_the_clock_is_synchronised():
    assert kernel_clock_synchronised() in (True, False)


def test_reading_states():
    assert reading_state(BOOTED_IN_1970, BOOTED_IN_1970, synchronised=False) is ClockState.BEFORE_BUILD
    assert reading_state(RIGHT, RIGHT, synchronised=True) is ClockState.SYNCHRONISED
    assert reading_state(RIGHT, RIGHT, synchronised=False) is ClockState.UNSYNCHRONISED
    assert reading_state(RIGHT + timedelta(days=1), RIGHT, synchronised=True) is ClockState.FUTURE


def payload_of(store, result_id: str) -> dict:
    row = store.records.connection.execute("SELECT payload FROM outbox WHERE result_id = ?", (result_id,))
    return json.loads(row.fetchone()[0])


@pytest.mark.parametrize("policy", ["refuse", "drop_oldest"])
def test_results_recorded_in_1970_neither_block_nor_get_dropped_once_the_clock_is_right(tmp_path, photo, policy):
    clock = Clock(BOOTED_IN_1970)
    store = open_store(
        tmp_path, limits=OutboxLimits(policy=policy), clock=clock, synchronised=False, boottime=clock.boottime
    )
    early = [record_one(store, photo, sample_record(captured_at=clock.now)).result_id for _ in range(3)]
    store.records.close()

    clock.now = RIGHT  # NTP answered
    store = open_store(
        tmp_path, limits=OutboxLimits(policy=policy), clock=clock, synchronised=True, boottime=clock.boottime
    )
    later = record_one(store, photo, sample_record(captured_at=clock.now)).result_id  # on main: refused, or 3 dropped
    queued = [r[0] for r in store.records.connection.execute("SELECT result_id FROM outbox ORDER BY seq")]
    assert queued == [*early, later]
    assert not store.records.connection.execute("SELECT 1 FROM audit WHERE details LIKE '%dropped%'").fetchone()
    # Each result says which clock its time came from; on the wire as a code.
    states = dict(store.records.connection.execute("SELECT result_id, clock FROM screening"))
    assert [states[r] for r in early] == ["before_build"] * 3 and states[later] == "synchronised"
    assert payload_of(store, early[0])["clock"] == "before_build" and "clock" not in payload_of(store, later)
    validate_result(payload_of(store, early[0]))


@pytest.mark.parametrize("policy", ["refuse", "drop_oldest"])
def test_results_dated_months_early_by_an_unsynchronised_clock_are_not_aged_once_it_is_set_right(
    tmp_path, photo, policy
):
    """A device stored for months boots on its last saved time, and a campaign has no time server: its
    screenings are dated months early. On main, once NTP set the clock, the 90-day age cap read them as
    past it: ``drop_oldest`` deleted them unsent, ``refuse`` refused every new screening. They still
    count against the row cap."""
    clock = Clock(datetime(2026, 12, 5, tzinfo=UTC))  # the last saved time; truly 2027-03-20
    limits = OutboxLimits(max_rows=3, policy=policy)
    store = open_store(tmp_path, limits=limits, clock=clock, synchronised=False, boottime=clock.boottime)
    early = [record_one(store, photo, sample_record(captured_at=clock.now)).result_id for _ in range(2)]
    store.records.close()

    clock.now = datetime(2027, 3, 20, tzinfo=UTC)  # NTP answered
    store = open_store(tmp_path, limits=limits, clock=clock, synchronised=True, boottime=clock.boottime)
    later = record_one(store, photo, sample_record(captured_at=clock.now)).result_id  # on main: refused, or 2 dropped
    db = store.records.connection
    assert [r[0] for r in db.execute("SELECT result_id FROM outbox ORDER BY seq")] == [*early, later]
    assert Outbox(store.records).backlog().dropped == 0
    assert oldest_past_age(store.records, limits.max_age) is None  # readiness: not red
    if policy == "refuse":  # the row cap: 3 waiting
        with pytest.raises(OutboxFull, match="3 results are waiting"):
            record_one(store, photo, sample_record(captured_at=clock.now))
    else:
        record_one(store, photo, sample_record(captured_at=clock.now))
        assert early[0] not in [r[0] for r in db.execute("SELECT result_id FROM outbox")]


@pytest.mark.parametrize("boot", ["test-boot", ""])
def test_a_real_age_cap_still_applies_on_a_synchronised_clock(tmp_path, photo, boot):
    """Without a boot id (``""``: not Linux) every result is of another boot, aged by its date: the
    cap never applied there once results of this boot were aged by its clock alone."""
    clock = Clock(RIGHT)
    store = open_store(tmp_path, limits=OutboxLimits(max_age=timedelta(days=10)), clock=clock, boot=boot)
    record_one(store, photo)
    clock.now += timedelta(days=11)
    with pytest.raises(OutboxFull):
        record_one(store, photo)


def test_a_clock_a_year_ahead_purges_nothing_and_its_times_age_nothing_later(tmp_path, photo):
    """Set by hand, the wall clock jumps and the boot's does not: nothing is a year older on this boot.
    Set right after a restart 40 days on, the verdict dated a year ahead, of an earlier boot, has no age."""
    clock = Clock(RIGHT)
    store = open_store(tmp_path, clock=clock, boottime=clock.boottime)
    outbox = Outbox(store.records)
    first = record_one(store, photo, sample_record(score=0.05))  # cleared: the "no referral" asks nothing
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    assert store.add_review(Review("rev-1", first.result_id, "no_refer", RIGHT, "dr-lopez", None)) == "stored"

    clock.now = RIGHT + timedelta(days=400)  # set by hand: the kernel marks the clock unsynchronised
    ahead = open_store(tmp_path, clock=clock, synchronised=False, boottime=clock.boottime)
    assert ahead.purge_images(timedelta(days=30)) == 0  # on main: every acknowledged image at once
    ahead_outbox = Outbox(ahead.records)
    future = record_one(ahead, photo, sample_record(captured_at=clock.now, score=0.05))
    ahead_outbox.mark_sent([row.seq for row in ahead_outbox.claim(0, 10)])  # synced "in a year"
    assert ahead.add_review(Review("rev-2", future.result_id, "no_refer", clock.now, "dr-lopez", None)) == "stored"
    assert payload_of(ahead, future.result_id)["clock"] == "unsynchronised"

    clock.wait(timedelta(days=40))
    clock.now = RIGHT + timedelta(days=40)  # set right again, by NTP, after a restart
    right = open_store(tmp_path, clock=clock, synchronised=True, boot="the boot after", boottime=clock.boottime)
    assert right.purge_images(timedelta(days=30)) == 1  # the first image, truly 40 days after its sync
    kept = [r[0] for r in right.records.connection.execute("SELECT result_id FROM image")]
    assert kept == [future.result_id]  # synced at a time that has not come yet: not aged


def answered_and_cleared(store, photo, clock: Clock) -> str:
    """A cleared screening (its "no referral" asks nothing of the nurse), sent and answered now."""
    record = record_one(store, photo, sample_record(captured_at=clock.now, score=0.05))
    outbox = Outbox(store.records)
    outbox.mark_sent([row.seq for row in outbox.claim(0, 10)])
    review = Review(f"rev-{record.result_id}", record.result_id, "no_refer", clock.now, "dr-lopez", None)
    assert store.add_review(review) == "stored"
    return record.result_id


@pytest.mark.parametrize("purged_on", ["test-boot", "the boot after"])
def test_a_photo_answered_on_an_unsynchronised_clock_months_behind_is_kept_once_it_is_set_right(
    tmp_path, photo, purged_on
):
    """A device stored for months, synced and answered during a campaign with no time server, dated
    the sync and the verdict months early: on main the first purge after NTP set the clock deleted the
    photo, 30 days of retention read from dates months off, a day after the verdict truly arrived.
    On this boot its clock, never set, ages it truly (before, it was kept until a restart, its result
    aged all the while); after a restart its date, read on a clock not set, ages nothing."""
    clock = Clock(datetime(2026, 12, 5, tzinfo=UTC))  # the last saved time; truly 2027-03-20
    store = open_store(tmp_path, clock=clock, synchronised=False, boottime=clock.boottime)
    campaign = answered_and_cleared(store, photo, clock)
    store.records.close()

    clock.now = datetime(2027, 3, 20, tzinfo=UTC)  # NTP answered: the clock steps, the boot goes on
    store = open_store(tmp_path, clock=clock, synchronised=True, boottime=clock.boottime)
    answered_and_cleared(store, photo, clock)
    assert store.purge_images(timedelta(days=30)) == 0  # on main: 1, the campaign's photo
    store.records.close()
    clock.wait(timedelta(days=31))
    store = open_store(tmp_path, clock=clock, synchronised=True, boot=purged_on, boottime=clock.boottime)
    kept = [] if purged_on == "test-boot" else [campaign]
    assert store.purge_images(timedelta(days=30)) == 2 - len(kept)  # the one answered on a synchronised clock
    assert [r[0] for r in store.records.connection.execute("SELECT result_id FROM image")] == kept


def test_a_device_with_no_time_server_purges_the_photos_answered_on_this_boot_at_their_true_age(tmp_path, photo):
    """The purge ages a verdict's arrival by the outbox's rule (``records.store.Aged``): on this boot by
    the boot's clock. Before, it was deferred on any clock not synchronised: a site without a time
    server kept every photo on the card for good, while the outbox aged their results."""
    clock = Clock(RIGHT)
    store = open_store(tmp_path, clock=clock, synchronised=False, boottime=clock.boottime)
    answered_and_cleared(store, photo, clock)
    clock.wait(timedelta(days=29))
    assert store.purge_images(timedelta(days=30)) == 0
    clock.wait(timedelta(days=2))
    assert store.purge_images(timedelta(days=30)) == 1  # before: 0, deferred
    assert not store.records.connection.execute("SELECT 1 FROM image").fetchone()


def waited(store) -> tuple[int, int | None, int, str]:
    """What ``sync status`` says of the backlog, and the readiness list's line for it."""
    status = sync_status(store.records)
    check = check_backlog(status, max_rows=1000, refuses_when_full=True)
    return status["backlog"], status["oldest_unsent_age_s"], status["undated_unsent"], check.message_key


def test_a_backlog_queued_on_an_unsynchronised_clock_months_behind_reads_its_true_age_once_ntp_sets_it(tmp_path, photo):
    """The reviewer's case of 1b7f8113: a device stored for months boots on its last saved time and
    screens before NTP answers; once it does, on this boot, main aged the backlog by its dates:
    ``sync status`` 105 days, the readiness list amber "the oldest for 105 days", the banner months.
    The boot's own clock, never set, says the three hours they truly waited."""
    clock = Clock(datetime(2026, 12, 5, tzinfo=UTC))  # the last saved time; truly 2027-03-20
    store = open_store(tmp_path, clock=clock, synchronised=False, boottime=clock.boottime)
    for _ in range(2):
        record_one(store, photo, sample_record(captured_at=clock.now))
    store.records.close()

    clock.wait(timedelta(hours=2))
    clock.now = datetime(2027, 3, 20, 2, tzinfo=UTC)  # NTP answered: the clock steps, the boot goes on
    store = open_store(tmp_path, clock=clock, synchronised=True, boottime=clock.boottime)
    record_one(store, photo, sample_record(captured_at=clock.now))
    clock.wait(timedelta(hours=1))
    assert waited(store) == (3, 3 * 3600, 0, "health.backlog.green")  # on main: 9079200 s, amber


def test_a_device_with_no_time_server_ages_its_results_and_enforces_its_age_cap(tmp_path, photo):
    """A site without a time server: the kernel never calls the clock synchronised. Results still
    have an age (the offline banner says how long), and the age cap holds on this boot, which main
    never applied on such a clock: the backlog grew past ``outbox_max_age_days`` unrefused."""
    clock = Clock(RIGHT)
    limits = OutboxLimits(max_age=timedelta(days=10))
    store = open_store(tmp_path, limits=limits, clock=clock, synchronised=False, boottime=clock.boottime)
    record_one(store, photo, sample_record(captured_at=clock.now))
    clock.wait(timedelta(days=3))
    assert waited(store) == (1, 3 * 86400, 0, "health.backlog.amber")
    clock.wait(timedelta(days=8))
    assert oldest_past_age(store.records, limits.max_age) == RIGHT.isoformat()  # readiness: red
    with pytest.raises(OutboxFull, match="cap 10 days"):
        record_one(store, photo, sample_record(captured_at=clock.now))


def test_the_age_caps_refusal_names_no_date_a_clock_not_set_gave_and_is_said_in_the_devices_language(tmp_path, photo):
    """A device stored for months boots on its last saved time, and no time server sets it: its result,
    queued on this boot, is aged by the boot's clock past the cap, and the refusal said "the oldest
    since 2026-12-05T00:00:00+00:00", a date months wrong, in English alone. It names the age cap now,
    never a date the clock cannot vouch for, and says it in any language (``detail_in``)."""
    clock = Clock(datetime(2026, 12, 5, tzinfo=UTC))  # the last saved time; truly months later
    limits = OutboxLimits(max_age=timedelta(days=10))
    store = open_store(tmp_path, limits=limits, clock=clock, synchronised=False, boottime=clock.boottime)
    record_one(store, photo, sample_record(captured_at=clock.now))
    clock.wait(timedelta(days=11))
    with pytest.raises(OutboxFull) as refused:
        record_one(store, photo, sample_record(captured_at=clock.now))
    values = {"count": 1, "cap": limits.max_rows, "days": 10}
    assert str(refused.value) == sentence("records.outbox_full.too_old", "en", **values)
    assert "2026-12-05" not in str(refused.value)
    assert refused.value.detail_in("fr") == sentence("records.outbox_full.too_old", "fr", **values)


def test_a_result_of_an_earlier_boot_on_an_unsynchronised_clock_has_no_age(tmp_path, photo):
    """Across a restart the boot's clock starts again: a result queued before it is aged by its date
    only when a synchronised clock read it. One on an unset clock is undated, never fresh."""
    clock = Clock(RIGHT)
    store = open_store(tmp_path, clock=clock, synchronised=False, boot="an earlier boot", boottime=clock.boottime)
    record_one(store, photo, sample_record(captured_at=clock.now))
    store.records.close()
    store = open_store(tmp_path, clock=clock, synchronised=True, boot="the boot after", boottime=clock.boottime)
    record_one(store, photo, sample_record(captured_at=clock.now))
    store.records.close()

    clock.wait(timedelta(days=1))
    store = open_store(tmp_path, clock=clock, synchronised=True, boot="this boot", boottime=clock.boottime)
    assert waited(store) == (2, 86400, 1, "health.backlog.undated")


WAITED = timedelta(days=11)
# How an unsent result was queued (boot, clock synchronised), then read after ``WAITED``: the wall
# clock's step meanwhile, the boot read on (``""``: no boot id, not Linux), whether synchronised then.
AGE_CASES = {
    "this boot": ("boot-1", True, timedelta(0), "boot-1", True),
    "this boot, no time server": ("boot-1", False, timedelta(0), "boot-1", False),
    "this boot, the clock set back a year": ("boot-1", True, -timedelta(days=365), "boot-1", False),
    "another boot": ("boot-1", True, timedelta(0), "boot-2", True),
    "another boot, read on a clock not synchronised": ("boot-1", True, timedelta(0), "boot-2", False),
    "another boot, queued on a clock not synchronised": ("boot-1", False, timedelta(0), "boot-2", True),
    "no boot recorded": ("", True, timedelta(0), "", True),
    "no boot recorded, read on a clock not synchronised": ("", True, timedelta(0), "", False),
    "queued in the future": ("boot-1", True, -timedelta(days=400), "boot-2", True),
    "read in 1970": ("boot-1", True, BOOTED_IN_1970 - RIGHT - WAITED, "boot-2", False),
}


@pytest.mark.parametrize("case", AGE_CASES)
def test_the_age_cap_drops_exactly_the_results_whose_shown_age_exceeds_it(tmp_path, photo, case):
    """The age ``sync status`` and the readiness list show (``QUEUED_AGE``) and the cap a recording
    applies (``QUEUED_PAST_AGE``, asked as ``oldest_past_age`` and as ``drop_oldest`` deletes) are one
    rule (``Aged``), but for the one case it tells apart on purpose: a time of another boot (or of none
    kept) read on a clock not synchronised now is shown by that clock, the nurse's guide, and never
    deleted by it (``Aged``'s docstring)."""
    queued_boot, queued_synchronised, step, boot, synchronised = AGE_CASES[case]
    acted_on = bool(boot and boot == queued_boot) or synchronised
    clock = Clock(RIGHT)
    store = open_store(
        tmp_path, clock=clock, synchronised=queued_synchronised, boot=queued_boot, boottime=clock.boottime
    )
    waiting = record_one(store, photo, sample_record(captured_at=clock.now)).result_id
    store.records.close()

    clock.wait(WAITED)
    clock.now += step
    cap = OutboxLimits(max_age=timedelta(days=10), policy="drop_oldest")
    store = open_store(tmp_path, limits=cap, clock=clock, synchronised=synchronised, boot=boot, boottime=clock.boottime)
    shown = unsent_ages(store.records).oldest
    for max_age in (timedelta(days=1), cap.max_age, timedelta(days=12)):
        past = acted_on and shown is not None and shown > max_age
        assert (oldest_past_age(store.records, max_age) is not None) == past, (shown, max_age)
    record_one(store, photo, sample_record(captured_at=clock.now))
    kept = [r[0] for r in store.records.connection.execute("SELECT result_id FROM outbox")]
    assert (waiting not in kept) == (acted_on and shown is not None and shown > cap.max_age), shown
