"""The result announces its shared photo (``edgescreen.result/2`` ``image``): the digest and size of
the sealed bytes, checked by the wire package like every other field; ``/1`` cannot announce one."""

from __future__ import annotations

import hashlib

import pytest

from edgescreen_wire.checks import WireError
from edgescreen_wire.result import RESULT_V1, RESULT_V2, encode_result, validate_result
from firmware_app.records.uploads import SealedUpload
from firmware_app.sync.payload import result_payload
from tests.records.kit import DEVICE, sample_record

SEALED = SealedUpload(b"\x01" * 5000)


def test_the_payload_announces_the_sealed_photo_and_nothing_of_the_photo_itself():
    document = result_payload(sample_record(score=0.9), DEVICE.id, DEVICE.site, RESULT_V2, SEALED)
    assert document["image"] == {"sha256": hashlib.sha256(SEALED.sealed).hexdigest(), "size": 5000}
    assert b"\x01\x01" not in encode_result(document)
    assert result_payload(sample_record(), DEVICE.id, DEVICE.site, RESULT_V2)["image"] is None
    with pytest.raises(ValueError, match="result/2 or later"):
        result_payload(sample_record(), DEVICE.id, DEVICE.site, RESULT_V1, SEALED)


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ({"sha256": "A" * 64, "size": 10}, "image.sha256"),
        ({"sha256": "a" * 63, "size": 10}, "image.sha256"),
        ({"sha256": "a" * 64, "size": 0}, "image.size"),
        ({"sha256": "a" * 64, "size": 10.0}, "image.size"),
        ({"sha256": "a" * 64, "size": True}, "image.size"),
        ({"sha256": "a" * 64, "size": 2**40}, "image.size"),
        ({"sha256": "a" * 64}, "missing field 'size'"),
        ({"sha256": "a" * 64, "size": 10, "name": "Jeanne Dupont.jpg"}, "'name' is not allowed"),
        ("a" * 64, "expected a JSON object"),
    ],
)
def test_a_bad_announcement_is_refused_naming_the_field(image, problem):
    document = result_payload(sample_record(), DEVICE.id, DEVICE.site, RESULT_V2)
    document["image"] = image
    with pytest.raises(WireError, match=problem):
        validate_result(document)


def test_a_v1_result_cannot_carry_an_image_field():
    document = result_payload(sample_record(), DEVICE.id, DEVICE.site, RESULT_V1)
    document["image"] = {"sha256": "a" * 64, "size": 10}
    with pytest.raises(WireError, match="'image' is not allowed"):
        validate_result(document)
