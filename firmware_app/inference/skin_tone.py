"""Skin tone as the Individual Typology Angle (ITA), and whether a model was trained on such skin.

Dermoscopy models are known to be less reliable on darker skin, and most public training sets are
mostly light skin; so each dermoscopy result states the surrounding skin's tone and whether the
model's card says it was trained on that tone. ITA = arctan((L* - 50) / b*) in degrees, from CIELAB of
calibrated colour (Chardon, Cretois & Hourseau 1991, Int J Cosmet Sci 13:191-208), with the six
categories of Del Bino et al. 2006 (Br J Dermatol 155:1190-1197 / Pigment Cell Res 19:606-614). It is
defined for skin, whose b* is positive (yellow): skin read with a b* of 0 or less is a colour cast
(an uncalibrated camera, a bluish light), whose angle, past 90 degrees, landed in "very light".

It is measured on the skin pixels the caller selects (e.g. a ring around the lesion), as the median
L* and b*, so that hairs, specular glints and the odd lesion pixel do not move it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from firmware_app.colour import srgb8_to_lab_planes
from firmware_app.inference.card import CardError, ModelCard
from firmware_app.quality.measures import middle_value

# Lower bounds (exclusive) of each category, from the lightest; "dark" takes everything below -30.
ITA_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("very_light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -math.inf),
)
CATEGORY_NAMES = tuple(name for name, _ in ITA_CATEGORIES)
# The model card field listing the ITA categories present in the model's training data.
CARD_FIELD = ("skin_tone", "ita_categories_in_training")
MIN_SKIN_PIXELS = 50
# Why a skin tone could not be measured (``SkinToneUnmeasured.reason``): the nurse is told which,
# since only the first is about the photo's framing and only the second is fixed by calibration.
TOO_LITTLE_SKIN, COLOUR_CAST = "too_little_skin", "colour_cast"


class SkinToneUnmeasured(ValueError):
    """The skin's tone cannot be read from these pixels; ``reason`` says why (``TOO_LITTLE_SKIN``,
    ``COLOUR_CAST``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class SkinTone:
    ita_degrees: float
    category: str
    # "inside" / "outside" what the model's card says it was trained on; "unknown" if it does not say.
    training_coverage: str


def ita_degrees(rgb: np.ndarray, skin_mask: np.ndarray | None = None) -> float:
    """ITA of the skin pixels: ``rgb`` is (H, W, 3) uint8 with a boolean (H, W) mask, or (N, 3) pixels."""
    pixels = rgb.reshape(-1, 3)
    if skin_mask is not None:
        # Whole pixels picked by the flattened mask: several times faster than numpy's 2-D mask
        # indexing of a 3-channel image, for the same pixels in the same order.
        pixels = np.compress(skin_mask.ravel(), pixels, axis=0)
    if len(pixels) < MIN_SKIN_PIXELS:
        too_few = f"{len(pixels)} skin pixels are too few to measure the skin tone (need {MIN_SKIN_PIXELS})"
        raise SkinToneUnmeasured(TOO_LITTLE_SKIN, too_few)
    # ITA reads L* and b*: a*'s median, a partition of every skin pixel, would go unused.
    lightness_plane, _, yellowness_plane = srgb8_to_lab_planes(pixels)
    lightness, yellowness = middle_value(lightness_plane), middle_value(yellowness_plane)
    if yellowness <= 0:
        cast = f"the skin reads b* {yellowness:.1f}, not yellow at all: a colour cast, not a skin tone"
        raise SkinToneUnmeasured(COLOUR_CAST, cast)
    return math.degrees(math.atan((lightness - 50.0) / yellowness))


def ita_category(ita: float) -> str:
    """very_light > 55 >= light > 41 >= intermediate > 28 >= tan > 10 >= brown > -30 >= dark."""
    return next(name for name, lower in ITA_CATEGORIES if ita > lower)


def trained_categories(card: ModelCard) -> tuple[str, ...] | None:
    """The card's ``skin_tone.ita_categories_in_training``; ``None`` when the card does not say."""
    section = card.document.get(CARD_FIELD[0])
    if section is None or CARD_FIELD[1] not in section:
        return None
    categories = section[CARD_FIELD[1]]
    if not isinstance(categories, list) or not all(c in CATEGORY_NAMES for c in categories):
        raise CardError(f"model {card.id}: field '{'.'.join(CARD_FIELD)}' must be a list of {list(CATEGORY_NAMES)}")
    return tuple(categories)


def training_coverage(card: ModelCard, category: str) -> str:
    trained = trained_categories(card)
    if trained is None:
        return "unknown"
    return "inside" if category in trained else "outside"


def assess_skin_tone(rgb: np.ndarray, skin_mask: np.ndarray, card: ModelCard) -> SkinTone:
    """ITA, its category, and whether ``card``'s model was trained on that category."""
    ita = ita_degrees(rgb, skin_mask)
    category = ita_category(ita)
    return SkinTone(round(ita, 1), category, training_coverage(card, category))
