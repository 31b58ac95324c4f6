"""The screenings of a period as the nurse's worklist sees them: sync state and specialist verdict,
and the eyes a nurse chose to leave unphotographed when finishing a visit.

Reads codes and times only; nothing sealed is opened, so listing the day is not an audited view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from firmware_app.records.store import Records

# A specialist's "refer" on what the device triaged "no_refer" is the verdict the nurse must act on.
REFER, NO_REFER = "refer", "no_refer"


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
    # it, then "acknowledged".
    sync: str
    # The latest specialist verdict received for it, if any, and when the device received it.
    verdict: str | None
    verdict_received_at: datetime | None = None

    @property
    def overturned(self) -> bool:
        """A specialist refers what the device did not: the patient may have gone home told "no
        referral", so the nurse must call them back."""
        return self.verdict == REFER and self.outcome == NO_REFER

    @property
    def last_change(self) -> datetime:
        """When the entry last changed for the nurse: screened, or a verdict received since."""
        return max(self.recorded_at, self.verdict_received_at or self.recorded_at)


# The audit event of a visit finished with eyes never photographed, and the worklist's outcome for
# each such eye (no result, nothing to send). The event names no patient: the audit log is never erased.
VISIT_EVENT = "visit"
NOT_PHOTOGRAPHED = "not_photographed"
NOTHING_TO_SEND = "nothing"


def not_photographed_event(eyes: Sequence[str], operator: str | None) -> dict[str, object]:
    """The details of the audit event that records a visit finished without ``eyes``."""
    return {"action": "finished", NOT_PHOTOGRAPHED: list(eyes), "operator": operator}


def _not_photographed(records: Records, since: str) -> list[WorklistEntry]:
    """One entry per eye left unphotographed by a visit finished since ``since`` (UTC, ISO 8601)."""
    rows = records.connection.execute("SELECT at, details FROM audit WHERE kind = ? AND at >= ?", [VISIT_EVENT, since])
    entries = []
    for at, details in rows:
        event, when = json.loads(details), datetime.fromisoformat(at)
        for eye in event.get(NOT_PHOTOGRAPHED, []):
            entries.append(
                WorklistEntry("", when, "fundus", eye, None, NOT_PHOTOGRAPHED, event["operator"], NOTHING_TO_SEND, None)
            )
    return entries


_LATEST_REVIEW = "FROM review r WHERE r.result_id = s.result_id ORDER BY r.received_at DESC LIMIT 1"
_SELECT = (
    "SELECT s.result_id, s.recorded_at, s.modality, s.eye, s.body_site, s.outcome, s.operator, "
    "o.sent_at IS NOT NULL OR s.synced_at IS NOT NULL AS acknowledged, o.published_at IS NOT NULL AS published, "
    f"(SELECT r.verdict {_LATEST_REVIEW}) AS verdict, (SELECT r.received_at {_LATEST_REVIEW}) AS verdict_received_at "
    "FROM screening s LEFT JOIN outbox o ON o.result_id = s.result_id "
)


def _entries(records: Records, where: str, parameters: list[str]) -> list[WorklistEntry]:
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
            "acknowledged" if row["acknowledged"] else ("sent" if row["published"] else "queued"),
            row["verdict"],
            datetime.fromisoformat(row["verdict_received_at"]) if row["verdict_received_at"] else None,
        )
        for row in rows
    ]


def worklist(
    records: Records, since: datetime, with_verdict_only: bool = False, operator: str | None = None
) -> list[WorklistEntry]:
    """The screenings recorded since ``since``, those of any day whose specialist verdict arrived
    since (a verdict comes days later and must not go unseen), and the eyes left unphotographed
    since; latest change first; optionally only those with a verdict, or only one operator's."""
    moment = since.astimezone(UTC).isoformat()  # the records keep UTC times: compared as text
    recent = (
        "s.recorded_at >= ? OR EXISTS (SELECT 1 FROM review r WHERE r.result_id = s.result_id AND r.received_at >= ?)"
    )
    entries = _entries(records, recent, [moment, moment]) + _not_photographed(records, moment)
    entries.sort(key=lambda entry: entry.last_change, reverse=True)
    return [
        entry
        for entry in entries
        if (entry.verdict or not with_verdict_only) and (operator is None or entry.operator == operator)
    ]


def entries_of(records: Records, result_ids: list[str]) -> list[WorklistEntry]:
    """The worklist entries of given results (a patient's, found by ``results_of_patient``)."""
    return _entries(records, f"s.result_id IN ({','.join('?' * len(result_ids))})", result_ids)


def image_count(records: Records, result_ids: list[str]) -> int:
    marks = ",".join("?" * len(result_ids))
    return records.connection.execute(
        f"SELECT count(*) FROM image WHERE result_id IN ({marks})", result_ids
    ).fetchone()[0]


def verdicts_to_act_on(records: Records) -> int:
    """Screenings the device did not refer and a specialist's latest verdict refers, whose record
    nobody has opened since that verdict arrived: each is a patient to call back, shown on every
    screen until someone opens the record (``Store.view``, an audited ``view`` event)."""
    return records.connection.execute(
        "SELECT count(*) FROM screening s JOIN review r ON r.result_id = s.result_id "
        "WHERE s.outcome = ? AND r.verdict = ? "
        "AND r.received_at = (SELECT max(received_at) FROM review WHERE result_id = s.result_id) "
        "AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.kind = 'view' AND a.at >= r.received_at "
        "AND json_extract(a.details, '$.result_id') = s.result_id)",
        [NO_REFER, REFER],
    ).fetchone()[0]
