"""Exports: FHIR R4 that fhir.resources parses and our coded-value checks pass, CSV, ranges, audit."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime

import httpx2
import pytest
from fhir.resources.R4B.bundle import Bundle
from markupsafe import escape
from sqlalchemy import Engine, select

from edgescreen_wire.result import RESULT_V2
from review_station import accounts
from review_station.export import ExportError, coded_value_problems, export
from review_station.storage.tables import audit as audit_table
from review_station.verdicts import ReadForm, record_read
from review_station.web.app import LANGUAGE_COOKIE
from review_station.words import say
from tests.review_station.browser import served
from tests.review_station.web_kit import PASSWORD, add_results, sign_in, signed_in_client, station

DAY = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # on or after the project start: a true capture time
DERMOSCOPY = {
    "modality": "dermoscopy",
    "eye": None,
    "body_site": "trunk",
    "lesion_diameter_mm": 7.5,
    "skin_tone": "brown",
    "quality": {"verdict": "usable", "reasons": ["blurred"], "measures": {"sharpness": 0.31}},
    "quality_reference": "good",
    "calibration_id": "SN-7-20261128-0a1b2c3d",
}


def reviewed_site(engine: Engine) -> list[str]:
    fundus = add_results(engine, "cam-01", "site-a", [0.9, 0.1], captured_at=DAY)
    skin = add_results(engine, "derm-01", "site-a", [0.8], captured_at=DAY, schema=RESULT_V2, payload=DERMOSCOPY)
    add_results(engine, "cam-01", "site-a", [0.7], captured_at=datetime(2026, 12, 1, tzinfo=UTC))  # out of range
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    record_read(engine, fundus[0], ana, ReadForm("refer", "soon", "severe", "present"), ())
    record_read(engine, skin[0], ana, ReadForm("refer", "urgent", diagnosis="melanoma"), ())
    return [fundus[0], skin[0]]


def test_the_fhir_export_parses_with_fhir_resources_and_passes_the_coded_value_checks(engine: Engine) -> None:
    reviewed = reviewed_site(engine)
    document = json.loads(export(engine, "fhir", "site-a", "2026-11-29", "2026-11-30", by="test"))
    Bundle.model_validate(document)
    assert coded_value_problems(document) == []
    reports = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert sorted(r["identifier"][0]["value"] for r in reports) == sorted(reviewed)
    codes = {
        (e["resource"]["code"]["coding"][0]["code"], e["resource"]["valueCodeableConcept"]["coding"][0]["code"])
        for e in document["entry"]
        if "valueCodeableConcept" in e["resource"]
    }
    assert {("icdr-grade", "severe"), ("maculopathy", "present"), ("dermoscopy-diagnosis", "melanoma")} <= codes
    assert "subject" not in json.dumps(reports)
    # A /2 result carries what the CSV gives a fairness audit; a /1 result has none of it.
    observed = {}
    for entry in document["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation":
            observed.setdefault(resource["device"]["display"], {})[resource["code"]["coding"][0]["code"]] = resource
    skin, fundus = observed["site-a/derm-01"], observed["site-a/cam-01"]
    assert skin["lesion-diameter"]["valueQuantity"] == {
        "value": 7.5,
        "unit": "mm",
        "system": "http://unitsofmeasure.org",
        "code": "mm",
    }
    assert skin["skin-tone"]["valueCodeableConcept"]["coding"][0] == {
        "system": "urn:edgescreen:skin-tone",
        "code": "brown",
    }
    assert skin["quality-reference"]["valueCodeableConcept"]["coding"][0] == {
        "system": "urn:edgescreen:quality",
        "code": "good",
    }
    assert skin["device-triage"]["method"] == {"text": "screening operating point"}
    assert not {"lesion-diameter", "skin-tone", "quality-reference"} & set(fundus)
    assert "method" not in fundus["device-triage"]
    # Every observation says where the photo was taken: the eye coded in SNOMED CT, the skin's site as text.
    left_eye = {"system": "http://snomed.info/sct", "code": "362503005", "display": "Entire left eye"}
    assert all(o["bodySite"] == {"coding": [left_eye], "text": "Entire left eye"} for o in fundus.values())
    assert all(o["bodySite"] == {"text": "trunk"} for o in skin.values())
    # Which calibration each observation stands on, as the CSV's `calibration` column: a property of
    # the Device the observation names, the profile id or "uncalibrated".
    devices = {e["fullUrl"]: e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Device"}
    calibration_profile = {
        "type": {
            "coding": [{"system": "urn:edgescreen:device-property", "code": "calibration-profile"}],
            "text": "calibration profile",
        }
    }
    for observations, calibration in ((skin, "SN-7-20261128-0a1b2c3d"), (fundus, "uncalibrated")):
        for observation in observations.values():
            device = devices[observation["device"]["reference"]]
            assert device["property"] == [{**calibration_profile, "valueCode": [{"text": calibration}]}]
            assert device["identifier"] == [
                {"system": "urn:edgescreen:device", "value": observation["device"]["display"]}
            ]
    assert len(devices) == 2  # one per device and calibration, not one per observation


def test_a_right_eye_is_coded_as_the_right_eye(engine: Engine) -> None:
    [right] = add_results(engine, "cam-01", "site-a", [0.9], captured_at=DAY, payload={"eye": "R"})
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    record_read(engine, right, ana, ReadForm("refer", "soon", "severe", "present"), ())
    document = json.loads(export(engine, "fhir", "site-a", "2026-11-29", "2026-11-29", by="test"))
    sites = {json.dumps(e["resource"]["bodySite"]) for e in document["entry"] if "bodySite" in e["resource"]}
    right_eye = {"system": "http://snomed.info/sct", "code": "362502000", "display": "Entire right eye"}
    assert sites == {json.dumps({"coding": [right_eye], "text": "Entire right eye"})}
    [row] = csv.DictReader(io.StringIO(export(engine, "csv", "site-a", "2026-11-29", "2026-11-29", by="test")))
    assert (row["eye"], row["body_site"]) == ("R", "")


def test_bad_codes_that_fhir_resources_accepts_are_caught_by_our_checks(engine: Engine) -> None:
    reviewed_site(engine)
    good = json.loads(export(engine, "fhir", "site-a", "2026-11-29", "2026-11-30", by="test"))
    bad = copy.deepcopy(good)
    observation = next(e["resource"] for e in bad["entry"] if e["resource"]["resourceType"] == "Observation")
    observation["status"] = "bogus"
    observation["valueCodeableConcept"]["coding"][0]["code"] = "probably_fine"
    bad["entry"][-1]["resource"]["result"].append({"reference": "urn:uuid:nowhere"})
    diameter = next(
        e["resource"]
        for e in bad["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "lesion-diameter"
    )
    diameter["valueQuantity"].update(unit="cm", code="cm")
    observation["bodySite"] = {"coding": [{"system": "http://snomed.info/sct", "code": "12345"}]}
    observation["device"]["reference"] = "urn:uuid:no-device"
    device = next(e["resource"] for e in bad["entry"] if e["resource"]["resourceType"] == "Device")
    device["property"][0]["type"]["coding"][0]["code"] = "colour-of-the-case"
    Bundle.model_validate(bad)  # the library accepts all of it
    problems = " | ".join(coded_value_problems(bad))
    assert "status 'bogus'" in problems and "'probably_fine' is not in" in problems and "not in the bundle" in problems
    assert "a lesion-diameter must be a quantity in UCUM 'mm'" in problems
    assert "Observation.bodySite code '12345' is not in http://snomed.info/sct" in problems
    assert "Observation.device 'urn:uuid:no-device' is not in the bundle" in problems
    assert "Device.property.type code 'colour-of-the-case' is not in urn:edgescreen:device-property" in problems


def test_the_csv_export_has_one_row_per_reviewed_result_and_every_export_is_audited(engine: Engine) -> None:
    reviewed = reviewed_site(engine)
    text = export(engine, "csv", "site-a", "2026-11-29", "2026-11-29", by="test")
    rows = {row["result_id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert sorted(rows) == sorted(reviewed)
    fundus, skin = rows[reviewed[0]], rows[reviewed[1]]
    assert (fundus["verdict"], fundus["icdr_grade"], skin["diagnosis"]) == ("refer", "severe", "melanoma")
    # The /2 fields a fairness audit needs; a /1 result leaves them empty.
    assert (skin["skin_tone"], skin["lesion_diameter_mm"], skin["operating_point"]) == ("brown", "7.5", "screening")
    assert (fundus["skin_tone"], fundus["lesion_diameter_mm"], fundus["operating_point"]) == ("", "", "")
    assert (fundus["eye"], fundus["body_site"], skin["eye"], skin["body_site"]) == ("L", "", "", "trunk")
    # Which results stand on a calibrated camera (the skin tone is read on calibrated colour).
    assert (skin["calibration"], fundus["calibration"]) == ("SN-7-20261128-0a1b2c3d", "uncalibrated")
    with pytest.raises(ExportError, match="no reviewed results"):  # nothing to export: said, not audited
        export(engine, "csv", "site-b", "2026-11-29", "2026-11-29", by="test")
    with pytest.raises(ExportError, match="YYYY-MM-DD"):
        export(engine, "csv", "site-a", "April", "2026-11-29", by="test")
    with pytest.raises(ExportError, match="empty"):
        export(engine, "csv", "site-a", "2026-11-30", "2026-11-29", by="test")
    with engine.connect() as connection:
        exports = (
            connection.execute(select(audit_table.c.details).where(audit_table.c.kind == "export")).scalars().all()
        )
    assert len(exports) == 1 and '"results":2' in exports[0]


def test_web_export_is_for_coordinators(engine: Engine) -> None:
    reviewed_site(engine)
    query = "/export?format=csv&site=site-a&start=2026-11-29&end=2026-11-30"
    assert signed_in_client(engine, station(), "ben", "reviewer").get(query).status_code == 403
    response = signed_in_client(engine, station(), "cleo", "coordinator").get(query)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.count("\n") == 3


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_web_export_with_no_reviewed_results_says_so_on_the_page_not_in_an_empty_download(
    engine: Engine, language: str
) -> None:
    """The range holds a result, not reviewed yet: the administrator got a file of the CSV's header alone
    (a FHIR bundle of no entries), and no word that nothing in it was theirs to look for."""
    reviewed_site(engine)
    client = signed_in_client(engine, station(), "cleo", "admin")
    client.cookies.set(LANGUAGE_COOKIE, language)
    response = client.get("/export?format=csv&site=site-a&start=2026-12-01&end=2026-12-01")
    assert "content-disposition" not in response.headers and response.headers["content-type"].startswith("text/html")
    said = say("export.refused.no_results", language, site="site-a", start="2026-12-01", end="2026-12-01")
    assert str(escape(said)) in response.text
    assert 'name="start" type="date" value="2026-12-01"' in response.text  # kept, to be corrected, not retyped


@pytest.mark.parametrize(
    "site",
    [
        "site-a\r\nSet-Cookie: review_session=forged",
        'site-a";filename="x.exe',
        "clinique-\u00e9",
        "../../etc/passwd",
        "a" * 5000,
    ],
)
def test_an_export_for_a_site_that_is_not_a_site_id_is_refused_before_any_header_is_made(
    engine: Engine, site: str
) -> None:
    """Over real HTTP (uvicorn's HTTP/1.1 on loopback), where a header the app cannot send costs the
    reader a dropped connection and a header it can send is what the browser names the file."""
    reviewed_site(engine)
    accounts.add_user(engine, "cleo", PASSWORD, "coordinator", by="test")
    with served(station(), engine) as base, httpx2.Client(base_url=base) as client:
        sign_in(client, "cleo", PASSWORD)
        query = {"format": "csv", "start": "2026-11-29", "end": "2026-11-30"}
        form = client.get("/export")  # the form, its fields to fill
        partial = client.get("/export", params={"site": "site-a"})
        refused = client.get("/export", params={**query, "site": site})
        good = client.get("/export", params={**query, "site": "site-a"})
    assert form.status_code == 200 and 'data-test="export-form"' in form.text and 'href="/export"' in form.text
    assert partial.status_code == 422 and "fill in every field" in partial.text and 'value="site-a"' in partial.text
    assert refused.status_code == 422 and "Export refused" in refused.text
    # The refusal is the form again, with what was typed kept to correct it.
    assert 'data-test="export-form"' in refused.text and 'value="2026-11-30"' in refused.text
    assert "content-disposition" not in refused.headers and "set-cookie" not in refused.headers
    assert good.headers["content-disposition"] == 'attachment; filename="edgescreen-site-a-2026-11-29-2026-11-30.csv"'
    with engine.connect() as connection:
        audited = connection.execute(select(audit_table.c.details).where(audit_table.c.kind == "export")).scalars()
        assert len(audited.all()) == 1  # the good one only
