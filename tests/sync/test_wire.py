"""The wire documents (``edgescreen_wire``) as the device builds them: the result payload's allow-list
and patterns in both versions, the review schema, and the erasure request."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edgescreen_wire.checks import WireError
from edgescreen_wire.erased import MAX_NOTICE_BYTES, MAX_NOTICE_IDS, encode_erased_notice, parse_erased_notice
from edgescreen_wire.erasure import MAX_ERASED_IDS, erasure_documents, parse_erasure
from edgescreen_wire.result import REQUIRED, RESULT_V1, RESULT_V2, RESULT_V3, encode_result, validate_result
from edgescreen_wire.review import REVIEW_V2
from firmware_app.inference.skin_tone import SkinTone
from firmware_app.inference.triage import ungradable
from firmware_app.lesion_measurements import SCALED, LesionMeasurements
from firmware_app.quality.gate import RULES
from firmware_app.records.screening import QualitySummary, Review, ScreeningContext
from firmware_app.sync.payload import result_payload
from firmware_app.sync.review import parse_review, review_ack
from tests.records.kit import DEVICE, sample_record
from tests.sync.test_worker import review


def payload(**changes):
    return result_payload(sample_record(ScreeningContext(eye="R")), DEVICE.id, DEVICE.site) | changes


def test_the_payload_is_exactly_the_allow_list_with_the_disclaimer():
    document = json.loads(encode_result(payload()))
    assert set(document) == REQUIRED[RESULT_V1]
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


def test_the_stations_erased_notice_carries_three_thousand_ids_within_the_brokers_packet():
    """A notice names every result the station erased for a device; at 1000 ids (the erasure request's
    limit) a busy device's notice stopped being sent for good. 3000 fit the broker's 128 KiB packet."""
    key = Ed25519PrivateKey.generate()
    ids = [f"{n:032x}" for n in range(MAX_NOTICE_IDS + 1)]
    notice = encode_erased_notice("cam-01", ids[:MAX_NOTICE_IDS], key)
    assert len(notice) <= MAX_NOTICE_BYTES < 128 * 1024 - 1024  # its topic and properties beside it
    assert parse_erased_notice(notice).result_ids == tuple(ids[:MAX_NOTICE_IDS])
    with pytest.raises(WireError, match="result_ids"):
        encode_erased_notice("cam-01", ids, key)


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
        ({"eye": None, "body_site": "trunk"}, "body_site: only a dermoscopy result"),
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


def review_v2(**changes) -> bytes:
    """An ``edgescreen.review/2`` verdict on a fundus result (``None``: the field left out)."""
    document = json.loads(review("a" * 32, schema="edgescreen.review/2"))
    document |= {"urgency": "urgent", "findings": {"icdr_grade": "severe", "maculopathy": "present"}} | changes
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


def test_a_v2_review_brings_the_urgency_and_the_findings():
    fundus = parse_review(review_v2())
    assert (fundus.urgency, fundus.icdr_grade, fundus.maculopathy, fundus.diagnosis) == (
        "urgent",
        "severe",
        "present",
        None,
    )
    skin = parse_review(review_v2(urgency="soon", findings={"diagnosis": "basal_cell_carcinoma"}))
    assert (skin.urgency, skin.icdr_grade, skin.diagnosis) == ("soon", None, "basal_cell_carcinoma")
    assert parse_review(review("a" * 32)).urgency is None


def test_a_v2_review_read_without_a_photo_brings_the_urgency_and_no_findings():
    """A specialist who had no photo grades nothing: the findings are left out ("not assessed")."""
    unseen = parse_review(review_v2(verdict="refer", urgency="soon", findings=None))
    assert (unseen.verdict, unseen.urgency) == ("refer", "soon")
    assert (unseen.icdr_grade, unseen.maculopathy, unseen.diagnosis) == (None, None, None)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (review("a" * 32, schema="edgescreen.review/4"), "schema"),
        (review("a" * 32, schema="edgescreen.review/3"), "missing field 'review'"),  # /3 wraps a document
        (review("a" * 32, urgency="urgent"), "'urgency' is not allowed"),
        (review_v2(urgency=None), "missing field 'urgency'"),
        (review_v2(urgency="tomorrow"), "urgency"),
        (review_v2(findings={"icdr_grade": "moderate"}), "findings: expected the fields"),
        (review_v2(findings={"icdr_grade": "moderate", "maculopathy": "absent", "diagnosis": "naevus"}), "findings"),
        (review_v2(findings={"diagnosis": "Mrs Smith's mole"}), "findings.diagnosis"),
        (review_v2(findings=["moderate"]), "findings: expected a JSON object"),
        (review_v2(findings={}), "findings: expected the fields"),  # absent, or whole
        (json.dumps(json.loads(review_v2()) | {"findings": None}).encode(), "findings: expected a JSON object"),
        (review("not-a-result-id"), "result_id"),
        (review("a" * 32, verdict="diagnosed"), "verdict"),
        (review("a" * 32, reviewed_at="2025-02-30T10:00:00Z"), "not a valid time"),
        (review("a" * 32, reviewed_at="9999-12-31T23:59:59Z"), "cannot be shown in every time zone"),
        (review("a" * 32, reviewed_at="0001-01-01T00:00:00Z"), "cannot be shown in every time zone"),
        (review("a" * 32, comment="x" * 1001), "comment"),
        (review("a" * 32, comment=None), "comment: expected text"),  # absent when there is none
        (review("a" * 32, unexpected=1), "'unexpected' is not allowed"),
        (b"{" + b" " * 9000 + b"}", "more than 8192"),
    ],
)
def test_malformed_reviews_are_refused_with_a_reason(payload, problem):
    """A verdict the device cannot read whole is refused, never stored in part."""
    with pytest.raises(WireError, match=problem):
        parse_review(payload)


def dermoscopy_v2(diameter_mm: float | None = 6.26, tone: str | None = "intermediate", **changes):
    lesion = LesionMeasurements(diameter_mm, SCALED, SkinTone(31.7, tone, "inside") if tone else None)
    record = replace(sample_record(ScreeningContext(body_site="trunk")), modality="dermoscopy", lesion=lesion)
    return result_payload(record, DEVICE.id, DEVICE.site, RESULT_V2) | changes


def test_v2_adds_the_coarse_lesion_diameter_the_skin_tone_category_and_the_operating_point():
    document = json.loads(encode_result(dermoscopy_v2()))
    assert set(document) == REQUIRED[RESULT_V2] and document["schema"] == "edgescreen.result/2"
    assert document["lesion_diameter_mm"] == 6.5 and document["skin_tone"] == "intermediate"
    assert document["operating_point"] == "screening"
    assert "31.7" not in json.dumps(document), "the ITA angle never travels, only its category"
    assert document["quality_reference"] is None and document["quality"] is None


def test_v3_tells_the_station_which_verdicts_the_device_reads():
    """``/3`` is ``/2`` and the verdict schema to answer it in; only a known one is accepted."""
    document = json.loads(encode_result(dermoscopy_v2() | {"schema": RESULT_V3, "review_schema": REVIEW_V2}))
    assert set(document) == REQUIRED[RESULT_V3] == REQUIRED[RESULT_V2] | {"review_schema"}
    record = replace(sample_record(ScreeningContext(body_site="trunk")), modality="dermoscopy")
    assert result_payload(record, DEVICE.id, DEVICE.site, RESULT_V3)["review_schema"] == "edgescreen.review/2"
    with pytest.raises(WireError, match="review_schema"):
        encode_result(dermoscopy_v2() | {"schema": RESULT_V3, "review_schema": "edgescreen.review/9"})
    with pytest.raises(WireError, match="'review_schema' is not allowed"):
        encode_result(dermoscopy_v2() | {"review_schema": REVIEW_V2})


def test_v2_sends_no_diameter_for_a_lesion_that_runs_to_the_photos_edge():
    """Its visible part's diameter is a lower bound: a specialist must not read it as the lesion's."""
    lesion = LesionMeasurements(7.3, SCALED, SkinTone(31.7, "intermediate", "inside"), beyond_photo=True)
    record = replace(sample_record(ScreeningContext(body_site="trunk")), modality="dermoscopy", lesion=lesion)
    document = json.loads(encode_result(result_payload(record, DEVICE.id, DEVICE.site, RESULT_V2)))
    assert document["lesion_diameter_mm"] is None and document["skin_tone"] == "intermediate"


def test_v2_of_a_fundus_result_has_no_lesion_and_a_camera_independent_quality_verdict():
    # Every measure at a typical good photo's value: good on the shipped limits, whatever the device's
    # own (here tighter) limits made of it.
    measures = {rule.measure: rule.typical for rule in RULES["fundus"]}
    record = replace(sample_record(), quality=QualitySummary("reject", ("blur",), measures))
    document = json.loads(encode_result(result_payload(record, DEVICE.id, DEVICE.site, RESULT_V2)))
    assert document["quality"]["verdict"] == "reject" and document["quality_reference"] == "good"
    assert document["lesion_diameter_mm"] is None and document["skin_tone"] is None


def test_v2_of_a_frame_refused_before_it_was_measured_keeps_the_device_verdict():
    record = replace(sample_record(), triage=ungradable(), quality=QualitySummary("reject", ("greyscale",), {}))
    document = result_payload(record, DEVICE.id, DEVICE.site, RESULT_V2)
    validate_result(document)
    assert document["quality_reference"] == "reject" and document["operating_point"] is None


def test_v2_without_a_scale_or_enough_skin_sends_nulls():
    validate_result(dermoscopy_v2(diameter_mm=None, tone=None))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lesion_diameter_mm": 6.26}, "0.5 mm steps"),
        ({"lesion_diameter_mm": -0.5}, "lesion_diameter_mm"),
        ({"skin_tone": 31.7}, "skin_tone"),
        ({"skin_tone": "olive"}, "skin_tone"),
        ({"operating_point": "Dr Smith's point"}, "operating_point"),
        ({"operating_point": None}, "operating_point"),
        ({"quality_reference": "excellent"}, "quality_reference"),
        ({"quality_reference": "good"}, "quality_reference"),
        ({"modality": "fundus", "body_site": None, "eye": "L"}, "only a dermoscopy result"),
        ({"body_site": None, "eye": "L"}, "eye: only a fundus result"),
        ({"schema": "edgescreen.result/3"}, "schema"),
        ({"ita_degrees": 31.7}, "'ita_degrees' is not allowed"),
    ],
)
def test_v2_fields_off_their_patterns_are_refused(changes, field):
    with pytest.raises(WireError, match=field):
        encode_result(dermoscopy_v2(**changes))


def test_a_v1_payload_may_not_carry_v2_fields():
    with pytest.raises(WireError, match="'skin_tone' is not allowed"):
        encode_result(payload(skin_tone="light"))


def test_an_erasure_request_is_the_device_and_its_result_ids_only_split_past_the_limit():
    ids = [f"{n:032x}" for n in range(MAX_ERASED_IDS + 2)]
    documents = [json.loads(document) for document in erasure_documents("cam-01", reversed(ids))]
    assert [set(document) for document in documents] == [{"schema", "device_id", "result_ids"}] * 2
    assert [document["result_ids"] for document in documents] == [ids[:MAX_ERASED_IDS], ids[MAX_ERASED_IDS:]]
    assert erasure_documents("cam-01", []) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reference": "MRN-5"}, "erasure"),
        ({"result_ids": "0" * 32}, "result_ids"),
        ({"result_ids": ["Jeanne Dupont"]}, "result_ids[0]"),
        ({"result_ids": [None]}, "result_ids[0]"),
        ({"device_id": "cam 01"}, "device_id"),
        ({"schema": "edgescreen.result/1"}, "schema"),
    ],
)
def test_an_erasure_request_off_its_patterns_is_refused(changes, field):
    document = {"schema": "edgescreen.erasure/1", "device_id": "cam-01", "result_ids": ["0" * 32]} | changes
    with pytest.raises(WireError) as refused:
        parse_erasure(json.dumps(document).encode())
    assert refused.value.field == field
