"""The screening pipeline puts the quality gate before the model: a rejected burst is ungradable
with the defect most frames shared, and the model is never loaded for it."""

from __future__ import annotations

import dataclasses

import pytest

from firmware_app.app import build_pipeline
from firmware_app.capture.frame import Frame
from firmware_app.config import Config, ModelsConfig
from firmware_app.inference.triage import Outcome
from tests.degradations import defocus, underexpose


@pytest.fixture()
def modelless_pipeline(tmp_path):
    """The real pipeline, pointed at an empty models directory: any model load would raise."""
    config = dataclasses.replace(Config(), models=ModelsConfig(directory=tmp_path / "no-models"))
    return build_pipeline(config)


def test_a_burst_with_no_gradable_frame_is_ungradable_for_its_commonest_defect(modelless_pipeline, retina_rgb):
    burst = [
        Frame(defocus(retina_rgb, 3), "a"),
        Frame(underexpose(retina_rgb, 3), "b"),
        Frame(defocus(retina_rgb, 3), "c"),
    ]
    result = modelless_pipeline.screen_burst(burst, "fundus")
    assert result.triage.outcome is Outcome.UNGRADABLE and result.triage.score is None
    assert result.quality.reasons == ("blurred",)


def test_one_rejected_frame_keeps_its_whole_report(modelless_pipeline, retina_rgb):
    result = modelless_pipeline.screen(Frame(underexpose(retina_rgb, 3), "dark.jpg"), "fundus")
    assert result.triage.outcome is Outcome.UNGRADABLE
    assert "too_dark" in result.quality.reasons and result.quality.measures["brightness"] < 0.1


def test_an_empty_burst_is_an_error(modelless_pipeline):
    with pytest.raises(ValueError, match="at least one frame"):
        modelless_pipeline.screen_burst([], "fundus")
