"""Whatever arrives on the ``review`` topic, the device's reading of it ends in a verdict or in its own
refusal (``WireError``, ``NotSignedByStation``), never in another exception: the worker's guard would
log that by its type alone, and the verdict's review id with it would be lost from the log."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgescreen_wire.checks import WireError
from edgescreen_wire.verdict_signature import sign_review
from firmware_app.sync.review import NotSignedByStation, parse_review
from firmware_app.wording import readable_date

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
