"""The visits in progress, kept in the records while the app holds them in memory (web/visit.py).

A visit lives in the app's memory until the nurse finishes it. An app restart mid-visit (SIGTERM, a
crash, an update) lost it, and with it the eye not photographed yet: Today never listed that eye, and
nobody called the patient back. So each visit is kept here from its start until it is finished: the
eyes expected (none for a skin visit) and the results recorded, and whom it is of only as a keyed
digest of the reference (``ScreeningStore.visit_key``), which the patient's erasure finds and clears
(the results' records name the patient, sealed, and erasure removes them): ``edgescreen erase``, a
process of its own, tells whoever erases that a visit of the patient is open on the app's screens.
The app starting finds those its last run left open and records each as "Finish anyway" records a
visit (``worklist.not_photographed_event``), marked not finished, so Today
lists its eyes not photographed to call back (none once the patient is erased: its results are gone).
A session that drops its visit unfinished (a sign-out, another operator at the locked screen, or
forgotten after 12 h idle) closes it so at once, not at the next start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.store import Records, ScreeningStore
from firmware_app.records.worklist import NOT_FINISHED, VISIT_EVENT, not_photographed_event


def visit_started(
    store: ScreeningStore, visit_id: str, reference: str, eyes: Sequence[str], operator: str | None
) -> None:
    """Keep a visit from its start: whom it is of (``reference``, keyed: ``ScreeningStore.visit_key``)
    and the eyes it is to photograph (none, a skin visit: nothing to call back for)."""
    with transaction(store.records.connection) as db:
        db.execute(
            "INSERT INTO open_visit (visit_id, eyes, operator, patient_key) VALUES (?, ?, ?, ?)",
            (visit_id, json.dumps(eyes), operator, store.visit_key(reference)),
        )


def visit_recorded(store: ScreeningStore, visit_id: str, result_id: str) -> None:
    """Add a result recorded for the visit: an eye recorded, and the record Today's row opens. A crash
    before this lists the eye as not photographed after the restart: a call-back too many, never one
    too few."""
    with transaction(store.records.connection) as db:
        db.execute(
            "UPDATE open_visit SET results = json_insert(results, '$[#]', ?) WHERE visit_id = ?", (result_id, visit_id)
        )


def visit_finished(store: ScreeningStore, visit_id: str, event: dict[str, object] | None) -> None:
    """Close the visit, auditing ``event`` (its eyes not photographed, ``not_photographed_event``) if
    any, in one transaction: a crash between the two listed the eye twice after the restart, or never."""
    records = store.records
    with transaction(records.connection) as db:
        if event:
            append_event(db, VISIT_EVENT, event, records.clock())
        db.execute("DELETE FROM open_visit WHERE visit_id = ?", (visit_id,))


def close_visit_not_finished(records: Records, visit_id: str, action: str = NOT_FINISHED) -> None:
    """Record an open visit as not finished, with the eyes no result of it recorded, dated now (the
    day the nurse can still call back), in one transaction: a visit the app's last run lost, or one a
    session dropped unfinished (a sign-out mid-visit, another operator at the locked screen, the
    session forgotten idle), whose eye reached Today only at the next start, maybe days later; or, as
    ``RESTORED``, one a restored backup held open. None open (finished, no eyes): nothing."""
    with transaction(records.connection) as db:
        row = db.execute("SELECT eyes, operator, results FROM open_visit WHERE visit_id = ?", (visit_id,)).fetchone()
        if row is None:
            return
        eyes, operator, results = row
        recorded = json.loads(results)
        marks = ",".join("?" * len(recorded))
        done = {row[0] for row in db.execute(f"SELECT eye FROM screening WHERE result_id IN ({marks})", recorded)}
        if missing := [eye for eye in json.loads(eyes) if eye not in done]:
            now = records.clock()
            clock = records.clock_state(now).value
            event = not_photographed_event(missing, operator, clock, records.boot(), recorded, action)
            append_event(db, VISIT_EVENT, event, now)
        db.execute("DELETE FROM open_visit WHERE visit_id = ?", (visit_id,))


def close_lost_visits(records: Records, action: str = NOT_FINISHED) -> int:
    """Close every visit a previous run of the app left open (``close_visit_not_finished``); how many
    there were. The app calls it as it starts: the visits open then were its last run's, lost with
    it; and a restore, with ``RESTORED``: a backup taken mid-visit holds it open, though it may have
    finished after the backup, which the restored device cannot know (a call-back too many is safe,
    one too few is not; Today says where it comes from). Each in its own transaction: a crash between
    two leaves the rest open for the next start."""
    lost = [row[0] for row in records.connection.execute("SELECT visit_id FROM open_visit ORDER BY rowid")]
    for visit_id in lost:
        close_visit_not_finished(records, visit_id, action)
    return len(lost)
