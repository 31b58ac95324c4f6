"""Choosing a frame from a burst, and the nurse's instructions for every reason a gate can give."""

from __future__ import annotations

import dataclasses

import pytest

from firmware_app.messages import CATALOGUE, message
from firmware_app.quality.burst import best_frame
from firmware_app.quality.gate import RULES
from firmware_app.quality.guidance import guidance, instruction, way_out
from firmware_app.quality.verdict import QualityReport, Verdict, rejected
from firmware_app.report import quality_line
from tests.degradations import defocus, underexpose
from tests.lesion_renderer import render_lesion
from tests.quality.conftest import judge

# Reasons given before any measure (see gate.py, fundus.py, modality.py), by the gate that gives them.
HARD_REASONS = {
    "fundus": ("greyscale", "red_free", "image_too_small", "no_field_of_view"),
    "dermoscopy": ("greyscale", "red_free", "image_too_small", "no_field_of_view", "wrong_modality"),
}


def test_the_best_passing_frame_of_a_burst_is_chosen(gate, retina_rgb):
    burst = [defocus(retina_rgb, 3), underexpose(retina_rgb, 2), retina_rgb, defocus(retina_rgb, 1)]
    choice = best_frame([judge(gate, frame, "fundus") for frame in burst])
    assert choice.passed and choice.index == 2 and choice.kept == 2


def test_a_burst_with_no_passing_frame_names_the_most_common_defect(gate, retina_rgb):
    burst = [defocus(retina_rgb, 3), underexpose(retina_rgb, 3), defocus(retina_rgb, 3)]
    choice = best_frame([judge(gate, frame, "fundus") for frame in burst])
    assert not choice.passed
    assert choice.common_defect == "blurred"
    assert choice.kept == 0  # the first frame is the one the record keeps


def test_an_empty_burst_has_no_choice():
    choice = best_frame([])
    assert not choice.passed and choice.common_defect is None


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("modality", sorted(RULES))
def test_every_reason_has_an_instruction_in_each_language(modality, language):
    reasons = {rule.reason for rule in RULES[modality]} | set(HARD_REASONS[modality])
    for reason in reasons:
        key = f"quality.{modality}.{reason}"
        texts = CATALOGUE[key] if key in CATALOGUE else CATALOGUE[f"quality.{reason}"]
        assert texts[language].strip(), reason


def test_glare_advice_differs_by_modality():
    assert "immersion" in instruction("glare", "dermoscopy", "en")
    assert "immersion" not in instruction("glare", "fundus", "en")


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("reason", ["uneven_illumination", "lesion_off_centre", "no_lesion"])
def test_a_refused_lesion_the_gate_may_not_find_whole_is_told_when_to_stop_retaking(reason, language):
    """On ISIC UDA-1 the gate refuses 6 of 159 melanomas, and none of 396 naevi, for these reasons:
    large lesions filling the view, found in part (light 'uneven', lesion 'off centre'), or faint
    ones not found. No retake fixes them: the nurse is told when to record the photo as not
    gradable (the check screen's button), and only then."""
    ungradable = message("check.use_ungradable", language).split()[-1].lower()  # gradable / ininterprétable
    assert ungradable in way_out(rejected("dermoscopy", reason), language).lower()
    assert way_out(rejected("fundus", reason), language) is None
    assert way_out(dataclasses.replace(rejected("dermoscopy", reason), verdict=Verdict.USABLE), language) is None
    assert way_out(rejected("dermoscopy", "blurred"), language) is None  # a retake fixes that


@pytest.mark.parametrize("language", ["en", "fr"])
def test_very_dark_skin_refused_as_too_dark_is_told_when_to_stop_retaking(gate, language):
    """Rendered skin of ITA -41 (Del Bino's darkest category) at a calibrated level is refused as too
    dark: its paler part stays under the limit however well lit, and no source here holds real
    photos of such skin to set it by. The advice says so, and when to stop retaking."""
    dark = render_lesion(seed=3, radius=0.2, skin=(110, 70, 50), pigment=(50, 32, 22)).rgb
    report = judge(gate, dark, "dermoscopy")
    assert report.reasons == ("too_dark",) and not report.passed
    ungradable = message("check.use_ungradable", language).split()[-1].lower()  # gradable / ininterprétable
    assert ungradable in guidance(report.reasons, "dermoscopy", language)[0].lower()
    assert ungradable not in instruction("too_dark", "fundus", language).lower()


def test_guidance_follows_the_reasons_order_in_french():
    assert guidance(["blurred", "too_bright"], "fundus", "fr") == [
        message("quality.blurred", "fr"),
        message("quality.too_bright", "fr"),
    ]


@pytest.mark.parametrize(("language", "dim_the_room"), [("en", "dim the room"), ("fr", "baissez la lumière")])
def test_a_dark_retina_sends_the_nurse_to_dim_the_room_not_to_light_it(gate, retina_rgb, language, dim_the_room):
    """An underexposed fundus is refused as too dark: the nurse cannot set the camera's light, and
    "check the light" had her light the room, which narrows the pupil and darkens the next photo."""
    report = judge(gate, underexpose(retina_rgb, 2), "fundus")
    assert report.reasons == ("too_dark",) and not report.passed
    (said,) = guidance(report.reasons, "fundus", language)
    assert dim_the_room in said and "pupil" in said
    assert said != instruction("too_dark", "dermoscopy", language)  # the skin's light is the nurse's to check


def test_french_punctuation_is_never_left_to_start_a_line():
    """French sets ``:`` ``;`` ``?`` ``!`` apart with a space: a space that never breaks, or on the
    800x480 screen a line began with ": baissez la lumière"."""
    for key in CATALOGUE:
        text = message(key, "fr")
        assert not any(f" {mark}" in text for mark in ":;?!"), (key, text)
    assert "éclairé\u00a0: baissez" in message("quality.field_too_small", "fr")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_lesion_cut_at_the_edge_is_told_to_slide_the_dermatoscope_once(language):
    """A lesion running out of the picture lies off the middle too: one cause, one instruction (the
    slide, which centres it), where the worst of the two stands; off the middle alone, centre it."""
    slide, centre, blurred = (
        message(f"quality.{reason}", language) for reason in ("lesion_cut", "lesion_off_centre", "blurred")
    )
    reasons = ("lesion_off_centre", "blurred", "lesion_cut")
    assert guidance(reasons, "dermoscopy", language) == [slide, blurred]
    assert guidance(("lesion_off_centre", "blurred"), "dermoscopy", language) == [centre, blurred]
    line = quality_line(QualityReport("dermoscopy", Verdict.REJECT, reasons), language)
    assert f"[lesion_cut] {slide}" in line and centre not in line
