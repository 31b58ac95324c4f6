"""The durable upload queue: written in the screening's transaction, offered once the broker has the
result, emptied of its sealed bytes once the station has them, erased with the patient."""

from __future__ import annotations

import pytest

from edgescreen_wire.result import RESULT_V2
from edgescreen_wire.sealed_image import open_image, read_private_key, read_public_key
from firmware_app.records.database import SCHEMA_VERSION
from firmware_app.records.outbox import Outbox
from firmware_app.records.screening import ScreeningContext
from firmware_app.records.store import OutboxFull, OutboxLimits
from firmware_app.records.uploads import ERASED_AT_THE_STATION, UploadQueue
from firmware_app.sharing.policy import ImageSharing
from tests.records.kit import open_store, record_one, sample_record, small_photo
from tests.sharing.kit import station_keys


@pytest.fixture()
def site(tmp_path, retina_rgb):
    private, public = station_keys(tmp_path / "station")
    sharing = ImageSharing("referred", 2048, False, read_public_key(public))
    return read_private_key(private), sharing, small_photo(retina_rgb, 128)


def record(store, sharing, photo, **kwargs):
    return record_one(store, photo, sample_record(**kwargs), RESULT_V2, sharing=sharing)


def rows(store, table):
    return store.records.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_referred_photo_is_queued_with_its_result_and_offered_once_the_broker_has_it(tmp_path, site):
    private, sharing, photo = site
    store = open_store(tmp_path)
    referred = record(store, sharing, photo, score=0.9)
    record(store, sharing, photo, score=0.1)  # no_refer: not shared under "referred"
    assert rows(store, "image_upload") == 1
    queue = UploadQueue(store.records)
    assert queue.next_ready() is None  # its result has not reached the broker yet
    Outbox(store.records).mark_sent([1, 2])
    upload = queue.next_ready()
    assert upload is not None and upload.result_id == referred.result_id
    assert open_image(upload.sealed, private, referred.result_id)[:2] == b"\xff\xd8"
    assert queue.next_ready(skip=[referred.result_id]) is None
    queue.mark_uploaded(referred.result_id, 201)
    assert queue.next_ready() is None
    assert queue.backlog().to_send == 0 and queue.backlog().uploaded == 1
    sealed = store.records.connection.execute("SELECT sealed FROM image_upload").fetchone()[0]
    assert sealed is None  # the station has it: the device keeps only its digest
    assert store.records.verify_audit().intact


def test_a_refused_screening_queues_no_photo(tmp_path, site):
    _, sharing, photo = site
    store = open_store(tmp_path, limits=OutboxLimits(max_rows=1))
    record(store, sharing, photo, score=0.9)
    with pytest.raises(OutboxFull):
        record(store, sharing, photo, score=0.9)
    assert rows(store, "screening") == rows(store, "image_upload") == 1


def test_erasure_removes_the_queued_photo_and_names_those_the_station_holds(tmp_path, site):
    _, sharing, photo = site
    store = open_store(tmp_path)
    uploaded, queued = (
        record(store, sharing, photo, score=0.9, context=ScreeningContext(patient_ref="MRN-1", eye=eye))
        for eye in ("L", "R")
    )
    assert rows(store, "image_upload") == 2
    UploadQueue(store.records).mark_uploaded(uploaded.result_id, 201)
    erasure = store.erase_patient("MRN-1")
    assert rows(store, "image_upload") == 0
    # Only the station's administrator can erase its copy: the ids to give them, in the audit log too.
    assert erasure.shared_photos == (uploaded.result_id,)
    details = store.records.connection.execute("SELECT details FROM audit WHERE kind = 'erasure'").fetchone()[0]
    assert uploaded.result_id in details and queued.result_id in details


def test_a_photo_an_older_release_set_aside_on_the_stations_410_is_never_queued_again(tmp_path, site):
    """A device older than ``ERASED_AT_THE_STATION`` set a photo the station answered 410 (its result
    erased there at the patient's request) aside as any refusal, "the station refused it (410)", its
    sealed bytes kept. Upgraded, the records still counted it as refused, owed to the station (a wipe
    refused for it), and ``sync retry-photos`` queued it again for the same answer. Opened by this
    release, it is one the station erased, as the uploader sets such a photo aside now."""
    _, sharing, photo = site
    store = open_store(tmp_path)
    erased, refused = (record(store, sharing, photo, score=0.9) for _ in range(2))
    Outbox(store.records).mark_sent([1, 2])
    queue = UploadQueue(store.records)
    queue.refuse(erased.result_id, "the station refused it (410)")  # as the uploader wrote it before
    queue.refuse(refused.result_id, "the station refused it (413)")
    store.records.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")  # the release before
    store.records.close()
    store = open_store(tmp_path)
    queue = UploadQueue(store.records)
    backlog = queue.backlog()
    assert (backlog.refused, backlog.erased_at_the_station) == (1, 1)
    assert queue.retry_refused() == 1  # the 413 alone, once its cause is mended
    assert queue.next_ready().result_id == refused.result_id and queue.next_ready([refused.result_id]) is None
    kept = "SELECT refused, sealed FROM image_upload WHERE result_id = ?"
    left = store.records.connection.execute(kept, (erased.result_id,)).fetchone()
    assert tuple(left) == (ERASED_AT_THE_STATION, None)  # its sealed bytes dropped
