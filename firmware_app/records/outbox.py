"""The outbox as the sync worker sees it: unsent payloads in order, marked sent on the broker's ack.

Rows are appended by ``ScreeningStore.record_screening`` in the screening's own transaction. A row
is marked sent only after the broker acknowledged it (PUBACK); a crash before that means it is sent
again, and receivers de-duplicate on the result id. The worker's connection state is kept here too,
so ``edgescreen sync status`` can read it from another process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.store import Records


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    result_id: str
    payload: bytes


@dataclass(frozen=True)
class Backlog:
    unsent: int
    sent: int
    oldest_unsent: datetime | None


class Outbox:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._db = records.connection

    def pending(self, after_seq: int, limit: int) -> list[OutboxRow]:
        """Unsent rows after ``after_seq``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, result_id, payload FROM outbox WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [OutboxRow(seq, result_id, bytes(payload)) for seq, result_id, payload in rows]

    def mark_sent(self, seqs: Sequence[int]) -> int:
        """Mark acknowledged rows sent (with their screenings) and audit the batch; one transaction."""
        if not seqs:
            return 0
        now = self._records.clock()
        marks = ",".join("?" * len(seqs))
        with transaction(self._db):
            ids = [
                row[0]
                for row in self._db.execute(
                    f"SELECT result_id FROM outbox WHERE sent_at IS NULL AND seq IN ({marks})", list(seqs)
                )
            ]
            id_marks = ",".join("?" * len(ids))
            self._db.execute(f"UPDATE outbox SET sent_at = ? WHERE seq IN ({marks})", [now.isoformat(), *seqs])
            self._db.execute(
                f"UPDATE screening SET synced_at = ? WHERE result_id IN ({id_marks})", [now.isoformat(), *ids]
            )
            if ids:
                append_event(
                    self._db, "sync", {"acknowledged": len(ids), "first_seq": min(seqs), "last_seq": max(seqs)}, now
                )
            self._set_state_in_transaction({"last_success": now.isoformat()})
        return len(ids)

    def backlog(self) -> Backlog:
        unsent, oldest = self._db.execute(
            "SELECT count(*), min(queued_at) FROM outbox WHERE sent_at IS NULL"
        ).fetchone()
        sent = self._db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
        return Backlog(unsent, sent, datetime.fromisoformat(oldest) if oldest else None)

    def _set_state_in_transaction(self, values: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def set_connection(self, state: str, detail: str = "") -> None:
        """Record the worker's connection state (``connecting``, ``connected``, ``disconnected``, ``stopped``)."""
        with transaction(self._db):
            self._set_state_in_transaction(
                {
                    "connection": state,
                    "connection_since": self._records.clock().isoformat(),
                    "connection_detail": detail,
                    "worker_pid": str(os.getpid()),
                }
            )

    def state(self) -> dict[str, str]:
        return {key: value for key, value in self._db.execute("SELECT key, value FROM sync_state")}
