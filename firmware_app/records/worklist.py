"""The screenings of a period as the nurse's worklist sees them: sync state and specialist verdict,
and the eyes a nurse chose to leave unphotographed when finishing a visit.

Reads codes and times only, so listing the day is not an audited view; the call-back count opens the
patients' references to tell them apart, and shows none.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from edgescreen_wire.result import NOT_PHOTOGRAPHED as CANNOT_PHOTOGRAPH
from firmware_app.records.clock import FUTURE_TOLERANCE, ClockState
from firmware_app.records.integrity import QUEUED_WITH, WITHHELD, bound_digest, payload_altered, stored_bytes
from firmware_app.records.store import Records, ScreeningStore
from firmware_app.records.verdicts import AWAITING_CALL_BACK, CALL_BACK_REASON, LATEST_REVIEW, URGENT, to_call_back


@dataclass(frozen=True)
class WorklistEntry:
    result_id: str
    recorded_at: datetime
    modality: str
    eye: str | None
    body_site: str | None
    outcome: str
    operator: str | None
    # "queued" until the sync worker handed it to the broker, "sent" until the broker acknowledged
    # it, then "acknowledged"; "dropped" when the full outbox deleted it unsent (``drop_oldest``), or
    # "withheld" when its payload was altered on the device (the sync worker withheld it, or will when
    # it comes to it): it will never be sent.
    sync: str
    # The latest specialist verdict received for it, if any, and when the device received it.
    verdict: str | None
    verdict_received_at: datetime | None = None
    # The state of the clock it was dated by (records/clock.py); ``None`` for a visit's eye audited
    # before the event kept it.
    clock: str | None = None
    # Why the specialist's latest verdict asks the nurse to call the patient back, whether or not the
    # record was opened since (records/verdicts.py, ``CALL_BACK_REASON``): the urgency it asks for
    # (``urgent``, ``soon``), the verdict that overturns what the patient was told (a "refer" or
    # "ungradable" of the device's "no_refer", a "no_refer" of its "refer", or an amendment contrary to
    # an earlier verdict whose call-back was opened), or a referral or "no_refer" of an ungradable photo;
    # ``None`` when it asks nothing the patient was not told.
    call_back: str | None = None
    # Whether that call-back still waits for someone to open the record (the banner counts it).
    awaiting_call_back: bool = False
    # Recorded as an eye the nurse could not photograph (``CANNOT_PHOTOGRAPH``): ungradable, referred,
    # and no photo to export.
    unphotographable: bool = False
    # How the visit that left an eye not photographed was closed (its audit event's action): by the
    # nurse's "Finish anyway", lost by the app (``NOT_FINISHED``: a restart mid-visit, records/
    # open_visits.py), or held open by a backup restored since (``RESTORED``).
    visit_closed: str | None = None

    @property
    def triage(self) -> str:
        """How Today and Records name it (``result.heading.*``): an eye that could not be photographed
        (referred) said apart from a photo that could not be graded, and from an eye not photographed
        yet ("Finish anyway", ``NOT_PHOTOGRAPHED`` here: to call back), and from one a visit lost to a
        restart left (to call back too, the nurse never chose it), and from one a restored backup held
        open (to call back too, but it may have been photographed after the backup)."""
        if self.unphotographable:
            return "cannot_photograph"
        return {NOT_FINISHED: "visit_not_finished", RESTORED: "visit_in_backup"}.get(self.visit_closed, self.outcome)

    @property
    def clock_not_set(self) -> bool:
        """Dated by a clock NTP had not set: its time may be off by hours, days or years."""
        return self.clock not in (None, ClockState.SYNCHRONISED)

    @property
    def last_change(self) -> datetime:
        """When the entry last changed for the nurse: screened, or a verdict received since."""
        return max(self.recorded_at, self.verdict_received_at or self.recorded_at)

    @property
    def call_back_rank(self) -> int:
        """Where the entry stands on Today, before the time: a call-back still waiting, the urgent ones
        first, leads the list the banner opens ("2 urgent" must not be below the fold of a long day)."""
        if not self.awaiting_call_back:
            return 2
        return 0 if self.call_back == URGENT else 1


def midnight(day: date | None = None) -> datetime:
    """Where Today starts (or ``day``): the nurse's day, by the device's clock, since UTC's midnight is
    mid-morning or mid-evening elsewhere (a naive local midnight made aware: its own offset, not now's,
    on a day the clocks change)."""
    return datetime.combine(day or date.today(), time()).astimezone()


# The audit event of a visit finished with eyes never photographed, and the worklist's outcome for
# each such eye (no result, nothing to send). The event names no patient: the audit log is never erased.
VISIT_EVENT = "visit"
NOT_PHOTOGRAPHED = "not_photographed"
NOTHING_TO_SEND = "nothing"
# The event's action for a visit the app lost before it was finished (records/open_visits.py), and
# for one a backup held open, closed by its restore (backup.py); the nurse's own is "finished".
NOT_FINISHED = "not_finished"
RESTORED = "restored"


def not_photographed_event(
    eyes: Sequence[str],
    operator: str | None,
    clock: str | None = None,
    boot: str = "",
    results: Sequence[str] = (),
    action: str = "finished",
) -> dict[str, object]:
    """The details of the audit event that records a visit finished without ``eyes``; ``clock``, the
    state of the clock that dates it (as a screening's), so Today marks its time as it marks theirs;
    ``boot``, the kernel's id of the boot it was recorded on, so Today keeps it as it keeps a
    screening recorded on this boot on a clock NTP had not set (``_recorded_today``); ``results``, the
    ids of the visit's results: Today's row opens the patient's record through one (``_not_photographed``),
    where the reference the event never names tells the nurse whom to call back; ``action``,
    ``NOT_FINISHED`` for a visit the app lost before the nurse finished it."""
    event: dict[str, object] = {"action": action, NOT_PHOTOGRAPHED: list(eyes), "operator": operator}
    kept = {"clock": clock} if clock else {}
    return event | kept | ({"boot": boot} if boot else {}) | ({"results": list(results)} if results else {})


def _not_photographed(records: Records, since: datetime) -> list[WorklistEntry]:
    """One entry per eye left unphotographed by a visit finished today, by the screenings' rule
    (``_recorded_today``): by its time when it can be true, or, whatever its time says, on this boot
    on a clock NTP had not set (an event from before the boot was kept has its time alone). None for a
    visit whose results the records no longer hold: only erasure deletes a screening, and a patient
    erased is called back by no one (the event, in the audit log that is never erased, stays). None
    either for a visit that recorded no result (lost before any photo): nothing names its patient, and
    a call-back that opens nobody is one no nurse can make (the event stays in the audit log)."""
    condition = "at BETWEEN ? AND ?"
    parameters: list[object] = [VISIT_EVENT, *_today_bounds(records, since)]
    boot = records.boot()
    if boot:
        condition += " OR (json_extract(details, '$.boot') = ? AND json_extract(details, '$.clock') IS NOT ?)"
        parameters += [boot, ClockState.SYNCHRONISED.value]
    rows = records.connection.execute(f"SELECT at, details FROM audit WHERE kind = ? AND ({condition})", parameters)
    entries = []
    for at, details in rows.fetchall():
        event, when = json.loads(details), datetime.fromisoformat(at)
        opens = _still_recorded(records, event.get("results", []))
        if not opens:
            continue
        for eye in event.get(NOT_PHOTOGRAPHED, []):
            entries.append(
                WorklistEntry(
                    opens,
                    when,
                    "fundus",
                    eye,
                    None,
                    NOT_PHOTOGRAPHED,
                    event["operator"],
                    NOTHING_TO_SEND,
                    None,
                    clock=event.get("clock"),  # none in an event older than this field: its clock is unknown
                    visit_closed=event["action"],
                )
            )
    return entries


def lost_visit_listed(records: Records, since: datetime, lost_from: datetime) -> bool:
    """Whether Today (from ``since``) lists an eye not photographed of a visit the app lost
    (``NOT_FINISHED``) at or after ``lost_from``: what the sign-in screen of a session lost to a restart
    sends the nurse to look at. A visit lost before any photo, or a skin visit, lists nothing there by
    design (``_not_photographed``), and "look at Today" sent her looking for a row that was not there."""
    return any(
        entry.visit_closed == NOT_FINISHED and entry.recorded_at >= lost_from
        for entry in _not_photographed(records, since)
    )


def _still_recorded(records: Records, result_ids: Sequence[str]) -> str:
    """The first of a visit's results the records still hold, whose record names the patient; "" when
    there is none (no eye photographed, or the patient erased since: nobody to call back)."""
    if not result_ids:
        return ""
    marks = ",".join("?" * len(result_ids))
    row = records.connection.execute(
        f"SELECT result_id FROM screening WHERE result_id IN ({marks}) ORDER BY recorded_at LIMIT 1", list(result_ids)
    ).fetchone()
    return row[0] if row else ""


_SELECT = (
    "SELECT s.result_id, s.recorded_at, s.modality, s.eye, s.body_site, s.outcome, s.operator, "
    "o.sent_at IS NOT NULL OR s.synced_at IS NOT NULL AS acknowledged, o.published_at IS NOT NULL AS published, "
    "o.result_id IS NULL AND d.result_id IS NOT NULL AS dropped, "
    f"o.{WITHHELD} AS withheld, "
    # An unsent payload not yet withheld, and the event it was queued with (``_altered``).
    f"CASE WHEN o.sent_at IS NULL AND NOT (o.{WITHHELD}) THEN o.payload END AS unsent_payload, "
    "CAST(a.details AS BLOB) AS queued_with, "
    "r.verdict AS verdict, r.received_at AS verdict_received_at, s.clock AS clock, "
    f"{CALL_BACK_REASON} AS call_back, {AWAITING_CALL_BACK} AS awaiting_call_back, "
    f"EXISTS (SELECT 1 FROM json_each(s.quality, '$.reasons') WHERE value = '{CANNOT_PHOTOGRAPH}') AS unphotographable "
    f"FROM screening s LEFT JOIN outbox o ON o.result_id = s.result_id {QUEUED_WITH} "
    f"LEFT JOIN dropped_unsent d ON d.result_id = s.result_id LEFT JOIN {LATEST_REVIEW} "
)


def _entries(records: Records, where: str, parameters: Sequence[object]) -> list[WorklistEntry]:
    rows = records.connection.execute(f"{_SELECT} WHERE {where} ORDER BY s.recorded_at DESC", parameters)
    return [
        WorklistEntry(
            row["result_id"],
            datetime.fromisoformat(row["recorded_at"]),
            row["modality"],
            row["eye"],
            row["body_site"],
            row["outcome"],
            row["operator"],
            _sync_state(row),
            row["verdict"],
            datetime.fromisoformat(row["verdict_received_at"]) if row["verdict_received_at"] else None,
            row["clock"],
            row["call_back"],
            bool(row["awaiting_call_back"]),
            bool(row["unphotographable"]),
        )
        for row in rows
    ]


def _sync_state(row: sqlite3.Row) -> str:
    """Where a result stands with the broker (``WorklistEntry.sync``)."""
    if row["acknowledged"]:
        return "acknowledged"
    if row["withheld"] or _altered(row):  # published once, altered since, never to be: not "sent" for good
        return "withheld"
    if row["dropped"]:
        return "dropped"
    return "sent" if row["published"] else "queued"


def _altered(row: sqlite3.Row) -> bool:
    """Whether an unsent payload the worker has not withheld yet fails the digest check it will
    withhold it for (``payload_altered``): altered while the device was offline, it read "Waiting to
    send" until the worker next came to it, days later on a campaign. A hash of a few hundred bytes
    for each unsent result the list shows."""
    payload = row["unsent_payload"]
    return payload is not None and payload_altered(stored_bytes(payload), bound_digest(row["queued_with"]))


def _today_bounds(records: Records, since: datetime) -> tuple[str, str]:
    """The times (UTC, ISO 8601, compared as text as the records keep them) a record of today can
    truly bear: from ``since`` to now, give or take the clock's tolerance."""
    return since.astimezone(UTC).isoformat(), (records.clock() + FUTURE_TOLERANCE).isoformat()


def _recorded_today(records: Records, since: datetime) -> tuple[str, list[object]]:
    """Which screenings were recorded today: a condition on ``s`` and its parameters.

    By their time when it can be true: since ``since`` and not after now. But a Pi boots on
    fake-hwclock's saved time (or 1970) until NTP steps its clock, by days either way: a morning
    recorded two days behind would drop off Today, one recorded two days ahead would top it for two
    days. No timestamp can tell; the boot can: a screening recorded since the device started
    (``Records.first_of_this_boot``, kept with the records) on a clock NTP had not set is today's,
    whatever its time says, and is shown marked ``clock_not_set``. A device left on for days keeps
    such screenings on Today until it restarts, which only a device without NTP does for long.
    """
    condition = "s.recorded_at BETWEEN ? AND ?"
    parameters: list[object] = list(_today_bounds(records, since))
    first = records.first_of_this_boot()
    if first is not None:
        condition += " OR (s.rowid >= ? AND s.clock IS NOT ?)"
        parameters += [first, ClockState.SYNCHRONISED.value]
    return condition, parameters


def _received_today(records: Records, since: datetime) -> tuple[str, list[object]]:
    """Which verdicts arrived today: a condition on ``review`` and its parameters, by the screenings'
    rule (``_recorded_today``): by their time when it can be true, or, whatever it says, on this boot
    on a clock NTP had not set. A verdict the broker delivers at boot, before NTP steps the clock, is
    dated by fake-hwclock's saved time: days behind, it never showed on Today the day it came; days
    ahead, it topped Today for days."""
    condition = "received_at BETWEEN ? AND ?"
    parameters: list[object] = list(_today_bounds(records, since))
    boot = records.boot()
    if boot:
        condition += " OR (boot = ? AND clock IS NOT ?)"
        parameters += [boot, ClockState.SYNCHRONISED.value]
    return condition, parameters


def worklist(
    records: Records, since: datetime, with_verdict_only: bool = False, operator: str | None = None
) -> list[WorklistEntry]:
    """The screenings recorded since ``since`` (``_recorded_today``), those of any day whose specialist
    verdict arrived since (a verdict comes days later and must not go unseen) or whose patient is still
    to be called back, and the eyes left unphotographed since; the call-backs still waiting first,
    urgent ones on top (``WorklistEntry.call_back_rank``), then latest change first; optionally only
    those with a verdict, or only one operator's."""
    today, parameters = _recorded_today(records, since)
    received, received_parameters = _received_today(records, since)
    recent = (
        f"{today} OR s.result_id IN (SELECT result_id FROM review WHERE {received}) "
        f"OR s.result_id IN ({to_call_back('s.result_id')})"  # whatever day: the banner leads here
    )
    entries = _entries(records, recent, [*parameters, *received_parameters]) + _not_photographed(records, since)
    entries.sort(key=lambda entry: entry.last_change, reverse=True)
    entries.sort(key=lambda entry: entry.call_back_rank)  # stable: latest change first within each rank
    return [
        entry
        for entry in entries
        if (entry.verdict or not with_verdict_only) and (operator is None or entry.operator == operator)
    ]


def entries_of(records: Records, result_ids: list[str]) -> list[WorklistEntry]:
    """The worklist entries of given results (a patient's, found by ``search_patient``)."""
    return _entries(records, f"s.result_id IN ({','.join('?' * len(result_ids))})", result_ids)


def image_count(records: Records, result_ids: list[str]) -> int:
    marks = ",".join("?" * len(result_ids))
    return records.connection.execute(
        f"SELECT count(*) FROM image WHERE result_id IN ({marks})", result_ids
    ).fetchone()[0]


@dataclass(frozen=True)
class CallBacks:
    """The patients a specialist's latest verdict asks the nurse to call back, of records nobody has
    opened since (shown on every screen until then), and how many of them the specialist marked urgent
    (for any of their results)."""

    patients: int
    urgent: int


def verdicts_to_act_on(store: ScreeningStore) -> CallBacks:
    """The call-backs waiting for the nurse (``CallBacks``), counted by patient: the nurse calls a
    patient, not an eye, and two eyes (or two lesions) of one patient read as "2 patients". Patients
    are told apart by their sealed references (``ScreeningStore.patient_of``), opened to be compared,
    never shown; the list is the unopened call-backs, a handful."""
    rows = store.records.connection.execute(to_call_back(f"s.result_id, s.patient_sealed, r.urgency = '{URGENT}'"))
    urgent_by_patient: dict[tuple[str, str], bool] = {}
    for result_id, sealed, urgent in rows:
        patient = store.patient_of(result_id, sealed)
        urgent_by_patient[patient] = urgent_by_patient.get(patient, False) or bool(urgent)
    return CallBacks(len(urgent_by_patient), sum(urgent_by_patient.values()))
