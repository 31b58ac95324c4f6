"""A card asking for a crop of the dermoscopy segmentation (``lesion_box``, ``lit_field``) gets the
same input on the device as in the build: the pipeline hands the frame's own segmentation to the
model's input, and the build (and ``TriageModel.predict``, which pins a bundle's reference scores)
segments each photo with the gate's own analysis (``quality.gate.device_lesion``)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import cv2
import numpy as np

from firmware_app.app import build_pipeline
from firmware_app.bundles.manifest import MANIFEST_FILE, SIGNATURE_FILE
from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR, Config, ModelsConfig
from firmware_app.inference.model import TriageModel
from firmware_app.inference.preprocess import lesion_square, lit_box, model_view
from firmware_app.quality.gate import device_lesion
from models.build import data
from tests.conftest import MODELS_DIR
from tests.inference.conftest import edit_card

SAMPLE = SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"
SIGNED_FILES = (MANIFEST_FILE, SIGNATURE_FILE)


def _device_and_build_inputs(tmp_path: Path, crop: str, photo: Path) -> tuple[TriageModel, np.ndarray, np.ndarray]:
    """The melanoma model with its card asking for ``crop``, and its input for ``photo`` as the
    device's pipeline makes it and as the build does."""
    models = tmp_path / "models"
    # A development build of the card (its signed manifest left out: an edited card is no longer the bundle's).
    shutil.copytree(MODELS_DIR / "melanoma", models / "melanoma", ignore=shutil.ignore_patterns(*SIGNED_FILES))
    edit_card(models / "melanoma", lambda card: card["input"].update(crop=crop))
    with build_pipeline(dataclasses.replace(Config(), models=ModelsConfig(directory=models))) as pipeline:
        model = pipeline.model("dermoscopy")
        device = pipeline.check_burst([read_frame(photo)], "dermoscopy").inputs().model_input
    spec = model.card.input

    framed = data.framed_views([data.Sample(photo, 0, "sample")], spec, tmp_path / "cache", "sample")
    return model, device, model.quantised(data.device_views(framed, spec)[0])


def _plain_input(model: TriageModel, photo: np.ndarray) -> np.ndarray:
    return model.quantised(model_view(photo, dataclasses.replace(model.card.input, crop="none")))


def test_the_devices_model_input_is_the_builds_for_the_bundled_dermoscopy_sample(tmp_path: Path):
    model, device, build = _device_and_build_inputs(tmp_path, "lesion_box", SAMPLE)
    np.testing.assert_array_equal(device, build)
    # and it is the lesion's square, not the whole photo the current card shows
    photo = data.read_rgb(SAMPLE)
    square = lesion_square(photo.shape, device_lesion(photo))
    assert square is not None and square.width < min(photo.shape[:2])
    assert not np.array_equal(build, _plain_input(model, photo))


def test_the_devices_lit_field_input_is_the_builds_for_the_sample_with_a_black_border(tmp_path: Path):
    """The bundled sample framed by another camera's black border: the device and the build cut the
    border off alike, and what is left is the sample, not the bordered photo."""
    photo = cv2.copyMakeBorder(data.read_rgb(SAMPLE), 48, 48, 64, 64, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    bordered = tmp_path / "bordered.png"
    cv2.imwrite(str(bordered), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    model, device, build = _device_and_build_inputs(tmp_path, "lit_field", bordered)
    np.testing.assert_array_equal(device, build)
    # a photo scored on its own (a bundle's reference scores) gets the very same view
    assert model.predict(photo).score == model.predict_input(device).score
    # the sample's own rectangle, to within one pixel of the 256-pixel copy the device segments
    box = lit_box(photo.shape, device_lesion(photo))
    step = photo.shape[1] / 256
    assert box is not None
    assert np.allclose((box.left, box.top, box.width, box.height), (64, 48, 1024, 768), atol=step)
    assert not np.array_equal(build, _plain_input(model, photo))
