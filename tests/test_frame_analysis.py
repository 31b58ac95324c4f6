"""One analysis per frame: the field of view and the lesion are found once, and the gate, the
model's crop and the lesion measurements all use that one analysis."""

from __future__ import annotations

import numpy as np
import pytest

import firmware_app.frame_analysis
from firmware_app.app import build_pipeline
from firmware_app.capture.frame import Frame
from firmware_app.config import Config
from firmware_app.frame_analysis import THUMBNAIL_SIZE, analyse
from firmware_app.inference import preprocess
from firmware_app.inference.preprocess import FieldOfViewNotFound, find_field_of_view
from firmware_app.lesion_measurements import measure_lesion
from firmware_app.quality.lesion import WORK_SIZE
from firmware_app.quality.resample import block_average, shrink
from tests.lesion_renderer import render_lesion


@pytest.fixture(scope="module")
def pipeline():
    return build_pipeline(Config())


def _counting(monkeypatch, module, name: str) -> list[int]:
    """Count the calls of a real function (it still runs) where ``module`` looks it up."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_the_fundus_field_is_the_models_own_crop(retina_rgb):
    """The gate measures the field the model crops to: the model's own ``find_field_of_view``."""
    analysis = analyse(Frame(retina_rgb, "retina"), "fundus", 512)
    assert analysis.field_of_view == find_field_of_view(retina_rgb)
    assert max(analysis.thumbnail.shape[:2]) <= THUMBNAIL_SIZE


def test_a_preview_locates_the_same_field_on_its_small_copy(retina_rgb):
    """No model crops a preview frame: its field is located on the working copy, more cheaply,
    and lands where the model's would."""
    model_field = analyse(Frame(retina_rgb, "retina"), "fundus", 256).field_of_view
    preview_field = analyse(Frame(retina_rgb, "retina"), "fundus", 256, for_model=False).field_of_view
    assert preview_field != model_field
    assert abs(preview_field.radius - model_field.radius) < 0.02 * model_field.radius
    assert np.hypot(preview_field.centre_x - model_field.centre_x, preview_field.centre_y - model_field.centre_y) < (
        0.02 * model_field.radius
    )


def test_a_frame_without_a_field_has_none_and_the_gate_says_so(pipeline):
    dark = Frame(np.full((480, 640, 3), 3, np.uint8), "dark")
    analysis = analyse(dark, "fundus", 512)
    assert analysis.field_of_view is None
    with pytest.raises(FieldOfViewNotFound):
        analysis.located_field()
    assert pipeline.screen(dark, "fundus").quality.reasons == ("no_field_of_view",)


@pytest.mark.parametrize("pixels", [np.zeros((480, 640), np.uint8), np.zeros((50, 60, 3), np.uint8)])
def test_a_frame_too_small_or_grey_to_measure_is_not_analysed(pixels):
    analysis = analyse(Frame(pixels, "x"), "dermoscopy", 512, min_side=120)
    assert analysis.lesion is None and analysis.field_of_view is None


def test_the_fundus_field_is_found_once_per_screen(pipeline, retina_rgb, monkeypatch):
    """Once for the gate and the model together, and the score is the model's on the photo."""
    found = _counting(monkeypatch, firmware_app.frame_analysis, "find_field_of_view")
    looked_up_again = _counting(monkeypatch, preprocess, "find_field_of_view")
    result = pipeline.screen(Frame(retina_rgb, "retina"), "fundus")
    assert result.triage.score is not None
    assert (len(found), len(looked_up_again)) == (1, 0)
    assert result.triage.score == pipeline.model("fundus").predict(retina_rgb).score


def test_the_lesion_is_segmented_once_per_screen(pipeline, monkeypatch):
    lesion = render_lesion(1024, 768, seed=3, radius=0.2)
    segmented = _counting(monkeypatch, firmware_app.frame_analysis, "segment_working_copy")
    result = pipeline.screen(Frame(lesion.rgb, "lesion"), "dermoscopy")
    assert result.quality.passed and result.lesion is not None and result.lesion.skin_tone is not None
    assert len(segmented) == 1
    analysis = analyse(Frame(lesion.rgb, "lesion"), "dermoscopy", Config().quality.full_size)
    assert max(analysis.working.shape[:2]) == Config().quality.full_size
    assert max(analysis.lesion.image.shape[:2]) == WORK_SIZE
    # The same skin tone as measuring the photo on its own, from the one segmentation.
    alone = measure_lesion(lesion.rgb, None, pipeline.model("dermoscopy").card)
    assert result.lesion.skin_tone.category == alone.skin_tone.category


def test_a_working_copy_takes_a_whole_factor_when_it_lands_within_the_slack(retina_rgb):
    """A 1022-pixel photo is halved to 511 by block averaging (the fractional resample to 512 costs
    many times more); one that a whole factor would take further under stays at the working size."""
    photo = np.ascontiguousarray(retina_rgb[:767, :1022])
    analysis = analyse(Frame(photo, "photo"), "dermoscopy", 512)
    assert analysis.working.shape[:2] == (383, 511)
    np.testing.assert_array_equal(analysis.working, block_average(photo, 2))
    assert (
        max(analyse(Frame(np.ascontiguousarray(retina_rgb[:600, :900]), "photo"), "dermoscopy", 512).working.shape)
        == 512
    )
    assert max(shrink(photo, 512).shape) == 512  # without slack, exactly the size asked
