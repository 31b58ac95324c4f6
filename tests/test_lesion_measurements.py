"""The dermoscopy measurements: the lesion's diameter in mm from a scale, and the skin tone around it."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from firmware_app import lesion_measurements
from firmware_app.inference.card import read_card
from firmware_app.inference.skin_tone import (
    COLOUR_CAST,
    TOO_LITTLE_SKIN,
    SkinToneUnmeasured,
    ita_degrees,
    trained_categories,
)
from firmware_app.lesion_measurements import NO_SCALE, SCALED, feret_diameter_px, measure_lesion, perilesional_ring
from firmware_app.quality.lesion import segment_lesion
from firmware_app.report import lesion_line
from firmware_app.wording import decimal
from tests.conftest import PROJECT_ROOT
from tests.lesion_renderer import render_lesion

MELANOMA_CARD = read_card(PROJECT_ROOT / "models" / "melanoma" / "card.json")
MM_PER_PIXEL = 0.035  # a ~22 mm field on 640 pixels
DARK_SKIN = (120, 80, 60)
DARKER_PIGMENT = (50, 30, 22)
BLUISH_SKIN = (190, 190, 215)  # skin as a camera with a blue cast records it: b* below 0


@pytest.mark.parametrize(("radius", "over_6mm"), [(0.22, True), (0.09, False)])
def test_the_diameter_is_the_lesions_feret_diameter_in_mm(radius, over_6mm):
    lesion = render_lesion(640, 480, seed=3, radius=radius)
    true_mm = feret_diameter_px(lesion.mask) * MM_PER_PIXEL
    measured = measure_lesion(lesion.rgb, MM_PER_PIXEL, MELANOMA_CARD)
    print(f"radius {radius}: {measured.diameter_mm} mm measured, {true_mm:.2f} mm true")
    assert measured.scale == SCALED
    # The rendered mask runs out to where the pigment has faded to nothing; the visible border the
    # segmentation finds is a little inside it.
    assert 0.88 * true_mm <= measured.diameter_mm <= 1.03 * true_mm
    assert measured.over_6mm is over_6mm and not measured.beyond_photo


def test_the_diameter_follows_the_frames_resolution():
    """The same photo at twice the resolution, with half the mm per pixel, shows the same size."""
    small = render_lesion(640, 480, seed=5, radius=0.2).rgb
    large = cv2.resize(small, (1280, 960), interpolation=cv2.INTER_CUBIC)
    one = measure_lesion(small, MM_PER_PIXEL, MELANOMA_CARD).diameter_mm
    two = measure_lesion(large, MM_PER_PIXEL / 2, MELANOMA_CARD).diameter_mm
    assert one == pytest.approx(two, rel=0.02)


def test_without_a_scale_there_is_no_diameter_and_the_text_says_why():
    measured = measure_lesion(render_lesion(seed=1).rgb, None, MELANOMA_CARD)
    assert measured.diameter_mm is None and measured.over_6mm is None and measured.scale == NO_SCALE
    assert "no scale calibration" in lesion_line(measured, "en")
    assert "étalonnage" in lesion_line(measured, "fr")


def test_the_skin_tone_is_measured_around_the_lesion_not_on_it():
    light = measure_lesion(render_lesion(seed=2).rgb, None, MELANOMA_CARD).skin_tone
    # A darker lesion on the same skin: the ring excludes it, so the tone barely moves.
    darker_lesion = render_lesion(seed=2, pigment=DARKER_PIGMENT)
    same_skin = measure_lesion(darker_lesion.rgb, None, MELANOMA_CARD).skin_tone
    dark = measure_lesion(render_lesion(seed=2, skin=DARK_SKIN).rgb, None, MELANOMA_CARD).skin_tone
    assert light is not None and same_skin is not None and dark is not None
    print(f"ITA light {light.ita_degrees}, light with darker lesion {same_skin.ita_degrees}, dark {dark.ita_degrees}")
    assert light.category in ("very_light", "light")
    assert abs(light.ita_degrees - same_skin.ita_degrees) < 3
    assert dark.ita_degrees < light.ita_degrees - 20
    assert dark.category in ("tan", "brown", "dark")


def test_the_skin_tone_says_whether_the_model_was_trained_on_it():
    trained = trained_categories(MELANOMA_CARD)
    assert trained, "models/melanoma/card.json lists the ITA categories of its training images"
    tone = measure_lesion(render_lesion(seed=2).rgb, None, MELANOMA_CARD).skin_tone
    assert tone is not None
    assert tone.training_coverage == ("inside" if tone.category in trained else "outside")
    without_field = dataclasses.replace(MELANOMA_CARD, document={"id": "melanoma"})
    assert measure_lesion(render_lesion(seed=2).rgb, None, without_field).skin_tone.training_coverage == "unknown"


def test_a_skin_tone_not_measured_for_a_colour_cast_says_so_not_that_too_little_skin_shows():
    """An uncalibrated camera's bluish cast (most of ISIC UDA-1's photos read a skin b* of 0 or less)
    leaves plenty of skin around the lesion: the nurse is told of the colour, which calibration fixes,
    not told that too little skin shows, which she would try to fix by framing."""
    bluish = measure_lesion(render_lesion(seed=2, skin=BLUISH_SKIN).rgb, None, MELANOMA_CARD)
    assert bluish.skin_tone is None and bluish.skin_tone_unmeasured == COLOUR_CAST
    assert "colour cast" in lesion_line(bluish, "en") and "too little skin" not in lesion_line(bluish, "en")
    assert "dominante de couleur" in lesion_line(bluish, "fr")
    with pytest.raises(SkinToneUnmeasured) as too_few:  # a ring of a few pixels
        ita_degrees(np.full((4, 4, 3), 200, np.uint8))
    assert too_few.value.reason == TOO_LITTLE_SKIN
    filling = dataclasses.replace(bluish, skin_tone_unmeasured=too_few.value.reason)
    assert "too little skin around the lesion" in lesion_line(filling, "en")
    assert "trop peu de peau" in lesion_line(filling, "fr")
    assert measure_lesion(render_lesion(seed=2).rgb, None, MELANOMA_CARD).skin_tone_unmeasured is None


def test_a_lesion_larger_than_6mm_is_flagged_in_the_text():
    measured = measure_lesion(render_lesion(seed=3, radius=0.22).rgb, MM_PER_PIXEL, MELANOMA_CARD)
    assert "Larger than 6 mm" in lesion_line(measured, "en")


@pytest.mark.parametrize(("radius", "over_6mm"), [(0.3, True), (0.12, None)])
def test_a_lesion_running_off_the_photo_has_a_diameter_of_at_least_its_visible_part(radius, over_6mm):
    """Over 6 mm is known once the visible part is; under it, the rest might not be."""
    lesion = render_lesion(640, 480, seed=3, radius=radius, centre=(0.97, 0.5))
    measured = measure_lesion(lesion.rgb, MM_PER_PIXEL, MELANOMA_CARD)
    whole = render_lesion(640, 480, seed=3, radius=radius)
    assert measured.beyond_photo and measured.whole_diameter_mm is None
    assert measured.diameter_mm < feret_diameter_px(whole.mask) * MM_PER_PIXEL
    assert measured.over_6mm is over_6mm
    assert f"at least {measured.diameter_mm:.1f} mm" in lesion_line(measured, "en")
    assert f"d'au moins {decimal(measured.diameter_mm, 'fr')} mm" in lesion_line(measured, "fr")


def test_the_ring_is_read_off_each_pixels_distance_to_the_whole_lesion():
    """The distances computed on the lesion's grown box are the whole photo's: the same ring for a
    lesion in the middle, one running off an edge and one filling the frame."""
    for radius, centre in ((0.15, (0.5, 0.5)), (0.3, (0.85, 0.5)), (0.6, (0.5, 0.5))):
        segmentation = segment_lesion(render_lesion(seed=4, radius=radius, centre=centre).rgb)
        lesion, field = segmentation.mask, segmentation.field
        size = np.sqrt(4 * np.count_nonzero(lesion) / np.pi)
        gap = max(lesion_measurements._MIN_GAP_PX, round(lesion_measurements._RING_GAP * size))
        outer = gap + max(lesion_measurements._MIN_WIDTH_PX, round(lesion_measurements._RING_WIDTH * size))
        distance = cv2.distanceTransform((~lesion).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        expected = (distance > gap) & (distance <= outer) & field
        assert expected.any()
        np.testing.assert_array_equal(perilesional_ring(lesion, field), expected)
