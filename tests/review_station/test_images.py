"""The station's side of shared photos, on SQLite and PostgreSQL: a photo opens only for a signed-in
user, every view audited, in the views graders use; it is deleted after the retention that follows
the final verdict, or on request (audited)."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from sqlalchemy import Engine, event, func, select, update

from edgescreen_wire.erasure import erasure_documents
from edgescreen_wire.sealed_image import read_public_key, seal_image
from edgescreen_wire.topics import ERASURE, device_topic
from firmware_app.records.images import jpeg_bytes
from review_station import accounts, audit, devices, images, resumable
from review_station.cli import main
from review_station.config import ImagesConfig, ReviewConfig, UploadsConfig, WebConfig
from review_station.erasure import erase_results
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import audit as audit_table
from review_station.storage.tables import images as images_table
from review_station.storage.tables import reads, users
from review_station.uploads import create_upload_app
from review_station.verdicts import ReadForm, record_read
from review_station.web.photo import VIEWS
from tests.mqtt_broker import wait_until
from tests.records.kit import small_photo
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import batch_auditing_then_noting_its_device
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.web_kit import PASSWORD, add_results, announcing, hold_photo, signed_in_client
from tests.sharing.kit import jpeg_markers, station_keys


@pytest.fixture()
def keys(tmp_path):
    return station_keys(tmp_path / "keys")


def config_with(keys) -> ReviewConfig:
    return ReviewConfig(web=WebConfig(secure_cookies=False), images=ImagesConfig(private_key_file=keys[0]))


def with_photo(engine: Engine, keys, retina_rgb, score: float = 0.9, photo: bytes | None = None) -> tuple[str, bytes]:
    """A result and the photo its device shared (``photo``, else a JPEG of the retina), held as the
    upload endpoint stores it: (result id, the photo)."""
    [result_id] = add_results(engine, "cam-01", "clinic-7", [score])
    photo = photo or jpeg_bytes(small_photo(retina_rgb, 256))
    hold_photo(engine, result_id, seal_image(photo, read_public_key(keys[1]), result_id))
    return result_id, photo


def image_events(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(audit_table.c.kind, audit_table.c.details).order_by(audit_table.c.seq))
        events = [json.loads(details) | {"kind": kind} for kind, details in rows]
    return [event for event in events if event["kind"] == "image" or "image" in event]


def test_the_photo_opens_for_a_signed_in_user_in_each_view_and_every_view_is_audited(engine, keys, retina_rgb):
    result_id, photo = with_photo(engine, keys, retina_rgb)
    client = signed_in_client(engine, config_with(keys), "ana", "reviewer")
    panel = client.get(f"/results/{result_id}/photo-panel").text
    assert f"/results/{result_id}/photo.jpg?view=colour" in panel and 'data-view="red_free"' in panel
    assert 'hx-get="/results/' in client.get(f"/results/{result_id}").text
    colour = client.get(f"/results/{result_id}/photo.jpg")
    assert colour.headers["content-type"] == "image/jpeg"
    shown, sent = (np.asarray(Image.open(io.BytesIO(jpeg)), np.float32) for jpeg in (colour.content, photo))
    assert shown.shape == sent.shape and np.abs(shown - sent).mean() < 2  # re-encoded from its pixels
    assert colour.headers["cache-control"] == "no-store"
    red_free = Image.open(io.BytesIO(client.get(f"/results/{result_id}/photo.jpg?view=red_free").content))
    assert red_free.mode == "L" and red_free.size == (256, 256)
    contrast = client.get(f"/results/{result_id}/photo.jpg?view=contrast")
    assert Image.open(io.BytesIO(contrast.content)).mode == "RGB"
    assert client.get(f"/results/{result_id}/photo.jpg?view=negative").status_code == 404
    views = [e for e in image_events(engine) if e["kind"] == "view"]
    assert [(e["image"], e["view"], e["by"]) for e in views] == [
        (result_id, view, "ana") for view in ("colour", "red_free", "contrast")
    ]
    client.cookies.clear()
    assert client.get(f"/results/{result_id}/photo.jpg").status_code == 303  # to the sign-in page
    with engine.connect() as connection:
        assert audit.verify(connection).intact


def test_no_view_serves_the_metadata_a_device_left_in_its_photo(engine, keys, retina_rgb):
    """A device that skipped the re-encoding (another firmware, a bare curl) sealed a JPEG with EXIF
    naming the patient: the station cannot see it on receipt, and never serves it."""
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Jeanne Dupont"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    tagged = io.BytesIO()
    Image.fromarray(small_photo(retina_rgb, 256)).save(tagged, "JPEG", exif=exif.tobytes(), comment=b"Jeanne Dupont")
    result_id, _ = with_photo(engine, keys, retina_rgb, photo=tagged.getvalue())
    client = signed_in_client(engine, config_with(keys), "ana", "reviewer")
    for view in VIEWS:
        shown = client.get(f"/results/{result_id}/photo.jpg?view={view}")
        assert shown.status_code == 200 and b"Jeanne" not in shown.content
        assert jpeg_markers(shown.content)[:2] == [0xD8, 0xE0] and 0xE1 not in jpeg_markers(shown.content)


@pytest.mark.parametrize(
    "photo",
    [b"<html><script>alert(1)</script></html>", "truncated", "too large"],
)
def test_a_photo_that_is_no_picture_to_show_is_a_422_in_every_view(engine, keys, retina_rgb, photo):
    """Nothing but a JPEG drawn by the station goes out as ``image/jpeg``, and a picture whose decoding
    would take gigabytes (20000x20000 pixels in a 0.4 MB PNG) is refused before it is decoded."""
    if photo == "truncated":
        photo = jpeg_bytes(small_photo(retina_rgb, 256))[:3000]
    elif photo == "too large":
        bomb = io.BytesIO()
        Image.new("L", (20_000, 20_000)).save(bomb, "PNG")
        photo = bomb.getvalue()
    result_id, _ = with_photo(engine, keys, retina_rgb, photo=photo)
    client = signed_in_client(engine, config_with(keys), "ana", "reviewer")
    for view in VIEWS:
        refused = client.get(f"/results/{result_id}/photo.jpg?view={view}")
        assert refused.status_code == 422 and refused.text.startswith("the photo cannot be shown: ")
        assert refused.headers["content-type"].startswith("text/plain")


def test_a_photo_sealed_to_another_stations_key_is_a_422_that_says_so(engine, keys, retina_rgb, tmp_path):
    other = station_keys(tmp_path / "other-station")
    result_id, _ = with_photo(engine, (keys[0], other[1]), retina_rgb)
    client = signed_in_client(engine, config_with(keys), "ana", "reviewer")
    refused = client.get(f"/results/{result_id}/photo.jpg")
    assert refused.status_code == 422 and "does not open with this station's key" in refused.text


def test_a_result_without_a_photo_shows_no_panel(engine, keys):
    [result_id] = add_results(engine, "cam-01", "clinic-7", [0.9])
    client = signed_in_client(engine, config_with(keys), "ana", "reviewer")
    assert "photo.jpg" not in client.get(f"/results/{result_id}/photo-panel").text
    assert client.get(f"/results/{result_id}/photo.jpg").status_code == 404


def test_photos_are_deleted_after_the_retention_that_follows_the_final_verdict(engine, keys, retina_rgb):
    reviewed, _ = with_photo(engine, keys, retina_rgb)
    unread, _ = with_photo(engine, keys, retina_rgb)
    accounts.add_user(engine, "ana", "a long enough secret", "reviewer", by="test")
    with engine.connect() as connection:
        ana = connection.execute(select(users.c.id).where(users.c.username == "ana")).scalar_one()
    reader = accounts.SignedIn(user_id=ana, username="ana", role="reviewer", csrf_token="x")
    record_read(engine, reviewed, reader, ReadForm("refer", "soon", "moderate", "absent"), ())
    now = datetime.now(UTC)
    assert images.purge(engine, 30, now) == 0  # the verdict is new
    with engine.begin() as connection:
        connection.execute(update(reads).values(created_at=now - timedelta(days=31)))
    assert images.purge(engine, 30, now) == 1
    with engine.connect() as connection:
        held = connection.execute(select(images_table.c.result_id)).scalars().all()
    assert held == [unread]  # never reviewed: kept whatever its age
    assert [e["action"] for e in image_events(engine) if e["kind"] == "image"] == ["retention"]


RETIRED = images.UploadAnswer(403, "this device is retired: its certificate uploads nothing more")


def test_a_retired_device_uploads_nothing_more(engine):
    """A retired device may have been lost or stolen with its key: its certificate hands over nothing,
    not even the photo its own earlier result announced."""
    sealed = os.urandom(5000)
    result_id = announcing(engine, sealed)
    devices.retire(engine, "cam-01", by="test")
    assert images.receive(engine, result_id, "cam-01", sealed) == RETIRED


# A whole PUT, and the PATCH that completes a resumable upload: both store the photo.
UPLOADS: dict[str, Callable[[Engine, str, bytes], images.UploadAnswer]] = {
    "put": lambda engine, result_id, sealed: images.receive(engine, result_id, "cam-01", sealed),
    "patch": lambda engine, result_id, sealed: resumable.append(engine, result_id, "cam-01", 0, sealed, True).answer,
}
# Where the first of the two is held back: the upload as it stores the photo it checked the device
# for, the retirement as it audits the retirement it wrote.
STORING, AUDITING = "INSERT INTO images", "INSERT INTO audit"


@pytest.mark.parametrize("upload", UPLOADS.values(), ids=UPLOADS.keys())
@pytest.mark.parametrize("first", ["upload", "retirement"])
def test_a_device_retired_while_its_photo_is_uploaded_is_refused_it_once_the_retirement_is_committed(
    engine, upload, first
):
    """The administrator retires a lost device as its upload is in flight. The upload checked that the
    device was active, then stored the photo: without the device's row held (PostgreSQL) or the
    database's write lock (SQLite) from that check, the retirement committed in between and the photo
    of a retired device was stored after it. Held back at the database driver, the first of the two
    lets the second run, which waits for it: an upload first stores the photo before the retirement
    commits; a retirement first refuses the upload as any retired device's."""
    sealed = os.urandom(5000)
    result_id = announcing(engine, sealed)
    answers: dict[str, images.UploadAnswer] = {}

    def send() -> None:
        answers["upload"] = upload(engine, result_id, sealed)

    def retire() -> None:
        devices.retire(engine, "cam-01", by="test")

    held, held_at, second = (send, STORING, retire) if first == "upload" else (retire, AUDITING, send)
    held_thread, other = threading.get_ident(), threading.Thread(target=second)

    def hold_back(connection, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == held_thread and statement.startswith(held_at):
            other.start()
            other.join(2)

    event.listen(engine, "before_cursor_execute", hold_back)
    try:
        held()
    finally:
        event.remove(engine, "before_cursor_execute", hold_back)
    other.join(20)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(images_table)).scalar_one()
        rows = connection.execute(select(audit_table.c.details).order_by(audit_table.c.seq)).scalars()
        acts = [json.loads(details).get("action") for details in rows]
    if first == "upload":
        assert (answers["upload"].status, stored) == (201, 1)
        assert [act for act in acts if act in ("received", "retire")] == ["received", "retire"]
    else:
        assert (answers["upload"], stored) == (RETIRED, 0)


@pytest.mark.parametrize("upload", UPLOADS.values(), ids=UPLOADS.keys())
def test_an_upload_does_not_deadlock_with_an_ingest_batch_that_audits_then_notes_its_device(engine, upload):
    """An ingest batch holding the device's erasure request audits it (the audit's lock), then notes
    the device's last message (its row). An upload that held the device's row to keep a retirement
    out, then waited for the audit's lock to audit its photo, closed a cycle: PostgreSQL broke it by
    failing one of the two (DeadlockDetected: an upload's 500, or the batch rolled back). The upload
    waits for the batch instead, then stores its photo."""
    sealed = os.urandom(5000)
    result_id = announcing(engine, sealed)
    with batch_auditing_then_noting_its_device(engine) as committed:
        answer = upload(engine, result_id, sealed)
    assert (answer.status, committed.is_set()) == (201, True)


@pytest.mark.parametrize("upload", UPLOADS.values(), ids=UPLOADS.keys())
def test_an_upload_does_not_deadlock_with_an_ingest_batch_that_erases_another_result_then_its_own(engine, upload):
    """An ingest batch carries out two erasure requests of the device: the first audits its erasure
    (the audit's lock), the second holds the uploaded photo's result to erase it. An upload holding
    that result while it waited for the audit's lock to audit its photo closed a cycle: PostgreSQL
    broke it by failing one of the two (DeadlockDetected). Held back as it audits the first erasure,
    the batch lets the upload run: the upload waits for the batch, then finds its result erased."""
    sealed = os.urandom(5000)
    result_id = announcing(engine, sealed)
    [other] = add_results(engine, "cam-01", "clinic-7", [0.5])
    topic = device_topic("clinic-7", "cam-01", ERASURE)
    messages = [
        Incoming(topic, erasure_documents("cam-01", [erased])[0], datetime.now(UTC)) for erased in (other, result_id)
    ]
    batch_thread, answers = threading.get_ident(), {}
    uploading = threading.Thread(target=lambda: answers.update(upload=upload(engine, result_id, sealed)))

    def hold_back(connection, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == batch_thread and statement.startswith(AUDITING) and uploading.ident is None:
            uploading.start()
            uploading.join(2)

    event.listen(engine, "before_cursor_execute", hold_back)
    try:
        with engine.begin() as connection:
            outcome = store_batch(connection, messages, devices.active_sites(connection))
    finally:
        event.remove(engine, "before_cursor_execute", hold_back)
    uploading.join(20)
    assert (outcome.erasures, answers["upload"]) == (2, images.ERASED)


def test_erasure_on_request_deletes_the_photo_and_is_audited(engine, keys, retina_rgb):
    result_id, _ = with_photo(engine, keys, retina_rgb)
    assert images.erase(engine, result_id, by="dpo")
    assert not images.erase(engine, result_id, by="dpo")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(images_table)).scalar_one() == 0
    assert [(e["action"], e["by"]) for e in image_events(engine) if e["kind"] == "image"] == [("erased", "dpo")]


def test_an_upload_is_stored_once_only_as_announced_and_only_from_the_results_device(engine):
    sealed = os.urandom(5000)  # the station checks digests and sizes: it never opens a photo to receive it
    result_id = announcing(engine, sealed)
    unannounced = announcing(engine, None)
    other_device = announcing(engine, sealed, device="cam-02")
    answers = [
        images.receive(engine, "f" * 32, "cam-01", sealed),
        images.receive(engine, result_id, "cam-02", sealed),
        images.receive(engine, other_device, "cam-01", sealed),
        images.receive(engine, result_id, None, sealed),
        images.receive(engine, unannounced, "cam-01", sealed),
        images.receive(engine, result_id, "cam-01", sealed[:-1]),
        images.receive(engine, result_id, "cam-01", sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:]),
        images.receive(engine, result_id, "cam-01", sealed),
        images.receive(engine, result_id, "cam-01", sealed),
    ]
    assert [answer.status for answer in answers] == [404, 403, 403, 403, 422, 400, 400, 201, 200]
    with engine.connect() as connection:
        rows = connection.execute(select(images_table.c.result_id, images_table.c.sealed)).all()
    assert [(rid, bytes(stored)) for rid, stored in rows] == [(result_id, sealed)]
    assert [(e["action"], e["result"]) for e in image_events(engine)] == [("received", result_id)]


def test_a_photo_of_a_result_erased_since_is_gone_for_its_device_and_not_awaited(engine):
    """A result erased at the patient's request (here by the administrator) while its device still held
    its photo queued: the upload was told the result had not reached the station yet, a 404 on which the
    device tries again later, for ever. It is a 410, which the device's uploader takes as a refusal: the
    photo is set aside, never sent again. Whole, resumed, or asked how much is held, alike; the result's
    device only (another device's certificate is told as before that the result is not its)."""
    sealed = os.urandom(5000)
    result_id = announcing(engine, sealed)
    erase_results(engine, [result_id], "cli")
    answers = [upload(engine, result_id, sealed) for upload in UPLOADS.values()]
    answers.append(resumable.offset(engine, result_id, "cam-01").answer)
    assert [answer.status for answer in answers] == [410] * 3
    # The body only a device reads: a stable code, the same whatever the station's language, where it
    # was an English sentence; the station's own log line still says why, for its operator.
    assert {answer.body for answer in answers} == {"result-erased"}, answers
    assert all("erased at the patient's request" in answer.reason for answer in answers), answers
    assert images.receive(engine, "f" * 32, "cam-01", sealed).status == 404  # never received: awaited


def test_a_photo_announced_and_not_arrived_yet_is_said_so(engine, keys):
    result_id = announcing(engine, os.urandom(1000))
    client = signed_in_client(engine, config_with(keys), "ana", "reviewer")
    page = client.get(f"/results/{result_id}").text
    assert "has not arrived yet" in page and "photo-panel" not in page


def test_the_upload_endpoint_refuses_a_body_over_its_limit_before_reading_it(engine):
    sealed = os.urandom(2 * 2**20)
    result_id = announcing(engine, sealed)
    app = create_upload_app(ReviewConfig(uploads=UploadsConfig(max_upload_mb=1)), engine)
    with TestClient(app) as client:
        assert client.put(f"/api/v1/results/{result_id}/image", content=sealed).status_code == 413
        # No TLS here, so no certificate: no device is named, and nothing is stored for anybody.
        assert client.put(f"/api/v1/results/{result_id}/image", content=sealed[: 2**19]).status_code == 403
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(images_table)).scalar_one() == 0


def test_the_command_line_makes_the_key_pair_and_erases_and_needs_tls_to_receive(tmp_path, engine, retina_rgb):
    config = tmp_path / "review.toml"
    private, public = tmp_path / "keys" / "station.key", tmp_path / "station.pub"
    config.write_text(
        f'[database]\nurl = "{engine.url.render_as_string(hide_password=False)}"\n'
        f'[images]\nprivate_key_file = "{private}"\n'
    )
    assert main(["--config", str(config), "images", "keygen", "--public", str(public)]) == 0
    assert private.stat().st_mode & 0o777 == 0o600 and read_public_key(public)
    assert main(["--config", str(config), "images", "keygen", "--public", str(public)]) == 1  # never overwritten
    result_id, _ = with_photo(engine, (private, public), retina_rgb)
    assert main(["--config", str(config), "images", "erase", result_id]) == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(images_table)).scalar_one() == 0
    assert main(["--config", str(config), "uploads"]) == 2  # no TLS files: it does not start


def test_in_chromium_the_photo_zooms_pans_and_switches_to_the_green_channel(engine, keys, retina_rgb, playwright):
    result_id, _ = with_photo(engine, keys, retina_rgb)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(config_with(keys), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        photo = page.locator("#shared-photo")
        # (polled from here: the page's CSP forbids the string evaluation wait_for_function uses)
        wait_until(lambda: photo.evaluate("element => element.naturalWidth > 0"), 10, "the photo")
        fitted = photo.evaluate("element => element.style.transform")
        page.click("[data-zoom=in]")
        zoomed = photo.evaluate("element => element.style.transform")
        assert "scale" in fitted and zoomed != fitted
        box = page.locator(".photo-frame").bounding_box()
        page.mouse.move(box["x"] + 100, box["y"] + 100)
        page.mouse.down()
        page.mouse.move(box["x"] + 160, box["y"] + 130)
        page.mouse.up()
        assert photo.evaluate("element => element.style.transform") != zoomed  # panned
        page.click("[data-view=red_free]")
        shown = "element => element.src.endsWith('view=red_free') && element.complete && element.naturalWidth > 0"
        wait_until(lambda: photo.evaluate(shown), 10, "the green channel")
        assert page.get_attribute("[data-view=red_free]", "aria-pressed") == "true"
    wait_until(lambda: len([e for e in image_events(engine) if e["kind"] == "view"]) == 2, 10, "both views audited")
    assert [e["view"] for e in image_events(engine) if e["kind"] == "view"] == ["colour", "red_free"]


def test_in_chromium_a_reader_without_a_mouse_zooms_and_pans_the_photo_by_keyboard(
    engine, keys, retina_rgb, playwright
):
    """The buttons zoom about the centre and only a drag panned: by keyboard the edges of a zoomed
    photo (the temporal arcades, a lesion's border) were out of reach."""
    result_id, _ = with_photo(engine, keys, retina_rgb)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(config_with(keys), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        photo = page.locator("#shared-photo")
        wait_until(lambda: photo.evaluate("element => element.naturalWidth > 0"), 10, "the photo")
        for _ in range(30):  # Tab to the photo, as a keyboard does
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.classList.contains('photo-frame')"):
                break
        else:
            raise AssertionError("the photo never takes the keyboard's focus")
        fitted = photo.evaluate("element => element.style.transform")
        page.keyboard.press("+")
        zoomed = photo.evaluate("element => element.style.transform")
        assert zoomed != fitted
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        panned = photo.evaluate("element => element.style.transform")
        assert panned != zoomed and "scale" in panned


def test_in_chromium_the_eye_is_in_sight_with_the_photo_and_the_read_form_on_a_laptop(
    engine, keys, retina_rgb, playwright
):
    """The eye was said only in the figures under the photo, below a 1366x768 screen's fold: a grader
    saw the photo and the form but not which eye the device said it was."""
    result_id, _ = with_photo(engine, keys, retina_rgb)  # the device's left eye
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(config_with(keys), engine) as base, chromium_page(playwright, 1366, 768) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        wait_until(lambda: page.locator("#shared-photo").count() == 1, 10, "the photo panel")
        in_sight = page.locator("text=left eye").first.bounding_box()
        assert in_sight is not None and in_sight["y"] + in_sight["height"] <= 768
        assert page.locator("#read-form").bounding_box()["y"] < 768
