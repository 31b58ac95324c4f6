"""Resumable photo uploads at the station, on SQLite and PostgreSQL, through its real HTTPS upload
server with client certificates: what arrived of an upload cut off is kept and continued from the
offset the station gives, by the result's own device only; the whole is checked against the
announced digest and stored once; a prefix left unfinished is purged after its limit."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select

from firmware_app.sharing.uploader import UPLOAD_PATH, Sent
from review_station import images, resumable
from review_station.config import UploadsConfig
from review_station.storage.tables import images as images_table
from review_station.storage.tables import upload_parts
from tests.mqtt_broker import wait_until
from tests.review_station.web_kit import announcing
from tests.sharing.site import Site, make_certs, site

SIZE = 300_000
KEPT = 120_000


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture()
def station(tmp_path, certs, engine):
    with site(tmp_path, certs, engine) as running:
        yield running


def request(
    station: Site,
    device: str,
    method: str,
    result_id: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str]]:
    """One request to the photo's resource with ``device``'s certificate: its status and headers."""
    connection = station.connection(device)
    try:
        connection.request(method, UPLOAD_PATH.format(result_id=result_id), body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, {key.lower(): value for key, value in response.getheaders()}
    finally:
        connection.close()


def head(station: Site, device: str, result_id: str) -> tuple[int, dict[str, str]]:
    return request(station, device, "HEAD", result_id)


def offset(station: Site, result_id: str) -> int:
    return int(head(station, "cam-01", result_id)[1]["upload-offset"])


def patch(station: Site, device: str, result_id: str, at: int | str, body: bytes) -> tuple[int, dict[str, str]]:
    headers = {"Content-Type": "application/partial-upload", "Upload-Offset": str(at), "Upload-Complete": "?1"}
    return request(station, device, "PATCH", result_id, body, headers)


def cut_off(station: Site, result_id: str, sealed: bytes, kept: int = KEPT) -> None:
    """A PATCH announcing every byte whose connection drops after ``kept`` of them, as when the
    device is killed or its link lost mid-photo; returns once the station holds them."""
    connection = station.connection("cam-01")
    connection.putrequest("PATCH", UPLOAD_PATH.format(result_id=result_id))
    for key, value in {"Content-Length": len(sealed), "Upload-Offset": 0, "Upload-Complete": "?1"}.items():
        connection.putheader(key, str(value))
    connection.endheaders()
    connection.send(sealed[:kept])
    # Given time to read what arrived before it learns of the drop (a drop noticed first loses the
    # bytes still in uvicorn's buffer, which only means that the device sends those again).
    time.sleep(0.3)
    connection.close()
    wait_until(lambda: offset(station, result_id) == kept, 10, "the station to keep the bytes that arrived")


def parts(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(upload_parts)).scalar_one()


def held(engine: Engine) -> dict[str, bytes]:
    with engine.connect() as connection:
        return {
            rid: bytes(sealed)
            for rid, sealed in connection.execute(select(images_table.c.result_id, images_table.c.sealed))
        }


def test_a_cut_off_upload_resumes_at_the_stations_offset_and_is_stored_once(station, engine):
    sealed = os.urandom(SIZE)  # the station checks digests and sizes: it never opens a photo to receive it
    result_id = announcing(engine, sealed)
    assert head(station, "cam-01", result_id)[1]["upload-offset"] == "0"
    cut_off(station, result_id, sealed)
    status, headers = head(station, "cam-01", result_id)
    assert (status, headers["upload-complete"], headers["upload-length"]) == (204, "?0", str(SIZE))
    assert held(engine) == {}  # nothing is a photo before every byte arrived and matched
    assert station.upload("cam-01", result_id, sealed) == Sent(201, sent=SIZE - KEPT, resumed_at=KEPT)
    assert held(engine) == {result_id: sealed} and parts(engine) == 0
    assert station.upload("cam-01", result_id, sealed) == Sent(200)  # the same again: no second copy
    assert head(station, "cam-01", result_id)[1]["upload-complete"] == "?1"
    assert held(engine) == {result_id: sealed}


def test_a_whole_put_after_a_cut_off_upload_stores_the_whole_and_leaves_no_part_behind(station, engine):
    """A device whose resumable upload was cut off may send the photo whole (``PUT``) next: the parts
    that arrived are then of no use. They were left on disk, beside the stored photo, until the purge
    of unfinished uploads hours later; the upload that stores the photo drops them."""
    sealed = os.urandom(SIZE)
    result_id = announcing(engine, sealed)
    cut_off(station, result_id, sealed)
    assert request(station, "cam-01", "PUT", result_id, sealed)[0] == 201
    assert held(engine) == {result_id: sealed} and parts(engine) == 0
    status, headers = head(station, "cam-01", result_id)
    assert (status, headers["upload-offset"], headers["upload-complete"]) == (204, str(SIZE), "?1")


def test_another_device_can_neither_see_nor_continue_a_prefix(station, engine):
    sealed = os.urandom(SIZE)
    result_id = announcing(engine, sealed)
    cut_off(station, result_id, sealed)
    assert head(station, "cam-02", result_id)[0] == 403
    assert patch(station, "cam-02", result_id, KEPT, sealed[KEPT:])[0] == 403
    assert station.upload("cam-02", result_id, sealed).status == 403
    assert offset(station, result_id) == KEPT and held(engine) == {}


def test_a_wrong_offset_gets_the_right_one_and_an_altered_whole_is_dropped_then_sent_again(station, engine):
    sealed = os.urandom(SIZE)
    result_id = announcing(engine, sealed)
    altered = bytes([sealed[0] ^ 1]) + sealed[1:]
    cut_off(station, result_id, altered)  # a prefix that is not this photo's
    status, headers = patch(station, "cam-01", result_id, 0, sealed)
    assert (status, headers["upload-offset"]) == (409, str(KEPT))
    assert patch(station, "cam-01", result_id, KEPT, sealed[KEPT:] + b"\0")[0] == 400  # more than announced
    assert station.upload("cam-01", result_id, sealed).status == 400  # the whole fails the digest
    assert parts(engine) == 0 and held(engine) == {} and offset(station, result_id) == 0
    assert station.upload("cam-01", result_id, sealed) == Sent(201, sent=SIZE, resumed_at=0)


@pytest.mark.parametrize("at", ["\u00b2", "9" * 5000, "9" * 16, "-1", "0x10", ""])
def test_an_offset_that_is_not_a_structured_field_integer_is_a_400(station, engine, at):
    sealed = os.urandom(SIZE)
    result_id = announcing(engine, sealed)
    assert patch(station, "cam-01", result_id, at, sealed)[0] == 400
    assert parts(engine) == 0 and held(engine) == {}
    assert station.upload("cam-01", result_id, sealed) == Sent(201, sent=SIZE, resumed_at=0)


def test_a_photo_over_the_limit_is_refused_when_sent_in_parts_each_under_it(tmp_path, certs, engine):
    sealed = os.urandom(2**20 + SIZE)
    result_id = announcing(engine, sealed)
    with site(tmp_path, certs, engine, max_upload_mb=1) as small:
        assert patch(small, "cam-01", result_id, 0, sealed[:SIZE])[0] == 400  # ends short: kept
        assert patch(small, "cam-01", result_id, SIZE, sealed[SIZE:])[0] == 413
        assert offset(small, result_id) == SIZE and held(engine) == {}
        assert small.upload("cam-01", result_id, sealed).status == 413  # as the device resumes it


def test_a_prefix_left_unfinished_is_purged_after_its_limit_and_erasure_removes_it(station, engine):
    stale, erased = os.urandom(SIZE), os.urandom(SIZE)
    stale_id, erased_id = announcing(engine, stale), announcing(engine, erased)
    cut_off(station, stale_id, stale)
    cut_off(station, erased_id, erased)
    assert not images.erase(engine, erased_id, by="dpo")  # no photo yet, but its prefix goes too
    assert parts(engine) == 1
    limit = UploadsConfig().partial_max_age_hours
    now = datetime.now(UTC)
    assert resumable.purge(engine, limit, now + timedelta(hours=limit - 1)) == 0
    assert resumable.purge(engine, limit, now + timedelta(hours=limit + 1)) == 1
    assert parts(engine) == 0 and offset(station, stale_id) == 0
    assert station.upload("cam-01", stale_id, stale) == Sent(201, sent=SIZE, resumed_at=0)


# Where the first request is held back: as it reads the bytes held, and as it writes its own.
READING_THE_OFFSET, WRITING = "SELECT coalesce(sum(upload_parts.size)", "INSERT INTO upload_parts"


@pytest.mark.parametrize("held_at", [READING_THE_OFFSET, WRITING], ids=["reading", "writing"])
def test_a_request_cut_off_as_another_completes_the_photo_leaves_no_part_behind(engine, held_at):
    """A device killed mid-photo while its next run sends the rest: the first request has checked the
    photo when the second one starts. Held back at the database driver as it reads the offset or
    writes, the first lets the second run, which waits for it: the first holds the result's row
    (PostgreSQL) or the database's write lock (SQLite) from its first look at the photo. On SQLite,
    which locked nothing before the first write, the second completed the photo meanwhile, and the
    first, held as it read the offset, was answered 409 "the station holds 0 bytes" for a photo the
    station held. Whichever order the database lets them through, the answers agree with what the
    station holds, no byte outlives the photo, and the device completes it from the offset given."""
    sealed = os.urandom(SIZE)
    result_id = announcing(engine, sealed)
    assert resumable.append(engine, result_id, "cam-01", 0, sealed[:KEPT], last=False).answer.status == 204
    late_thread, outcome = threading.get_ident(), {}
    other = threading.Thread(
        target=lambda: outcome.update(other=resumable.append(engine, result_id, "cam-01", KEPT, sealed[KEPT:], True))
    )

    def hold_back(connection, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == late_thread and statement.startswith(held_at):
            other.start()
            other.join(2)

    event.listen(engine, "before_cursor_execute", hold_back)
    try:
        late = resumable.append(engine, result_id, "cam-01", KEPT, sealed[KEPT : KEPT + 1000], last=False)
    finally:
        event.remove(engine, "before_cursor_execute", hold_back)
    other.join(20)
    assert {late.answer.status, outcome["other"].answer.status} in ({200, 201}, {204, 409}), (late, outcome)
    progress = resumable.offset(engine, result_id, "cam-01")
    if not progress.complete:
        assert parts(engine) == 2 and progress.offset == KEPT + 1000
        assert resumable.append(engine, result_id, "cam-01", progress.offset, sealed[progress.offset :], True).complete
    assert held(engine) == {result_id: sealed} and parts(engine) == 0
