"""End to end, all real: the shipped TLS broker with test certificates, the station's ingester, its
HTTPS upload server requiring client certificates, and the device's own sync worker (in a thread,
or as ``edgescreen sync run`` processes SIGKILLed mid-upload). Every byte the device publishes on
the broker and every request body the upload server receives is kept and checked."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import signal
import subprocess
import threading
import time

import cv2
import pytest
from sqlalchemy import func, select

from edgescreen_wire.result import RESULT_V2
from firmware_app.app import DurableRecorder, run_sync
from firmware_app.capture.frame import Frame
from firmware_app.config import SyncConfig, load_config
from firmware_app.health import heartbeat as heartbeat_module
from firmware_app.health.checks import Level
from firmware_app.health.heartbeat import GRACE_S, Heartbeat
from firmware_app.health.liveness import liveness
from firmware_app.inference.triage import ungradable
from firmware_app.messages import sentence
from firmware_app.records import database
from firmware_app.records.store import OutboxLimits
from firmware_app.records.uploads import UploadQueue
from firmware_app.records_cli import sync_status
from firmware_app.sharing.policy import ImageSharing
from firmware_app.sharing.uploader import Sent, StationClient
from review_station import devices
from review_station.erasure import erase_results
from review_station.storage.database import open_database
from review_station.storage.tables import upload_parts
from tests.mqtt_broker import free_port, wait_until
from tests.records.kit import (
    DEVICE,
    closed_when_the_test_ends,
    open_store,
    record_one,
    sample_record,
    small_photo,
    write_config,
)
from tests.review_station.kit import counts
from tests.sharing.site import LOST, make_certs, site
from tests.sync.kit import BackgroundWorker, drain, edgescreen_process, most_overdue_while_locked
from tests.sync.test_queue_integrity import altered
from tests.test_cli import edgescreen

JPEG_START = b"\xff\xd8\xff"
# Enough that 20 workers, each killed within 0.3 s of its first upload beginning, cannot send them
# all, though a photo cut off is resumed rather than sent again.
PHOTOS = 60


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture()
def station(tmp_path, certs):
    engine = open_database(f"sqlite:///{tmp_path / 'review.sqlite3'}")
    devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
    try:
        with site(tmp_path, certs, engine) as running:
            yield running
    finally:
        engine.dispose()


def sharing_device(station, share: str, sync_lines: str | None = None):
    """The device's folder, config file, records and recorder (the pipeline's own), sharing ``share``
    (or with these ``[sync]`` lines)."""
    directory = station.directory / "device"
    config = write_config(directory, station.broker.port, sync_lines or station.device_config(share))
    store = open_store(directory)
    sharing = ImageSharing.from_config(load_config(str(config)).sync)
    recorder = DurableRecorder(store, DEVICE, RESULT_V2, sharing)
    closed_when_the_test_ends(recorder.close)
    return directory, config, store, recorder


def record_with(recorder, photo, record):
    recorder(record, recorder.keep(Frame(photo, record.source)))
    return record


def test_none_sends_no_image_bytes_anywhere(station, retina_rgb):
    _, config, store, recorder = sharing_device(station, "none")
    photo = small_photo(retina_rgb, 256)
    for score in (0.9, 0.05):
        record_with(recorder, photo, sample_record(score=score))
    record_with(recorder, photo, dataclasses.replace(sample_record(), triage=ungradable()))
    drain(config)
    wait_until(lambda: counts(station.engine)[0] == 3, 30, "the 3 results at the station")
    assert station.uploads.requests == []
    assert store.records.connection.execute("SELECT count(*) FROM image_upload").fetchone()[0] == 0
    published = station.broker_bytes()
    assert JPEG_START not in published
    for payload in station.results_at_broker():
        assert len(payload) < 4096 and json.loads(payload).get("image") is None


def test_referred_shares_only_refer_and_ungradable_and_the_broker_never_carries_them(station, retina_rgb):
    _, config, store, recorder = sharing_device(station, "referred")
    photo = small_photo(retina_rgb, 512)
    refer = record_with(recorder, photo, sample_record(score=0.9))
    record_with(recorder, photo, sample_record(score=0.05))
    gradeless = record_with(recorder, photo, dataclasses.replace(sample_record(), triage=ungradable()))
    drain(config)
    held = station.stored()
    assert set(held) == {refer.result_id, gradeless.result_id}
    assert all(image.startswith(JPEG_START) for image in held.values())
    uploaded = {request.path.split("/")[4] for request in station.uploads.requests}
    assert uploaded == set(held)
    published = station.broker_bytes()
    sent = [request.body for request in station.uploads.requests if request.method == "PATCH"]
    assert len(sent) == 2
    for body in sent:
        assert body[64:128] not in published  # no part of a sealed photo went through the broker
    assert JPEG_START not in published
    announced = {
        document["result_id"]: document.get("image") for document in map(json.loads, station.results_at_broker())
    }
    assert {rid for rid, image in announced.items() if image} == set(held)
    status = sync_status(store.records)  # what `edgescreen sync status` shows
    assert (status["photos_waiting"], status["photos_uploaded"], status["photos_refused"]) == (0, 2, 0)


def test_sync_run_until_drained_ends_though_photos_of_results_never_to_be_sent_stay_queued(station, retina_rgb):
    """A shared photo whose result was dropped unsent by a full outbox (``drop_oldest``), and one whose
    result was altered on the card (withheld, never published): the uploader never offers either, as
    the station never gets their results. ``sync run --until-drained`` waited for them for ever (the
    wipe sends the technician there), and ``sync status`` counted them in ``photos_waiting``, so a
    device never reached the "photos waiting 0" a decommissioning asks for. Both count the photos the
    uploader will still send: the run ends once the other two are at the station."""
    directory = station.directory / "device"
    config = write_config(directory, station.broker.port, station.device_config("all"))
    sharing = ImageSharing.from_config(load_config(str(config)).sync)
    store = open_store(directory, limits=OutboxLimits(max_rows=3, policy="drop_oldest"))
    photo = small_photo(retina_rgb, 128)
    recorded = [record_one(store, photo, sample_record(score=0.1), RESULT_V2, sharing=sharing) for _ in range(4)]
    _dropped, withheld, *sent = [record.result_id for record in recorded]
    store.records.close()
    altered(directory, [withheld])
    run = edgescreen_process(config, "sync", "run", "--until-drained")
    try:
        _, err = run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail(f"sync run --until-drained did not end within 60 s, {len(station.stored())} photos at the station")
    assert run.returncode == 0, err
    assert set(station.stored()) == set(sent)
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert (status["backlog"], status["withheld"], status["dropped"]) == (0, 1, 1)
    assert (status["photos_waiting"], status["photos_uploaded"], status["photos_refused"]) == (0, 2, 0)


def test_a_device_cannot_upload_for_another_devices_result(station, retina_rgb):
    _, config, store, recorder = sharing_device(station, "all")
    record_with(recorder, small_photo(retina_rgb, 128), sample_record(score=0.9))
    drain(config)
    upload = store.records.connection.execute("SELECT result_id, sha256 FROM image_upload").fetchone()
    with station.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM images")
    sealed = b"x" * 100
    assert station.upload("cam-02", upload[0], sealed).status == 403
    assert station.stored() == {}


def test_a_tampered_or_truncated_upload_is_refused_and_a_repeat_stores_one_copy(station, retina_rgb):
    _, config, store, recorder = sharing_device(station, "all")
    record = record_with(recorder, small_photo(retina_rgb, 256), sample_record(score=0.9))
    sealed = bytes(store.records.connection.execute("SELECT sealed FROM image_upload").fetchone()[0])
    store.records.connection.execute("UPDATE image_upload SET refused = 'held back by the test'")
    drain(config)  # the result reaches the station; its photo is held back
    wait_until(lambda: counts(station.engine)[0] == 1, 30, "the result at the station")
    tampered = sealed[:200] + bytes([sealed[200] ^ 1]) + sealed[201:]
    assert station.upload("cam-01", record.result_id, tampered).status == 400  # its whole fails the digest
    assert station.upload("cam-01", record.result_id, sealed[:-10]).status == 400  # ends short: kept as a prefix
    assert station.upload("cam-01", record.result_id, sealed + b"\0").status == 400  # more than announced
    assert station.stored() == {}
    assert station.upload("cam-01", record.result_id, sealed) == Sent(201, sent=10, resumed_at=len(sealed) - 10)
    assert station.upload("cam-01", record.result_id, sealed) == Sent(200)
    assert list(station.stored()) == [record.result_id]


def test_a_refused_photo_goes_again_once_the_technician_retries_it(station, retina_rgb):
    """A refusal sets a photo aside, never deletes it: after the cause is mended, ``sync
    retry-photos`` queues it again and the next run delivers it; the audit log says so."""
    _, config, store, recorder = sharing_device(station, "all")
    record = record_with(recorder, small_photo(retina_rgb, 256), sample_record(score=0.9))
    UploadQueue(store.records).refuse(record.result_id, "the station refused it (413)")  # as the uploader does
    drain(config)
    wait_until(lambda: counts(station.engine)[0] == 1, 30, "the result at the station")
    assert station.stored() == {} and sync_status(store.records)["photos_refused"] == 1
    retry = edgescreen_process(config, "sync", "retry-photos")
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, err
    assert out.startswith("1 refused photo queued again")
    drain(config)
    assert list(station.stored()) == [record.result_id]
    status = sync_status(store.records)
    assert (status["photos_waiting"], status["photos_uploaded"], status["photos_refused"]) == (0, 1, 0)
    retried = store.records.connection.execute("SELECT details FROM audit WHERE details LIKE '%images_retried%'")
    assert [json.loads(row[0])["images_retried"] for row in retried] == [1]
    assert store.records.verify_audit().intact
    again = edgescreen_process(config, "sync", "retry-photos")
    assert again.communicate(timeout=60)[0].startswith("0 refused photos queued again")


def test_a_photo_of_a_result_the_station_erased_meanwhile_is_set_aside_not_tried_for_ever(station, retina_rgb):
    """The administrator erased a result at the patient's request while its device still held its photo
    queued (its upload was held back): the station answered its upload that the result had not reached
    it yet (404), and the device tried the photo again after each backoff, for ever; ``sync run
    --until-drained`` never ended. The station says the result was erased (410): the device drops the
    photo's sealed copy, which the station will never take, and counts it apart from the photos refused,
    which ``sync retry-photos`` queued it again with for nothing. The result itself and its photo on the
    device are erased by the station's signed notice, as any result erased there."""
    _, config, store, recorder = sharing_device(station, "all")
    record = record_with(recorder, small_photo(retina_rgb, 256), sample_record(score=0.9))
    store.records.connection.execute("UPDATE image_upload SET refused = 'held back by the test'")
    drain(config)  # the result reaches the station; its photo is held back
    wait_until(lambda: counts(station.engine)[0] == 1, 30, "the result at the station")
    assert erase_results(station.engine, [record.result_id], "cli").erased == [record.result_id]
    store.records.connection.execute("UPDATE image_upload SET refused = NULL")
    drain(config, timeout=30)
    assert station.stored() == {}
    assert {request.status for request in station.uploads.requests} == {410}
    asked = len(station.uploads.requests)
    status = sync_status(store.records)
    assert (status["photos_waiting"], status["photos_uploaded"], status["photos_refused"]) == (0, 0, 0)
    assert status["photos_erased_at_the_station"] == 1
    assert store.records.connection.execute("SELECT sealed FROM image_upload").fetchone()[0] is None
    retry = edgescreen_process(config, "sync", "retry-photos")
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, err
    assert out.splitlines() == [
        sentence("sync.photos_retried", "en", count=0),
        sentence("sync.photos_erased_at_the_station", "en", count=1),
    ]
    drain(config, timeout=30)
    assert len(station.uploads.requests) == asked and station.stored() == {}
    assert sync_status(store.records)["photos_erased_at_the_station"] == 1
    assert store.records.verify_audit().intact


def test_the_worker_killed_mid_upload_20_times_every_photo_arrives_once_and_verifies(station, retina_rgb):
    directory, config, store, recorder = sharing_device(station, "all")
    photo = cv2.resize(retina_rgb, (2048, 2048), interpolation=cv2.INTER_CUBIC)  # as large as a shared photo gets
    recorded = [record_with(recorder, photo, sample_record(score=0.9)).result_id for _ in range(PHOTOS)]
    size_of = dict(store.records.connection.execute("SELECT result_id, size FROM image_upload").fetchall())
    store.records.close()
    station.uploads.chunk_delay_s = 0.03  # a photo takes about half a second to arrive: kills land mid-body
    rng = random.Random(14)
    kills = 0
    for _ in range(20):
        begun = station.uploads.started
        worker = edgescreen_process(config, "sync", "run")
        # Killed while it uploads: just after the server began to receive a photo from this worker.
        wait_until(lambda: station.uploads.started > begun or worker.poll() is not None, 60, "an upload to begin")  # noqa: B023
        time.sleep(rng.uniform(0.0, 0.3))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    drain(config, timeout=120)
    held = station.stored()
    assert kills == 20
    # Sent again after a kill, a photo resumed at the station's offset: only the rest went out (a
    # resumed upload may itself be killed again: only those the station answered carry the whole rest).
    patches = [
        (request.path.split("/")[4], request) for request in station.uploads.requests if request.method == "PATCH"
    ]
    resumed = [(rid, request) for rid, request in patches if request.offset and request.status in (200, 201)]
    assert resumed, "no upload resumed after a kill"
    assert all(len(request.body) == size_of[rid] - request.offset for rid, request in resumed)
    received = sum(len(request.body) for _, request in patches)
    print(f"{len(resumed)} uploads resumed after a kill; {received} bytes received for {sum(size_of.values())}")
    with station.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(upload_parts)).scalar_one() == 0
    assert set(held) == set(recorded)  # one row per result: a photo stored twice would not fit
    assert all(image.startswith(JPEG_START) for image in held.values())  # each opened: intact and its own
    store = open_store(directory)
    assert UploadQueue(store.records).backlog().uploaded == PHOTOS
    assert store.records.verify_audit().intact


def test_a_client_without_a_certificate_is_refused_at_the_handshake(station):
    anonymous = StationClient(
        SyncConfig(station_url=f"https://127.0.0.1:{station.upload_port}", tls_ca_file=station.certs / "ca.crt")
    )
    with pytest.raises(OSError):
        anonymous.upload("a" * 32, b"x" * 100, Heartbeat("test upload"))
    assert station.uploads.started == 0


def test_a_revoked_device_certificate_is_refused_at_the_handshake(station):
    """The station reads the CA's revocation list, as the broker does: a lost device uploads nothing."""
    lost = station.certs / LOST
    settings = SyncConfig(
        station_url=f"https://127.0.0.1:{station.upload_port}",
        tls_ca_file=station.certs / "ca.crt",
        tls_cert_file=lost.with_suffix(".crt"),
        tls_key_file=lost.with_suffix(".key"),
    )
    with pytest.raises(OSError):
        StationClient(settings).upload("a" * 32, b"x" * 100, Heartbeat("test upload"))
    assert station.uploads.started == 0


def test_a_photo_waits_while_the_station_is_unreachable_and_arrives_once_it_answers(station, retina_rgb, caplog):
    caplog.set_level(logging.INFO)
    unreachable = station.device_config("all").replace(f":{station.upload_port}", f":{free_port()}")
    directory, config, store, recorder = sharing_device(station, "all", unreachable)
    record = record_with(recorder, small_photo(retina_rgb, 128), sample_record())
    worker = BackgroundWorker(config)

    def refused() -> int:  # connections refused, each followed by the worker's backoff (counted, not given 1 s)
        return sum(logged.getMessage().startswith("sync.upload_failed") for logged in caplog.records)

    try:
        wait_until(lambda: counts(station.engine)[0] == 1, 30, "the result at the station")
        wait_until(lambda: refused() >= 3, 30, "a few refused connections")
        worker.check_alive()
        status = sync_status(store.records)
        assert (status["backlog"], status["photos_waiting"], status["photos_uploaded"]) == (0, 1, 0)
    finally:
        worker.stop()
    assert station.uploads.started == 0
    write_config(directory, station.broker.port, station.device_config("all"))
    drain(config)
    assert list(station.stored()) == [record.result_id]


def syncing(config, heartbeats: list[Heartbeat]) -> tuple[threading.Event, threading.Thread]:
    """``run_sync`` in a thread, its loops' heartbeats joining ``heartbeats`` as ``sync run`` watches them."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sync, args=(load_config(str(config)), stop), kwargs={"heartbeats": heartbeats}, daemon=True
    )
    thread.start()
    return stop, thread


def test_the_uploaders_heartbeat_is_watched_with_the_sync_loops_and_its_loop_keeps_it(station, retina_rgb):
    directory, config, _store, recorder = sharing_device(station, "all")
    record = record_with(recorder, small_photo(retina_rgb, 128), sample_record(score=0.9))
    heartbeats: list[Heartbeat] = []
    stop, thread = syncing(config, heartbeats)
    try:
        wait_until(lambda: record.result_id in station.stored(), 30, "the photo at the station")
        assert [heartbeat.name for heartbeat in heartbeats] == ["sync loop", "photo uploader"]
        uploader = heartbeats[1]
        stuck: list = []

        def a_lapse_is_reported() -> bool:
            uploader.beat(-GRACE_S - 2)  # as if its loop had promised a beat two seconds ago and hung
            stuck[:] = [c for c in liveness(directory / "records.sqlite3", heartbeats) if c.level is Level.RED]
            return bool(stuck)

        # The live loop beats every IDLE_SECONDS and may, rarely, beat between the lapse and its
        # reading: read again until one reading catches it.
        wait_until(a_lapse_is_reported, 10, "the uploader's lapse reported")
        assert [check.values["loop"] for check in stuck] == ["photo uploader"]
        # Idle, the uploader's loop beats every IDLE_SECONDS: the lapse is gone at its next turn.
        wait_until(lambda: uploader.overdue_s() == 0, 5, "the uploader's next beat")
        checks = liveness(directory / "records.sqlite3", heartbeats)
        assert [check.level for check in checks] == [Level.GREEN] * 3
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def test_the_uploaders_heartbeat_promise_holds_while_its_write_waits_for_another_connections_lock(
    station, retina_rgb, monkeypatch
):
    """The uploader promised its heartbeat the connection's timeout, then marked the photo uploaded,
    a write waiting up to a busy timeout for another connection's lock (30 s on the device, against
    5 + 30 s): the watchdog took the wait for a hang. Scaled down: 2.5 s of busy wait, 1 s of
    connection timeout and 0.5 s of grace; a slow uplink, and the lock taken by a second real SQLite
    connection while the photo is on its way, held past the busy timeout."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 2.5)
    monkeypatch.setattr(heartbeat_module, "GRACE_S", 0.5)
    directory, config, store, recorder = sharing_device(station, "all")
    config.write_text(config.read_text().replace("connect_timeout_s = 5.0", "connect_timeout_s = 1.0"))
    station.uploads.chunk_delay_s = 0.3
    record = record_with(recorder, small_photo(retina_rgb, 128), sample_record(score=0.9))
    heartbeats: list[Heartbeat] = []
    stop, thread = syncing(config, heartbeats)
    try:
        wait_until(lambda: station.uploads.started > 0, 30, "the photo's upload begun")
        overdue = most_overdue_while_locked(directory / "records.sqlite3", 4.0, heartbeats[1])
        wait_until(lambda: sync_status(store.records)["photos_uploaded"] == 1, 30, "the photo marked uploaded")
    finally:
        stop.set()
        thread.join(15)
    assert record.result_id in station.stored()
    assert overdue == 0.0


def test_an_unexpected_error_in_the_uploader_is_logged_and_retried_after_the_backoff(station, retina_rgb, caplog):
    _directory, config, store, recorder = sharing_device(station, "all")
    station.uploads.garble_offsets = True  # the station's answer cannot be read: no handled case covers it
    record = record_with(recorder, small_photo(retina_rgb, 128), sample_record(score=0.9))
    heartbeats: list[Heartbeat] = []
    stop, thread = syncing(config, heartbeats)
    try:
        crashed = lambda: [r.getMessage() for r in caplog.records if "sync.uploads_crashed" in r.getMessage()]  # noqa: E731
        wait_until(lambda: len(crashed()) >= 3, 30, "the uploader to fail and try again, three times")
        assert "ValueError" in crashed()[0] and "retry_in_s=" in crashed()[0]
        assert [heartbeat.overdue_s() for heartbeat in heartbeats] == [0.0, 0.0]  # retrying, not dead
        assert sync_status(store.records)["photos_waiting"] == 1
        station.uploads.garble_offsets = False  # the fault clears: the next retry uploads the photo
        wait_until(lambda: record.result_id in station.stored(), 30, "the photo at the station")
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
