"""One analysis per frame: the field of view and the lesion are found once, and the gate, the
model's crop and the lesion measurements all use that one analysis."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import firmware_app.frame_analysis
from firmware_app.app import build_pipeline
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR, Config
from firmware_app.frame_analysis import THUMBNAIL_SIZE, analyse, fundus_reduction
from firmware_app.inference import preprocess
from firmware_app.inference.preprocess import FieldOfViewNotFound, find_field_of_view
from firmware_app.lesion_measurements import measure_lesion
from firmware_app.quality.lesion import WORK_SIZE
from firmware_app.quality.resample import block_average, halved, shrink
from tests.conftest import shared_data
from tests.lesion_renderer import render_lesion


@pytest.fixture(scope="module")
def pipeline():
    with build_pipeline(Config()) as pipeline:
        yield pipeline


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
    """The gate measures the field the model crops to: located on the gate's halved working copy,
    it is the field ``find_field_of_view`` locates on the whole frame (the same chain of halvings)."""
    for size in (256, 512):
        analysis = analyse(Frame(retina_rgb, "retina"), "fundus", size)
        assert analysis.field_of_view == find_field_of_view(retina_rgb)
        assert max(analysis.thumbnail.shape[:2]) <= THUMBNAIL_SIZE


def _located_at_full_resolution(rgb: np.ndarray, monkeypatch) -> preprocess.FieldOfView:
    """``find_field_of_view`` run on the frame itself, never halved: the reference."""
    with monkeypatch.context() as patched:
        patched.setattr(preprocess, "_LOCATING_SIDE", max(rgb.shape[:2]))
        return find_field_of_view(rgb)


def _assert_located_alike(rgb: np.ndarray, monkeypatch) -> None:
    """The analysis' field (located on a copy with a long side of 480 to 960 pixels) lies within 1%
    of the field's radius of the one located at full resolution: at most a pixel or two of the
    224-pixel crop the model is shown."""
    reference = _located_at_full_resolution(rgb, monkeypatch)
    found = analyse(Frame(rgb, "photo"), "fundus", Config().quality.fundus.field_size).field_of_view
    assert abs(found.radius - reference.radius) < 0.01 * reference.radius, (found, reference)
    assert np.hypot(found.centre_x - reference.centre_x, found.centre_y - reference.centre_y) < (
        0.01 * reference.radius
    ), (found, reference)


def test_the_field_located_on_the_small_copy_is_the_full_resolution_one(retina_rgb, monkeypatch):
    """On the bundled sample and on the retina framed as the sensors frame it: the field fitting
    the short side (a Pi HQ camera's 4:3 frame) and the field cut at top and bottom (a 3:2 camera)."""
    sample = read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels
    framed_43 = np.zeros((1520, 2028, 3), np.uint8)
    framed_43[55:1466, 308:1719] = retina_rgb
    cut_32 = np.ascontiguousarray(retina_rgb[235:-235])
    for rgb in (sample, retina_rgb, framed_43, cut_32):
        _assert_located_alike(rgb, monkeypatch)


@pytest.mark.parametrize("folder", ["fundus/dr-600", "fundus/aptos2019-224"])
def test_the_field_of_real_photos_is_located_as_at_full_resolution(folder, monkeypatch):
    """Twelve real photos spread over each source's label file (a fixed rule, not a choice)."""
    root = shared_data(folder)
    with (root / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for index in np.linspace(0, len(rows) - 1, 12).round().astype(int):
        _assert_located_alike(read_frame(root / rows[index]["file"]).pixels, monkeypatch)


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
    pipeline.model("fundus")  # loaded first: verifying its bundle finds its reference images' fields
    found = _counting(monkeypatch, firmware_app.frame_analysis, "field_of_view_on")
    looked_up_again = _counting(monkeypatch, preprocess, "find_field_of_view")
    result = pipeline.screen(Frame(retina_rgb, "retina"), "fundus")
    assert result.triage.score is not None
    assert (len(found), len(looked_up_again)) == (1, 0)
    assert result.triage.score == pipeline.model("fundus").predict(retina_rgb).score


def test_the_lesion_is_segmented_once_per_screen(pipeline, monkeypatch):
    lesion = render_lesion(1024, 768, seed=3, radius=0.2)
    pipeline.model("dermoscopy")  # loaded first: verifying its bundle segments its reference images
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


def test_a_fundus_working_copy_is_halved_and_a_halving_chain_is_the_same_from_any_level(retina_rgb):
    """The frame is halved as often as its short side stays at the working size; halving on from
    that copy gives what halving the whole frame gives, so the field located on the working copy is
    the one located on the frame."""
    framed = np.zeros((1520, 2028, 3), np.uint8)
    framed[55:1466, 308:1719] = retina_rgb
    analysis = analyse(Frame(framed, "frame"), "fundus", 256)
    assert analysis.working.shape[:2] == (380, 507)
    assert fundus_reduction(framed.shape, 256) == 4
    np.testing.assert_array_equal(analysis.working, block_average(block_average(framed, 2), 2))
    from_level, level_factor = halved(analysis.working, 200, max)
    from_frame, frame_factor = halved(framed, 200, max)
    np.testing.assert_array_equal(from_level, from_frame)
    assert (level_factor * 4, frame_factor) == (8, 8)
