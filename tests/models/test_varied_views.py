"""The build's views of photos as another camera delivers them (``framed_views``' ``vary``): the
round-field validation measure (``--round-field``) chooses candidates on these, so they must be the
device's view of the altered photo, and never be served for the photo as stored, nor it for them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from firmware_app.inference.card import InputSpec
from firmware_app.inference.preprocess import framed
from firmware_app.quality.gate import device_lesion
from models.build import data
from tests.camera_variations import black_border, round_field
from tests.lesion_renderer import render_lesion

LIT_FIELD = InputSpec(224, 224, "int8", "RGB", "lit_field", (127.5,) * 3, (127.5,) * 3)


def _saved_photo(tmp_path: Path) -> tuple[list[data.Sample], np.ndarray]:
    photo = render_lesion(400, 300, seed=5, radius=0.15).rgb
    path = tmp_path / "naevus.png"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    return [data.Sample(path, 1, "lesion-1")], data.read_rgb(path)


def test_a_varied_view_is_the_devices_view_of_the_varied_photo(tmp_path: Path):
    samples, photo = _saved_photo(tmp_path)
    in_round_field = data.framed_views(samples, LIT_FIELD, tmp_path / "cache", "skin", vary=round_field)
    rounded = round_field(photo)
    np.testing.assert_array_equal(in_round_field[0], framed(rounded, LIT_FIELD, lesion=device_lesion(rounded)))


def test_views_are_cached_per_variation(tmp_path: Path):
    """As stored, in a round field and with a black border: three cache files, three different views."""
    samples, _ = _saved_photo(tmp_path)
    cache = tmp_path / "cache"
    views = [
        data.framed_views(samples, LIT_FIELD, cache, "skin", vary=vary) for vary in (None, round_field, black_border)
    ]
    assert len(list(cache.glob("skin-*.npy"))) == 3
    assert not np.array_equal(views[0], views[1]) and not np.array_equal(views[1], views[2])
    # and a second call reads each back, unchanged
    np.testing.assert_array_equal(data.framed_views(samples, LIT_FIELD, cache, "skin", vary=round_field), views[1])
