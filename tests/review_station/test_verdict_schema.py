"""A verdict goes to the device in the schema its result names: ``edgescreen.review/2`` (with the
reader's urgency and findings) to a device whose ``edgescreen.result/3`` asks for it, ``/1`` to every
other, which would refuse the new fields and lose the verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from edgescreen_wire.result import RESULT_V1, RESULT_V2, RESULT_V3
from edgescreen_wire.review import parse_review_document
from review_station import accounts
from review_station.storage.tables import deliveries
from review_station.verdicts import ReadForm, record_read, resend_under_new_id
from tests.review_station.web_kit import PASSWORD, add_results, signed_in_client, station

SKIN = {"modality": "dermoscopy", "eye": None, "body_site": "trunk", "lesion_diameter_mm": 6.5, "skin_tone": None}


def _sent(engine: Engine, result_id: str) -> dict:
    with engine.connect() as connection:
        payload = connection.execute(
            select(deliveries.c.payload).where(deliveries.c.result_id == result_id, deliveries.c.state == "pending")
        ).scalar_one()
    return dict(parse_review_document(payload))


def test_each_result_is_answered_in_the_verdict_schema_it_names(engine: Engine) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "coordinator", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    [old] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V1)
    [v2] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V2)
    [new] = add_results(engine, "cam-02", "site-a", [0.9], schema=RESULT_V3)
    [skin] = add_results(engine, "cam-02", "site-a", [0.9], schema=RESULT_V3, payload=SKIN)
    fundus = ReadForm("refer", "urgent", "proliferative", "present", comment="Seen within the week.")
    for result_id in (old, v2, new):
        record_read(engine, result_id, ana, fundus, ())
    record_read(engine, skin, ana, ReadForm("refer", "soon", diagnosis="basal_cell_carcinoma"), ())

    for result_id in (old, v2):
        document = _sent(engine, result_id)
        assert document["schema"] == "edgescreen.review/1" and "urgency" not in document
        assert "findings" not in document and "proliferative" not in json.dumps(document)
    document = _sent(engine, new)
    assert document["schema"] == "edgescreen.review/2" and document["comment"] == "Seen within the week."
    assert (document["urgency"], document["findings"]) == (
        "urgent",
        {"icdr_grade": "proliferative", "maculopathy": "present"},
    )
    document = _sent(engine, skin)
    assert (document["urgency"], document["findings"]) == ("soon", {"diagnosis": "basal_cell_carcinoma"})

    # An amendment is answered in the same schema; so is a verdict resent under a new id.
    first = _sent(engine, new)["review_id"]
    record_read(engine, new, ana, ReadForm("refer", "routine", "moderate", "absent"), (), amends=first)
    amended = _sent(engine, new)
    assert amended["schema"] == "edgescreen.review/2" and amended["urgency"] == "routine"
    with engine.begin() as connection:
        topic = connection.execute(select(deliveries.c.topic).where(deliveries.c.result_id == new)).scalars().first()
        resend_under_new_id(connection, amended["review_id"], new, topic, datetime.now(UTC))
    renamed = _sent(engine, new)
    assert renamed["review_id"] != amended["review_id"]
    assert renamed | {"review_id": amended["review_id"]} == amended


def test_the_read_form_says_whether_the_urgency_reaches_the_nurse(engine: Engine) -> None:
    [old] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V2)
    [new] = add_results(engine, "cam-02", "site-a", [0.9], schema=RESULT_V3)
    client = signed_in_client(engine, station(), "ana", "reviewer")
    assert "the verdict and the comment only" in client.get(f"/results/{old}").text
    # The urgency of what asks something of the nurse: the device shows none beside a "no referral".
    assert (
        "The nurse sees the verdict, the urgency of a referral or of an ungradable photo"
        in client.get(f"/results/{new}").text
    )


def test_an_amendment_is_dated_after_the_verdict_it_replaces_whatever_the_stations_clock_did(engine: Engine) -> None:
    """The device takes the verdict with the latest decision time as the one that stands: a first
    verdict stamped while this station's clock ran years ahead must not outrank its amendment."""
    accounts.add_user(engine, "ana", PASSWORD, "coordinator", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V3)
    record_read(engine, result_id, ana, ReadForm("no_refer", "routine", "none", "absent"), ())
    first = _sent(engine, result_id)
    ahead = json.dumps(first | {"reviewed_at": "2999-12-02T10:00:00Z"}).encode()
    at = datetime(2999, 12, 2, 10, tzinfo=UTC)
    with engine.begin() as connection:
        sent = update(deliveries).where(deliveries.c.result_id == result_id)
        connection.execute(sent.values(payload=ahead, reviewed_at=at))
    record_read(engine, result_id, ana, ReadForm("refer", "urgent", "severe", "absent"), (), amends=first["review_id"])
    assert _sent(engine, result_id)["reviewed_at"] == "2999-12-02T10:00:01Z"
