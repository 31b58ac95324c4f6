"""The bundled samples from file to score, with whichever runtime and OpenCV this environment has.

``scripts/test`` runs this folder a second time in ``.venv-tflite``: tflite-runtime needs numpy<2,
which holds OpenCV at 4.10, a version without ``IMREAD_COLOR_RGB``. A device on that runtime must
still read its photos, in R,G,B order like every other frame.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.inference.model import TriageModel
from tests.conftest import MODELS_DIR

SAMPLES = {"dr-referable": "fundus-retina.jpg", "melanoma": "dermoscopy-synthetic-naevus.jpg"}


@pytest.mark.parametrize("model_id", sorted(SAMPLES))
def test_a_bundled_sample_is_read_in_rgb_order_and_scored(model_id: str):
    path = SAMPLES_DIR / SAMPLES[model_id]
    frame = read_frame(path)
    assert np.array_equal(frame.pixels, cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    score = TriageModel(MODELS_DIR / model_id, threads=1).predict(frame.pixels).score
    assert 0.0 <= score <= 1.0
