"""What leaves for the station: pixels only (no metadata can survive), downscaled, cropped on request,
and only for the results the site's policy names."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from edgescreen_wire.result import RESULT_V2
from edgescreen_wire.sealed_image import open_image, read_private_key, read_public_key
from firmware_app.capture.image_file import read_frame
from firmware_app.config import ConfigError, SyncConfig
from firmware_app.inference.card import read_card
from firmware_app.inference.triage import Outcome
from firmware_app.lesion_measurements import measure_lesion
from firmware_app.records.screening import ScreeningRecord
from firmware_app.sharing.policy import ImageSharing
from tests.conftest import PROJECT_ROOT
from tests.lesion_renderer import render_lesion
from tests.records.kit import sample_record
from tests.sharing.kit import BARE_MARKERS, jpeg_markers, photo_with_metadata, station_keys

SECRET = "Jeanne Dupont MRN-004217 born 1961-03-02"


@pytest.fixture()
def keys(tmp_path):
    private, public = station_keys(tmp_path)
    return read_private_key(private), read_public_key(public)


def sharing(keys, policy="all", max_side=2048, crop=False) -> ImageSharing:
    return ImageSharing(policy, max_side, crop, keys[1])


def shared(keys, share: ImageSharing, record: ScreeningRecord, rgb) -> bytes:
    upload = share.seal(record, rgb)
    assert upload is not None
    return open_image(upload.sealed, keys[0], record.result_id)


def test_no_metadata_of_the_original_photo_survives(tmp_path, retina_rgb, keys):
    original = photo_with_metadata(tmp_path / f"{SECRET}.jpg", retina_rgb, SECRET)
    assert original.read_bytes().count(SECRET.encode()) >= 5  # EXIF (4 places), XMP, ICC, comment
    frame = read_frame(original)
    record = sample_record(source=str(original))
    image = shared(keys, sharing(keys), record, frame.pixels)
    assert set(jpeg_markers(image)) <= BARE_MARKERS  # no APP1 (EXIF, XMP, thumbnail), APP2 (ICC), COM ...
    assert SECRET.encode() not in image and b"Dupont" not in image and b"Acme" not in image
    opened = Image.open(io.BytesIO(image))
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(opened.info)
    assert opened.size == (retina_rgb.shape[1], retina_rgb.shape[0])


def test_the_photo_is_downscaled_to_the_configured_side(retina_rgb, keys):
    image = shared(keys, sharing(keys, max_side=512), sample_record(), retina_rgb)
    assert max(Image.open(io.BytesIO(image)).size) == 512


def test_dermoscopy_is_cropped_to_the_lesion_and_its_margin_when_asked(keys):
    lesion = render_lesion(1024, 768, seed=5, radius=0.12)
    # The crop follows the lesion the pipeline measured (it travels in the record); nothing segments again.
    measured = measure_lesion(lesion.rgb, None, read_card(PROJECT_ROOT / "models" / "melanoma" / "card.json"))
    record = dataclasses.replace(sample_record(), modality="dermoscopy", lesion=measured)
    whole = Image.open(io.BytesIO(shared(keys, sharing(keys), record, lesion.rgb)))
    cropped = Image.open(io.BytesIO(shared(keys, sharing(keys, crop=True), record, lesion.rgb)))
    assert whole.size == (1024, 768)
    assert cropped.size[0] < 0.6 * 1024 and cropped.size[1] < 0.8 * 768
    rows, columns = lesion.mask.nonzero()
    # The lesion and a margin of half its size fit in the crop.
    assert cropped.size[0] >= 1.5 * (columns.max() - columns.min())
    assert cropped.size[1] >= 1.5 * (rows.max() - rows.min())


@pytest.mark.parametrize(
    ("policy", "shared_outcomes"),
    [("referred", {Outcome.REFER, Outcome.UNGRADABLE}), ("all", set(Outcome))],
)
def test_the_policy_names_which_results_share_their_photo(keys, retina_rgb, policy, shared_outcomes):
    share = sharing(keys, policy=policy)
    assert {outcome for outcome in Outcome if share.shares(outcome.value)} == shared_outcomes
    no_refer = sample_record(score=0.1)
    assert no_refer.triage.outcome == Outcome.NO_REFER
    assert (share.seal(no_refer, retina_rgb[:64, :64]) is not None) == (policy == "all")


def test_none_shares_nothing_and_sharing_needs_the_station(tmp_path):
    assert ImageSharing.from_config(SyncConfig()) is None
    with pytest.raises(ConfigError, match="station_url"):
        SyncConfig(share_images="referred")
    bad_key = tmp_path / "station.pub"
    bad_key.write_text("not a key")
    certificate = tmp_path / "device.crt"
    certificate.write_text("x")
    with pytest.raises(ConfigError, match="result_schema"):
        SyncConfig(
            share_images="all",
            station_url="https://station.example:8443",
            station_public_key=bad_key,
            tls_ca_file=certificate,
            tls_cert_file=certificate,
        )
    settings = SyncConfig(
        result_schema=RESULT_V2,
        share_images="all",
        station_url="https://station.example:8443",
        station_public_key=bad_key,
        tls_ca_file=certificate,
        tls_cert_file=certificate,
    )
    with pytest.raises(ConfigError, match="station_public_key"):
        ImageSharing.from_config(settings)
