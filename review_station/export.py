"""Reviewed results out of the station: FHIR R4 (a ``Bundle`` of ``DiagnosticReport`` + ``Observation``s
per result, built with ``fhir.resources``' R4B models) and CSV; per site and date range; audited.

Dates are the station's time of a result (``review_station.dating``): the device's capture time when
its clock can be trusted, else the result's arrival. The range filters and orders by it; each format
also says which time it is and carries the device's ``clock`` flag (``effective``, ``CSV_COLUMNS``).

``fhir.resources`` checks structure, not terminology: it accepts ``status: "bogus"`` or a code from no
code system. ``coded_value_problems`` checks every status and every coding against the value sets
written here, and an export is refused if it finds anything. Nothing identifying is exported: the
subject of each report is left out (the station has no patient), the device and site ids are kept.

An ``edgescreen.result/2`` result adds what a fairness audit splits the verdicts by, as in the CSV:
the lesion's diameter (a UCUM quantity in mm), the skin tone around it and the quality verdict of the
shipped limits (coded), and the operating point the device's triage used (the triage's ``method``).
Every observation of a result names where the photo was taken (``bodySite``): the eye, or the skin's site.

Every observation also names the device that made it (``Observation.device``), a ``Device`` entry of the
bundle, one per device and calibration: its ``property`` is the device's calibration profile id or
``uncalibrated``, as the CSV's ``calibration`` column, since the skin tone and the lesion diameter are
read on calibrated colour and scale. A configuration the device operated with is what R4's
``Device.property`` is for; the id is no code of any vocabulary, so it is the value's ``text`` (FHIR:
"used for properties which would usually be coded ... but for which there is not currently an
appropriate concept in the vocabulary"), the property's type being coded as ours.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Connection, Engine, select

from edgescreen_wire.checks import IDENTIFIER, WireError, check_text
from firmware_app.calibration.profile import UNCALIBRATED
from firmware_app.inference.skin_tone import CATEGORY_NAMES
from firmware_app.quality.verdict import Verdict
from review_station import audit
from review_station.dating import ARRIVAL, after_arrival
from review_station.refused import Refused
from review_station.storage.tables import reads, results, users
from review_station.verdicts import DIAGNOSES, ICDR_GRADES, MACULOPATHY, URGENCIES, VERDICTS, read_graded

FORMATS = ("fhir", "csv")
OBSERVATIONS = (
    "specialist-verdict", "icdr-grade", "maculopathy", "dermoscopy-diagnosis", "urgency", "device-triage",
    "skin-tone", "quality-reference", "lesion-diameter",
)  # fmt: skip
UCUM = "http://unitsofmeasure.org"
# FHIR R4's reason for a value left out: a read made without a photo graded nothing ("not assessed").
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NOT_ASSESSED = "not-performed"
# Which eye a fundus photo is of, as SNOMED CT body structures: the codes of HL7's eye-care value set
# EyecareTargetSiteCodes (SNOMED CT International, Sep 2023). A dermoscopy result's coarse body site
# (``BODY_SITES``) has no code here: it is exported as text.
SNOMED = "http://snomed.info/sct"
# The properties of a Device entry (its calibration profile id, as text: ``device_entry``).
DEVICE_PROPERTIES = ("calibration-profile",)
EYE_SITES = {"L": ("362503005", "Entire left eye"), "R": ("362502000", "Entire right eye")}
# The grading each modality's read gives, exported as "not performed" when it was not assessed.
GRADINGS = {"fundus": ("icdr-grade", "maculopathy"), "dermoscopy": ("dermoscopy-diagnosis",)}
# Observations whose value is a quantity, and its UCUM unit; every other one is coded (VALUE_SYSTEM).
QUANTITY_UNITS = {"lesion-diameter": "mm"}
CODE_SYSTEMS: dict[str, tuple[str, ...]] = {
    "urn:edgescreen:report": ("fundus-screening", "dermoscopy-screening"),
    "urn:edgescreen:observation": OBSERVATIONS,
    "urn:edgescreen:verdict": VERDICTS,
    "urn:edgescreen:icdr-grade": ICDR_GRADES,
    "urn:edgescreen:maculopathy": MACULOPATHY,
    "urn:edgescreen:dermoscopy-diagnosis": DIAGNOSES,
    "urn:edgescreen:urgency": URGENCIES,
    "urn:edgescreen:skin-tone": CATEGORY_NAMES,
    "urn:edgescreen:quality": tuple(verdict.value for verdict in Verdict),
    "urn:edgescreen:device-property": DEVICE_PROPERTIES,
    DATA_ABSENT: (NOT_ASSESSED,),
    SNOMED: tuple(code for code, _ in EYE_SITES.values()),
}
VALUE_SYSTEM = {
    "specialist-verdict": "urn:edgescreen:verdict",
    "device-triage": "urn:edgescreen:verdict",
    "icdr-grade": "urn:edgescreen:icdr-grade",
    "maculopathy": "urn:edgescreen:maculopathy",
    "dermoscopy-diagnosis": "urn:edgescreen:dermoscopy-diagnosis",
    "urgency": "urn:edgescreen:urgency",
    "skin-tone": "urn:edgescreen:skin-tone",
    "quality-reference": "urn:edgescreen:quality",
}
# FHIR R4's required value sets for the fields this export fills.
BUNDLE_TYPES = ("collection",)
REPORT_STATUSES = (
    "registered",
    "partial",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "appended",
    "cancelled",
    "entered-in-error",
    "unknown",
)
OBSERVATION_STATUSES = (
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
)


class ExportError(Refused):
    """An export that cannot be made: "export.refused.<key>" says why on the export page and at the
    command line (``Refused``)."""

    topic = "export"


@dataclass(frozen=True)
class Reviewed:
    """A settled result and the read that settled it (the adjudication, else the last read)."""

    result: Any
    final: Any
    reader: str
    reads: int


def _day(text: str, what: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise ExportError(f"{what} {text!r}: expected a date as YYYY-MM-DD", f"bad_{what}", text=text) from None


def reviewed_results(connection: Connection, site: str, start: str, end: str) -> list[Reviewed]:
    """Reviewed results of ``site`` dated from ``start`` to ``end`` (inclusive dates), oldest first."""
    first, last = _day(start, "from"), _day(end, "to") + timedelta(days=1)
    if last <= first:
        raise ExportError("the date range is empty: 'to' is before 'from'", "empty_range")
    rows = connection.execute(
        select(results)
        .where(
            results.c.site_id == site,
            results.c.state == "reviewed",
            results.c.dated_at >= first,
            results.c.dated_at < last,
        )
        .order_by(results.c.dated_at, results.c.result_id)
    ).all()
    found = []
    for row in rows:
        all_reads = connection.execute(
            select(reads, users.c.username)
            .join(users, users.c.id == reads.c.user_id)
            .where(reads.c.result_id == row.result_id)
            .order_by(reads.c.id)
        ).all()
        found.append(Reviewed(row, all_reads[-1], all_reads[-1].username, len(all_reads)))
    return found


def _coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}], "text": code.replace("_", " ")}


def _observations(item: Reviewed) -> list[tuple[str, str | float | None]]:
    """(observation, value) of one result; a grading's value is ``None`` when it was not assessed."""
    final, result = item.final, item.result
    grading = {
        "icdr-grade": final.icdr_grade,
        "maculopathy": final.maculopathy,
        "dermoscopy-diagnosis": final.diagnosis,
    }
    values: list[tuple[str, str | float | None]] = [
        ("specialist-verdict", final.verdict),
        ("urgency", final.urgency),
        ("device-triage", result.payload["triage"]),
        *((name, grading[name]) for name in GRADINGS[result.modality]),
    ]
    for name, value in (
        ("skin-tone", result.skin_tone),
        ("quality-reference", result.quality_reference),
        ("lesion-diameter", result.lesion_diameter_mm),
    ):
        if value is not None and value != "":
            values.append((name, value))
    return values


def _value(name: str, value: str | float | None) -> dict[str, Any]:
    if value is None:
        not_assessed = {"coding": [{"system": DATA_ABSENT, "code": NOT_ASSESSED}], "text": "not assessed: no photo"}
        return {"dataAbsentReason": not_assessed}
    if name in QUANTITY_UNITS:
        unit = QUANTITY_UNITS[name]
        return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}
    return {"valueCodeableConcept": _coded(VALUE_SYSTEM[name], str(value))}


def _method(name: str, result: Any) -> dict[str, Any]:
    """The device's triage says at which operating point its threshold was set (result/2)."""
    if name != "device-triage" or not result.operating_point:
        return {}
    return {"method": {"text": f"{result.operating_point} operating point"}}


def body_site(payload: dict[str, Any]) -> dict[str, Any]:
    """Where on the patient the photo was taken, as ``Observation.bodySite``: the eye, coded; the
    skin's coarse site as text; nothing when the device recorded neither."""
    if payload.get("eye") in EYE_SITES:
        code, display = EYE_SITES[payload["eye"]]
        return {"bodySite": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display}}
    if payload.get("body_site"):
        return {"bodySite": {"text": payload["body_site"].replace("_", " ")}}
    return {}


def effective(result: Any) -> dict[str, Any]:
    """When the photo was taken, as FHIR R4's ``effective[x]`` of each resource.

    A trusted capture time is ``effectiveDateTime``. An untrusted one is not written there: a doubtful
    or impossible time would be taken for the real one, and the arrival is not when the photo was taken
    either. What is known is that the photo was taken at some unknown time no later than its arrival:
    that is an ``effectivePeriod`` with only an ``end`` (FHIR R4 ``Period``: "If the start element is
    missing, the start of the period is not known"), which every R4 reader understands, unlike an
    extension of our own. Why, and the device's own time and ``clock`` flag, go in ``Observation.note``
    (an ``Annotation``, core R4; ``DiagnosticReport`` has no note in R4, its observations carry it)."""
    if result.dated_from != ARRIVAL:
        return {"effectiveDateTime": result.captured_at.isoformat()}
    return {"effectivePeriod": {"end": result.received_at.isoformat()}}


def time_note(result: Any) -> dict[str, Any]:
    """The ``Observation.note`` saying why ``effective`` is not the device's time; none when it is."""
    if result.dated_from != ARRIVAL:
        return {}
    clock = result.payload.get("clock")
    if clock:
        why = f"its clock flag was {clock!r}"
    elif after_arrival(result.captured_at, result.received_at):
        why = "that is after the result reached the station"
    else:
        why = "that is before EdgeScreen's first day"
    text = (
        f"Capture time unknown, no later than the result's arrival: the device said "
        f"{result.captured_at.isoformat()}, and {why}."
    )
    return {"note": [{"text": text}]}


def device_entry(result: Any) -> dict[str, Any]:
    """The bundle's ``Device`` entry for the device of ``result`` as it was calibrated for it (its
    profile id, or ``uncalibrated``, the CSV's ``calibration``); its ``fullUrl`` is filled in by
    ``fhir_document``."""
    calibration = result.payload["calibration_id"] or UNCALIBRATED
    return {
        "resourceType": "Device",
        "identifier": [{"system": "urn:edgescreen:device", "value": f"{result.site_id}/{result.device_id}"}],
        "property": [
            {
                "type": {
                    "coding": [{"system": "urn:edgescreen:device-property", "code": "calibration-profile"}],
                    "text": "calibration profile",
                },
                "valueCode": [{"text": calibration}],
            }
        ],
    }


def fhir_document(items: Iterable[Reviewed]) -> dict[str, Any]:
    entries = []
    device_urls: dict[str, str] = {}  # one Device entry per device and calibration, not per observation
    for item in items:
        result, final = item.result, item.final
        device = device_entry(result)
        key = json.dumps(device, sort_keys=True)
        if key not in device_urls:
            device_urls[key] = f"urn:uuid:{uuid.uuid4()}"
            entries.append({"fullUrl": device_urls[key], "resource": device})
        observation_urls = []
        for name, value in _observations(item):
            url = f"urn:uuid:{uuid.uuid4()}"
            observation_urls.append(url)
            entries.append(
                {
                    "fullUrl": url,
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": _coded("urn:edgescreen:observation", name),
                        **_value(name, value),
                        **_method(name, result),
                        **body_site(result.payload),
                        **effective(result),
                        **time_note(result),
                        "issued": final.created_at.isoformat(),
                        "device": {"reference": device_urls[key], "display": f"{result.site_id}/{result.device_id}"},
                    },
                }
            )
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "identifier": [{"system": "urn:edgescreen:result-id", "value": result.result_id}],
                    "status": "final",
                    "code": _coded("urn:edgescreen:report", f"{result.modality}-screening"),
                    **effective(result),
                    "issued": final.created_at.isoformat(),
                    "resultsInterpreter": [{"display": item.reader}],
                    "result": [{"reference": url} for url in observation_urls],
                    "conclusion": f"Specialist verdict: {final.verdict.replace('_', ' ')} ({item.reads} read(s)).",
                },
            }
        )
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": datetime.now(UTC).isoformat(),
        "entry": entries,
    }
    return json.loads(Bundle.model_validate(document).model_dump_json())  # the library's structural check


def coded_value_problems(document: dict[str, Any]) -> list[str]:
    """Every status and coding of a bundle checked against this export's value sets."""
    problems = []
    if document.get("type") not in BUNDLE_TYPES:
        problems.append(f"Bundle.type {document.get('type')!r} is not one of {BUNDLE_TYPES}")
    entries = document.get("entry", [])
    urls = {entry.get("fullUrl") for entry in entries}
    for index, entry in enumerate(entries):
        resource, where = entry.get("resource", {}), f"entry[{index}]"
        kind = resource.get("resourceType")
        if kind == "Device":
            problems.extend(_device_problems(resource, where))
            continue
        statuses = {"Observation": OBSERVATION_STATUSES, "DiagnosticReport": REPORT_STATUSES}.get(kind)
        if statuses is None:
            problems.append(f"{where}: unexpected resource {kind!r}")
            continue
        if resource.get("status") not in statuses:
            problems.append(f"{where}: {kind}.status {resource.get('status')!r} is not a FHIR R4 status")
        concepts = [("code", resource.get("code"))]
        name = next((c.get("code") for c in (resource.get("code") or {}).get("coding", [])), None)
        if kind == "Observation" and name in QUANTITY_UNITS:
            quantity = resource.get("valueQuantity") or {}
            unit = QUANTITY_UNITS[name]
            if (quantity.get("system"), quantity.get("code")) != (UCUM, unit):
                problems.append(f"{where}: a {name} must be a quantity in UCUM {unit!r}")
        elif kind == "Observation" and "dataAbsentReason" in resource:
            concepts.append(("dataAbsentReason", resource.get("dataAbsentReason")))
            if name not in GRADINGS["fundus"] + GRADINGS["dermoscopy"] or "valueCodeableConcept" in resource:
                problems.append(f"{where}: only a grading not assessed may be absent, and then without a value")
        elif kind == "Observation":
            concepts.append(("valueCodeableConcept", resource.get("valueCodeableConcept")))
            value_system = next(
                (c.get("system") for c in (resource.get("valueCodeableConcept") or {}).get("coding", [])), None
            )
            if name in VALUE_SYSTEM and value_system != VALUE_SYSTEM[name]:
                problems.append(f"{where}: a {name} must be coded in {VALUE_SYSTEM[name]}, not {value_system!r}")
        if kind == "Observation" and (resource.get("bodySite") or {}).get("coding"):
            concepts.append(("bodySite", resource["bodySite"]))
        problems.extend(_coding_problems(concepts, f"{where}: {kind}"))
        for reference in resource.get("result", []):
            if reference.get("reference") not in urls:
                problems.append(f"{where}: DiagnosticReport.result {reference.get('reference')!r} is not in the bundle")
        if kind == "Observation" and (resource.get("device") or {}).get("reference") not in urls:
            problems.append(f"{where}: Observation.device {resource['device'].get('reference')!r} is not in the bundle")
    return problems


def _coding_problems(concepts: list[tuple[str, Any]], what: str) -> list[str]:
    """Each concept's codings checked against ``CODE_SYSTEMS``; ``what`` names the resource."""
    problems = []
    for field_name, concept in concepts:
        codings = (concept or {}).get("coding") or []
        if not codings:
            problems.append(f"{what}.{field_name} has no coding")
        for coding in codings:
            system, code = coding.get("system"), coding.get("code")
            if system not in CODE_SYSTEMS:
                problems.append(f"{what}.{field_name} uses an unknown code system {system!r}")
            elif code not in CODE_SYSTEMS[system]:
                problems.append(f"{what}.{field_name} code {code!r} is not in {system}")
    return problems


def _device_problems(resource: dict[str, Any], where: str) -> list[str]:
    """A Device entry's property types are ours and each has its value as text (``device_entry``)."""
    properties = resource.get("property") or []
    problems = _coding_problems([("property.type", p.get("type")) for p in properties], f"{where}: Device")
    if not properties or any(not all(v.get("text") for v in p.get("valueCode") or [{}]) for p in properties):
        problems.append(f"{where}: a Device must give its calibration profile as text")
    return problems


CSV_COLUMNS = (
    "result_id", "site_id", "device_id", "modality", "captured_at", "received_at", "device_triage", "score",
    "threshold", "model_id", "model_version", "quality_verdict", "verdict", "icdr_grade", "maculopathy",
    "diagnosis", "urgency", "reviewed_at", "reads",
    # edgescreen.result/2 only (empty for /1): what a fairness audit splits the verdicts by.
    "operating_point", "quality_reference", "lesion_diameter_mm", "skin_tone",
    # "not_assessed": read without a photo, the grading columns left empty; else "assessed".
    "grading",
    # Which eye ("L" or "R") a fundus photo is of, or the coarse body site of a dermoscopy one.
    "eye", "body_site",
    # The device's clock flag (edgescreen_wire.result's ``clock``; empty when it vouched for its time),
    # and which of captured_at or received_at dates the result (review_station.dating), as the range does.
    "clock", "dated_from",
    # The device's calibration profile id, or "uncalibrated": the skin tone and the lesion diameter
    # are read on calibrated colour and scale, so an audit can tell which results stand on them.
    "calibration",
)  # fmt: skip


def csv_text(items: Iterable[Reviewed]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        result, final, payload = item.result, item.final, item.result.payload
        writer.writerow(
            [
                result.result_id, result.site_id, result.device_id, result.modality,
                result.captured_at.isoformat(), result.received_at.isoformat(), result.triage,
                "" if payload["score"] is None else payload["score"],
                "" if payload["threshold"] is None else payload["threshold"],
                result.model_id or "", result.model_version or "", result.quality_verdict or "",
                final.verdict, final.icdr_grade or "", final.maculopathy or "", final.diagnosis or "",
                final.urgency, final.created_at.isoformat(), item.reads,
                result.operating_point or "", result.quality_reference or "",
                "" if result.lesion_diameter_mm is None else result.lesion_diameter_mm, result.skin_tone or "",
                "assessed" if read_graded(final) else "not_assessed",
                payload["eye"] or "", payload["body_site"] or "",
                payload.get("clock", ""), result.dated_from, payload["calibration_id"] or UNCALIBRATED,
            ]
        )  # fmt: skip
    return out.getvalue()


def export(
    engine: Engine, kind: str, site: str, start: str, end: str, by: str, deliver: Callable[[str], object] | None = None
) -> str:
    """The export's text; the act (not its content) is written to the audit log in the same transaction,
    once ``deliver`` (the command line's writing of its file) has taken the text: a delivery refused
    (a file there, a full disk) raises before the event, so the log never holds an export not made.
    Only a delivery that can be taken back if the event is then refused may be given: a file, removed.
    Text handed to a pipe or a terminal has left for good even when the write then fails (a reader gone
    after a few rows, a full drive behind a redirection), so it is written after this returns, its
    event committed: an export never leaves the station unaudited.
    None of the site's results reviewed in the range: refused (``no_results``), nothing exported or audited.

    ``site`` must be a site id as the wire carries it: the download's file name and the audit log are
    made from it, and no result can belong to anything else."""
    if kind not in FORMATS:
        raise ExportError(f"format {kind!r}: expected one of {', '.join(FORMATS)}", "bad_format", format=kind)
    try:
        check_text(site, IDENTIFIER, "site")
    except WireError as error:
        raise ExportError(str(error), "bad_site", detail=str(error)) from None
    with engine.begin() as connection:
        items = reviewed_results(connection, site, start, end)
        if not items:  # a file of no results, handed over without a word, read as an export of them all
            why = f"no reviewed results of site {site!r} dated from {start} to {end}"
            raise ExportError(why, "no_results", site=site, start=start, end=end)
        if kind == "fhir":
            document = fhir_document(items)
            problems = coded_value_problems(document)
            if problems:
                why = f"the FHIR export failed its coded-value check: {problems[0]}"
                raise ExportError(why, "fhir_check", detail=problems[0])
            text = json.dumps(document, indent=1)
        else:
            text = csv_text(items)
        if deliver is not None:
            deliver(text)
        audit.append(
            connection,
            "export",
            {"format": kind, "site": site, "from": start, "to": end, "results": len(items), "by": by},
        )
    return text
