"""The queue of photos sealed to the review station, as the uploader sees it.

A row is written by ``ScreeningStore.record_screening`` in the screening's own transaction, so a
photo is never queued for a result that was not recorded, and never lost when the device dies
between the two. It is offered for upload only once its result has been acknowledged by the broker
(the station then knows the result, and the sha256 and size the upload must match). A row is marked
uploaded on the station's 200 or 201 and its sealed bytes dropped; one the station refuses for its
content is set aside with the reason (audited) so the queue goes on; once the technician has
mended the cause (a station's size limit, a certificate), ``retry_refused`` queues them again, with
their sealed bytes, which a refusal keeps. Erasing the screening removes
its row (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from firmware_app.records.audit import append_event
from firmware_app.records.database import transaction
from firmware_app.records.integrity import WITHHELD

if TYPE_CHECKING:  # the store queues ``SealedUpload`` values: no import cycle at run time
    from firmware_app.records.store import Records


# A photo neither at the station yet nor set aside as refused: the uploader's to send.
WAITING = "u.uploaded_at IS NULL AND u.refused IS NULL"


@dataclass(frozen=True)
class SealedUpload:
    """A photo sealed to the station, as queued: its digest and size are what the payload announces."""

    sealed: bytes

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.sealed).hexdigest()

    @property
    def size(self) -> int:
        return len(self.sealed)


@dataclass(frozen=True)
class PendingUpload:
    result_id: str
    sealed: bytes
    sha256: str


@dataclass(frozen=True)
class OwedPhotos:
    """The photos the station is yet to have of results it has or will have (``UploadQueue.owed``)."""

    waiting: int  # the uploader's to send (``UploadQueue.still_to_send``)
    refused: int  # set aside by the station's refusal, until ``retry_refused``


@dataclass(frozen=True)
class UploadBacklog:
    to_send: int  # ``OwedPhotos.waiting``
    uploaded: int
    refused: int  # ``OwedPhotos.refused``


class UploadQueue:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._db = records.connection

    def next_ready(self, skip: Collection[str] = ()) -> PendingUpload | None:
        """The oldest queued photo whose result the broker has acknowledged, leaving out ``skip``
        (results the station asked to be tried again later)."""
        marks = ",".join("?" * len(skip))
        row = self._db.execute(
            "SELECT u.result_id, u.sealed, u.sha256 FROM image_upload u JOIN outbox o ON o.result_id = u.result_id "
            f"WHERE {WAITING} AND o.sent_at IS NOT NULL "
            f"AND u.result_id NOT IN ({marks}) ORDER BY o.seq LIMIT 1",
            list(skip),
        ).fetchone()
        return PendingUpload(row[0], bytes(row[1]), row[2]) if row else None

    def owed(self) -> OwedPhotos:
        """The photos not at the station yet whose result it has or will have: what a wipe would keep
        from the specialists (``wipe._owed``) and ``sync status`` counts, waiting or refused. One whose
        result will never be sent (withheld as altered, or its outbox row deleted unsent by
        ``drop_oldest``) is never offered, so never owed, refused or not: counted, it refused a wipe
        for a photo no one can send, and kept the drain waiting for ever. The one rule, here alone."""
        waiting, refused = self._db.execute(
            f"SELECT count(*) FILTER (WHERE {WAITING}), count(u.refused) "
            "FROM image_upload u JOIN outbox o ON o.result_id = u.result_id "
            f"WHERE u.uploaded_at IS NULL AND NOT (o.{WITHHELD})"
        ).fetchone()
        return OwedPhotos(waiting, refused)

    def still_to_send(self) -> int:
        """How many waiting photos the uploader will yet offer (``next_ready``), now or once their result
        reaches the broker: what ``sync run --until-drained`` waits for. One the station refused waits
        for the technician (``retry_refused``), not the uploader: counted, the drain waited for ever."""
        return self.owed().waiting

    def mark_uploaded(self, result_id: str, status: int) -> None:
        with transaction(self._db):
            self._db.execute(
                "UPDATE image_upload SET uploaded_at = ?, sealed = NULL WHERE result_id = ? AND uploaded_at IS NULL",
                (self._records.clock().isoformat(), result_id),
            )
            details = {"image_uploaded": result_id, "status": status}
            append_event(self._db, "sync", details, self._records.clock())

    def refuse(self, result_id: str, reason: str) -> None:
        with transaction(self._db):
            self._db.execute("UPDATE image_upload SET refused = ? WHERE result_id = ?", (reason, result_id))
            details = {"image_refused": result_id, "reason": reason}
            append_event(self._db, "sync", details, self._records.clock())

    def retry_refused(self) -> int:
        """Queue every refused photo again (audited); how many."""
        with transaction(self._db):
            retried = self._db.execute(
                "UPDATE image_upload SET refused = NULL WHERE refused IS NOT NULL AND uploaded_at IS NULL"
            ).rowcount
            if retried:
                append_event(self._db, "sync", {"images_retried": retried}, self._records.clock())
        return retried

    def backlog(self) -> UploadBacklog:
        uploaded = self._db.execute("SELECT count(uploaded_at) FROM image_upload").fetchone()[0]
        owed = self.owed()
        return UploadBacklog(owed.waiting, uploaded, owed.refused)
