"""A result whose photo the station does not hold (the device's default ``share_images = "none"``):
the page says so, and a read records the verdict and urgency with the grading "not assessed" (NULL),
which travels to a ``/2`` device as no findings, is exported as absent, and is left out of the model's
real-world performance. Beside a photo held here the grading is still required."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V3
from firmware_app.sync.review import parse_review
from review_station import accounts, dashboard
from review_station.export import coded_value_problems, export
from review_station.storage.tables import deliveries, reads
from review_station.verdicts import ReadForm, ReadRefused, record_read
from tests.review_station.test_not_photographed_in_chromium import not_photographed_result
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, hold_photo, signed_in_client, station


@pytest.mark.parametrize(
    ("form", "modality"),
    [
        (ReadForm("refer", "soon"), "fundus"),
        (ReadForm("no_refer", "routine"), "fundus"),
        (ReadForm("ungradable", "routine"), "dermoscopy"),  # agreeing with the device's quality check
        (ReadForm("refer", "urgent", diagnosis="melanoma"), "dermoscopy"),  # graded all the same
    ],
)
def test_without_a_photo_the_grading_may_be_left_out(form, modality):
    assert form.checked(modality, photo=False) is form


@pytest.mark.parametrize(
    ("form", "modality", "photo", "why"),
    [
        (ReadForm("refer", "soon"), "fundus", True, "needs the ICDR grade and the maculopathy$"),
        (ReadForm("refer", "soon"), "dermoscopy", True, "needs a diagnosis category$"),
        (ReadForm("refer", "soon", "moderate"), "fundus", False, "or neither when the grading is not assessed"),
        # The safety rules hold for whatever grading is given, photo or not.
        (ReadForm("no_refer", "routine", "severe", "absent"), "fundus", False, "ICDR grade severe"),
        (ReadForm("no_refer", "routine", diagnosis="melanoma"), "dermoscopy", False, "diagnosis melanoma"),
    ],
)
def test_beside_a_photo_the_grading_is_required_and_a_grading_is_whole_and_consistent(form, modality, photo, why):
    with pytest.raises(ReadRefused, match=why):
        form.checked(modality, photo=photo)


def test_a_read_without_a_photo_is_recorded_not_assessed_and_sent_without_findings(engine: Engine) -> None:
    # edgescreen.result/3: the device reads edgescreen.review/2; it shared no photo (image: null).
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V3)
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get(f"/results/{result_id}").text
    assert "No photo was shared for this result" in page and "not assessed (no photo)</option>" in page
    assert '<select name="icdr_grade">' in page  # optional: no "required"
    form = {"verdict": "refer", "urgency": "soon", "csrf": csrf_of(client, f"/results/{result_id}")}
    assert client.post(f"/results/{result_id}/reads", data=form).status_code == 303
    assert "not assessed (no photo)</td>" in client.get(f"/results/{result_id}").text
    with engine.connect() as connection:
        read = connection.execute(select(reads.c.icdr_grade, reads.c.maculopathy, reads.c.diagnosis)).one()
        payload = connection.execute(select(deliveries.c.payload)).scalar_one()
    assert tuple(read) == (None, None, None)
    document = json.loads(payload)
    assert document["schema"] == "edgescreen.review/2" and "findings" not in document
    sent = parse_review(payload)  # as the device reads it
    assert (sent.verdict, sent.urgency, sent.icdr_grade, sent.maculopathy) == ("refer", "soon", None, None)


def test_a_read_of_a_result_whose_photo_is_held_still_needs_the_grading(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V3)
    hold_photo(engine, result_id, b"sealed bytes")
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get(f"/results/{result_id}").text
    assert "No photo was shared" not in page and '<select name="icdr_grade" required>' in page
    form = {"verdict": "refer", "urgency": "soon", "csrf": csrf_of(client, f"/results/{result_id}")}
    refused = client.post(f"/results/{result_id}/reads", data=form)
    assert refused.status_code == 422 and "needs the ICDR grade and the maculopathy" in refused.text
    with engine.connect() as connection:
        assert connection.execute(select(reads)).first() is None


def test_a_grading_not_assessed_is_exported_as_absent_and_left_out_of_the_model_performance(engine: Engine) -> None:
    unseen, seen = add_results(engine, "cam-01", "site-a", [0.9, 0.8], captured_at=datetime(2026, 11, 29, tzinfo=UTC))
    hold_photo(engine, seen, b"sealed bytes")
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    record_read(engine, unseen, ana, ReadForm("refer", "soon"), ())
    record_read(engine, seen, ana, ReadForm("refer", "soon", "moderate", "absent"), ())
    day = "2026-11-29"
    document = json.loads(export(engine, "fhir", "site-a", day, day, by="test"))
    assert coded_value_problems(document) == []
    absent = [
        (entry["resource"]["code"]["coding"][0]["code"], entry["resource"]["dataAbsentReason"]["coding"][0])
        for entry in document["entry"]
        if "dataAbsentReason" in entry["resource"]
    ]
    not_performed = {"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}
    assert absent == [("icdr-grade", not_performed), ("maculopathy", not_performed)]
    table = export(engine, "csv", "site-a", day, day, by="test")
    rows = {row["result_id"]: row for row in csv.DictReader(io.StringIO(table))}
    assert (rows[unseen]["grading"], rows[unseen]["icdr_grade"]) == ("not_assessed", "")
    assert (rows[seen]["grading"], rows[seen]["icdr_grade"]) == ("assessed", "moderate")
    with engine.connect() as connection:
        [performance] = dashboard.model_performance(connection, "site-a")
        assert dashboard.final_verdicts(connection, "site-a").keys() == {unseen, seen}
    assert performance.agreement.total == 1  # the read with the photo only


def test_an_eye_that_could_not_be_photographed_is_never_graded(engine: Engine) -> None:
    """No photo of it exists anywhere: a grade ("no retinopathy", "maculopathy absent") would reach the
    nurse's record of that eye as a finding nobody saw. Its form offers no grading, and a read that
    brings one anyway (a stale page, a script) is refused; the verdict and urgency are recorded."""
    result_id = not_photographed_result(engine)
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get(f"/results/{result_id}").text
    assert 'name="verdict"' in page and 'name="icdr_grade"' not in page and 'name="maculopathy"' not in page
    graded = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": "none", "maculopathy": "absent"}
    for language, why in (
        ("fr", "cet œil n'a pas pu être photographié : sa gradation reste non évaluée"),
        ("en", "this eye could not be photographed: its grading stays not assessed"),
    ):
        client.get(f"/language/{language}")
        refused = client.post(f"/results/{result_id}/reads", data=graded | {"csrf": csrf_of(client, "/")})
        assert refused.status_code == 422 and why in html.unescape(refused.text).replace("\u00a0", " ")
    with engine.connect() as connection:
        assert connection.execute(select(reads)).first() is None
    form = {"verdict": "refer", "urgency": "soon", "csrf": csrf_of(client, f"/results/{result_id}")}
    assert client.post(f"/results/{result_id}/reads", data=form).status_code == 303
    with engine.connect() as connection:
        read = connection.execute(select(reads.c.verdict, reads.c.icdr_grade, reads.c.maculopathy)).one()
    assert tuple(read) == ("refer", None, None)
