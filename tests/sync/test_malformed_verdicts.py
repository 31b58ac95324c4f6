"""Whatever arrives on the ``review`` topic, the device's reading of it ends in a verdict or in its own
refusal (``WireError``, ``NotSignedByStation``), never in another exception: the worker's guard would
log that by its type alone, and the verdict's review id with it would be lost from the log."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edgescreen_wire.checks import WireError
from edgescreen_wire.topics import REVIEW, device_topic
from edgescreen_wire.verdict_signature import sign_review
from firmware_app.sync.review import NotSignedByStation, parse_review
from firmware_app.wording import readable_date
from tests.mqtt_broker import Broker, Tap, wait_until
from tests.records.kit import DEVICE, open_store, record_one, small_photo, write_config
from tests.sync.kit import BackgroundWorker, drain
from tests.sync.test_worker import publish

STATION = Ed25519PrivateKey.generate()
VALID = {
    "schema": "edgescreen.review/2",
    "review_id": "rev-1",
    "result_id": "a" * 32,
    "verdict": "refer",
    "reviewed_at": "2026-12-01T10:00:00Z",
    "reviewer": "dr-ophtalmo-3",
    "comment": "Microaneurysms in the temporal arcade.",
    "urgency": "soon",
    "findings": {"icdr_grade": "moderate", "maculopathy": "absent"},
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)


def read(document: Any) -> None:
    """Read ``document`` as a device that takes verdicts unsigned does, and signed (as the station signs
    what it would read) as a device given the station's key does."""
    payload = json.dumps(document).encode()
    try:
        signed = sign_review(payload, STATION)
    except WireError:
        signed = payload  # the station signs only what the device would read: sent as it is
    for message, trusted in ((payload, None), (signed, [STATION.public_key()])):
        with contextlib.suppress(WireError, NotSignedByStation):
            parse_review(message, trusted)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(sorted(VALID)), value=json_values, dropped=st.booleans())
def test_a_verdict_with_any_field_changed_is_read_or_refused(field, value, dropped):
    document = {name: given for name, given in VALID.items() if not (dropped and name == field)}
    if not dropped:
        document[field] = value
    read(document)


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=300) | st.text(max_size=100).map(str.encode))
def test_any_bytes_are_read_or_refused(payload):
    with contextlib.suppress(WireError):
        parse_review(payload)


# As far east and west of UTC as time zones go: a time near datetime's limits overflowed in one of them.
FAR_TIME_ZONES = ("Pacific/Kiritimati", "Etc/GMT+12", "Europe/Paris")


@pytest.fixture()
def time_zone(monkeypatch):
    """Set the process's local time zone (``readable_date`` shows the device's local time)."""

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes()  # and within two days of its limits, where the conversions overflow
    | st.datetimes(max_value=datetime.min + timedelta(days=2))
    | st.datetimes(min_value=datetime.max - timedelta(days=2))
)
def test_a_verdict_the_device_takes_can_be_shown_in_every_time_zone(time_zone, moment):
    """The record page shows a verdict's time in the device's local time: a verdict dated 31 December
    9999 (or 1 January 1) was taken, and its record page then failed on every opening east (or west) of UTC."""
    try:
        review = parse_review(json.dumps(VALID | {"reviewed_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode())
    except WireError:
        return
    for name in FAR_TIME_ZONES:
        time_zone(name)
        assert readable_date(review.reviewed_at.isoformat(), "fr")


# Messages built to break the reading rather than by chance: nesting past the recursion limit, an
# integer past Python's digit limit, NaN, a key given twice, a lone surrogate, a comment's override.
POISONS = (
    b"[" * 5000,
    b'{"review_id": ' + b"9" * 5000 + b"}",
    json.dumps(VALID).replace('"rev-1"', "NaN").encode(),
    json.dumps(VALID).replace('{"schema"', '{"verdict": "no_refer", "schema"').encode(),
    json.dumps(VALID).replace("Microaneurysms", "\\ud800").encode(),
    json.dumps(VALID | {"comment": "Refer \u202eevig ton od"}).encode(),
    json.dumps(VALID | {"comment": None}).encode(),
)
malformed = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda field, value: json.dumps(VALID | {field: value}).encode(), st.sampled_from(sorted(VALID)), json_values
    ),
)
# What the worker logs of each verdict it reads: taken, or refused for what the message is.
READ_EVENTS = ("sync.review ", "sync.review_rejected", "sync.review_not_signed")


@pytest.fixture(scope="module")
def listening_device(tmp_path_factory, retina_rgb):
    """A device's sync worker taking verdicts from a real broker, one result of its own to review."""
    directory = tmp_path_factory.mktemp("malformed")
    broker = Broker(directory / "broker").start()
    config = write_config(directory, broker.port)
    store = open_store(directory)  # a module's fixture: closed here, not by the per-test closing
    result_id = record_one(store, small_photo(retina_rgb)).result_id
    store.records.close()
    drain(config)  # the broker now keeps this device's session
    tap = Tap(broker.port, "edgescreen/v1/+/+/review_ack")
    worker = BackgroundWorker(config)
    yield broker, tap, result_id
    worker.stop()
    tap.close()
    broker.stop()


def each_poison(test: Callable[..., None]) -> Callable[..., None]:
    return functools.reduce(lambda tried, poison: example(payload=poison)(tried), POISONS, test)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@each_poison
@given(payload=malformed)
def test_after_any_malformed_verdict_the_next_good_one_is_stored(listening_device, caplog, payload):
    """End to end: whatever comes first, the worker says what it made of it (a verdict taken, or one
    refused as such, never a failure), and the station's good verdict after it is stored and answered."""
    broker, tap, result_id = listening_device
    caplog.set_level(logging.INFO, logger="edgescreen")  # a verdict taken is logged at INFO
    caplog.clear()
    review_id = f"rev-good-{uuid.uuid4().hex}"  # new at each run: Hypothesis runs an example again
    good = json.dumps(VALID | {"result_id": result_id, "review_id": review_id}).encode()
    publish(broker.port, device_topic(DEVICE.site, DEVICE.id, REVIEW), [payload, good])
    answered = lambda: [a for a in map(json.loads, tap.on("/review_ack")) if a["review_id"] == review_id]  # noqa: E731
    wait_until(answered, 10, "the good verdict answered")
    assert answered()[0]["status"] in ("stored", "duplicate")
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("sync.review")]
    assert not [line for line in lines if line.startswith("sync.review_failed")], lines
    assert sum(line.startswith(READ_EVENTS) for line in lines) == 2, lines
