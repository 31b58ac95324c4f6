"""A later decision on a result is strictly later on the wire, whatever second it was made in: the
device takes the verdict with the latest ``reviewed_at`` as the one that stands, and one of equal time
by its arrival, which a resend or a second ingester can turn round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V3, encode_result
from firmware_app.sync.payload import result_payload
from firmware_app.sync.review import parse_review
from review_station import accounts, devices
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import deliveries
from review_station.verdicts import ReadForm, _decision_time, record_read
from tests.records.kit import DEVICE, open_store, record_one, sample_record, small_photo
from tests.review_station.kit import result_topic
from tests.review_station.web_kit import PASSWORD, add_results, station

FIRST = ReadForm("no_refer", "routine", "none", "absent", comment="original, sent in error")
AMENDMENT = ReadForm("refer", "urgent", "severe", "absent", comment="amended: refer")


def coordinator(engine: Engine) -> accounts.SignedIn:
    accounts.add_user(engine, "cleo", PASSWORD, "coordinator", by="test")
    return accounts.sign_in(engine, "cleo", PASSWORD, station().web)[1]


def test_a_decision_in_the_same_second_as_the_last_verdict_is_dated_a_second_after_it(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V3)
    record_read(engine, result_id, coordinator(engine), FIRST, ())
    with engine.connect() as connection:
        first = connection.execute(select(deliveries.c.reviewed_at)).scalar_one()
        # Half a second later, in the same second on the wire (which carries whole seconds).
        assert _decision_time(connection, result_id, first + timedelta(microseconds=500_000)) == first + timedelta(
            seconds=1
        )
        later = first + timedelta(seconds=3, microseconds=250_000)
        assert _decision_time(connection, result_id, later) == first + timedelta(seconds=3)


def test_the_device_keeps_an_amendment_that_reaches_it_before_the_verdict_it_replaced(
    engine: Engine, tmp_path: Path
) -> None:
    store = open_store(tmp_path)
    record = record_one(store, small_photo(size=64), sample_record(score=0.9), schema=RESULT_V3)
    devices.enrol(engine, DEVICE.id, DEVICE.site, by="test")
    payload = encode_result(result_payload(record, DEVICE.id, DEVICE.site, RESULT_V3))
    with engine.begin() as connection:
        incoming = Incoming(result_topic(DEVICE.site, DEVICE.id), payload, datetime.now(UTC))
        store_batch(connection, [incoming], devices.active_sites(connection))
    cleo = coordinator(engine)
    record_read(engine, record.result_id, cleo, FIRST, ())
    with engine.connect() as connection:
        first = connection.execute(select(deliveries.c.review_id)).scalar_one()
    record_read(engine, record.result_id, cleo, AMENDMENT, (), amends=first)  # within the same second, mostly
    with engine.connect() as connection:
        sent = connection.execute(select(deliveries.c.payload).order_by(deliveries.c.reviewed_at)).scalars().all()
    original, amendment = (parse_review(payload) for payload in sent)
    assert amendment.reviewed_at > original.reviewed_at
    # A resend after a restore, or two ingesters, may deliver the amendment first.
    assert [store.add_review(review) for review in (amendment, original)] == ["stored", "stored"]
    standing = store.view(record.result_id)["reviews"][-1]
    assert (standing["verdict"], standing["comment"]) == ("refer", "amended: refer")
