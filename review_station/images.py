"""Photos the devices share: received sealed, kept as received, opened only for a signed-in reviewer.

The upload is checked against what the result announced on the broker (its ``image``: sha256 and
size of the sealed bytes), so a photo cut short, altered on the way or sent for a result that
announced none is refused before anything is stored, and the station never needs its private key to
receive. The certificate's device must be the result's device. The same bytes again are a 200 with
no second copy. Each photo is deleted ``[images] retention_days`` after the result's final verdict,
or on request (erasure); every receipt, view and deletion is audited.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from edgescreen_wire.checks import HEX32
from edgescreen_wire.result import could_not_photograph
from edgescreen_wire.sealed_image import open_image, read_private_key
from review_station import audit, devices, erasure
from review_station.config import ImagesConfig
from review_station.storage.locks import for_update
from review_station.storage.tables import images, reads, results, upload_parts


@dataclass(frozen=True)
class UploadAnswer:
    """The HTTP status, why (``reason``: the station's log line keeps it, for its operator) and, where a
    device or a script may compare the body, its stable ``code``. Only a device reads the body (the
    endpoint asks for its certificate), and its uploader acts on the status alone: it reads the body and
    drops it (``firmware_app/sharing/uploader.py``), no person is shown it, so no body is worded in the
    station's language. The body is ``code`` where one is given (the 410, ``ERASED``), else the
    ``reason`` itself, an English sentence (404, 403, 400, 422: a developer at the wire reads those)."""

    status: int
    reason: str
    code: str | None = None

    @property
    def body(self) -> str:
        """What the response carries: the code, else the sentence."""
        return self.code or self.reason


# The device's uploader tries a photo again later on a 404, and sets it aside for good on a 410. The
# 410's body is a stable code, in no language; the device's own words for it are its catalogue's
# ("photos.reason.erased").
NOT_YET = UploadAnswer(404, "the result has not reached the station yet: send the photo again later")
ERASED = UploadAnswer(
    410,
    "the result was erased at the patient's request: its photo is not wanted, do not send it again",
    code="result-erased",
)


def announced(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The sealed photo's digest and size as the result announced them; ``None`` when it shares none."""
    image = payload.get("image")
    return image if isinstance(image, dict) else None


def photo_state(connection: Connection, result_id: str, payload: dict[str, Any]) -> str:
    """What the reader has to grade from: ``held`` (the photo is here), ``announced`` (the device shares
    it, but it has not arrived, or was deleted since) or ``none`` (the device shares no photo, as by
    default: the read rests on the figures alone and its grading is not assessed), or ``never`` (an eye
    the nurse could not photograph: no photo exists, wherever the device's setting)."""
    if held(connection, result_id):
        return "held"
    if could_not_photograph(payload["quality"]):
        return "never"
    return "announced" if announced(payload) is not None else "none"


def receive(engine: Engine, result_id: str, device_id: str | None, sealed: bytes) -> UploadAnswer:
    """Store one upload if it is the photo its result announced, from that result's device. The same
    upload arriving twice at once stores one copy and answers 200 to the other."""
    try:
        with engine.begin() as connection:
            expected = expected_upload(connection, result_id, device_id, lock=True)
            if isinstance(expected, UploadAnswer):
                return expected
            return store_whole(connection, result_id, device_id, expected, sealed)
    except IntegrityError:
        return UploadAnswer(200, "already held")


def expected_upload(
    connection: Connection, result_id: str, device_id: str | None, lock: bool = False
) -> dict[str, Any] | UploadAnswer:
    """The digest and size the result announced, if ``device_id`` may upload its photo; else the
    answer that says why not (the same for a whole upload and each part of a resumed one). With
    ``lock``, the result and its device stay so until the transaction ends: the result is held
    (``for_update``), so what the caller reads of its photo next is still so when it writes, and
    retirements are held off (``devices.hold_off_retirements``, before anything else), so a
    retirement committed before the photo is stored refuses it."""
    if not HEX32.fullmatch(result_id):
        return UploadAnswer(404, "no such result id")
    if lock:
        devices.hold_off_retirements(connection)
    query = select(results.c.device_id, results.c.payload).where(results.c.result_id == result_id)
    result = connection.execute(for_update(connection, query) if lock else query).first()
    if result is None:
        return ERASED if erasure.erased_here(connection, result_id, device_id) else NOT_YET
    if device_id != result.device_id:
        return UploadAnswer(403, "this certificate's device did not record that result")
    if not devices.is_active(connection, device_id):
        return UploadAnswer(403, "this device is retired: its certificate uploads nothing more")
    expected = announced(result.payload)
    if expected is None:
        return UploadAnswer(422, "the result announced no photo")
    return expected


def store_whole(
    connection: Connection, result_id: str, device_id: str | None, expected: dict[str, Any], sealed: bytes
) -> UploadAnswer:
    """Store the photo once it is whole and exactly as announced; nothing is stored otherwise. Once
    the photo is held, what arrived of a resumable upload of it is of no use, whichever upload
    completed it (a whole ``PUT`` after one cut off included): it is dropped, not left to the purge."""
    if len(sealed) != expected["size"]:
        return UploadAnswer(400, f"{len(sealed)} bytes received, the result announced {expected['size']}")
    if hashlib.sha256(sealed).hexdigest() != expected["sha256"]:
        return UploadAnswer(400, "the photo's digest differs from the one its result announced")
    drop_parts(connection, result_id)
    if held(connection, result_id):
        return UploadAnswer(200, "already held")
    connection.execute(
        insert(images).values(
            result_id=result_id,
            device_id=device_id,
            sha256=expected["sha256"],
            size=len(sealed),
            sealed=sealed,
            received_at=datetime.now(UTC),
        )
    )
    audit.append(connection, "image", {"result": result_id, "action": "received", "bytes": len(sealed)})
    return UploadAnswer(201, "stored")


def drop_parts(connection: Connection, result_id: str) -> None:
    """Delete what arrived of resumable uploads of ``result_id``'s photo."""
    connection.execute(delete(upload_parts).where(upload_parts.c.result_id == result_id))


def held(connection: Connection, result_id: str) -> bool:
    return connection.execute(select(images.c.result_id).where(images.c.result_id == result_id)).first() is not None


def open_for_viewing(engine: Engine, config: ImagesConfig, result_id: str, user: str, view: str) -> bytes | None:
    """The photo as the device sent it (JPEG), opened with the station's key; the view is audited in
    the same transaction. ``None`` when the station holds no photo for the result."""
    with engine.begin() as connection:
        sealed = connection.execute(select(images.c.sealed).where(images.c.result_id == result_id)).scalar()
        if sealed is None:
            return None
        audit.append(connection, "view", {"image": result_id, "view": view, "by": user})
    return open_image(bytes(sealed), read_private_key(config.private_key_file), result_id)


def erase(engine: Engine, result_id: str, by: str) -> bool:
    """Delete one result's photo on request; ``False`` when there was none."""
    with engine.begin() as connection:
        gone = connection.execute(delete(images).where(images.c.result_id == result_id)).rowcount
        drop_parts(connection, result_id)
        if gone:
            audit.append(connection, "image", {"result": result_id, "action": "erased", "by": by})
    return bool(gone)


def purge(engine: Engine, retention_days: int, now: datetime | None = None) -> int:
    """Delete the photos of results whose final verdict is older than the retention; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    last_read = (
        select(reads.c.result_id)
        .join(results, results.c.result_id == reads.c.result_id)
        .where(results.c.state == "reviewed")
        .group_by(reads.c.result_id)
        .having(func.max(reads.c.created_at) <= cutoff)
    )
    with engine.begin() as connection:
        expired = [
            row[0] for row in connection.execute(select(images.c.result_id).where(images.c.result_id.in_(last_read)))
        ]
        if expired:
            connection.execute(delete(images).where(images.c.result_id.in_(expired)))
            details = {"action": "retention", "results": expired, "days": retention_days}
            audit.append(connection, "image", details)
    return len(expired)
