"""A card asking for the ``lesion_box`` crop gets the same input on the device as in the build: the
pipeline hands the frame's own segmentation to the model's input, and the build segments each photo
with the gate's own analysis (``data.device_lesion``)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from firmware_app.app import build_pipeline
from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR, Config, ModelsConfig
from firmware_app.inference.preprocess import lesion_square, model_view
from models.build import data
from tests.conftest import MODELS_DIR
from tests.inference.conftest import edit_card

SAMPLE = SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"


def test_the_devices_model_input_is_the_builds_for_the_bundled_dermoscopy_sample(tmp_path: Path):
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR / "melanoma", models / "melanoma")
    edit_card(models / "melanoma", lambda card: card["input"].update(crop="lesion_box"))
    pipeline = build_pipeline(dataclasses.replace(Config(), models=ModelsConfig(directory=models)))
    model = pipeline.model("dermoscopy")
    spec = model.card.input

    device = pipeline.check_burst([read_frame(SAMPLE)], "dermoscopy").inputs().model_input

    framed = data.framed_views([data.Sample(SAMPLE, 0, "sample")], spec, tmp_path / "cache", "sample")
    build = model.quantised(data.device_views(framed, spec)[0])
    np.testing.assert_array_equal(device, build)
    # and it is the lesion's square, not the whole photo the current card shows
    photo = data.read_rgb(SAMPLE)
    square = lesion_square(photo.shape, data.device_lesion(photo))
    assert square is not None and square.side < min(photo.shape[:2])
    assert not np.array_equal(build, model.quantised(model_view(photo, dataclasses.replace(spec, crop="none"))))
