"""doctor's lines on the photos shared with the review station, and ``sync status``'s counts of them:
real records holding photos waiting, uploaded, refused and erased at the station, read by the commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from edgescreen_wire.result import RESULT_V2
from edgescreen_wire.sealed_image import read_public_key
from firmware_app.messages import message, sentence
from firmware_app.records.outbox import Outbox
from firmware_app.records.uploads import ALTERED, STATION_REFUSED, UploadQueue
from firmware_app.sharing.policy import ImageSharing
from firmware_app.wording import duration, photo_reason
from tests.health.test_doctor import doctor
from tests.records.kit import DEVICE, in_language, open_store, record_one, sample_record, small_photo, write_config
from tests.sharing.kit import station_keys
from tests.sharing.site import tls
from tests.sync.test_security import make_test_certs
from tests.test_cli import edgescreen


def shared(directory, ago: dt.timedelta, synchronised: bool = True) -> UploadQueue:
    """Records holding referred screenings of ``ago`` before now, their results at the broker and their
    photos shared, on a boot before doctor's; the queue of their photos, all still waiting. Now as the
    test runs, not as the suite was collected: doctor and ``sync status`` read the real clock."""
    queued = dt.datetime.now(dt.UTC) - ago
    _, public = station_keys(directory / "station")
    sharing = ImageSharing("referred", 2048, False, read_public_key(public))
    store = open_store(directory, clock=lambda: queued, synchronised=synchronised)
    for _ in range(6):
        record_one(store, small_photo(), sample_record(captured_at=queued, score=0.9), RESULT_V2, sharing=sharing)
    Outbox(store.records).mark_sent(range(1, 7))
    return UploadQueue(store.records)


def sharing_config(directory: Path) -> Path:
    """A device config in ``directory`` sharing the referred screenings' photos with a review station:
    the station's key, and this device's certificate, which the uploads present."""
    certs = make_test_certs(directory / "certs", DEVICE.id)
    _, public = station_keys(directory / "site")
    lines = (
        f'{tls(certs, DEVICE.id)}result_schema = "{RESULT_V2}"\nshare_images = "referred"\n'
        f'station_url = "https://127.0.0.1:1"\nstation_public_key = "{public}"\n'
    )
    return write_config(directory, 1, lines)


def said(text: str, name: str) -> tuple[str, str]:
    """The level and the sentence of check ``name``'s line in doctor's text report."""
    (line,) = [line for line in text.splitlines() if line.split()[1:2] == [name]]
    level, _, sentence_said = line.split(maxsplit=2)
    return level, sentence_said


@pytest.mark.parametrize("language", ["en", "fr"])
def test_doctor_counts_the_photos_waiting_uploaded_and_set_aside_and_says_why(tmp_path, language):
    """A technician on a campaign read nothing of the photos the specialists asked for: doctor counts
    those waiting and the oldest wait, those at the station, and those set aside, by the station's
    answer, with what to do; ``sync status`` says the same counts from the same function."""
    queue = shared(tmp_path, dt.timedelta(hours=3))
    ids = [row[0] for row in queue._db.execute("SELECT result_id FROM image_upload ORDER BY rowid")]
    queue.mark_uploaded(ids[0], 201)
    queue.refuse(ids[1], STATION_REFUSED.format(status=413))
    queue.refuse(ids[2], STATION_REFUSED.format(status=413))
    queue.refuse(ids[3], ALTERED)
    queue.erased_at_the_station(ids[4])
    queue._records.close()  # ids[5] waits
    config = in_language(write_config(tmp_path, 1), language)

    _, checks, _ = doctor(config)
    waiting = message("health.photos.green", language).format(count=1, wait=duration(180, language), uploaded=1)
    reasons = ("\u00a0; " if language == "fr" else "; ").join(
        message("photos.reason.counted", language).format(reason=message(f"photos.reason.{reason}", language), count=n)
        for reason, n in (("413", 2), ("altered", 1), ("erased", 1))
    )
    set_aside = sentence("health.photos_refused.amber", language, count=4, reasons=reasons)
    assert (checks["photos"]["level"], checks["photos"]["message"]) == ("green", waiting)
    assert (checks["photos_refused"]["level"], checks["photos_refused"]["message"]) == ("amber", set_aside)
    assert checks["photos_refused"]["values"]["set_aside"] == {
        STATION_REFUSED.format(status=413): 2,
        ALTERED: 1,
        "erased at the station (410)": 1,
    }
    assert ("3\u00a0hours" in waiting) == (language == "en") and ("too large" in set_aside) == (language == "en")
    text = edgescreen("doctor", config=config).stdout
    assert said(text, "photos") == (message("doctor.level.green", language), waiting)
    assert said(text, "photos_refused") == (message("doctor.level.amber", language), set_aside)

    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    counts = {key: value for key, value in status.items() if key.startswith("photos_")}
    assert counts == {
        "photos_waiting": 1,
        "photos_oldest_waiting_age_s": pytest.approx(3 * 3600, abs=120),
        "photos_undated_waiting": 0,
        "photos_uploaded": 1,
        "photos_refused": 3,
        "photos_erased_at_the_station": 1,
        "photos_set_aside": checks["photos_refused"]["values"]["set_aside"],
    }
    lines = edgescreen("sync", "status", config=config).stdout.splitlines()
    label = message("sync.field.photos_set_aside", language)
    assert [line.split("  ")[-1].strip() for line in lines if line.startswith(f"{label}  ")] == [reasons]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_photos_stuck_as_long_as_results_turn_amber_are_amber_and_those_erased_at_the_station_alone_green(
    tmp_path, language
):
    """The photos' wait turns amber where the results' backlog does (``BACKLOG_WARNING_DAYS``): photos the
    uploader could not send for three days were green, said nowhere but in its log. Photos set aside
    only because the station erased their results are green: nothing is the technician's to do."""
    queue = shared(tmp_path, dt.timedelta(days=3))
    erased = [row[0] for row in queue._db.execute("SELECT result_id FROM image_upload LIMIT 2")]
    for result_id in erased:
        queue.erased_at_the_station(result_id)
    queue._records.close()
    config = in_language(write_config(tmp_path, 1), language)
    _, checks, _ = doctor(config)
    stuck = message("health.photos.amber", language).format(count=4, wait=duration(3 * 24 * 60, language))
    assert (checks["photos"]["level"], checks["photos"]["message"]) == ("amber", stuck)
    assert ("the oldest for 3\u00a0days" in stuck) == (language == "en")
    assert checks["photos_refused"]["level"] == "green"
    assert checks["photos_refused"]["message"] == sentence("health.photos_refused.green", language, count=2)
    text = edgescreen("doctor", config=config).stdout
    assert said(text, "photos") == (message("doctor.level.amber", language), stuck)


def test_photos_whose_wait_no_clock_can_tell_are_amber_and_none_waiting_is_green(tmp_path):
    """Photos queued on an earlier boot by a clock never synchronised have no age: amber, never "0
    minutes"; the same records with every photo at the station say none waits on a device sharing, and no
    line of photos set aside; on one no longer sharing, nothing is left to say of them: no line."""
    queue = shared(tmp_path, dt.timedelta(hours=1), synchronised=False)
    queue._records.close()
    config = write_config(tmp_path, 1)
    _, checks, _ = doctor(config)
    assert checks["photos"]["level"] == "amber"
    assert checks["photos"]["message"] == message("health.photos.undated", "en").format(count=6)
    queue = UploadQueue(open_store(tmp_path).records)
    for (result_id,) in queue._db.execute("SELECT result_id FROM image_upload").fetchall():
        queue.mark_uploaded(result_id, 201)
    queue._records.close()
    assert "photos" not in doctor(config)[1]
    _, checks, _ = doctor(sharing_config(tmp_path))
    assert checks["photos"]["message"] == message("health.photos.none", "en").format(uploaded=6)
    assert checks["photos"]["level"] == "green" and "photos_refused" not in checks


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_device_sharing_no_photo_has_no_photos_line_unless_one_shared_before_is_left(tmp_path, language):
    """``share_images = "none"``, the default: no photo is ever shared, yet doctor said "Photos waiting for
    the review station: none (at the station: 0)", a line for the technician to read about nothing. It
    has none, as the app's certificate has none without HTTPS; a device sharing says none waits. One
    switched off with photos still to send or set aside says them (the tests above: their configs share
    none), as those are the technician's to see go."""
    config = in_language(write_config(tmp_path, 1), language)
    open_store(tmp_path).records.close()
    _, checks, report = doctor(config)
    assert "photos" not in checks and "photos_refused" not in checks, report
    text = edgescreen("doctor", config=config).stdout
    assert not [line for line in text.splitlines() if line.split()[1:2] == ["photos"]], text
    assert message("health.photos.none", language).partition(":")[0] not in text

    shares = in_language(sharing_config(tmp_path), language)
    _, checks, _ = doctor(shares)
    said_none = message("health.photos.none", language).format(uploaded=0)
    assert (checks["photos"]["level"], checks["photos"]["message"]) == ("green", said_none)
    text = edgescreen("doctor", config=shares).stdout
    assert said(text, "photos") == (message("doctor.level.green", language), said_none)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_reason_a_photo_is_set_aside_for_is_said_by_the_stations_answer(language):
    """The reasons the uploader records are English text in the records: each is said in the reader's
    language by what the station answered, a status without words of its own by its number, and a
    reason this release does not know (another release's) as recorded."""
    for status in (400, 403, 413, 422):
        said = photo_reason(STATION_REFUSED.format(status=status), language)
        assert said == message(f"photos.reason.{status}", language) and str(status) in said
    unknown = photo_reason(STATION_REFUSED.format(status=401), language)
    assert unknown == message("photos.reason.status", language).format(status=401)
    assert photo_reason("a reason of another release", language) == "a reason of another release"
