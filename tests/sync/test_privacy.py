"""Privacy, property-based: identifying strings in every patient and free-text field never reach the
broker. A tap on ``#`` keeps every byte published (topics and payloads) while screenings carrying
hypothesis-generated names, patient numbers, birth dates, notes and file names are recorded through
the real recording path and synced by the real worker, in both payload versions (``/2`` as a
dermoscopy result with a lesion measured to the hundredth of a millimetre and an exact skin tone
angle, of which only the 0.5 mm diameter and the tone's category may leave), and then erased: the
request the worker sends the station (``edgescreen.erasure/1``) is on the tap too."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgescreen_wire.result import DISCLAIMER, RESULT_V1, RESULT_V2, allow_list
from edgescreen_wire.typed_text import CONTROLS
from firmware_app.inference.skin_tone import CATEGORY_NAMES, SkinTone
from firmware_app.lesion_measurements import SCALED, LesionMeasurements
from firmware_app.records.screening import BODY_SITES, MAX_NOTE, MAX_PATIENT_REF, ScreeningContext
from tests.mqtt_broker import Broker, Tap, wait_until
from tests.records.kit import open_store, record_one, sample_record, small_photo, write_config
from tests.sync.kit import drain

NAMES = ["Jeanne", "Dupont", "Amadou", "Diallo", "Nguyễn", "Oğuz", "Søren", "Zoë", "Ólafsdóttir", "Kowalczyk"]

realistic = st.builds(
    lambda first, last, number, born: f"{first} {last} MRN-{number:06d} born {born.isoformat()}",
    st.sampled_from(NAMES),
    st.sampled_from(NAMES),
    st.integers(0, 999_999),
    st.dates(),
)
# Arbitrary text is long enough that it cannot turn up by chance in a hash, an id or a timestamp.
# Any text a nurse can enter: control characters are refused at entry (``edgescreen_wire.typed_text``).
typable = st.characters(blacklist_categories=("Cs",)).filter(lambda c: not CONTROLS.match(c))
arbitrary = st.text(typable, min_size=12, max_size=MAX_PATIENT_REF).filter(lambda s: s.strip() == s and len(set(s)) > 3)
identifying = st.one_of(realistic, arbitrary)


def forms(secret: str) -> list[bytes]:
    """Every way a string could appear on the wire: raw UTF-8, JSON-escaped, ASCII-escaped."""
    return [secret.encode(), json.dumps(secret, ensure_ascii=False)[1:-1].encode(), json.dumps(secret)[1:-1].encode()]


def _keys(payload: object) -> Iterator[str]:
    """Every key of a JSON payload, those of its nested objects too."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield key
            yield from _keys(value)


def wire_words(topics: Iterable[str], payload: dict) -> bytes:
    """The wire's own words: the topics, the result payload's keys and the fixed disclaimer. A secret
    that is itself part of them cannot be told from them: Hypothesis once drew the note
    "edgescreen/v", with which every topic begins, and once the EXIF text "lesion_diame", the start
    of a key. Such draws are set aside (``assume``), not passed."""
    return b"\n".join([*(topic.encode() for topic in topics), *map(str.encode, _keys(payload)), DISCLAIMER.encode()])


@pytest.fixture(scope="module")
def site(tmp_path_factory, retina_rgb):
    directory = tmp_path_factory.mktemp("privacy")
    broker = Broker(directory / "broker").start()
    tap = Tap(broker.port)
    yield directory, broker, tap, small_photo(retina_rgb, 64)
    tap.close()
    broker.stop()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    patient=identifying,
    note=st.one_of(identifying, st.text(typable, min_size=12, max_size=MAX_NOTE).filter(lambda s: len(set(s)) > 3)),
    file_name=identifying,
    eye=st.sampled_from(["L", "R", None]),
    # The clock's state travels as a code: a wrong clock must not open a way out for anything else.
    captured_at=st.sampled_from([None, datetime(1970, 1, 1, tzinfo=UTC), datetime(2031, 5, 5, tzinfo=UTC)]),
    synchronised=st.booleans(),
    schema=st.sampled_from([RESULT_V1, RESULT_V2]),
    body_site=st.sampled_from(BODY_SITES),
    diameter_mm=st.floats(0.5, 40.0),
    ita=st.floats(-60.0, 80.0),
    tone=st.sampled_from(CATEGORY_NAMES),
)
def test_nothing_identifying_is_ever_published(
    site, patient, note, file_name, eye, captured_at, synchronised, schema, body_site, diameter_mm, ita, tone
):
    directory, broker, tap, photo = site
    config = write_config(directory, broker.port)
    store = open_store(directory, synchronised=synchronised)
    source = str(Path("/media/usb") / file_name)
    if schema == RESULT_V1:
        context = ScreeningContext(patient_ref=patient, eye=eye, note=note)
        record = sample_record(context, source=source, captured_at=captured_at)
    else:
        context = ScreeningContext(patient_ref=patient, body_site=body_site, note=note)
        lesion = LesionMeasurements(diameter_mm, SCALED, SkinTone(ita, tone, "inside"))
        record = sample_record(context, source=source, captured_at=captured_at)
        record = replace(record, modality="dermoscopy", lesion=lesion)
    record = record_one(store, photo, record, schema)
    store.records.close()
    drain(config)
    wait_until(lambda: any(record.result_id.encode() in p for p in tap.on("/result")), 10, "the result")
    # The patient's erasure, once sent: the station is asked to erase it with the device and ids alone.
    store = open_store(directory, synchronised=synchronised)
    assert record.result_id in store.erase_patient(patient).at_the_station
    store.records.close()
    drain(config)
    wait_until(lambda: any(record.result_id.encode() in p for p in tap.on("/erasure")), 10, "the erasure")
    erasure = next(json.loads(p) for p in tap.on("/erasure") if record.result_id.encode() in p)
    assert set(erasure) == {"schema", "device_id", "result_ids"} and record.result_id in erasure["result_ids"]
    sent = next(json.loads(p) for p in tap.on("/result") if record.result_id.encode() in p)
    now = "synchronised" if synchronised else "unsynchronised"
    expected = {None: now, 1970: "before_build", 2031: "future"}[captured_at.year if captured_at else None]
    assert sent.get("clock", "synchronised") == expected
    assert sent["schema"] == schema and set(sent) <= allow_list(schema)
    if schema == RESULT_V2:
        assert sent["lesion_diameter_mm"] * 2 == round(diameter_mm * 2) and sent["skin_tone"] == tone
    published = b"\n".join(topic.encode() + b" " + payload for topic, payload in tap.messages)
    own = wire_words((topic for topic, _ in tap.messages), sent)
    for secret in (patient, note, file_name):
        for form in forms(secret):
            assume(form not in own)
            assert form not in published, f"{secret!r} leaked"
