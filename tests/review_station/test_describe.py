"""The result page's plain words: the operating point comes from the station's copy of the model card."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
from skimage import data

from edgescreen_wire.result import RESULT_V2
from firmware_app.capture.frame import Frame
from firmware_app.config import QualityConfig
from firmware_app.inference.card import read_card
from firmware_app.messages import CATALOGUE as MESSAGES
from firmware_app.quality.gate import RULES, QualityGate
from review_station import words
from review_station.dating import ARRIVAL, CAPTURE
from review_station.web.describe import describe
from tests.conftest import MODELS_DIR
from tests.lesion_renderer import render_lesion
from tests.review_station.kit import result_bytes


def received() -> datetime:
    """A result's arrival at the station, a minute after the test makes it: taken when the test runs,
    not when the module is collected (a long run can start this file's tests many minutes later, and
    a capture more than 5 minutes after its arrival is impossible)."""
    return datetime.now(UTC) + timedelta(minutes=1)


def test_a_known_model_shows_its_operating_point_measures_and_an_unknown_one_says_so() -> None:
    card = read_card(MODELS_DIR / "dr-referable" / "card.json")
    point = card.operating_point(None)
    model = {"id": card.id, "version": card.version, "sha256": card.sha256}
    quality = {"verdict": "usable", "reasons": ["uneven_illumination"], "measures": {"sharpness": 0.81234}}
    _, raw = result_bytes(
        "cam-01", "site-a", payload={"model": model, "threshold": point.threshold, "quality": quality}
    )
    rows = dict(describe(json.loads(raw), MODELS_DIR, received(), CAPTURE))
    assert rows["Operating point"].startswith("screening (high sensitivity):") and point.name == "screening"
    assert rows["  sensitivity"].startswith(f"{point.sensitivity.value:.1%} (95% CI {point.sensitivity.ci95[0]:.1%}")
    assert rows["  specificity"].startswith(f"{point.specificity.value:.1%}")
    assert rows["  defect"] == "uneven illumination" and rows["  sharpness"] == "0.812"
    assert rows["Image quality"].startswith("Image quality: usable") or "usable" in rows["Image quality"]
    other = json.loads(raw) | {"model": model | {"version": "9.9.9"}}
    assert "unknown to this station" in dict(describe(other, MODELS_DIR, received(), CAPTURE))["Operating point"]


def test_a_v2_dermoscopy_result_shows_its_lesion_skin_tone_and_reference_quality() -> None:
    quality = {"verdict": "reject", "reasons": ["blur"], "measures": {}}
    derm = {"modality": "dermoscopy", "eye": None, "body_site": "trunk", "quality": quality}
    v2 = derm | {"lesion_diameter_mm": 6.5, "skin_tone": "tan", "quality_reference": "usable"}
    _, raw = result_bytes("cam-01", "site-a", schema=RESULT_V2, payload=v2)
    rows = dict(describe(json.loads(raw), MODELS_DIR, received(), CAPTURE))
    assert rows["Lesion diameter"] == "6.5 mm (to 0.5 mm)" and rows["Skin tone"] == "tan"
    assert "usable" in rows["Image quality on the shipped limits"]
    assert rows["Operating point"].startswith("screening (high sensitivity), unknown to this station")
    _, v1 = result_bytes("cam-01", "site-a", payload=derm)
    assert "Skin tone" not in dict(describe(json.loads(v1), MODELS_DIR, received(), CAPTURE))


def test_a_dermoscopy_result_without_a_diameter_says_why_as_far_as_the_payload_tells() -> None:
    """Null means no scale, a rejected photo, or a lesion running off the photo (its diameter then a
    lower bound the device does not send): never simply "not measured", as if it were small."""
    good = {"verdict": "good", "reasons": [], "measures": {}}
    graded = {"modality": "dermoscopy", "eye": None, "body_site": "trunk", "lesion_diameter_mm": None}
    rejected = {"verdict": "reject", "reasons": ["blurred"], "measures": {}}
    rows = {}
    for name, changes in (
        ("rejected", {"triage": "ungradable", "quality": rejected, "quality_reference": "reject"}),
        ("uncalibrated", {"calibration_id": None}),
        ("calibrated", {"calibration_id": "SN-1-20261203-d20b986c"}),
    ):
        v2 = graded | {"skin_tone": None, "quality": good, "quality_reference": "good"} | changes
        _, raw = result_bytes("cam-01", "site-a", schema=RESULT_V2, payload=v2)
        rows[name] = dict(describe(json.loads(raw), MODELS_DIR, received(), CAPTURE))["Lesion diameter"]
    assert rows["rejected"] == "not measured (the photo could not be graded)"
    refused = graded | {"skin_tone": None, "triage": "ungradable", "quality": rejected, "quality_reference": "reject"}
    _, raw = result_bytes("cam-01", "site-a", schema=RESULT_V2, payload=refused)
    quality = dict(describe(json.loads(raw), MODELS_DIR, received(), CAPTURE))
    assert quality["Image quality"] == "not gradable: the device's quality gate refused the photo"  # no "retake"
    assert quality["Image quality on the shipped limits"] == quality["Image quality"]
    assert rows["uncalibrated"] == "not measured: the device is not calibrated, so it has no scale"
    assert "runs off the photo" in rows["calibrated"] and "over 6 mm" in rows["calibrated"]


def test_a_capture_time_the_device_could_not_vouch_for_says_so() -> None:
    _, raw = result_bytes("cam-01", "site-a", payload={"captured_at": "1970-01-01T00:02:00Z", "clock": "before_build"})
    captured = dict(describe(json.loads(raw), MODELS_DIR, received(), ARRIVAL))["Captured"]
    assert captured.startswith("1970-01-01 00:02:00 UTC") and "the capture time is unknown" in captured
    _, raw = result_bytes("cam-01", "site-a", payload={"clock": "unsynchronised"})
    assert "this time may be off" in dict(describe(json.loads(raw), MODELS_DIR, received(), ARRIVAL))["Captured"]
    _, raw = result_bytes("cam-01", "site-a")
    rows = dict(describe(json.loads(raw), MODELS_DIR, received(), CAPTURE))
    assert rows["Captured"].endswith(" UTC")  # a clock in step: no word
    assert rows["Dated by the station"].endswith("the device's capture time")


def test_a_capture_time_after_the_arrival_is_impossible_and_not_used() -> None:
    _, raw = result_bytes("cam-01", "site-a", payload={"captured_at": "2026-12-04T10:00:00Z"})
    rows = dict(describe(json.loads(raw), MODELS_DIR, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), ARRIVAL))
    assert rows["Captured"] == "2026-12-04 10:00:00 UTC (impossible: 2 days after this result reached the station)"
    assert rows["Dated by the station"] == "2026-12-02 09:00:00 UTC, its arrival here: the device's time is not used"


def test_a_capture_time_before_the_project_without_a_flag_is_impossible_and_not_used() -> None:
    _, raw = result_bytes("cam-01", "site-a", payload={"captured_at": "1970-01-01T00:02:00Z"})
    rows = dict(describe(json.loads(raw), MODELS_DIR, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), ARRIVAL))
    assert rows["Captured"] == "1970-01-01 00:02:00 UTC (impossible: earlier than EdgeScreen's first day (2026-11-29))"
    assert rows["Dated by the station"] == "2026-12-02 09:00:00 UTC, its arrival here: the device's time is not used"


def test_the_body_site_and_the_quality_defects_are_in_the_readers_language() -> None:
    """A French page said "Site corporel : upper limb" and "défaut : too dark": codes, in English."""
    quality = {"verdict": "reject", "reasons": ["too_dark", "lesion_cut"], "measures": {}}
    derm = {"modality": "dermoscopy", "eye": None, "body_site": "upper_limb", "quality": quality}
    _, raw = result_bytes("cam-01", "site-a", payload=derm)
    rows = describe(json.loads(raw), MODELS_DIR, received(), CAPTURE, "fr")
    assert dict(rows)["Site corporel"] == "membre supérieur"
    assert [value for label, value in rows if label == "  défaut"] == [
        "trop sombre",
        "lésion coupée par le bord de la photo",
    ]


def test_every_defect_the_device_words_for_the_nurse_is_worded_for_the_specialist() -> None:
    """The device has an instruction for each reason its gates give (``quality.<reason>``, or a
    modality's own ``quality.<modality>.<reason>``); a reason the station has no word for would show as
    its English code on a French page."""
    words_for_nurse = {key.split(".")[-1] for key in MESSAGES if key.startswith("quality.")}
    reasons = words_for_nurse - {"good", "usable", "reject", "none_passed", "not_found_whole"}
    assert len(reasons) >= 24
    assert sorted(reason for reason in reasons if f"defect.{reason}" not in words.CATALOGUE) == []


def test_the_quality_measures_and_the_operating_point_are_in_the_readers_language() -> None:
    """A French page said "Point de fonctionnement : screening : ..." and "sharpness", "illumination cv":
    the codes, in English."""
    card = read_card(MODELS_DIR / "dr-referable" / "card.json")
    model = {"id": card.id, "version": card.version, "sha256": card.sha256}
    quality = {"verdict": "usable", "reasons": [], "measures": {"sharpness": 0.81234, "unevenness": 0.2}}
    payload = {"model": model, "threshold": card.operating_point("screening").threshold, "quality": quality}
    _, raw = result_bytes("cam-01", "site-a", payload=payload)
    rows = dict(describe(json.loads(raw), MODELS_DIR, received(), CAPTURE, "fr"))
    assert rows["Point de fonctionnement"].startswith("dépistage (haute sensibilité)\u00a0: sur le jeu de test")
    assert rows["  netteté"] == "0,812" and rows["  inégalité d'éclairage"] == "0,2"
    unknown = json.loads(raw) | {"model": model | {"version": "9.9.9"}, "operating_point": "balanced"}
    assert dict(describe(unknown, MODELS_DIR, received(), CAPTURE, "fr"))["Point de fonctionnement"].startswith(
        "équilibré, inconnu de cette station"
    )


def _measures_the_device_sends() -> set[str]:
    """What the device's own gate measures: on a real retina (fundus), a rendered lesion (dermoscopy)
    and a grey photo (refused for its colour, with its colour measures), and every measure a rule
    judges (one photo carries only one of dermoscopy's kinds of focus)."""
    gate = QualityGate(QualityConfig())
    retina = data.retina()
    frames = (
        (retina, "fundus"),
        (render_lesion().rgb, "dermoscopy"),
        (np.repeat(retina[:, :, :1], 3, axis=2), "fundus"),
    )
    measured = {name for rgb, modality in frames for name in gate.check(Frame(rgb, "test"), modality).measures}
    return measured | {rule.measure for rules in RULES.values() for rule in rules}


def test_every_measure_operating_point_and_body_site_of_the_device_is_worded_for_the_specialist() -> None:
    """A measure, an operating point (a committed model card's) or a body site (one the nurse can choose)
    the station has no word for would show as its English code on a French page."""
    measures = _measures_the_device_sends()
    points = {name for card in MODELS_DIR.glob("*/card.json") for name in read_card(card).operating_points}
    sites = {key.removeprefix("body_site.") for key in MESSAGES if key.startswith("body_site.")}
    assert len(measures) >= 35 and points >= {"screening", "balanced"} and len(sites) >= 7
    worded = {f"measure.{name}" for name in measures} | {f"point.{name}" for name in points}
    worded |= {f"body_site.{site}" for site in sites}
    assert sorted(key for key in worded if key not in words.CATALOGUE) == []
