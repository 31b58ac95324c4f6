"""The queue of photos sealed to the review station, as the uploader sees it.

A row is written by ``ScreeningStore.record_screening`` in the screening's own transaction, so a
photo is never queued for a result that was not recorded, and never lost when the device dies
between the two. It is offered for upload only once its result has been acknowledged by the broker
(the station then knows the result, and the sha256 and size the upload must match). A row is marked
uploaded on the station's 200 or 201 and its sealed bytes dropped; one the station refuses for its
content is set aside with the reason (audited) so the queue goes on; once the technician has
mended the cause (a station's size limit, a certificate), ``retry_refused`` queues them again, with
their sealed bytes, which a refusal keeps. One whose result the station erased at the patient's
request (its 410) is no refusal to mend: its sealed bytes, which the station will never take, are
dropped, and it is counted apart, never queued again nor owed. Erasing the screening removes its row
(``ON DELETE CASCADE``), as the station's signed notice of that erasure does.
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
# The reason a photo whose result the station erased at the patient's request is set aside for
# (``erased_at_the_station``): the station's 410, which no retry mends.
ERASED_AT_THE_STATION = "erased at the station (410)"
# Set aside by a refusal ``retry_refused`` may mend: every reason but the erasure's.
REFUSED = f"u.refused IS NOT NULL AND u.refused <> '{ERASED_AT_THE_STATION}'"
# The reasons the uploader sets a photo aside for, but the erasure's: the station refused its content
# (its HTTP status in the reason), or its sealed bytes are not those its result announced.
STATION_REFUSED = "the station refused it ({status})"
ALTERED = "the queued sealed photo differs from its recorded digest"
# The photos not at the station yet whose result it has or will have (``UploadQueue.owed``).
OWED = f"image_upload u JOIN outbox o ON o.result_id = u.result_id WHERE u.uploaded_at IS NULL AND NOT (o.{WITHHELD})"


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
    erased_at_the_station: int  # never to be sent: the station erased their results (``erased_at_the_station``)
    # Why the refused and those erased at the station were set aside, each reason as the uploader
    # recorded it (``STATION_REFUSED``, ``ALTERED``, ``ERASED_AT_THE_STATION``) with its count.
    set_aside: dict[str, int]


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
        for a photo no one can send, and kept the drain waiting for ever. Nor is one whose result the
        station erased (``erased_at_the_station``). The one rule, here alone (``OWED``)."""
        waiting, refused = self._db.execute(
            f"SELECT count(*) FILTER (WHERE {WAITING}), count(*) FILTER (WHERE {REFUSED}) FROM {OWED}"
        ).fetchone()
        return OwedPhotos(waiting, refused)

    def _refusals(self) -> dict[str, int]:
        """The owed photos the station refused (``owed``), counted by reason, the most common first."""
        rows = self._db.execute(
            f"SELECT u.refused, count(*) FROM {OWED} AND {REFUSED} GROUP BY u.refused ORDER BY count(*) DESC, u.refused"
        )
        return dict(rows.fetchall())

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

    def erased_at_the_station(self, result_id: str) -> None:
        """The station erased this photo's result at the patient's request (its 410): set it aside for
        good, its sealed bytes dropped (audited). Set aside as refused, ``sync retry-photos`` queued it
        again for the same answer. The result and its photo on the device are the station's signed
        notice's to erase (``sync/erased.py``), which names the result: an upload's answer is not signed."""
        with transaction(self._db):
            self._db.execute(
                "UPDATE image_upload SET refused = ?, sealed = NULL WHERE result_id = ?",
                (ERASED_AT_THE_STATION, result_id),
            )
            details = {"image_erased_at_the_station": result_id}
            append_event(self._db, "sync", details, self._records.clock())

    def retry_refused(self) -> int:
        """Queue every refused photo again (audited), but those whose result the station erased; how many."""
        with transaction(self._db):
            retried = self._db.execute(
                f"UPDATE image_upload AS u SET refused = NULL WHERE {REFUSED} AND u.uploaded_at IS NULL"
            ).rowcount
            if retried:
                append_event(self._db, "sync", {"images_retried": retried}, self._records.clock())
        return retried

    def backlog(self) -> UploadBacklog:
        uploaded, erased = self._db.execute(
            f"SELECT count(uploaded_at), count(*) FILTER (WHERE refused = '{ERASED_AT_THE_STATION}') FROM image_upload"
        ).fetchone()
        owed = self.owed()
        set_aside = self._refusals() | ({ERASED_AT_THE_STATION: erased} if erased else {})
        return UploadBacklog(owed.waiting, uploaded, owed.refused, erased, set_aside)
