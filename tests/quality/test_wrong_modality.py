"""A photo of the other modality: a retina screened on a visit set to skin is refused as the wrong
modality (``quality.modality``), before any lesion rule, and no real skin photo is taken for one.
Skin screened on a visit set to eyes is ``test_fundus_gate.py``'s
(``test_a_dermatoscopes_photos_screened_as_fundus_are_refused``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.messages import message
from firmware_app.quality.gate import Speed
from firmware_app.quality.guidance import instruction
from firmware_app.quality.modality import BLUE_OVER_RED_BELOW, REASON
from firmware_app.quality.verdict import Verdict
from tests.conftest import shared_data
from tests.lesion_renderer import render_lesion
from tests.quality.conftest import judge


def _spread(folder: str, count: int) -> list[Path]:
    """``count`` photos spread evenly over the folder's sorted file names: a fixed sample."""
    everyone = sorted(shared_data(folder).glob("*.jpg"))
    return everyone[:: len(everyone) // count][:count]


def _round_field(rgb: np.ndarray) -> np.ndarray:
    """The photo seen through a round aperture as tall as the frame: the corners dark, as a fundus
    camera leaves them, and as some dermatoscopes do (ISIC UDA-1's)."""
    height, width = rgb.shape[:2]
    aperture = np.zeros((height, width), np.uint8)
    cv2.circle(aperture, (width // 2, height // 2), height // 2, 1, thickness=cv2.FILLED)
    return rgb * aperture[..., np.newaxis]


@pytest.mark.parametrize(
    ("folder", "at_least"),
    # Of 20 spread over each source (``bench/wrong_modality.py`` gives the share over 300): APTOS's
    # cameras include a cyan white balance that gives some retinas skin's blue.
    [("fundus/dr-600/images", 18), ("fundus/aptos2019-224/images", 15)],
)
@pytest.mark.parametrize("speed", list(Speed))
def test_real_retinas_screened_as_dermoscopy_are_the_wrong_modality(gate, folder, at_least, speed):
    """A visit left on "skin" with a fundus camera: the melanoma model scored retinas the dermoscopy
    gate let through (41-62% of them before), and ``quality fit --modality dermoscopy`` fitted skin's
    limits to retinas. The preview says so too, while the nurse aims."""
    reports = [judge(gate, read_frame(path).pixels, "dermoscopy", speed) for path in _spread(folder, 20)]
    wrong = [report.reasons == (REASON,) and report.verdict is Verdict.REJECT for report in reports]
    assert sum(wrong) >= at_least, [report.reasons for report in reports]


@pytest.mark.parametrize(
    "folder",
    ["dermoscopy/ham10000-200x150/images", "dermoscopy/isic-uda1-cc0/images", "dermoscopy/isic2017-cc0/images"],
)
def test_no_real_skin_photo_is_taken_for_a_retina(gate, folder):
    """A dermatoscope with a round field of its own leaves the corners dark as a fundus camera does,
    and a warm white balance lowers skin's blue: the colour's limit lies below every source's skin."""
    reasons = [judge(gate, read_frame(path).pixels, "dermoscopy").reasons for path in _spread(folder, 60)]
    assert not [found for found in reasons if REASON in found]


def test_a_retina_under_a_warmer_white_balance_is_the_wrong_modality(gate, retina_rgb):
    """scikit-image's retina (its blue 0.285 of its red, a cool camera's) with the blue a warmer
    camera's white balance gives it: refused as the wrong modality on a skin visit, and at the
    preview too; as taken, it is over the limit and judged as skin (no lesion found)."""
    warmer = retina_rgb.copy()
    warmer[:, :, 2] = (warmer[:, :, 2] * 0.8).astype(np.uint8)
    for speed in Speed:
        report = judge(gate, warmer, "dermoscopy", speed)
        assert report.verdict is Verdict.REJECT and report.reasons == (REASON,), report
        assert report.measures["blue_over_red"] < BLUE_OVER_RED_BELOW and report.measures["lit_corners"] == 0
    assert REASON not in judge(gate, retina_rgb, "dermoscopy").reasons
    assert judge(gate, warmer, "fundus").passed  # a retina on an eye visit is judged as one


@pytest.mark.parametrize(
    "skin",
    [(110, 70, 50), (135, 78, 42), (200, 150, 130)],  # ITA -41 (the darkest category), tanned brown, light
)
def test_skin_of_any_tone_in_a_round_field_is_never_taken_for_a_retina(gate, skin):
    """Melanin darkens blue most, so the darker the skin the closer its colour to a retina's: the
    darkest and the most orange skin the tests render, through a round field as dark in its corners
    as a fundus camera's, stay well above the limit."""
    photo = _round_field(render_lesion(seed=4, radius=0.15, skin=skin).rgb)
    report = judge(gate, photo, "dermoscopy")
    assert REASON not in report.reasons, report


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_nurse_is_told_to_change_the_visit_or_the_camera_not_to_retake(language):
    text = instruction(REASON, "dermoscopy", language)
    assert text == message("quality.dermoscopy.wrong_modality", language)
    assert ("retina" if language == "en" else "rétine") in text
    assert "dermatoscope" in text
