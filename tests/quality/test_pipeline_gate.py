"""The screening pipeline puts the quality gate before the model: a rejected burst is ungradable
with the defect most frames shared, and the model never runs for it. The model's input is made
while the gate judges (on the pipeline's worker thread), so what goes wrong there (a model refused at
loading) shows only once a frame that passed is triaged."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from firmware_app.app import ModelShelf, build_pipeline
from firmware_app.capture.frame import Frame
from firmware_app.config import Config, ModelsConfig
from firmware_app.inference.model import ModelError, TriageModel
from firmware_app.inference.triage import Outcome
from tests.degradations import defocus, underexpose


@pytest.fixture()
def modelless_pipeline(tmp_path):
    """The real pipeline, pointed at an empty models directory: any model load would raise."""
    config = dataclasses.replace(Config(), models=ModelsConfig(directory=tmp_path / "no-models"))
    with build_pipeline(config) as pipeline:
        yield pipeline


@pytest.fixture()
def pipeline():
    with build_pipeline(Config()) as pipeline:
        yield pipeline


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


def test_a_model_refused_at_loading_leaves_the_check_and_stops_the_triage(modelless_pipeline, retina_rgb):
    """The nurse still sees the photo's check; the triage then fails loudly instead of guessing."""
    checked = modelless_pipeline.check_burst([Frame(retina_rgb, "retina")], "fundus")
    assert checked.choice.passed
    with pytest.raises(ModelError):
        modelless_pipeline.screen_checked(checked)


def test_the_models_input_is_made_while_the_gate_judges(pipeline, retina_rgb, monkeypatch):
    """The gate's judgement waits here until the model's input has been made: were the input made
    only after the verdict (one after the other, as before), it would never be."""
    pipeline.model("fundus")  # loaded first: verifying its bundle makes the reference images' inputs
    made = threading.Event()
    makers: list[str] = []
    make_input = TriageModel.input_tensor

    def input_tensor(model, *args):
        makers.append(threading.current_thread().name)
        made.set()
        return make_input(model, *args)

    monkeypatch.setattr(TriageModel, "input_tensor", input_tensor)
    assess = pipeline._quality_gate.assess
    seen_while_judging: list[bool] = []

    def judging(analysis):
        seen_while_judging.append(made.wait(timeout=30))
        return assess(analysis)

    monkeypatch.setattr(pipeline._quality_gate, "assess", judging)
    result = pipeline.screen(Frame(retina_rgb, "retina"), "fundus")
    assert seen_while_judging == [True]
    assert len(makers) == 1 and makers[0].startswith("model-input")
    assert result.triage.score == pipeline.model("fundus").predict(retina_rgb).score


def test_a_model_asked_for_by_two_threads_at_once_is_loaded_once(monkeypatch):
    """The input maker and the web app's records thread may both be first to ask for a model."""
    shelf = ModelShelf(Config())
    load = ModelShelf._load
    loads: list[str] = []
    both_asking = threading.Barrier(2)

    def counted_load(shelf, modality):
        loads.append(modality)
        return load(shelf, modality)

    monkeypatch.setattr(ModelShelf, "_load", counted_load)
    got: list[TriageModel] = []

    def ask():
        both_asking.wait()
        got.append(shelf("fundus"))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["fundus"] and len(got) == 2 and got[0] is got[1]


def test_a_bursts_triage_inputs_are_made_for_the_chosen_frame_alone(pipeline, retina_rgb, monkeypatch):
    """Making them for every frame of a burst would cost more than the overlap saves."""
    pipeline.model("fundus")  # loaded first: verifying its bundle makes the reference images' inputs
    made_from: list[int] = []
    make_input = TriageModel.input_tensor

    def input_tensor(model, rgb, *args):
        made_from.append(id(rgb))
        return make_input(model, rgb, *args)

    monkeypatch.setattr(TriageModel, "input_tensor", input_tensor)
    burst = [Frame(defocus(retina_rgb, 3), "a"), Frame(retina_rgb, "b"), Frame(underexpose(retina_rgb, 3), "c")]
    checked = pipeline.check_burst(burst, "fundus")
    result = pipeline.screen_checked(checked)
    assert checked.choice.index == 1 and made_from == [id(checked.analysis.pixels)]
    assert result.triage.score == pipeline.model("fundus").predict(retina_rgb).score
