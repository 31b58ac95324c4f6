"""Flat field: a known vignetting, applied to a real fundus photo, is measured and undone."""

from __future__ import annotations

import re

import numpy as np
import pytest

from firmware_app.calibration.apply import correct_pixels
from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.flat_field import flat_field_gains, measure_flat_field
from firmware_app.calibration.profile import CalibrationProfile
from tests.calibration.render import photographed_chart, through_vignetting, uniform_target_frames, vignetting


@pytest.fixture(scope="module")
def flat(retina_rgb):
    height, width = retina_rgb.shape[:2]
    return measure_flat_field(uniform_target_frames(height, width, count=4))


def test_the_recovered_gains_undo_the_known_vignetting(flat, retina_rgb):
    height, width = retina_rgb.shape[:2]
    truth = vignetting(height, width)
    restored = truth * flat_field_gains(flat, width, height)
    # Gains x fall-off is the same everywhere: within 1.5% of its mean (falls to 50% at the corners).
    relative = restored / restored.mean(axis=(0, 1))
    assert np.abs(relative - 1).max() < 0.015
    assert flat.frames == 4 and flat.residual_nonuniformity < 0.01


def test_a_real_fundus_through_the_vignetting_comes_back(flat, retina_rgb):
    vignetted = through_vignetting(retina_rgb)
    corrected = correct_pixels(CalibrationProfile("sim", "sim-1", "test", "", "", flat_field=flat), vignetted)
    field = retina_rgb.max(axis=2) > 30  # the retina, not the black surround
    before = np.abs(vignetted.astype(float) - retina_rgb)[field].mean()
    after = np.abs(corrected.astype(float) - retina_rgb)[field].mean()
    print(f"mean absolute error in the retina: vignetted {before:.2f}, corrected {after:.2f} grey levels")
    assert before > 5  # the fall-off is plainly visible...
    assert after < 1.0  # ...and is gone to within about one grey level on average


def test_bad_targets_are_refused_with_a_reason(retina_rgb):
    frames = uniform_target_frames(240, 320, count=3)
    with pytest.raises(TargetNotFound, match="overexposed"):
        measure_flat_field(uniform_target_frames(240, 320, count=2, level=255))
    with pytest.raises(TargetNotFound, match="too dark"):
        measure_flat_field([np.full((240, 320, 3), 8, np.uint8)] * 2)
    with pytest.raises(TargetNotFound, match="not uniform"):
        measure_flat_field([retina_rgb[300:1100, 300:1100] // 2])  # a textured scene, not a plain card
    with pytest.raises(TargetNotFound, match="frame 3 differs"):
        measure_flat_field([*frames[:2], uniform_target_frames(240, 320, count=1, level=150)[0]])
    with pytest.raises(TargetNotFound, match="different sizes"):
        measure_flat_field([frames[0], frames[1][:200]])
    half_lit = frames[0].copy()
    half_lit[:, 160:] //= 6
    with pytest.raises(TargetNotFound, match=r"does not fill the frame|not uniform"):
        measure_flat_field([half_lit])


def test_a_smudge_on_the_lens_is_named_as_what_to_clean():
    """A smudge darkens the same spot of every frame: the refusal asked only for another card, which
    the technician could change for ever."""
    y, x = np.mgrid[0:240, 0:320]
    smudge = 1 - 0.35 * np.exp(-((x - 100) ** 2 + (y - 75) ** 2) / (2 * 15**2))[..., None]
    frames = [np.clip(frame * smudge, 0, 255).astype(np.uint8) for frame in uniform_target_frames(240, 320, 3)]
    with pytest.raises(TargetNotFound, match=r"not uniform .* clean the lens \(a smudge"):
        measure_flat_field(frames)


def test_a_cards_colour_cast_is_not_counted_as_unevenness():
    """An even card with a slight cast is as uniform as a grey one: each channel is judged against its
    own mean (the spread across channels read 0.146 for this card, 0.0014 for a grey one)."""
    grey = measure_flat_field(uniform_target_frames(240, 320, count=3))
    cast = [(frame * np.array([1.0, 0.8, 0.6])).astype(np.uint8) for frame in uniform_target_frames(240, 320, count=3)]
    tinted = measure_flat_field(cast)
    assert grey.residual_nonuniformity < 0.01 and tinted.residual_nonuniformity < 0.01
    assert abs(tinted.residual_nonuniformity - grey.residual_nonuniformity) < 0.005


def test_a_patterned_targets_texture_reads_as_a_share_of_its_light_not_thousands_of_percent():
    """A colour chart's fitted light dips below zero between its patches: divided by that, its texture
    read 433948%. Where the fit is below what a gain may make up, it is floored there."""
    with pytest.raises(TargetNotFound, match="not uniform") as refused:
        measure_flat_field([through_vignetting(photographed_chart(seed=7))])
    texture = int(re.search(r"texture (\d+)%", str(refused.value))[1])
    assert 5 < texture <= 100, refused.value
