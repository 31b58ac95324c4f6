"""The loader trusts a model only when file, card and tensors agree; every disagreement is named."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware_app.health.checks import model_refused
from firmware_app.inference.card import SEGMENTATION_CROPS, read_card
from firmware_app.inference.errors import ModelRunFailed
from firmware_app.inference.interpreter import RuntimeMissing, interpreter_class
from firmware_app.inference.model import ModelError, TriageModel
from firmware_app.messages import message
from firmware_app.wording import check_sentence
from tests.conftest import MODELS_DIR, PROJECT_ROOT
from tests.inference.conftest import edit_card


def test_the_expected_runtime_is_the_one_picked():
    """In .venv-tflite only tflite-runtime is installed; the loader must find it by itself."""
    expected = os.environ.get("EDGESCREEN_EXPECT_RUNTIME", "ai-edge-litert")
    assert interpreter_class()[0] == expected


def test_unknown_runtime_is_refused_by_name():
    with pytest.raises(RuntimeMissing, match="unknown TFLite runtime 'tensorflow'"):
        interpreter_class("tensorflow")


def test_committed_models_load_verified_and_score_in_unit_range(model_id, retina_rgb):
    model = TriageModel(MODELS_DIR / model_id, threads=1)
    assert model.card.id == model_id
    assert model.reference.sha256 == hashlib.sha256((MODELS_DIR / model_id / "model.tflite").read_bytes()).hexdigest()
    prediction = model.predict(retina_rgb)
    assert 0.0 <= prediction.score <= 1.0
    assert prediction.model == model.reference


def test_scores_are_deterministic_and_thread_count_does_not_change_them(model_id, retina_rgb):
    one = TriageModel(MODELS_DIR / model_id, threads=1).predict(retina_rgb).score
    two = TriageModel(MODELS_DIR / model_id, threads=2).predict(retina_rgb).score
    assert one == two


def test_input_tensor_matches_the_card(model_id, retina_rgb):
    model = TriageModel(MODELS_DIR / model_id, threads=1)
    tensor = model.input_tensor(retina_rgb)
    assert tensor.shape == model.card.input.shape
    assert tensor.dtype == np.dtype(model.card.input.dtype)


def test_tampered_model_is_refused(model_copy: Path):
    data = bytearray((model_copy / "model.tflite").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / "model.tflite").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the card"):
        TriageModel(model_copy)


def test_truncated_model_is_refused(model_copy: Path):
    data = (model_copy / "model.tflite").read_bytes()
    (model_copy / "model.tflite").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match="corrupt, truncated"):
        TriageModel(model_copy)


def _rehash(model_dir: Path) -> None:
    digest = hashlib.sha256((model_dir / "model.tflite").read_bytes()).hexdigest()
    edit_card(model_dir, lambda card: card.update(sha256=digest))


def test_corrupt_model_with_matching_hash_is_refused_by_the_interpreter(model_copy: Path):
    """A card re-signed over garbage: the hash agrees, the interpreter must still refuse it."""
    (model_copy / "model.tflite").write_bytes(os.urandom(4096))
    _rehash(model_copy)
    with pytest.raises(ModelError, match="not a loadable TFLite model"):
        TriageModel(model_copy)


def test_wrong_model_for_the_card_is_refused(tmp_path: Path, model_copy: Path, model_id: str):
    other = "melanoma" if model_id == "dr-referable" else "dr-referable"
    (model_copy / "model.tflite").write_bytes((MODELS_DIR / other / "model.tflite").read_bytes())
    with pytest.raises(ModelError, match="does not match the card"):
        TriageModel(model_copy)


def test_card_that_lies_about_its_input_tensor_is_refused(model_copy: Path):
    def lie(card):
        card["input"]["shape"] = [1, 96, 96, 3]

    edit_card(model_copy, lie)
    with pytest.raises(ModelError, match=r"card says the input tensor is .*\[1, 96, 96, 3\], the model's is"):
        TriageModel(model_copy)


def test_card_that_lies_about_its_output_dtype_is_refused(model_copy: Path):
    def lie(card):
        card["output"]["dtype"] = "uint8" if card["output"]["dtype"] == "int8" else "int8"

    edit_card(model_copy, lie)
    with pytest.raises(ModelError, match="card says the output tensor is"):
        TriageModel(model_copy)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.pop("sha256"), "missing field 'sha256'"),
        (lambda c: c.update(schema="something/2"), "field 'schema' must be"),
        (lambda c: c["input"].update(crop="ellipse"), "field 'input.crop' must be one of"),
        (lambda c: c["input"]["normalisation"].update(std=[0, 1, 1]), "input.normalisation.std"),
        (lambda c: c["operating_points"]["screening"].update(threshold=1.5), "threshold' must be a number"),
        (lambda c: c["operating_points"]["screening"].update(threshold=float("nan")), "threshold' must be a number"),
        (lambda c: c["operating_points"]["screening"].update(threshold=10**400), "threshold' must be a number"),
        (lambda c: c["input"]["normalisation"].update(mean=[127, float("inf"), 127]), "normalisation.mean"),
        (
            lambda c: c["operating_points"]["screening"]["sensitivity"].update(ci95=[0.99, 1.0]),
            "an interval",
        ),
        (lambda c: c.update(default_operating_point="nonexistent"), "default_operating_point"),
        (lambda c: c["input"].update(colour_constancy="retinex"), "field 'input.colour_constancy' must be one of"),
        (lambda c: c["metrics"]["int8"]["test"]["auc"].update(value=1.5), "field 'metrics.int8.test.auc.value'"),
        (lambda c: c["input"].update(test_time_flips=["sideways"]), "field 'input.test_time_flips' must be"),
        (lambda c: c["input"].update(test_time_flips=["up_down", "up_down"]), "'input.test_time_flips'"),
        (lambda c: c["input"].update(test_time_flips="up_down"), "'input.test_time_flips'"),
        (
            lambda c: c["input"].update(shape=[1, 224, 256, 3], test_time_flips=["transpose"]),
            "no transposed flip for an input that is not square",
        ),
    ],
)
def test_invalid_card_is_refused_naming_the_field(model_copy: Path, edit, message):
    edit_card(model_copy, edit)
    with pytest.raises(ModelError, match=message):
        TriageModel(model_copy)


def test_unreadable_card_and_missing_model_file(model_copy: Path):
    (model_copy / "model.tflite").unlink()
    with pytest.raises(ModelError, match="cannot read the model file"):
        TriageModel(model_copy)
    (model_copy / "card.json").write_text("{ not json")
    with pytest.raises(ModelError, match="not a readable JSON model card"):
        TriageModel(model_copy)


def test_a_card_from_before_colour_constancy_means_none(model_copy: Path):
    """Cards written before the field existed keep loading, and keep their plain preprocessing."""
    edit_card(model_copy, lambda card: card["input"].pop("colour_constancy", None))
    assert TriageModel(model_copy, threads=1).card.input.colour_constancy == "none"


def test_a_card_without_test_time_flips_scores_its_input_once(model_copy: Path, retina_rgb):
    edit_card(model_copy, lambda card: card["input"].pop("test_time_flips", None))
    model = TriageModel(model_copy, threads=1)
    tensor = model.input_tensor(retina_rgb)
    assert model.card.input.test_time_flips == ()
    assert model.predict_input(tensor).score == model.score(model.output(tensor))


def test_a_card_with_test_time_flips_averages_the_outputs_of_its_flipped_inputs(model_copy: Path, retina_rgb):
    """The view is made once; the interpreter runs on it and on its mirror images, and the score is
    the activation of their mean output (logit), which no single run gives."""
    edit_card(model_copy, lambda card: card["input"].update(test_time_flips=["left_right", "up_down", "both"]))
    model = TriageModel(model_copy, threads=1)
    tensor = model.input_tensor(retina_rgb)
    outputs = [model.output(np.ascontiguousarray(np.flip(tensor, axes))) for axes in ((), (2,), (1,), (1, 2))]
    assert model.predict_input(tensor).score == pytest.approx(model.score(np.mean(outputs, axis=0)), abs=1e-6)
    assert len({float(output.reshape(-1)[0]) for output in outputs}) > 1  # the flips did change the runs


@pytest.mark.parametrize("model_id", ["dr-referable"])
def test_a_fundus_card_may_ask_for_its_background_subtracted(model_copy: Path):
    """A fundus model trained on background-subtracted views declares it, and the device feeds it those."""
    edit_card(model_copy, lambda card: card["input"].update(colour_constancy="background_subtracted"))
    assert TriageModel(model_copy, threads=1).card.input.colour_constancy == "background_subtracted"


@pytest.mark.parametrize("model_id", ["melanoma"])
def test_background_subtracted_without_a_fundus_field_is_refused(model_copy: Path):
    """It reads the background of a fundus field: a card that crops none has no field to read."""
    edit_card(model_copy, lambda card: card["input"].update(colour_constancy="background_subtracted"))
    with pytest.raises(ModelError, match=r"'input\.colour_constancy' must be used with the 'fundus_fov' crop"):
        TriageModel(model_copy, threads=1)


@pytest.mark.parametrize("model_id", ["melanoma"])
@pytest.mark.parametrize("crop", SEGMENTATION_CROPS)
def test_a_dermoscopy_card_may_ask_for_a_crop_of_its_segmentation(model_copy: Path, crop: str):
    edit_card(model_copy, lambda card: card["input"].update(crop=crop))
    spec = TriageModel(model_copy, threads=1).card.input
    assert spec.reads_segmentation
    assert spec.crops_to_lesion == (crop == "lesion_box")


@pytest.mark.parametrize("model_id", ["dr-referable"])
@pytest.mark.parametrize("crop", SEGMENTATION_CROPS)
def test_a_crop_of_the_dermoscopy_segmentation_on_a_fundus_card_is_refused(model_copy: Path, crop: str):
    """A fundus frame has no lesion segmentation: the card would ask for a view the device never makes."""
    edit_card(model_copy, lambda card: card["input"].update(crop=crop))
    with pytest.raises(ModelError, match=r"'input\.crop' must be 'fundus_fov' or 'none' for a fundus model"):
        TriageModel(model_copy, threads=1)


def test_committed_models_correct_colour_as_they_were_trained(model_id):
    """Both shipped models were trained on Shades of Gray views; the device must feed them the same."""
    assert TriageModel(MODELS_DIR / model_id, threads=1).card.input.colour_constancy == "shades_of_gray_p6"


def test_committed_cards_report_every_source_and_external_set(model_id):
    """Figures per source, not only pooled: a pooled figure hides the source a model does not carry to."""
    card = read_card(MODELS_DIR / model_id / "card.json")
    sets = {f"test_{e['name']}": e for e in card.document["data"]["test"]}
    sets |= {f"external_{e['name']}": e for e in card.document["data"]["external"]}
    assert len(card.document["data"]["training"]) == 2, "each model is trained on two sources"
    for name, entry in sets.items():
        measured = card.measured[name]
        assert (measured.images, measured.positives) == (entry["images"], entry["positives"])
        assert 0 < measured.positives < measured.images
        assert set(measured.sensitivity) == set(card.operating_points)


# Imports the loader, then caps the address space a few MiB above what the process maps, as a
# small board's memory (or a unit's limit) leaves no room for the runtime's shared libraries.
_LOAD_WITHOUT_MEMORY = """
import re, resource
from firmware_app.inference.interpreter import RuntimeMissing, interpreter_class
mapped = int(re.search(r"VmSize:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (mapped + 4 * 2**20, resource.RLIM_INFINITY))
try:
    interpreter_class()
except RuntimeMissing as error:
    print(error)
"""


def test_a_runtime_that_is_installed_but_cannot_load_is_not_called_missing():
    """Under a memory cap the runtime's library does not map, and the loader said "no TFLite runtime
    is installed: install 'ai-edge-litert'", sending the technician to install what was there."""
    expected = os.environ.get("EDGESCREEN_EXPECT_RUNTIME", "ai-edge-litert")
    run = subprocess.run(
        [sys.executable, "-c", _LOAD_WITHOUT_MEMORY], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert f"the TFLite runtime '{expected}' is installed but does not load" in run.stdout
    assert "too little free memory for it" in run.stdout and "no TFLite runtime is installed" not in run.stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_run_the_interpreter_refuses_is_a_run_failure_not_a_model_that_cannot_be_loaded(model_id, language):
    """A loaded, verified model whose interpreter refuses a run (here the runtime's own refusal of an
    input of another shape) fails as ``ModelRunFailed``, naming the model: the nurse is told to use the
    photo again, not that a model cannot be loaded (``health.models.red``, "reinstall it")."""
    model = TriageModel(MODELS_DIR / model_id, threads=1)
    with pytest.raises(ModelRunFailed, match=f"{model_id} .*: the interpreter failed to run") as failed:
        model.output(np.zeros((1, 7, 7, 3), dtype=model.card.input.dtype))
    check = model_refused(failed.value)
    assert check.message_key == "health.models.failed"
    assert check_sentence(check, language) == message("health.models.failed", language)


def test_a_model_whose_first_run_fails_cannot_be_loaded(model_id, monkeypatch):
    """The warm-up run at load is the model's first: the runtime's own refusal there (a kernel that
    fails to invoke) is a ``ModelError`` naming the file, which doctor and the app read as "cannot be
    loaded", not a bare ``RuntimeError`` that stops the app with a traceback."""

    def failing(self: object) -> None:
        raise RuntimeError("tensorflow/lite/kernels/conv.cc: Node number 3 (CONV_2D) failed to invoke.")

    monkeypatch.setattr(interpreter_class()[1], "invoke", failing)
    with pytest.raises(ModelError, match=f"{model_id}/model.tflite: loaded, but its first run failed") as failed:
        TriageModel(MODELS_DIR / model_id, threads=1)
    assert not isinstance(failed.value, ModelRunFailed)
    assert model_refused(failed.value).message_key == "health.models.red"
