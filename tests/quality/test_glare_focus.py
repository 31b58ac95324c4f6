"""A retina in focus with reflections on it is refused for the reflections alone: their glow, a
smooth ramp from the retina to white, read as blur, and the nurse was told to refocus a camera in
focus beside moving it off the reflection (``gate._CONSEQUENCES``); their white, burnt out in green
too, read as too much light, and the nurse was told to lower it. A blur the focus read away from
the glow still shows is still named, and so is too much light the field shows away from them."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.quality.guidance import guidance, instruction
from firmware_app.quality.verdict import Verdict
from tests.conftest import shared_data
from tests.degradations import defocus, glare, motion
from tests.quality.conftest import judge

RETINA = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels


@pytest.mark.parametrize("language", ["en", "fr"])
def test_reflections_on_a_retina_in_focus_are_glare_alone(gate, language):
    """The bundled retina a little soft (a defocus of radius 2 per 1000 pixels, which the gate
    judges good) with eight reflections: their glow took its sharpness under the limit."""
    soft = defocus(RETINA, 1)
    assert judge(gate, soft, "fundus").verdict is Verdict.GOOD
    report = judge(gate, glare(soft, 3), "fundus")
    assert report.measures["sharpness"] < gate.config.fundus.min_sharpness
    assert report.verdict is Verdict.REJECT and report.reasons == ("glare",), report
    assert guidance(report.reasons, "fundus", language) == [instruction("glare", "fundus", language)]


@pytest.mark.parametrize("blur", [lambda rgb: defocus(rgb, 2), lambda rgb: motion(rgb, 2)], ids=["defocused", "moved"])
def test_a_blurred_retina_with_reflections_is_still_blurred(gate, blur):
    report = judge(gate, glare(blur(RETINA), 3), "fundus")
    assert report.verdict is Verdict.REJECT and set(report.reasons) == {"glare", "blurred"}, report


_SHARP_WITH_GLARE = [
    ("dr-600", "Patient017_L.jpg"),
    ("dr-600", "Patient176_L.jpg"),
    ("dr-600", "Patient267_L.jpg"),
    ("dr-600", "Patient292_R.jpg"),
    ("aptos2019-224", "094858f005ab.jpg"),
    ("aptos2019-224", "dd3dad6ca78f.jpg"),
]


@pytest.mark.parametrize(("folder", "name"), _SHARP_WITH_GLARE)
def test_real_retinas_in_focus_with_reflections_are_not_told_to_refocus(gate, folder, name):
    """Photos that pass as they are, with the bench's eight reflections: each was told blurred
    beside glare."""
    rgb = read_frame(shared_data(f"fundus/{folder}/images/{name}")).pixels
    assert judge(gate, rgb, "fundus").passed
    report = judge(gate, glare(rgb, 3), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("glare",), report


@pytest.mark.parametrize("name", [name for folder, name in _SHARP_WITH_GLARE if folder == "dr-600"])
def test_real_retinas_defocused_with_reflections_are_still_blurred(gate, name):
    rgb = read_frame(shared_data(f"fundus/dr-600/images/{name}")).pixels
    report = judge(gate, glare(defocus(rgb, 2), 3), "fundus")
    assert report.verdict is Verdict.REJECT and set(report.reasons) == {"glare", "blurred"}, report


@pytest.mark.parametrize("language", ["en", "fr"])
def test_reflections_on_a_well_lit_retina_are_glare_not_too_much_light(gate, language):
    """The bundled retina, its red near the top but its disc not burnt out in green (the gate
    judges it good), with eight reflections: their white, burnt out in green as well, took it past
    ``max_overexposure``; away from them and their glow it is under."""
    assert judge(gate, RETINA, "fundus").verdict is Verdict.GOOD
    report = judge(gate, glare(RETINA, 3), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("glare",), report
    assert report.measures["overexposure"] > gate.config.fundus.max_overexposure
    assert report.measures["overexposure_off_glare"] <= gate.config.fundus.max_overexposure
    assert guidance(report.reasons, "fundus", language) == [instruction("glare", "fundus", language)]


def _brighter(rgb: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * factor, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("name", "factor"),
    [("Patient283_L.jpg", 1.0), ("Patient105_L.jpg", 1.3), ("Patient227_R.jpg", 1.3), ("Patient001_L.jpg", 1.6)],
)
def test_real_retinas_lit_too_much_with_reflections_are_still_too_bright(gate, name, factor):
    """dr-600 photos too bright as they are (Patient283_L) or given 1.3 and 1.6 times the light,
    with the eight reflections: the field burnt out away from them shows the light."""
    rgb = _brighter(read_frame(shared_data(f"fundus/dr-600/images/{name}")).pixels, factor)
    report = judge(gate, glare(rgb, 3), "fundus")
    assert report.verdict is Verdict.REJECT and set(report.reasons) == {"glare", "too_bright"}, report
