"""Skin tone: ITA from CIELAB, its category, and the model card's trained-on range."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from firmware_app.inference.card import CardError, ModelCard
from firmware_app.inference.skin_tone import assess_skin_tone, ita_category, ita_degrees, training_coverage


def skin_of(lightness: float, yellowness: float, redness: float = 12.0) -> np.ndarray:
    """A 20x20 patch of 8-bit sRGB skin with the given CIELAB L* and b* (a* about as skin has)."""
    lab = np.full((20, 20, 3), (lightness, redness, yellowness), np.float32)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("lightness", "yellowness", "category"),
    [
        (72, 12, "very_light"),
        (64, 15, "light"),
        (60, 14, "intermediate"),
        (55, 18, "tan"),
        (40, 20, "brown"),
        (28, 16, "dark"),
    ],
)
def test_ita_and_category_of_known_skin_colours(lightness, yellowness, category):
    ita = ita_degrees(skin_of(lightness, yellowness))
    assert ita == pytest.approx(math.degrees(math.atan2(lightness - 50, yellowness)), abs=1.5)
    assert ita_category(ita) == category


@pytest.mark.parametrize("yellowness", [-3.0, -31.0])
def test_skin_with_no_yellow_is_a_colour_cast_not_a_tone(yellowness):
    """ITA is defined for b* > 0: a bluish cast (b* -31 on an uncalibrated dermatoscope) read as 141
    degrees, "very light", inside the model's training, and hid the warning a darker skin gets."""
    with pytest.raises(ValueError, match="colour cast"):
        ita_degrees(skin_of(70, yellowness))


def test_category_boundaries():
    assert [ita_category(a) for a in (55.1, 55, 41, 28, 10, -30, -30.1)] == [
        "very_light", "light", "intermediate", "tan", "brown", "dark", "dark",
    ]  # fmt: skip


def test_only_the_masked_skin_counts_and_a_lesion_or_hair_does_not_move_it():
    image = np.vstack([skin_of(64, 15)] * 3)  # 60x20 light skin
    image[25:35, 5:15] = (40, 25, 20)  # a dark lesion in the middle
    ring = np.ones(image.shape[:2], bool)
    ring[22:38, 2:18] = False
    assert ita_category(ita_degrees(image, ring)) == "light"
    image[:, ::7] = (10, 8, 6)  # hairs: a minority of the ring's pixels
    assert ita_category(ita_degrees(image, ring)) == "light"
    with pytest.raises(ValueError, match="too few"):
        ita_degrees(image, np.zeros(image.shape[:2], bool))


def card_with(document: dict) -> ModelCard:
    return ModelCard(
        "melanoma",
        "1",
        "t",
        "dermoscopy",
        ("a",),
        "m.tflite",
        "0" * 64,
        None,
        None,
        {},
        "x",
        document,  # type: ignore[arg-type]
    )


def test_training_coverage_from_the_model_card():
    card = card_with({"skin_tone": {"ita_categories_in_training": ["very_light", "light", "intermediate"]}})
    assert training_coverage(card, "light") == "inside"
    assert training_coverage(card, "dark") == "outside"
    assert training_coverage(card_with({}), "dark") == "unknown"
    with pytest.raises(CardError, match=r"skin_tone\.ita_categories_in_training"):
        training_coverage(card_with({"skin_tone": {"ita_categories_in_training": ["pale"]}}), "light")
    tone = assess_skin_tone(skin_of(28, 16), np.ones((20, 20), bool), card)
    assert dataclasses.astuple(tone)[1:] == ("dark", "outside") and tone.ita_degrees < -30
