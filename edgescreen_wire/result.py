"""The result payload: the only thing about a screening that leaves the device.

Three versions travel. A device sends ``/1`` until its ``[sync] result_schema`` says ``/2`` or
``/3``; the station accepts all three. Numbers and codes only, apart from the fixed disclaimer every payload carries.

``edgescreen.result/1``::

    {"schema": "edgescreen.result/1", "result_id": 32 hex, "device_id": id, "site_id": id,
     "modality": "fundus"|"dermoscopy", "eye": "L"|"R"|null, "body_site": coarse site|null,
     "captured_at": "YYYY-MM-DDTHH:MM:SSZ",
     "model": {"id": id, "version": id, "sha256": 64 hex}|null,
     "quality": {"verdict": code, "reasons": [code...], "measures": {code: number}}|null,
     "triage": "refer"|"no_refer"|"ungradable", "score": [0,1]|null, "threshold": [0,1]|null,
     "calibration_id": id|null, "disclaimer": the fixed English disclaimer,
     "clock": "unsynchronised"|"before_build"|"future"}

``edgescreen.result/2`` is ``/1`` plus what a specialist and a fairness audit need, none of which
identifies anybody::

     "lesion_diameter_mm": number in 0.5 mm steps|null   (dermoscopy only; null without a scale, or
                                                         when the lesion runs to the photo's edge)
     "skin_tone": Del Bino ITA category|null             (dermoscopy only; the category, never the angle)
     "operating_point": code|null                        (the name of the point ``threshold`` is from)
     "quality_reference": "good"|"usable"|"reject"|null  (the verdict of the shipped limits, the same
                                                         on every device whatever limits it was set to)
     "image": {"sha256": 64 hex, "size": bytes}|null    (the photo the site shares with its specialists,
                                                         sealed to the station and uploaded over HTTPS:
                                                         the digest and size of the sealed bytes, never
                                                         the photo; null when it is not shared)

``edgescreen.result/3`` is ``/2`` plus the verdicts the device reads back::

     "review_schema": "edgescreen.review/1"|"/2"|"/3"   (the newest ``edgescreen_wire.review`` schema
                                                      this device reads: the station sends this
                                                      result's verdicts in it; "/3", signed, once the
                                                      device holds the station's verdict key)

A verdict the device cannot read is refused and lost, so the station sends a result's verdicts in
the schema the result names, and ``/1`` to a device whose result names none.

The diameter is rounded to 0.5 mm and the tone is a category of six so that neither is a fine
measurement of a person. ``clock`` is optional in both, so every earlier payload stays valid: it is
there only when ``captured_at`` may be wrong. ``triage`` must agree with ``score`` and ``threshold``
(``refer`` at or above it): a payload altered in the queue is refused, not published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from edgescreen_wire.checks import (
    CODE,
    HEX32,
    HEX64,
    IDENTIFIER,
    UTC_SECONDS,
    WireError,
    check_choice,
    check_keys,
    check_number,
    check_object,
    check_text,
)
from edgescreen_wire.review import REVIEW_SCHEMAS
from firmware_app.inference.card import MODALITIES
from firmware_app.inference.skin_tone import CATEGORY_NAMES
from firmware_app.inference.triage import Outcome
from firmware_app.messages import message
from firmware_app.quality.verdict import Verdict
from firmware_app.records.clock import ClockState
from firmware_app.records.screening import BODY_SITES, EYES

RESULT_V1 = "edgescreen.result/1"
RESULT_V2 = "edgescreen.result/2"
RESULT_V3 = "edgescreen.result/3"
DISCLAIMER = message("disclaimer", "en")
FIELDS_V1 = frozenset(
    {
        "schema",
        "result_id",
        "device_id",
        "site_id",
        "modality",
        "eye",
        "body_site",
        "captured_at",
        "model",
        "quality",
        "triage",
        "score",
        "threshold",
        "calibration_id",
        "disclaimer",
    }
)
FIELDS_V2 = FIELDS_V1 | {"lesion_diameter_mm", "skin_tone", "operating_point", "quality_reference", "image"}
# Each schema's required fields; the optional ones (``OPTIONAL``) are the same in every version.
FIELDS_V3 = FIELDS_V2 | {"review_schema"}
REQUIRED: Mapping[str, frozenset[str]] = {RESULT_V1: FIELDS_V1, RESULT_V2: FIELDS_V2, RESULT_V3: FIELDS_V3}
# The schemas that carry ``/2``'s fields (a shared photo's digest among them).
WITH_V2_FIELDS = (RESULT_V2, RESULT_V3)
OPTIONAL = frozenset({"clock"})
SCHEMAS = tuple(REQUIRED)
FLAGGED_CLOCKS = tuple(state.value for state in ClockState if state is not ClockState.SYNCHRONISED)
MAX_RESULT_BYTES = 65536
DIAMETER_STEP_MM = 0.5
MAX_DIAMETER_MM = 100.0  # wider than any dermatoscope's field
# A shared photo is a JPEG of at most a few MB sealed; the station refuses more than its own limit anyway.
MAX_SHARED_IMAGE_BYTES = 256 * 2**20
# The one quality reason of an eye the nurse could not photograph at all (closed, a small pupil, a
# cataract, a patient who cannot hold still, an artificial eye), recorded ungradable with no photo,
# model or calibration (the device's ``record_not_photographed``): a code like the gate's, which the
# device's Today and Records and the station's result page read to say so.
NOT_PHOTOGRAPHED = "not_photographed"
# Each modality's context field, as the device records it (``ScreeningContext.for_modality``): an eye
# for a fundus photo, a body site for a dermoscopy one. A result may leave its own out, never carry
# the other's, which says the photo is of what it is not.
CONTEXT_FIELDS: Mapping[str, str] = {"fundus": "eye", "dermoscopy": "body_site"}


def allow_list(schema: str) -> frozenset[str]:
    """Every field a payload of ``schema`` may carry."""
    return REQUIRED[schema] | OPTIONAL


def could_not_photograph(quality: Mapping[str, Any] | None) -> bool:
    """Whether a quality as the records and the wire keep it (``{"verdict", "reasons", ...}``) is that
    of an eye recorded with no photo (``NOT_PHOTOGRAPHED``): said so, not as a photo refused."""
    return NOT_PHOTOGRAPHED in ((quality or {}).get("reasons") or ())


def round_diameter(diameter_mm: float | None) -> float | None:
    """The diameter as the wire carries it: to the nearest 0.5 mm, coarse enough to identify nobody."""
    if diameter_mm is None:
        return None
    return round(diameter_mm / DIAMETER_STEP_MM) * DIAMETER_STEP_MM


def _check_model(model: Any) -> None:
    if model is None:
        return
    check_keys(model, {"id", "version", "sha256"}, set(), "model")
    check_text(model["id"], IDENTIFIER, "model.id")
    check_text(model["version"], IDENTIFIER, "model.version")
    check_text(model["sha256"], HEX64, "model.sha256")


def _check_quality(quality: Any) -> None:
    if quality is None:
        return
    check_keys(quality, {"verdict", "reasons", "measures"}, set(), "quality")
    check_text(quality["verdict"], CODE, "quality.verdict")
    if not isinstance(quality["reasons"], list):
        raise WireError("quality.reasons: expected a list of codes")
    for index, reason in enumerate(quality["reasons"]):
        check_text(reason, CODE, f"quality.reasons[{index}]")
    if not isinstance(quality["measures"], dict):
        raise WireError("quality.measures: expected an object of numbers")
    for name, value in quality["measures"].items():
        check_text(name, CODE, "quality.measures key")
        check_number(value, f"quality.measures.{name}")


def _check_image(image: Any) -> None:
    if image is None:
        return
    check_keys(image, {"sha256", "size"}, set(), "image")
    check_text(image["sha256"], HEX64, "image.sha256")
    size = image["size"]
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_SHARED_IMAGE_BYTES:
        raise WireError(f"image.size: expected a whole number of bytes in [1, {MAX_SHARED_IMAGE_BYTES}], got {size!r}")


def _check_v2(document: Mapping[str, Any]) -> None:
    diameter, tone = document["lesion_diameter_mm"], document["skin_tone"]
    check_number(diameter, "lesion_diameter_mm", nullable=True, low=0.0, high=MAX_DIAMETER_MM)
    if diameter is not None and round_diameter(diameter) != diameter:
        raise WireError(f"lesion_diameter_mm: {diameter!r} is not in {DIAMETER_STEP_MM} mm steps")
    check_choice(tone, (None, *CATEGORY_NAMES), "skin_tone")
    if document["modality"] != "dermoscopy" and (diameter is not None or tone is not None):
        raise WireError("lesion_diameter_mm, skin_tone: only a dermoscopy result has them")
    check_text(document["operating_point"], CODE, "operating_point", nullable=True)
    if (document["operating_point"] is None) != (document["threshold"] is None):
        raise WireError("operating_point: a threshold comes with the name of its operating point, and only then")
    check_choice(document["quality_reference"], (None, *Verdict), "quality_reference")
    if (document["quality_reference"] is None) != (document["quality"] is None):
        raise WireError("quality_reference: given exactly when the quality is")
    _check_image(document["image"])


def validate_result(document: Any) -> None:
    """Raise ``WireError`` naming the first field that the allow-list or its patterns refuse."""
    schema = check_object(document, "result").get("schema")
    check_choice(schema, SCHEMAS, "schema")
    check_keys(document, set(REQUIRED[schema]), set(OPTIONAL), "result")
    check_text(document["result_id"], HEX32, "result_id")
    check_text(document["device_id"], IDENTIFIER, "device_id")
    check_text(document["site_id"], IDENTIFIER, "site_id")
    check_choice(document["modality"], MODALITIES, "modality")
    check_choice(document["eye"], (None, *EYES), "eye")
    check_choice(document["body_site"], (None, *BODY_SITES), "body_site")
    _check_context_of(document["modality"], document)
    check_text(document["captured_at"], UTC_SECONDS, "captured_at")
    _check_model(document["model"])
    _check_quality(document["quality"])
    check_choice(document["triage"], tuple(Outcome), "triage")
    check_number(document["score"], "score", nullable=True, low=0.0, high=1.0)
    check_number(document["threshold"], "threshold", nullable=True, low=0.0, high=1.0)
    check_text(document["calibration_id"], IDENTIFIER, "calibration_id", nullable=True)
    check_choice(document["disclaimer"], (DISCLAIMER,), "disclaimer")
    if "clock" in document:
        check_choice(document["clock"], FLAGGED_CLOCKS, "clock")
    if schema in WITH_V2_FIELDS:
        _check_v2(document)
    if schema == RESULT_V3:
        check_choice(document["review_schema"], REVIEW_SCHEMAS, "review_schema")
    _check_triage_agrees(document["triage"], document["score"], document["threshold"])


def _check_context_of(modality: str, document: Mapping[str, Any]) -> None:
    """Refuse the context field of the other modality: a fundus result's body site, or a dermoscopy
    result's eye, reached the station, which stored it with both."""
    for other, name in CONTEXT_FIELDS.items():
        if other != modality and document[name] is not None:
            raise WireError(f"{name}: only a {other} result has one, not a {modality} result")


def _check_triage_agrees(outcome: str, score: float | None, threshold: float | None) -> None:
    if outcome == Outcome.UNGRADABLE or score is None or threshold is None:
        return
    if (outcome == Outcome.REFER) != (score >= threshold):
        raise WireError(f"triage: {outcome!r} contradicts score {score} against threshold {threshold}")


def encode_result(document: dict[str, Any]) -> bytes:
    """Validate, then serialise compactly (UTF-8, not ASCII-escaped, keys sorted)."""
    validate_result(document)
    encoded = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    if len(encoded) > MAX_RESULT_BYTES:
        raise WireError(f"result: {len(encoded)} bytes, more than {MAX_RESULT_BYTES}")
    return encoded
