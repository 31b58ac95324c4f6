"""The outbox as the sync worker sees it: unsent payloads in order, marked sent on the broker's ack.

Rows are appended by ``ScreeningStore.record_screening`` in the screening's own transaction. A row
is marked sent only after the broker acknowledged it (PUBACK); a crash before that means it is sent
again, and receivers de-duplicate on the result id. When a row was handed to the broker is noted too
(``published_at``, with the next batch of acknowledgements): the nurse's worklist shows it as sent,
not yet acknowledged. The worker's connection state is kept here too,
so ``edgescreen sync status`` can read it from another process.

The worker claims the rows it is about to publish in a write transaction of their own: erasure
takes the same lock, so it knows exactly which of a patient's results may already have left.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from edgescreen_wire.checks import WireError
from edgescreen_wire.erasure import parse_erasure
from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.integrity import QUEUED_WITH, WITHHELD, bound_digest, stored_bytes
from firmware_app.records.store import Records

CRASHES = "crashes"
# How many queued erasure requests the broker refuses (its ACL older than the ``erasure`` topic), as the
# worker last learnt: ``doctor`` sends the technician to the site broker's ACL, not to the network.
ERASURES_REFUSED = "erasures_refused"
# The connection state while the broker answers and refuses this device (its connection or its results).
REFUSED = "refused"
# The worker could not start: its TLS files make no context (``sync.tls``); fixed only by a technician.
TLS_UNUSABLE = "tls-unusable"
# The worker meets damaged records (a worn card's page): results it cannot send or mark as sent wait
# for a technician; ``sync status`` and the nurse's readiness list say so instead of "offline".
DAMAGED = "damaged-records"
# Why the worker's last connection failed (``sync.failure``), until one succeeds: ``doctor`` and
# ``sync status`` name it, where only the ``sync.disconnected`` log did. A refusal of the device's
# results, until the broker takes one (``SyncWorker._cause``).
LAST_FAILURE = "last_failure"
# How many of the results ``drop_oldest`` deleted unsent a technician has acknowledged
# (``edgescreen sync acknowledge-dropped``): doctor and the readiness list are amber for the rest.
DROPPED_ACKNOWLEDGED = "dropped_acknowledged"


def process_alive(pid: str | None) -> bool:
    """Whether a process with this id runs (on this device: the records are local)."""
    try:
        number = int(pid or 0)
        if number <= 0:
            return False
        os.kill(number, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    result_id: str
    payload: bytes
    # The payload digest its screening's audit event recorded; None for rows queued before that.
    bound_digest: str | None = None


@dataclass(frozen=True)
class Backlog:
    unsent: int
    sent: int
    oldest_unsent: datetime | None
    withheld: int = 0
    # Unsent results the outbox's ``drop_oldest`` policy deleted: never sent, never to be.
    dropped: int = 0
    # The station's erasure requests the broker has not taken yet (``records/erasure_outbox.py``): with
    # every result sent, still something only this device holds, which a wipe would lose. Those
    # withheld as altered (``erasure_fault``) are counted apart: they wait for nothing, never to be sent.
    waiting_erasures: tuple[int, ...] = ()  # their ``erasure_outbox`` seqs
    erasures_withheld: int = 0

    @property
    def erasure_requests(self) -> int:
        return len(self.waiting_erasures)


@dataclass(frozen=True)
class ErasureRow:
    """A queued ``edgescreen.erasure/1`` document (``records/erasure_outbox.py``)."""

    seq: int
    payload: bytes


def erasure_fault(row: ErasureRow, held: frozenset[str]) -> WireError | None:
    """Why a queued request was altered on the card and must never be published, or ``None``: it fails
    the wire's check, or names a result no erasure recorded as held at the station (``held``:
    ``Outbox.erased_at_the_station``); the station erases what a request names on the device's word."""
    try:
        request = parse_erasure(row.payload)
    except WireError as error:
        return error
    if not set(request.result_ids) <= held:
        return WireError("result_ids: names a result no erasure on this device recorded")
    return None


class Outbox:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._db = records.connection

    def pending(self, after_seq: int, limit: int) -> list[OutboxRow]:
        """The next unsent rows after ``after_seq``, oldest first, with the digests that bind them."""
        rows = self._db.execute(
            f"SELECT o.seq, o.result_id, o.payload, CAST(a.details AS BLOB) FROM outbox o {QUEUED_WITH} "
            f"WHERE o.sent_at IS NULL AND NOT (o.{WITHHELD}) AND o.seq > ? ORDER BY o.seq LIMIT ?",
            (after_seq, limit),
        )
        return [OutboxRow(seq, rid, stored_bytes(blob), bound_digest(details)) for seq, rid, blob, details in rows]

    def claim(self, after_seq: int, limit: int) -> list[OutboxRow]:
        """``pending`` rows, claimed to be published in the same write transaction, so an erasure
        sees each of them either claimed or gone, and ``drop_oldest`` deletes none it claimed
        (``store.IN_FLIGHT``)."""
        with transaction(self._db):
            rows = self.pending(after_seq, limit)
            marks = ",".join("?" * len(rows))
            now = self._records.clock().isoformat()
            self._db.execute(f"UPDATE outbox SET claimed_at = ? WHERE seq IN ({marks})", [now, *(r.seq for r in rows)])
        return rows

    def pending_erasures(self, after_seq: int, limit: int) -> list[ErasureRow]:
        """The station's erasure requests not yet acknowledged by the broker, after ``after_seq``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, payload FROM erasure_outbox WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)
        )
        return [ErasureRow(seq, stored_bytes(payload)) for seq, payload in rows]

    def erased_at_the_station(self) -> frozenset[str]:
        """The result ids every erasure's audit event names as held at the station: a queued request
        may name no other. The event is bound by the audit's hash chain, the request row is not, so a
        request edited on the card to name another patient's results (which the station would erase
        on the device's word) no longer matches what any erasure recorded."""
        rows = self._db.execute("SELECT details FROM audit WHERE kind = 'erasure'")
        named: set[str] = set()
        for (details,) in rows:
            try:
                named.update(json.loads(details).get("results_at_the_station", ()))
            except (ValueError, TypeError, AttributeError):
                continue  # an unreadable event names nothing (``audit verify`` reports it)
        return frozenset(named)

    def erasure_faults(self, rows: Sequence[ErasureRow]) -> dict[int, WireError]:
        """Why each of these queued requests was altered on the card (``erasure_fault``), by seq, for
        those that were: the erasures' audit events read once for them all, not once a request (they
        are every erasure of the device's life, found through their own index, ``audit_erasure``)."""
        if not rows:
            return {}
        held = self.erased_at_the_station()
        return {row.seq: fault for row in rows if (fault := erasure_fault(row, held)) is not None}

    def erasure_delivered(self, seq: int) -> None:
        """The broker has the request (its PUBACK): it leaves the device, and the station erases what it
        names; the erasure's audit event keeps the ids."""
        with transaction(self._db):
            self._db.execute("DELETE FROM erasure_outbox WHERE seq = ?", (seq,))

    def release(self, seqs: Sequence[int]) -> None:
        """Give back claimed rows that were never published (the connection ended first)."""
        if seqs:
            with transaction(self._db):
                marks = ",".join("?" * len(seqs))
                self._db.execute(f"UPDATE outbox SET claimed_at = NULL WHERE seq IN ({marks})", list(seqs))

    def withhold(self, row: OutboxRow, problem: str) -> None:
        """Keep a payload that fails its checks from ever being published; audited, and counted by
        ``sync status``, so a technician runs ``audit verify`` and the queue goes on without it.

        A row gone from the outbox (its patient erased, or ``drop_oldest``, while a full disk made the
        worker wait to withhold it) is left unaudited: there is nothing left to withhold, and an event
        after the erasure's saying it was withheld would tell the audit a result outlived it."""
        with transaction(self._db):
            marked = self._db.execute("UPDATE outbox SET withheld = ? WHERE seq = ?", (problem, row.seq)).rowcount
            if marked:
                append_event(self._db, "sync", {"withheld": row.result_id, "seq": row.seq}, self._records.clock())

    def mark_sent(self, seqs: Sequence[int], published: Sequence[int] = (), screenings: bool = True) -> int:
        """Mark acknowledged rows sent (with their screenings) and audit the batch, and note when the
        ``published`` rows were handed to the broker (the worklist's "sent, not yet acknowledged");
        one transaction, so noting a publication costs no fsync of its own. ``screenings=False``
        leaves the screenings alone: one on a damaged page (the worker's fallback) must not keep its
        acknowledged row in the outbox, to be published again at every connection."""
        if not seqs and not published:
            return 0
        now = self._records.clock()
        with transaction(self._db):
            if published:
                self._db.execute(
                    "UPDATE outbox SET published_at = coalesce(published_at, ?) "
                    f"WHERE seq IN ({','.join('?' * len(published))})",
                    [now.isoformat(), *published],
                )
            if not seqs:
                return 0
            marks = ",".join("?" * len(seqs))
            ids = [
                row[0]
                for row in self._db.execute(
                    f"SELECT result_id FROM outbox WHERE sent_at IS NULL AND seq IN ({marks})", list(seqs)
                )
            ]
            id_marks = ",".join("?" * len(ids))
            self._db.execute(f"UPDATE outbox SET sent_at = ? WHERE seq IN ({marks})", [now.isoformat(), *seqs])
            if screenings:
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
            f"SELECT count(*), min(queued_at) FROM outbox WHERE sent_at IS NULL AND NOT ({WITHHELD})"
        ).fetchone()
        sent = self._db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
        withheld = self._db.execute(f"SELECT count(*) FROM outbox WHERE {WITHHELD}").fetchone()[0]
        dropped = self._db.execute("SELECT count(*) FROM dropped_unsent").fetchone()[0]
        waiting, erasures_withheld = self.erasures_to_send()
        oldest_at = datetime.fromisoformat(oldest) if oldest else None
        seqs = tuple(row.seq for row in waiting)
        return Backlog(unsent, sent, oldest_at, withheld, dropped, seqs, erasures_withheld)

    def acknowledge_dropped(self) -> int:
        """A technician has seen the results ``drop_oldest`` deleted unsent (audited): doctor stops
        warning of them, and warns again of the next one dropped. How many were newly acknowledged.
        Counted, not dated: a drop dated by a wrong clock is acknowledged all the same."""
        with transaction(self._db):
            dropped = self._db.execute("SELECT count(*) FROM dropped_unsent").fetchone()[0]
            newly = unacknowledged_drops(dropped, self.state())
            if newly:
                self._set_state_in_transaction({DROPPED_ACKNOWLEDGED: str(dropped)})
                append_event(self._db, "sync", {"dropped_acknowledged": newly}, self._records.clock())
        return newly

    def erasures_to_send(self) -> tuple[list[ErasureRow], int]:
        """The queued erasure requests that wait for the broker, oldest first, and how many more are
        withheld as altered (``erasure_fault``), which wait for nothing: ``backlog`` counts the first, and a
        wipe of a device that can never reach its station writes them out for its administrator."""
        erasures = [ErasureRow(seq, stored_bytes(payload)) for seq, payload in self._db.execute(self._ERASURES)]
        faults = self.erasure_faults(erasures)
        return [row for row in erasures if row.seq not in faults], len(faults)

    _ERASURES = "SELECT seq, payload FROM erasure_outbox ORDER BY seq"

    def _set_state_in_transaction(self, values: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def set_connection(self, state: str, detail: str = "", failure: str | None = None) -> None:
        """Record the worker's connection state (``connecting``, ``connected``, ``disconnected``,
        ``refused``, ``stopped``, ``tls-unusable``) and, unless None, the last failure's cause
        (``LAST_FAILURE``; ``""`` for none, or none known)."""
        with transaction(self._db):
            self._set_state_in_transaction(
                {
                    "connection": state,
                    "connection_since": self._records.clock().isoformat(),
                    "connection_detail": detail,
                    "worker_pid": str(os.getpid()),
                    **({} if failure is None else {LAST_FAILURE: failure}),
                }
            )

    def note_erasures_refused(self, count: int) -> None:
        """Record how many queued erasure requests the broker refuses (``ERASURES_REFUSED``)."""
        with transaction(self._db):
            self._set_state_in_transaction({ERASURES_REFUSED: str(count)})

    def forget_connection(self, why: str) -> None:
        """Records restored from a backup: the backed-up device's connection, worker and unclean
        stop are not this device's, so status and doctor must not show them, nor the next start
        count them as a crash."""
        with transaction(self._db):
            self._set_state_in_transaction(
                {
                    "connection": "stopped",
                    # Since the restore, by this device's clock: the backed-up time was the old worker's.
                    "connection_since": self._records.clock().isoformat(),
                    "connection_detail": why,
                    "worker_pid": "",
                    CRASHES: "0",
                    ERASURES_REFUSED: "0",
                    LAST_FAILURE: "",
                }
            )

    def note_start(self) -> int:
        """Record this worker's start; a previous worker that neither stopped cleanly nor still runs
        died (an error, a kill), and is counted, so ``sync status`` can tell a crash loop (the
        service manager restarting it again and again) from a worker that stopped. Returns the count."""
        now = self._records.clock().isoformat()
        with transaction(self._db):
            state = self.state()
            crashes = int(state.get(CRASHES, "0"))
            previous = state.get("connection", "stopped")
            if previous != "stopped" and not process_alive(state.get("worker_pid")):
                crashes += 1
                # Its error when it caught one (``crashed``); else the state it was killed in, whose
                # detail is no reason (while connected, it is the broker's address).
                error = state.get("connection_detail", "") if previous == "crashed" else ""
                self._set_state_in_transaction(
                    {"last_crash": now, "last_crash_detail": error, "last_crash_state": previous}
                )
            started = {"connection": "starting", "connection_since": now, "worker_pid": str(os.getpid())}
            self._set_state_in_transaction({CRASHES: str(crashes), **started})
        return crashes

    def mark_stopped(self, crash: str | None) -> None:
        """The worker's end: ``stopped`` (and the crash count reset) when clean, ``crashed`` with the
        error when not; the next start counts the crash."""
        if crash is None:
            self.set_connection("stopped")
            with transaction(self._db):
                self._set_state_in_transaction({CRASHES: "0"})
        else:
            self.set_connection("crashed", crash)

    def state(self) -> dict[str, str]:
        return {key: value for key, value in self._db.execute("SELECT key, value FROM sync_state")}


def unacknowledged_drops(dropped: int, state: dict[str, str]) -> int:
    """Of the ``dropped`` results deleted unsent, those no technician has acknowledged yet."""
    return max(0, dropped - int(state.get(DROPPED_ACKNOWLEDGED, "0")))
