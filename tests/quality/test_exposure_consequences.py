"""A frame badly over- or under-exposed is refused for its light alone: what else the measures read
on it (no edges to be sharp, no outline to find, burnt-out white read as reflections) follows from
the light, and the nurse is told the one fix (``gate._CONSEQUENCES``). A blur the measures tell apart
from the light is still named."""

from __future__ import annotations

import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.quality.guidance import guidance, instruction
from firmware_app.quality.verdict import Verdict
from tests.conftest import shared_data
from tests.degradations import motion, overexpose, underexpose
from tests.quality.conftest import judge

RETINA, NAEVUS = "fundus-retina.jpg", "dermoscopy-synthetic-naevus.jpg"


def _sample(name: str):
    return read_frame(SAMPLES_DIR / name).pixels


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    ("sample", "modality", "exposed", "reason"),
    [
        # Read before as glare and no optic disc: the field burnt out white.
        (RETINA, "fundus", lambda rgb: overexpose(rgb, 3), "too_bright"),
        # Read before as no lesion and a lesion too small: its outline sunk into the dark.
        (NAEVUS, "dermoscopy", lambda rgb: underexpose(rgb, 2), "too_dark"),
        # A hand that moved, then a quarter of the light: read before as blurred, which the
        # retina's green, left at the 8-bit rounding, cannot tell from a sharp retina as dark.
        (RETINA, "fundus", lambda rgb: underexpose(motion(rgb, 2), 2), "too_dark"),
    ],
    ids=["retina-burnt-out", "naevus-dark", "moved-retina-dark"],
)
def test_a_badly_exposed_sample_is_refused_for_its_light_alone(gate, sample, modality, exposed, reason, language):
    report = judge(gate, exposed(_sample(sample)), modality)
    assert report.verdict is Verdict.REJECT and report.reasons == (reason,), report
    assert guidance(report.reasons, modality, language) == [instruction(reason, modality, language)]


@pytest.mark.parametrize(
    ("sample", "modality", "exposed", "reason"),
    [
        # Too much light: focus is read on what it left, and a sharp retina so lit reads sharp.
        (RETINA, "fundus", lambda rgb: overexpose(motion(rgb, 2), 3), "too_bright"),
        # A lesion's detail stands above the rounding however dim: its focus is read as it is.
        (NAEVUS, "dermoscopy", lambda rgb: underexpose(motion(rgb, 2), 2), "too_dark"),
    ],
    ids=["moved-retina-burnt-out", "moved-naevus-dark"],
)
def test_a_blur_told_apart_from_the_light_is_still_named(gate, sample, modality, exposed, reason):
    report = judge(gate, exposed(_sample(sample)), modality)
    assert report.verdict is Verdict.REJECT and set(report.reasons) == {reason, "blurred"}, report


@pytest.mark.parametrize("name", ["Patient017_L.jpg", "Patient091_R.jpg", "Patient176_L.jpg", "Patient267_L.jpg"])
def test_sharp_real_retinas_darkened_are_not_told_to_refocus(gate, name):
    """dr-600 photos that pass as they are, every level times 0.25: each was told blurred beside too
    dark, and the nurse to refocus a camera in focus."""
    rgb = read_frame(shared_data(f"fundus/dr-600/images/{name}")).pixels
    assert judge(gate, rgb, "fundus").passed
    report = judge(gate, underexpose(rgb, 2), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("too_dark",), report
