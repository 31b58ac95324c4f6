"""The wire documents: the result payload's allow-list and patterns, and the review schema."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from firmware_app.inference.triage import ungradable
from firmware_app.records.screening import QualitySummary, Review, ScreeningContext
from firmware_app.sync.payload import REQUIRED, encode_result, result_payload, validate_result
from firmware_app.sync.review import parse_review, review_ack
from firmware_app.sync.wire import WireError
from tests.records.kit import DEVICE, sample_record
from tests.sync.test_worker import review


def payload(**changes):
    return result_payload(sample_record(ScreeningContext(eye="R")), DEVICE.id, DEVICE.site) | changes


def test_the_payload_is_exactly_the_allow_list_with_the_disclaimer():
    document = json.loads(encode_result(payload()))
    assert set(document) == REQUIRED
    assert document["schema"] == "edgescreen.result/1"
    assert document["triage"] == "refer" and document["threshold"] == pytest.approx(0.31)
    assert document["quality"] is None and document["calibration_id"] is None
    assert "clinician must validate" in document["disclaimer"]
    assert document["captured_at"].endswith("Z") and len(document["captured_at"]) == 20


def test_quality_and_calibration_travel_as_codes_and_numbers():
    record = sample_record()
    quality = QualitySummary("pass", ("slight_blur",), {"sharpness": 143.2, "field_coverage": 0.93})
    document = result_payload(replace(record, quality=quality, calibration_id="cal-2025-04"), "cam-01", "clinic-7")
    assert json.loads(encode_result(document))["quality"]["measures"]["sharpness"] == 143.2


def test_an_ungradable_result_has_no_score():
    document = result_payload(replace(sample_record(), triage=ungradable()), "cam-01", "clinic-7")
    validate_result(document)
    assert document["triage"] == "ungradable" and document["score"] is None and document["model"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient_ref": "MRN-1"}, "'patient_ref' is not allowed"),
        ({"device_id": "cam 01 Jeanne"}, "device_id"),
        ({"calibration_id": "see note: Mr Smith"}, "calibration_id"),
        ({"quality": {"verdict": "pass", "reasons": ["Patient Smith blinked"], "measures": {}}}, "quality.reasons"),
        ({"score": float("nan")}, "score"),
        ({"score": 1.5}, "score"),
        ({"eye": "left"}, "eye"),
        ({"disclaimer": "Diagnosis: DR"}, "disclaimer"),
        ({"captured_at": "2025-05-05 08:00"}, "captured_at"),
    ],
)
def test_anything_off_the_allow_list_or_its_patterns_is_refused_before_queuing(changes, field):
    with pytest.raises(WireError, match=field):
        encode_result(payload(**changes))


def test_a_valid_review_parses_and_is_acknowledged_without_its_comment():
    parsed = parse_review(review("a" * 32))
    assert isinstance(parsed, Review) and parsed.verdict == "refer" and parsed.comment.startswith("Microaneurysms")
    ack = json.loads(review_ack(parsed, "stored"))
    assert ack == {"schema": "edgescreen.review-ack/1", "review_id": "rev-1", "result_id": "a" * 32, "status": "stored"}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (review("a" * 32, schema="edgescreen.review/2"), "schema"),
        (review("not-a-result-id"), "result_id"),
        (review("a" * 32, verdict="diagnosed"), "verdict"),
        (review("a" * 32, reviewed_at="2025-02-30T10:00:00Z"), "not a valid time"),
        (review("a" * 32, comment="x" * 1001), "comment"),
        (review("a" * 32, unexpected=1), "'unexpected' is not allowed"),
        (b"{" + b" " * 9000 + b"}", "more than 8192"),
    ],
)
def test_malformed_reviews_are_refused_with_a_reason(payload, problem):
    with pytest.raises(WireError, match=problem):
        parse_review(payload)
