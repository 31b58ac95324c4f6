"""Issue 9: uneven light and underexposure of a fundus, told from the retina's own pattern and from
a darker (pigmented) fundus; too much light told from a warmer camera's white balance. The measures
on synthetic fields first (where the answer is known), then the gate on real graded photos and
their degraded copies (skipped, saying why, without ../shared/data)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import read_frame
from firmware_app.config import FundusQualityConfig
from firmware_app.quality.fundus import fundus_measures
from tests.camera_variations import VARIATIONS
from tests.conftest import shared_data
from tests.degradations import FUNDUS_DEFECTS, overexpose, underexpose
from tests.quality.conftest import judge

LIMITS = FundusQualityConfig()
SIZE = 256
FUNDUS_SOURCES = ("fundus/dr-600", "fundus/aptos2019-224")


def _synthetic_field(light: np.ndarray) -> np.ndarray:
    """A flat orange retina (a fundus's colour) on a camera's black mask, lit by ``light`` (one
    factor per pixel), with a fine speckle so that it is not a flat colour."""
    inside = np.hypot(*_field_axes(*light.shape)) < 1.0
    speckle = np.random.default_rng(3).normal(1.0, 0.03, light.shape)
    level = light * speckle * inside
    return np.clip(level[..., np.newaxis] * np.array([225.0, 110.0, 45.0]), 0, 255).astype(np.uint8)


def _field_axes(height: int = 600, width: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's offset from the field's centre, in field radii (x, y), for ``_synthetic_field``."""
    rows, cols = np.mgrid[0:height, 0:width]
    radius = 0.45 * height
    return (cols - width / 2) / radius, (rows - height / 2) / radius


def _gradient(light: np.ndarray) -> float:
    return fundus_measures(_synthetic_field(light), SIZE)["light_gradient"]


def _ramp(offset: np.ndarray) -> np.ndarray:
    """Light falling steadily from full on one side of the field to 30% on the other."""
    return np.clip(1.0 - 0.35 * (offset + 1.0), 0.0, 1.0)


def test_a_light_ramp_across_the_field_is_a_gradient():
    """A camera off the axis: the light falls from one side to the other, whichever way."""
    x, y = _field_axes()
    for ramp in (_ramp(x), _ramp(-x), _ramp(y)):
        assert _gradient(ramp) > LIMITS.max_light_gradient


def test_a_symmetric_vignette_tilts_no_side():
    """Light falling off towards the rim all round, to half at the edge: the middle is brighter
    than both sides, which is no gradient across the field."""
    x, y = _field_axes()
    assert _gradient(1.0 - 0.5 * np.minimum(x**2 + y**2, 1.0)) == pytest.approx(0.0, abs=0.01)


def test_a_bright_disc_on_one_side_is_not_a_gradient():
    """An optic disc (a seventh of the field across, twice as bright) half a radius from the centre
    on the horizontal meridian, where the bands that read the light never look."""
    x, y = _field_axes()
    disc = np.hypot(x - 0.5, y) < 1 / 7
    assert _gradient(np.where(disc, 2.0, 1.0) * 0.45) < 0.02


def test_a_dark_crescent_at_one_edge_moves_one_step_only():
    """A shadow over the outer fifth of one side (a pupil too small, a lid) is the rim's defect
    (``edge_shadow``), not light falling across the field: the middle is as lit as the other side."""
    x, _ = _field_axes()
    assert _gradient(np.where(x > 0.8, 0.3, 1.0)) < 0.02


def _shade(light: np.ndarray) -> float:
    """``disc_side_shade`` of a synthetic field with a disc (a seventh of the field across, three
    times as bright: still the brightest spot where the ramps below dim it) half a radius right of
    the centre, as a right eye's, lit by ``light``."""
    x, y = _field_axes()
    disc = np.hypot(x - 0.5, y) < 1 / 7
    return fundus_measures(_synthetic_field(np.where(disc, 3.0, 1.0) * 0.3 * light), SIZE)["disc_side_shade"]


def test_light_falling_across_the_disc_shades_its_side_an_even_dimming_does_not():
    """The disc's side darker than the other is read on the side the disc lies: a ramp from full
    light on the left to 30% on the right darkens it, the same ramp the other way and an even
    dimming (every level times 0.45) do not."""
    x, _ = _field_axes()
    assert _shade(_ramp(x)) > 0.4
    assert _shade(_ramp(-x)) == 0.0
    assert _shade(np.full(x.shape, 0.45)) == pytest.approx(0.0, abs=0.01)


def test_an_underexposed_retina_lacks_highlights_a_pigmented_one_keeps_them(retina_rgb):
    """A heavily pigmented choroid darkens green and blue (the field's mean level falls by a third)
    but its disc and its red stay near the top of the sensor's range; a clear underexposure
    (every 8-bit level times 0.25, strength 2) leaves the brightest levels a quarter of the way up."""
    pigmented = np.clip(retina_rgb * np.array([0.75, 0.5, 0.45], np.float32), 0, 255).astype(np.uint8)
    clean, dark_fundus = fundus_measures(retina_rgb, SIZE), fundus_measures(pigmented, SIZE)
    underexposed = fundus_measures(underexpose(retina_rgb, 2), SIZE)
    assert dark_fundus["brightness"] < 0.7 * clean["brightness"]
    assert dark_fundus["highlights"] > LIMITS.min_highlights
    assert underexposed["highlights"] < LIMITS.min_highlights


def test_a_warmer_white_balance_is_not_too_much_light_an_overexposure_is(gate, retina_rgb):
    """Another good camera's warmer white balance (red times 1.1, blue times 0.85) burns out the
    bundled retina's red over nearly a fifth of its field and leaves its green as it was: not too
    much light, not even a reason to tell the nurse (it was refused as too bright when the red's
    burnt-out share alone was judged). The same retina with every level times 2.2 (strength 2)
    burns out the disc in green as well: too bright."""
    warm = judge(gate, VARIATIONS["fundus"]["warmer"](retina_rgb), "fundus")
    assert warm.passed and "too_bright" not in warm.reasons, warm
    assert warm.measures["bright_fraction"] > 0.1
    assert warm.measures["overexposure"] == 0.0
    overexposed = judge(gate, overexpose(retina_rgb, 2), "fundus")
    assert overexposed.measures["overexposure"] > LIMITS.max_overexposure
    assert not overexposed.passed and "too_bright" in overexposed.reasons, overexposed


def _spread(folder: str, count: int) -> list[str]:
    """``count`` file names spread evenly over the source's label file (a fixed rule, not a choice)."""
    with (shared_data(folder) / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [rows[i]["file"] for i in np.linspace(0, len(rows) - 1, count).round().astype(int)]


def _photo(folder: str, name: str) -> Frame:
    return read_frame(shared_data(folder) / name)


@pytest.mark.parametrize("folder", FUNDUS_SOURCES)
def test_a_real_underexposure_is_too_dark(gate, folder):
    """A clear underexposure (strength 2: every 8-bit level times 0.25) of ten graded photos spread
    over each source."""
    for name in _spread(folder, 10):
        report = gate.check(Frame(underexpose(_photo(folder, name).pixels, 2), "test"), "fundus")
        assert not report.passed and "too_dark" in report.reasons, (name, report.reasons)


@pytest.mark.parametrize("folder", FUNDUS_SOURCES)
def test_real_photos_warmer_are_not_too_bright_overexposed_they_are(gate, folder):
    """Ten graded photos spread over each source: with a warmer white balance (red times 1.1, blue
    times 0.85) none is refused as too bright that was not already; with every level times 3.0
    (strength 3), nine at least are (APTOS's ffec9a18a3ce, a dim photo, burns out under 4% of its
    field even so: the red's burnt-out share alone passed it too)."""
    warmer = VARIATIONS["fundus"]["warmer"]
    too_bright = 0
    for name in _spread(folder, 10):
        pixels = _photo(folder, name).pixels
        before = gate.check(Frame(pixels, "graded"), "fundus")
        warm = gate.check(Frame(warmer(pixels), "warm"), "fundus")
        assert warm.passed or "too_bright" not in set(warm.reasons) - set(before.reasons), (name, warm)
        report = gate.check(Frame(overexpose(pixels, 3), "overexposed"), "fundus")
        too_bright += not report.passed and "too_bright" in report.reasons
    assert too_bright >= 9, too_bright


def test_a_real_light_ramp_is_uneven_illumination(gate):
    """The bench's ramp (full light on the left to 15% on the right of the frame, strength 3) on ten
    APTOS photos spread over its label file, whose field fills the frame: six at least are rejected
    as unevenly lit (seven today). On dr-600, whose field is narrower than the frame, the ramp
    inside the field is milder and most copies pass: graded photos are as unevenly lit."""
    folder = "fundus/aptos2019-224"
    degrade = FUNDUS_DEFECTS["uneven"][0]
    ramps = [Frame(degrade(_photo(folder, name).pixels, 3), "ramp") for name in _spread(folder, 10)]
    reports = [gate.check(ramp, "fundus") for ramp in ramps]
    uneven = [not r.passed and "uneven_illumination" in r.reasons for r in reports]
    assert sum(uneven) >= 6, [r.measures.get("light_gradient") for r in reports]


@pytest.mark.parametrize("folder", FUNDUS_SOURCES)
def test_the_darkest_real_fundi_are_not_too_dark_or_unevenly_lit(gate, folder):
    """The darkest third (by the field's mean level) of thirty graded photos spread over each
    source: darker fundi, none of them rejected for its light (a dim one may be ``usable`` with the
    nurse told, as any photo near a limit is)."""
    reports = [gate.check(_photo(folder, name), "fundus") for name in _spread(folder, 30)]
    darkest = sorted(reports, key=lambda report: report.measures["brightness"])[:10]
    for report in darkest:
        assert report.passed or not {"too_dark", "uneven_illumination"} & set(report.reasons), report


def _right_eyes(count: int) -> list[str]:
    """``count`` of dr-600's right eyes spread evenly over its label file (a fixed rule)."""
    with (shared_data("fundus/dr-600") / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["eye"] == "R"]
    return [rows[i]["file"] for i in np.linspace(0, len(rows) - 1, count).round().astype(int)]


def test_an_even_underexposure_of_right_eyes_is_too_dark_a_ramp_across_their_disc_is_not(gate):
    """Ten of dr-600's right eyes, whose disc lies on the right. Underexposed evenly (strength 2,
    every 8-bit level times 0.25) each is refused as too dark. The bench's ramp (full light on the
    left to 15% on the right of the frame, strength 3) darkens the disc, which ``highlights`` reads,
    to 0.42-0.48 of the sensor's range, within what another camera's graded captures read (next
    test). None is refused any more (eight were, named ``uneven_illumination``, while the limit
    was fitted at 0.46: the price of the declared limit, docs/quality-gate.md), but none passes unremarked: each
    is ``usable`` with the nurse told why (five of the uneven light, five of a dark field)."""
    degrade = FUNDUS_DEFECTS["uneven"][0]
    for name in _right_eyes(10):
        pixels = _photo("fundus/dr-600", name).pixels
        ramp = gate.check(Frame(degrade(pixels, 3), "ramp"), "fundus")
        assert ramp.passed and ramp.reasons, ramp
        assert ramp.measures["highlights"] > LIMITS.min_highlights, ramp
        report = gate.check(Frame(underexpose(pixels, 2), "dim"), "fundus")
        assert not report.passed and "too_dark" in report.reasons, report


# Every graded APTOS photo whose highlights lie under 0.4627, the limit fitted before it was declared
# (of all 3,662: `edgescreen quality --modality fundus --json` prints each photo's measures). Each
# was refused: eight as too dark, e69b48516577 as unevenly lit (its disc's side the darker).
_APTOS_DIM_CAPTURES = (
    "images/00b74780d31d.jpg",
    "images/0fb560f9adb2.jpg",
    "images/49e4b95ee2dc.jpg",
    "images/4a7dc013e802.jpg",
    "images/5b301a6d1ac7.jpg",
    "images/70d0392397de.jpg",
    "images/beb2ad14fd2d.jpg",
    "images/e1418d28d668.jpg",
    "images/e69b48516577.jpg",
)


def test_another_cameras_dim_captures_are_not_refused(gate):
    """APTOS's dimmest graded captures (highlights 0.32-0.46; five of the nine referable eyes, all
    in its darkest tertile): graded by ophthalmologists, so gradable. They pass, a dim one
    ``usable`` with the nurse told, as any photo near a limit is."""
    for name in _APTOS_DIM_CAPTURES:
        report = gate.check(_photo("fundus/aptos2019-224", name), "fundus")
        assert report.passed and report.measures["highlights"] < 0.4627, (name, report)


@pytest.mark.parametrize("folder", FUNDUS_SOURCES)
def test_graded_retinas_are_brighter_on_their_discs_side(gate, folder):
    """The anatomy ``disc_side_shade`` rests on, on thirty graded photos spread over each source
    (dr-600's of both eyes): most are no darker on their disc's side than on the other (26 of
    dr-600's, 28 of APTOS's today; the others by at most 0.11 and 0.26)."""
    shades = [gate.check(_photo(folder, name), "fundus").measures["disc_side_shade"] for name in _spread(folder, 30)]
    assert sum(shade == 0.0 for shade in shades) >= 20, shades
