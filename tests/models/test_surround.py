"""The build's ``--surround-split`` (``models/build/surround.py``): which photos have a
dermatoscope's dark surround, and the AUC of each group in the validation part's own order."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from models.build.surround import MIN_GROUP, group_auc, has_surround, surround_split
from tests.camera_variations import black_border, round_field

SAMPLE = SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return read_frame(SAMPLE).pixels


def _with_black_bands(rgb: np.ndarray, share: float) -> np.ndarray:
    """Black bands at the left and right covering ``share`` of the photo."""
    banded = rgb.copy()
    width = round(share * rgb.shape[1] / 2)
    if width:
        banded[:, :width] = 0
        banded[:, -width:] = 0
    return banded


def test_a_round_field_or_a_black_border_is_a_surround_and_the_skin_filling_the_photo_is_none(photo):
    assert not has_surround(photo)
    assert has_surround(round_field(photo))
    assert has_surround(black_border(photo))


def test_a_surround_is_three_percent_of_the_photo_or_more(photo):
    """A thin dark band is a lit field's ragged edge, not a surround; one of 3% is."""
    assert not has_surround(_with_black_bands(photo, 0.01))
    assert has_surround(_with_black_bands(photo, 0.06))


def test_a_group_too_small_or_of_one_class_has_no_auc():
    labels, scores = np.array([0, 1] * MIN_GROUP), np.arange(2.0 * MIN_GROUP)
    assert group_auc(labels, scores) > 0.5
    assert np.isnan(group_auc(labels[: MIN_GROUP - 1], scores[: MIN_GROUP - 1]))
    assert np.isnan(group_auc(np.zeros(MIN_GROUP, int), scores[:MIN_GROUP]))


def test_each_validation_photo_keeps_its_score_in_its_group(photo, tmp_path: Path):
    """Photos with a surround ranked perfectly, those without perfectly wrong: the split reads each
    photo's score at its own place in the validation part, whatever the other parts hold."""
    rounded = round_field(photo)
    pictures = {}
    samples, labels, scores = [], [], []
    for index in range(4 * MIN_GROUP):
        surround, melanoma = index % 2 == 0, index % 4 < 2
        path = tmp_path / f"{index}.png"
        pictures[path] = rounded if surround else photo
        samples.append(SimpleNamespace(path=path))
        labels.append(int(melanoma))
        scores.append(float(melanoma == surround) + index / 1000)
    training = list(range(4 * MIN_GROUP, 4 * MIN_GROUP + 4))
    for index in training:
        path = tmp_path / f"{index}.png"
        pictures[path] = rounded
        samples.append(SimpleNamespace(path=path))
        labels.append(1)
    validation = np.arange(4 * MIN_GROUP)
    parts = {"train": np.array(training), "validation": validation}
    source = SimpleNamespace(
        name="fake",
        dataset=SimpleNamespace(read=pictures.__getitem__),
        samples=samples,
        parts=parts,
        labels=lambda part: np.array(labels)[parts[part]],
    )
    split = surround_split([source], [np.array(scores)])
    assert split["surround"]["fake"] == 1.0
    assert split["no surround"]["fake"] == 0.0
