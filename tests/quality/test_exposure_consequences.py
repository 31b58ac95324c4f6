"""A frame badly over- or under-exposed is refused for its light alone: what else the measures read
on it (no edges to be sharp, no outline to find, burnt-out white read as reflections) follows from
the light, and the nurse is told the one fix (``gate._CONSEQUENCES``). A blur the measures tell apart
from the light is still named."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.quality.guidance import guidance, instruction
from firmware_app.quality.verdict import Verdict
from tests.conftest import shared_data
from tests.degradations import motion, overexpose, underexpose
from tests.lesion_renderer import render_lesion
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


def _dimmed(rgb: np.ndarray, light: float) -> np.ndarray:
    return np.clip(rgb * light, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("light", [0.05, 0.02])
def test_a_retina_too_dark_for_its_field_to_be_found_is_too_dark(gate, light, language):
    """The bundled retina at a twentieth and a fiftieth of its light: its field, a few levels above
    the sensor's black, is too dim for the locator, and the nurse was told no retina was in view
    (aim the camera) where the fix is the light."""
    report = judge(gate, _dimmed(_sample(RETINA), light), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("too_dark",), report
    assert guidance(report.reasons, "fundus", language) == [instruction("too_dark", "fundus", language)]


@pytest.mark.parametrize(
    ("folder", "name"),
    [("dr-600", "Patient242_R.jpg"), ("aptos2019-224", "aa60813e1a8d.jpg"), ("aptos2019-224", "dd3dad6ca78f.jpg")],
)
def test_real_retinas_darkest_copies_are_too_dark_not_no_retina(gate, folder, name):
    """The bench's underexposed copies (every level times 0.12) whose field the locator does not
    find: each was refused as showing no retina."""
    rgb = read_frame(shared_data(f"fundus/{folder}/images/{name}")).pixels
    report = judge(gate, underexpose(rgb, 3), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("too_dark",), report


def _capped(level: np.ndarray) -> np.ndarray:
    """A capped lens: ``level`` (rows x columns) on every channel, with a sensor's noise."""
    noisy = level[..., np.newaxis] + np.random.default_rng(0).normal(0.0, 1.5, (*level.shape, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


_ROWS, _COLUMNS = np.mgrid[0:480, 0:640].astype(np.float32)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((480, 640, 3), np.uint8),
        _capped(np.full((480, 640), 4.0)),
        _capped(2.0 + 6.0 * _COLUMNS / 640),
        _capped(3.0 + 10.0 * np.exp(-((_COLUMNS - 600) ** 2 + (_ROWS - 40) ** 2) / (2 * 80.0**2))),
        _capped(3.0 + 10.0 * np.exp(-((_COLUMNS - 320) ** 2 + (_ROWS - 240) ** 2) / (2 * 120.0**2))),
    ],
    ids=["black", "sensor-noise", "light-leaking-across", "glow-in-a-corner", "glow-in-the-middle"],
)
def test_a_capped_lens_still_shows_no_retina(gate, frame):
    """Raised to the sensor's top, a capped lens's noise fills the frame and light leaking onto it
    fades into the black with no aperture's edge: no retina, not a dark one."""
    report = judge(gate, frame, "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("no_field_of_view",), report


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("spots", [6, 8])
def test_glare_spots_on_a_lesion_are_glare_not_too_much_light(gate, spots, language):
    """Glare spots burn out the part of the lesion under them past ``max_bright_fraction``, and the
    nurse was told "lower the light" beside glare's own fix, with the skin's level as it was."""
    report = judge(gate, render_lesion(seed=7, glare_spots=spots).rgb, "dermoscopy")
    assert report.measures["bright_fraction"] > gate.config.dermoscopy.max_bright_fraction
    assert report.verdict is Verdict.REJECT and report.reasons == ("glare",), report
    assert guidance(report.reasons, "dermoscopy", language) == [instruction("glare", "dermoscopy", language)]
