"""Privacy, property-based, for shared photos: identifying strings written into a photo's EXIF, XMP
and comment (and its file name, the patient reference and the note) never leave the device: not on
the broker, not in any byte the station's upload server receives, and not in the photo the station
opens. Each example is a real JPEG read by the device's own decoder, recorded through the real
recording path with sharing on, and synced by the real worker to the TLS broker and the HTTPS upload
server of a real station."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from PIL import Image

from edgescreen_wire.result import RESULT_V2
from firmware_app.app import DurableRecorder
from firmware_app.capture.image_file import read_frame
from firmware_app.config import load_config
from firmware_app.records.screening import ScreeningContext
from firmware_app.sharing.policy import ImageSharing
from review_station import devices
from review_station.storage.database import open_database
from tests.records.kit import DEVICE, open_store, sample_record, small_photo, write_config
from tests.sharing.kit import BARE_MARKERS, jpeg_markers, photo_with_metadata
from tests.sharing.site import make_certs, site
from tests.sync.kit import drain
from tests.sync.test_privacy import forms, identifying, wire_words

# A file name cannot hold "/" or NUL; everything else it may.
nameable = identifying.filter(lambda s: "/" not in s and "\0" not in s and len(s.encode()) < 200)


@pytest.fixture(scope="module")
def station(tmp_path_factory, retina_rgb):
    directory = tmp_path_factory.mktemp("image-privacy")
    engine = open_database(f"sqlite:///{directory / 'review.sqlite3'}")
    devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
    try:
        with site(directory, make_certs(directory / "certs"), engine) as running:
            config = write_config(directory / "device", running.broker.port, running.device_config("all"))
            yield running, config, small_photo(retina_rgb, 96)
    finally:
        engine.dispose()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(in_exif=identifying, in_xmp=identifying, in_comment=identifying, file_name=nameable, patient=identifying)
def test_nothing_identifying_in_a_photo_or_its_context_ever_leaves(
    station, in_exif, in_xmp, in_comment, file_name, patient
):
    running, config, pixels = station
    folder = config.parent / "camera-roll"
    folder.mkdir(exist_ok=True)
    path = photo_with_metadata(folder / f"{file_name}.jpg", pixels, in_exif)
    # The XMP and the comment carry their own secrets: written again over the EXIF-only copy.
    image = Image.open(path)
    image.save(
        path,
        exif=image.info["exif"],
        xmp=image.info["xmp"].replace(in_exif.encode(), in_xmp.encode()),
        comment=in_comment,
        icc_profile=image.info["icc_profile"],
        quality=92,
    )
    frame = read_frame(path)
    store = open_store(config.parent)
    sharing = ImageSharing.from_config(load_config(str(config)).sync)
    record = sample_record(ScreeningContext(patient_ref=patient, eye="L", note=in_comment), source=str(path), score=0.9)
    recorder = DurableRecorder(store, DEVICE, RESULT_V2, sharing)
    recorder(record, recorder.keep(frame))
    recorder.close()
    store.records.close()
    drain(config)
    opened = running.stored()[record.result_id]
    assert set(jpeg_markers(opened)) <= BARE_MARKERS
    sent = next(json.loads(p) for p in running.results_at_broker() if record.result_id.encode() in p)
    assert sent["image"]["size"] > len(opened)  # sealed: the photo plus the HPKE overhead
    published = running.broker_bytes()
    received = b"\n".join(request.path.encode() + b" " + request.body for request in running.uploads.requests)
    own = wire_words((topic for topic, _ in running.tap.messages), sent)
    for secret in (in_exif, in_xmp, in_comment, file_name, patient):
        for form in forms(secret):
            assume(form not in own)
            assert form not in published, f"{secret!r} reached the broker"
            assert form not in received, f"{secret!r} reached the upload server"
            assert form not in opened, f"{secret!r} is in the photo the station opens"
