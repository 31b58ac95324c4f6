"""The screenings of a period as the nurse's worklist sees them: sync state and specialist verdict,
and the eyes a nurse chose to leave unphotographed when finishing a visit.

Reads codes and times only; nothing sealed is opened, so listing the day is not an audited view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from firmware_app.records.store import Records


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
    # The latest specialist verdict received for it, if any.
    verdict: str | None


# The audit event of a visit finished with eyes never photographed, and the worklist's outcome for
# each such eye (no result, nothing to send). The event names no patient: the audit log is never erased.
VISIT_EVENT = "visit"
NOT_PHOTOGRAPHED = "not_photographed"
NOTHING_TO_SEND = "nothing"


def not_photographed_event(eyes: Sequence[str], operator: str | None) -> dict[str, object]:
    """The details of the audit event that records a visit finished without ``eyes``."""
    return {"action": "finished", NOT_PHOTOGRAPHED: list(eyes), "operator": operator}


def _not_photographed(records: Records, since: datetime) -> list[WorklistEntry]:
    """One entry per eye left unphotographed by a visit finished since ``since``."""
    rows = records.connection.execute(
        "SELECT at, details FROM audit WHERE kind = ? AND at >= ?", [VISIT_EVENT, since.isoformat()]
    )
    entries = []
    for at, details in rows:
        event, when = json.loads(details), datetime.fromisoformat(at)
        for eye in event.get(NOT_PHOTOGRAPHED, []):
            entries.append(
                WorklistEntry("", when, "fundus", eye, None, NOT_PHOTOGRAPHED, event["operator"], NOTHING_TO_SEND, None)
            )
    return entries


_SELECT = (
    "SELECT s.result_id, s.recorded_at, s.modality, s.eye, s.body_site, s.outcome, s.operator, "
    "o.sent_at IS NOT NULL OR s.synced_at IS NOT NULL AS acknowledged, o.published_at IS NOT NULL AS published, "
    "(SELECT verdict FROM review r WHERE r.result_id = s.result_id ORDER BY received_at DESC LIMIT 1) AS verdict "
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
        )
        for row in rows
    ]


def worklist(
    records: Records, since: datetime, with_verdict_only: bool = False, operator: str | None = None
) -> list[WorklistEntry]:
    """The screenings recorded since ``since`` and the eyes left unphotographed since, newest first;
    optionally only those with a verdict, or only one operator's."""
    entries = _entries(records, "s.recorded_at >= ?", [since.isoformat()]) + _not_photographed(records, since)
    entries.sort(key=lambda entry: entry.recorded_at, reverse=True)
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
