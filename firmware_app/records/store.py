"""Recording screenings, and everything later done to them on the device: view, export, erasure,
retention.

A screening is one transaction: the result row, its sealed images, an audit event and an outbox
row (plus a ``model_change`` event when the model differs from the last one used). The disk reserve
and the outbox caps are checked inside that transaction, before anything is written, so a refused
screening leaves no trace and a full disk never half-writes one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from firmware_app.events import log_event
from firmware_app.records.audit import ChainCheck, append_event, verify_chain
from firmware_app.records.database import RecordsError, open_database, transaction
from firmware_app.records.screening import Review, ScreeningRecord
from firmware_app.records.sealing import Sealer, key_fingerprint, load_key

KEY_FINGERPRINT = "key_fingerprint"
# Room for the SQLite pages and indexes around the blobs of one screening.
RECORD_OVERHEAD_BYTES = 256 * 1024
# The WAL grows to about 1000 pages (SQLite's auto-checkpoint) before it is folded into the file.
WAL_HEADROOM_BYTES = 1000 * 4096


class ScreeningRefused(RecordsError):
    """A new screening cannot be recorded now; ``message_key`` names the nurse-facing sentence."""

    message_key = "records.refused"


class StorageFull(ScreeningRefused):
    message_key = "records.storage_full"


class OutboxFull(ScreeningRefused):
    message_key = "records.outbox_full"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutboxLimits:
    """How many unsent results, and how old, before the overflow policy applies."""

    max_rows: int = 100_000
    max_age: timedelta = timedelta(days=90)
    policy: str = "refuse"  # or "drop_oldest": the only path by which an unsent result is lost


@dataclass(frozen=True)
class Erasure:
    results: int
    images: int
    unsent_withdrawn: int


def _same_reference(a: str, b: str) -> bool:
    """Erasure matches references as a nurse would: ignoring case, width and surrounding spaces."""
    return unicodedata.normalize("NFKC", a).strip().casefold() == unicodedata.normalize("NFKC", b).strip().casefold()


class Records:
    """The open records of this device: one connection, its key, and the clock events are dated by."""

    def __init__(self, database: Path, key_file: Path, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = database
        self.clock = clock
        key = load_key(key_file)
        self.sealer = Sealer(key)
        self.connection = open_database(database)
        with transaction(self.connection):
            row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (KEY_FINGERPRINT,)).fetchone()
            if row is None:
                self.connection.execute("INSERT INTO meta VALUES (?, ?)", (KEY_FINGERPRINT, key_fingerprint(key)))
            elif row[0] != key_fingerprint(key):
                raise RecordsError(f"{database}: {key_file} is not the key these records were sealed with")

    def close(self) -> None:
        self.connection.close()

    def meta(self, key: str) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.connection.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def verify_audit(self) -> ChainCheck:
        return verify_chain(self.connection)


class ScreeningStore:
    """Writes screenings and serves the local, audited operations on them."""

    def __init__(self, records: Records, disk_reserve_bytes: int, limits: OutboxLimits) -> None:
        self.records = records
        self._db = records.connection
        self._disk_reserve = disk_reserve_bytes
        self._limits = limits

    def _seal_text(self, text: str | None, binding: str) -> bytes | None:
        return None if text is None else self.records.sealer.seal(text.encode(), binding)

    def _open_text(self, sealed: bytes | None, binding: str) -> str | None:
        return None if sealed is None else self.records.sealer.open(sealed, binding).decode()

    def note_configuration(self, digest: str) -> None:
        """Audit a configuration that differs from the one in force when the last screening ran."""
        with transaction(self._db):
            previous = self.records.meta("config_digest")
            if previous != digest:
                append_event(self._db, "config_change", {"digest": digest, "previous": previous}, self.records.clock())
                self.records.set_meta("config_digest", digest)

    def audit(self, kind: str, details: dict[str, Any]) -> None:
        """Audit an operator's action on the whole device: a model install or rollback, a backup."""
        with transaction(self._db):
            append_event(self._db, kind, details, self.records.clock())

    def _check_disk(self, incoming: int) -> None:
        """Blobs are written twice (WAL, then the main file at checkpoint), hence twice ``incoming``."""
        free = shutil.disk_usage(self.records.path.parent).free
        if free - 2 * incoming - RECORD_OVERHEAD_BYTES - WAL_HEADROOM_BYTES < self._disk_reserve:
            raise StorageFull(
                f"{self.records.path.parent}: {free // 2**20} MiB free, the reserve is "
                f"{self._disk_reserve // 2**20} MiB: new screenings are refused until space is freed"
            )

    def _make_room(self, now: datetime) -> None:
        """Apply the overflow policy when the unsent backlog is at its size or age cap."""
        unsent, oldest = self._db.execute(
            "SELECT count(*), min(queued_at) FROM outbox WHERE sent_at IS NULL"
        ).fetchone()
        too_old = oldest is not None and datetime.fromisoformat(oldest) < now - self._limits.max_age
        if unsent < self._limits.max_rows and not too_old:
            return
        if self._limits.policy == "refuse":
            raise OutboxFull(
                f"{unsent} results are waiting to be sent (cap {self._limits.max_rows}), the oldest since "
                f"{oldest} (cap {self._limits.max_age.days} days): new screenings are refused until they are sent"
            )
        cutoff = (now - self._limits.max_age).isoformat()
        excess = max(0, unsent - self._limits.max_rows + 1)
        dropped = self._db.execute(
            "DELETE FROM outbox WHERE sent_at IS NULL AND (queued_at < ? OR seq IN "
            "(SELECT seq FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?))",
            (cutoff, excess),
        ).rowcount
        append_event(self._db, "sync", {"dropped_unsent": dropped, "policy": "drop_oldest"}, now)
        log_event("records.outbox_dropped", level=30, dropped=dropped, policy="drop_oldest")

    def _note_model(self, record: ScreeningRecord, now: datetime) -> None:
        model = record.triage.model
        if model is None:
            return
        key, value = f"model:{record.modality}", f"{model.id}:{model.version}:{model.sha256}"
        previous = self.records.meta(key)
        if previous != value:
            details = {"modality": record.modality, "model": value, "previous": previous}
            append_event(self._db, "model_change", details, now)
            self.records.set_meta(key, value)

    def record_screening(self, record: ScreeningRecord, images: Sequence[tuple[str, bytes]], payload: bytes) -> None:
        """Record one screening and queue its payload, all in one transaction, or refuse it whole."""
        self._check_disk(sum(len(data) for _, data in images) + len(payload))
        sealer, rid, triage = self.records.sealer, record.result_id, record.triage
        quality = record.quality
        try:
            with transaction(self._db):
                now = self.records.clock()
                self._make_room(now)
                self._note_model(record, now)
                self._db.execute(
                    "INSERT INTO screening (result_id, recorded_at, captured_at, modality, eye, body_site, outcome, "
                    "score, threshold, operating_point, model_id, model_version, model_sha256, research_only, "
                    "quality, calibration_id, patient_sealed, note_sealed, source_sealed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        rid,
                        now.isoformat(),
                        record.captured_at.isoformat(),
                        record.modality,
                        record.context.eye,
                        record.context.body_site,
                        triage.outcome.value,
                        triage.score,
                        triage.threshold,
                        triage.operating_point.name if triage.operating_point else None,
                        triage.model.id if triage.model else None,
                        triage.model.version if triage.model else None,
                        triage.model.sha256 if triage.model else None,
                        int(triage.research_only),
                        json.dumps(
                            {"verdict": quality.verdict, "reasons": list(quality.reasons), **dict(quality.measures)}
                        )
                        if quality
                        else None,
                        record.calibration_id,
                        self._seal_text(record.context.patient_ref, f"patient:{rid}"),
                        self._seal_text(record.context.note, f"note:{rid}"),
                        self._seal_text(record.source, f"source:{rid}"),
                    ),
                )
                if record.context.operator is not None:
                    self._db.execute(
                        "UPDATE screening SET operator = ? WHERE result_id = ?", (record.context.operator, rid)
                    )
                for index, (media_type, data) in enumerate(images):
                    self._db.execute(
                        "INSERT INTO image (result_id, media_type, sealed) VALUES (?, ?, ?)",
                        (rid, media_type, sealer.seal(data, f"image:{rid}:{index}")),
                    )
                self._db.execute(
                    "INSERT INTO outbox (result_id, payload, queued_at) VALUES (?, ?, ?)",
                    (rid, payload, now.isoformat()),
                )
                details = {"result_id": rid, "modality": record.modality, "outcome": triage.outcome.value}
                append_event(self._db, "screening", details, now)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL":
                raise StorageFull(f"{self.records.path}: the disk is full; the screening was not recorded") from None
            raise RecordsError(f"{self.records.path}: the screening was not recorded ({error})") from error

    def _screening_row(self, result_id: str) -> sqlite3.Row:
        row = self._db.execute("SELECT * FROM screening WHERE result_id = ?", (result_id,)).fetchone()
        if row is None:
            raise RecordsError(f"no screening with result id {result_id!r} on this device")
        return row

    def view(self, result_id: str) -> dict[str, Any]:
        """The full local record of one result, including what identifies the patient (audited)."""
        with transaction(self._db):
            row = self._screening_row(result_id)
            append_event(self._db, "view", {"result_id": result_id}, self.records.clock())
        document = {k: v for k, v in dict(row).items() if not k.endswith("_sealed")}
        document["quality"] = json.loads(row["quality"]) if row["quality"] else None
        document["patient_ref"] = self._open_text(row["patient_sealed"], f"patient:{result_id}")
        document["note"] = self._open_text(row["note_sealed"], f"note:{result_id}")
        document["source"] = self._open_text(row["source_sealed"], f"source:{result_id}")
        document["images"] = self._db.execute(
            "SELECT count(*) FROM image WHERE result_id = ?", (result_id,)
        ).fetchone()[0]
        reviews = self._db.execute("SELECT * FROM review WHERE result_id = ? ORDER BY received_at", (result_id,))
        document["reviews"] = [dict(review) for review in reviews]
        return document

    def export_images(self, result_id: str) -> list[tuple[str, bytes]]:
        """The decrypted images of one result, as (media type, bytes) (audited)."""
        with transaction(self._db):
            self._screening_row(result_id)
            rows = self._db.execute(
                "SELECT media_type, sealed FROM image WHERE result_id = ? ORDER BY id", (result_id,)
            ).fetchall()
            append_event(self._db, "export", {"result_id": result_id, "images": len(rows)}, self.records.clock())
        return [
            (media, self.records.sealer.open(sealed, f"image:{result_id}:{i}"))
            for i, (media, sealed) in enumerate(rows)
        ]

    def results_of_patient(self, reference: str) -> list[str]:
        """The result ids recorded under one patient reference, oldest first (references are sealed,
        so each one is opened and compared as a nurse would)."""
        rows = self._db.execute(
            "SELECT result_id, patient_sealed FROM screening WHERE patient_sealed IS NOT NULL ORDER BY recorded_at"
        ).fetchall()
        return [
            rid for rid, sealed in rows if _same_reference(self._open_text(sealed, f"patient:{rid}") or "", reference)
        ]

    def erase_patient(self, reference: str) -> Erasure:
        """Remove every screening, image, review and queued payload of one patient (right to erasure).

        The patient reference is only stored sealed, so each one is opened and compared; the audit
        event counts what went and names the random result ids, never the reference.
        """
        with transaction(self._db):
            matched = self.results_of_patient(reference)
            marks = ",".join("?" * len(matched))
            images = self._db.execute(f"SELECT count(*) FROM image WHERE result_id IN ({marks})", matched).fetchone()[0]
            unsent = self._db.execute(
                f"SELECT count(*) FROM outbox WHERE sent_at IS NULL AND result_id IN ({marks})", matched
            ).fetchone()[0]
            self._db.execute(f"DELETE FROM screening WHERE result_id IN ({marks})", matched)
            erasure = Erasure(results=len(matched), images=images, unsent_withdrawn=unsent)
            details = {"results": erasure.results, "images": images, "unsent_withdrawn": unsent, "result_ids": matched}
            append_event(self._db, "erasure", details, self.records.clock())
        self._flush_deleted_pages()
        return erasure

    def _flush_deleted_pages(self) -> None:
        """Fold the WAL into the main file and empty it, so erased pages do not linger in the WAL."""
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log_event("records.checkpoint_busy", level=30, reason="another process is reading; retried later")

    def purge_images(self, retention: timedelta) -> int:
        """Delete the images of results synced more than ``retention`` ago; results themselves stay."""
        now = self.records.clock()
        with transaction(self._db):
            purged = self._db.execute(
                "DELETE FROM image WHERE result_id IN (SELECT result_id FROM screening "
                "WHERE synced_at IS NOT NULL AND synced_at <= ?)",
                ((now - retention).isoformat(),),
            ).rowcount
            if purged:
                append_event(self._db, "retention", {"images": purged, "days": retention.days}, now)
        if purged:
            self._flush_deleted_pages()
        return purged

    def add_review(self, review: Review) -> str:
        """Store a specialist's verdict against its result: ``stored``, ``duplicate`` or ``unknown_result``."""
        with transaction(self._db):
            if self._db.execute("SELECT 1 FROM screening WHERE result_id = ?", (review.result_id,)).fetchone() is None:
                return "unknown_result"
            if self._db.execute("SELECT 1 FROM review WHERE review_id = ?", (review.review_id,)).fetchone():
                return "duplicate"
            now = self.records.clock()
            self._db.execute(
                "INSERT INTO review (review_id, result_id, verdict, reviewer, reviewed_at, received_at, comment) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    review.review_id,
                    review.result_id,
                    review.verdict,
                    review.reviewer,
                    review.reviewed_at.isoformat(),
                    now.isoformat(),
                    review.comment,
                ),
            )
            details = {"review_id": review.review_id, "result_id": review.result_id, "verdict": review.verdict}
            append_event(self._db, "review", details, now)
        return "stored"
