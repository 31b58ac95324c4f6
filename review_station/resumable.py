"""Resumable photo uploads: the station keeps what arrived of an upload cut off, and the device sends
only the rest.

The shape is the IETF "Resumable Uploads for HTTP" draft's (draft-ietf-httpbis-resumable-upload),
on the photo's own resource, ``/api/v1/results/<result_id>/image``, so no creation step is needed:
the result announced the photo's digest and size on the broker, and they key the upload.

- ``HEAD``: how much arrived. 204 with ``Upload-Offset`` (bytes kept), ``Upload-Complete`` (``?1``
  once the station holds the photo) and ``Upload-Length`` (the announced size).
- ``PATCH`` with ``Upload-Offset`` and the bytes from there (``Content-Type:
  application/partial-upload``, ``Upload-Complete: ?1`` when they are the rest): 201 stored, 200
  already held, 204 kept but not complete (``Upload-Complete: ?0`` only), 409 (and the right
  ``Upload-Offset``) when the offset is not what the station holds, 400 more bytes than announced,
  an end before the size under ``?1``, or a whole that does not match the announced digest (the
  parts are then dropped: the next attempt starts over).

What a request delivered before its connection ended (the device killed, the link dropped) is kept,
until the photo is stored, by the request that completes it or by a whole ``PUT`` of it.
The digest is checked on the whole only, when the announced size is reached; the photo is then
stored once, like a whole ``PUT``. The device rules (the certificate's device must be the result's)
are the same for every request, so one device can never continue another's upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from review_station.images import UploadAnswer, drop_parts, expected_upload, held, store_whole
from review_station.storage.tables import upload_parts


@dataclass(frozen=True)
class Progress:
    """An answer about an upload in progress: its status, and how much the station holds of it."""

    answer: UploadAnswer
    offset: int = 0
    length: int = 0
    complete: bool = False


def _received(connection: Connection, result_id: str, sha256: str) -> int:
    return connection.execute(
        select(func.coalesce(func.sum(upload_parts.c.size), 0)).where(
            upload_parts.c.result_id == result_id, upload_parts.c.sha256 == sha256
        )
    ).scalar_one()


def _already_held(size: int) -> Progress:
    """The answer to a part of a photo the station holds already: nothing more is needed."""
    return Progress(UploadAnswer(200, "already held"), size, size, complete=True)


def offset(engine: Engine, result_id: str, device_id: str | None) -> Progress:
    """``HEAD``: how many bytes of the announced photo the station holds."""
    with engine.connect() as connection:
        expected = expected_upload(connection, result_id, device_id)
        if isinstance(expected, UploadAnswer):
            return Progress(expected)
        size = expected["size"]
        if held(connection, result_id):
            return Progress(UploadAnswer(204, "already held"), size, size, complete=True)
        return Progress(UploadAnswer(204, "in progress"), _received(connection, result_id, expected["sha256"]), size)


def append(engine: Engine, result_id: str, device_id: str | None, at: int, data: bytes, last: bool) -> Progress:
    """``PATCH``: keep ``data`` as the bytes from ``at``; store the photo once all announced bytes
    are there and match its digest. ``last``: the sender says these are the rest."""
    try:
        with engine.begin() as connection:
            return _append(connection, result_id, device_id, at, data, last)
    except IntegrityError:  # another request appended at the same offset first
        return Progress(UploadAnswer(409, "another request appended these bytes first: ask the offset again"))


def _append(
    connection: Connection, result_id: str, device_id: str | None, at: int, data: bytes, last: bool
) -> Progress:
    # One append per photo at a time: the result is held until this one commits (PostgreSQL's row lock,
    # SQLite's write lock), so a request cut off while another completes the photo reads the photo held
    # when it is let through.
    expected = expected_upload(connection, result_id, device_id, lock=True)
    if isinstance(expected, UploadAnswer):
        return Progress(expected)
    sha256, size = expected["sha256"], expected["size"]
    if held(connection, result_id):
        return _already_held(size)
    received = _received(connection, result_id, sha256)
    if at != received:
        return Progress(UploadAnswer(409, f"the station holds {received} bytes, not {at}"), received, size)
    if received + len(data) > size:
        return Progress(UploadAnswer(400, f"more than the {size} bytes the result announced"), received, size)
    if data:
        connection.execute(
            insert(upload_parts).values(
                result_id=result_id, sha256=sha256, offset=at, size=len(data), data=data, received_at=datetime.now(UTC)
            )
        )
    received += len(data)
    if received < size:
        if last:
            return Progress(UploadAnswer(400, f"the upload ended at {received} of {size} bytes"), received, size)
        return Progress(UploadAnswer(204, "kept"), received, size)
    parts = connection.execute(
        select(upload_parts.c.data)
        .where(upload_parts.c.result_id == result_id, upload_parts.c.sha256 == sha256)
        .order_by(upload_parts.c.offset)
    ).scalars()
    answer = store_whole(connection, result_id, device_id, expected, b"".join(bytes(part) for part in parts))
    complete = answer.status in (200, 201)  # the parts went with the photo stored
    if not complete:  # a whole that differs from the one announced: the next attempt starts over
        drop_parts(connection, result_id)
    return Progress(answer, size if complete else 0, size, complete=complete)


def purge(engine: Engine, max_age_hours: int, now: datetime | None = None) -> int:
    """Drop the parts of uploads that received nothing for ``max_age_hours``; returns how many uploads."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=max_age_hours)
    with engine.begin() as connection:
        stale = connection.execute(
            select(upload_parts.c.result_id, upload_parts.c.sha256)
            .group_by(upload_parts.c.result_id, upload_parts.c.sha256)
            .having(func.max(upload_parts.c.received_at) <= cutoff)
        ).all()
        for result_id, sha256 in stale:
            connection.execute(
                delete(upload_parts).where(upload_parts.c.result_id == result_id, upload_parts.c.sha256 == sha256)
            )
    return len(stale)
