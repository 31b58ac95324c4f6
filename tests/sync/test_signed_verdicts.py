"""Verdicts signed by the review station (edgescreen.review/3): a device given the station's verdict key
stores only what the station signed, and refuses a forged, altered or stripped verdict without
storing or acknowledging it, so the genuine one still lands."""

from __future__ import annotations

import base64
import json

import pytest

from edgescreen_wire.checks import WireError
from edgescreen_wire.review import REVIEW_V2, REVIEW_V3
from edgescreen_wire.topics import REVIEW, device_topic
from edgescreen_wire.verdict_signature import read_public_key, sign_review, signed_bytes
from firmware_app.config import ConfigError, load_config
from firmware_app.sync.review import NotSignedByStation, parse_review
from tests.mqtt_broker import Tap, wait_until
from tests.records.kit import DEVICE, open_store, record_one, small_photo, write_config
from tests.sync.kit import BackgroundWorker, drain, review_acks
from tests.sync.signing import station_key, trusting
from tests.sync.test_worker import publish, review

RESULT_ID = "a" * 32


def review_v2(result_id: str = RESULT_ID, review_id: str = "rev-1", **changes: object) -> bytes:
    """A ``/2`` verdict with every field the nurse sees: verdict, urgency, grading, comment."""
    findings = {"icdr_grade": "moderate", "maculopathy": "absent"}
    extra = {"urgency": "soon", "findings": findings} | changes
    return review(result_id, review_id, schema=REVIEW_V2, **extra)


def altered(signed: bytes, **changes: object) -> bytes:
    """The signed message with fields of its document changed and its signature kept."""
    message = json.loads(signed)
    message["review"] |= changes
    return json.dumps(message).encode()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    station, public = station_key(directory)
    impostor, _ = station_key(directory, "impostor")
    return station, impostor, public


def test_a_signed_verdict_verifies_and_is_the_document_the_station_queued(keys):
    station, _, public = keys
    signed = sign_review(review_v2(), station)
    assert json.loads(signed)["schema"] == REVIEW_V3
    stored = parse_review(signed, [read_public_key(public)])
    assert (stored.verdict, stored.urgency, stored.icdr_grade, stored.maculopathy) == (
        "refer",
        "soon",
        "moderate",
        "absent",
    )
    assert stored.comment == json.loads(review_v2())["comment"]


@pytest.mark.parametrize(
    "change",
    [
        {"verdict": "no_refer"},
        {"urgency": "routine"},
        {"findings": {"icdr_grade": "none", "maculopathy": "absent"}},
        {"comment": "No referral needed."},
        {"review_id": "rev-2"},
        {"result_id": "b" * 32},
        {"reviewed_at": "2030-01-01T00:00:00Z"},
        {"reviewer": "someone-else"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_anything_the_nurse_sees_breaks_the_signature(keys, change):
    station, _, public = keys
    with pytest.raises(NotSignedByStation) as refused:
        parse_review(altered(sign_review(review_v2(), station), **change), [read_public_key(public)])
    assert refused.value.reason == "signature_invalid"


def test_a_field_taken_out_breaks_the_signature_too(keys):
    station, _, public = keys
    message = json.loads(sign_review(review_v2(), station))
    del message["review"]["comment"]
    with pytest.raises(NotSignedByStation):
        parse_review(json.dumps(message).encode(), [read_public_key(public)])


def test_another_key_an_unsigned_verdict_and_a_stripped_signature_are_refused(keys):
    station, impostor, public = keys
    trusted = [read_public_key(public)]
    for payload, reason in (
        (sign_review(review_v2(), impostor), "signature_invalid"),
        (review_v2(), "unsigned"),
        (review(RESULT_ID), "unsigned"),
    ):
        with pytest.raises(NotSignedByStation) as refused:
            parse_review(payload, trusted)
        assert (refused.value.review_id, refused.value.reason) == ("rev-1", reason)
    stripped = json.loads(sign_review(review_v2(), station))
    del stripped["signature"]
    with pytest.raises(WireError, match="signature"):
        parse_review(json.dumps(stripped).encode(), trusted)
    # A key file that could not be read leaves nothing to verify with: every verdict is refused.
    with pytest.raises(NotSignedByStation):
        parse_review(sign_review(review_v2(), station), [])


def test_a_device_without_a_key_takes_unsigned_and_signed_verdicts_alike(keys):
    station, _, _ = keys
    assert parse_review(review_v2()).verdict == parse_review(sign_review(review_v2(), station)).verdict == "refer"


def test_during_a_key_change_either_trusted_key_verifies(keys, tmp_path):
    station, _, public = keys
    new, new_public = station_key(tmp_path, "next")
    trusted = [read_public_key(public), read_public_key(new_public)]
    assert parse_review(sign_review(review_v2(), station), trusted).review_id == "rev-1"
    assert parse_review(sign_review(review_v2(), new), trusted).review_id == "rev-1"


def test_the_signed_bytes_are_one_canonical_form_whatever_the_order_of_the_fields(keys):
    document = json.loads(review_v2())
    shuffled = dict(reversed(list(document.items())))
    assert signed_bytes(document) == signed_bytes(shuffled)
    assert b"\n" not in signed_bytes(document).split(b"\n", 1)[1]  # compact: no whitespace to vary


@pytest.mark.parametrize(
    "message",
    [
        {"schema": REVIEW_V3, "review": json.loads(review_v2()), "signature": "AAAA"},
        {
            "schema": REVIEW_V3,
            "review": json.loads(review_v2()),
            "signature": base64.b64encode(b"x" * 64).decode(),
            "k": 1,
        },
        {"schema": REVIEW_V3, "review": {"schema": REVIEW_V3}, "signature": base64.b64encode(b"x" * 64).decode()},
    ],
    ids=["short-signature", "unknown-field", "nested"],
)
def test_a_malformed_signed_message_is_a_wire_error(message):
    with pytest.raises(WireError):
        parse_review(json.dumps(message).encode())


def test_forged_altered_and_stripped_verdicts_are_neither_stored_nor_acknowledged(tmp_path, broker, caplog, keys):
    station, impostor, public = keys
    config = write_config(tmp_path, broker.port, trusting(public))
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo()).result_id
    drain(config)  # the broker now keeps this device's session
    genuine = sign_review(review_v2(result_id, verdict="refer"), station)
    forged = sign_review(
        review_v2(
            result_id, verdict="no_refer", urgency="routine", findings={"icdr_grade": "none", "maculopathy": "absent"}
        ),
        impostor,
    )
    # Each under the genuine verdict's own review id, before it: none may take its place.
    publish(
        broker.port,
        device_topic(DEVICE.site, DEVICE.id, REVIEW),
        [
            forged,
            altered(genuine, comment="Routine rescreen in a year; no referral needed."),
            review_v2(result_id, verdict="no_refer"),  # unsigned: the signature stripped off
            genuine,
        ],
    )
    tap = Tap(broker.port, "edgescreen/v1/+/+/review_ack")
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: len(tap.on("/review_ack")) >= 1, 15, "the genuine verdict's acknowledgement")
        worker.check_alive()
    finally:
        worker.stop()
    acks = [json.loads(p) for p in tap.on("/review_ack")]
    assert [(a["review_id"], a["status"]) for a in acks] == [("rev-1", "stored")]
    rows = store.records.connection.execute("SELECT review_id, verdict, urgency FROM review").fetchall()
    assert [tuple(r) for r in rows] == [("rev-1", "refer", "soon")]
    refused = [r.getMessage() for r in caplog.records if "sync.review_not_signed" in r.getMessage()]
    assert len(refused) == 3 and all(f"result_id={result_id}" in line for line in refused)
    assert sum("reason=unsigned" in line for line in refused) == 1
    assert "no referral" not in caplog.text  # ids only, never the comment
    tap.close()


def test_a_device_with_no_key_still_takes_an_unsigned_verdict(tmp_path, broker):
    config = write_config(tmp_path, broker.port)
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo()).result_id
    drain(config)
    publish(broker.port, device_topic(DEVICE.site, DEVICE.id, REVIEW), [review(result_id)])
    assert [ack["status"] for ack in review_acks(config, broker.port, 1)] == ["stored"]


def test_an_unreadable_key_file_refuses_every_verdict_and_says_so(tmp_path, broker, caplog, keys):
    station, _, _ = keys
    not_a_key = tmp_path / "verdict.pub"
    not_a_key.write_text("not a key\n")
    config = write_config(tmp_path, broker.port, trusting(not_a_key))
    store = open_store(tmp_path)
    result_id = record_one(store, small_photo()).result_id
    drain(config)
    publish(broker.port, device_topic(DEVICE.site, DEVICE.id, REVIEW), [sign_review(review_v2(result_id), station)])
    worker = BackgroundWorker(config)
    try:
        wait_until(lambda: "sync.review_not_signed" in caplog.text, 15, "the refusal")
        worker.check_alive()  # results still go out: only verdicts wait
    finally:
        worker.stop()
    assert "sync.verdict_key_unusable" in caplog.text
    assert store.records.connection.execute("SELECT count(*) FROM review").fetchone()[0] == 0


def test_a_verdict_key_asks_for_signed_verdicts_and_needs_the_result_schema_that_says_so(tmp_path, keys):
    _, _, public = keys
    assert load_config(str(write_config(tmp_path, 1, trusting(public)))).sync.review_schema == REVIEW_V3
    assert load_config(str(write_config(tmp_path, 1))).sync.review_schema == REVIEW_V2
    with pytest.raises(ConfigError, match="verdict_public_keys: set result_schema"):
        load_config(str(write_config(tmp_path, 1, f'verdict_public_keys = ["{public}"]\n')))
