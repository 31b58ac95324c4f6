"""A photo stored squashed sideways (APTOS 2019's) is read off its field's outline and stretched back,
whether the sensor cut the field at the top and bottom or not; round fields and fields whose aspect
cannot be read are left as they are."""

import cv2
import numpy as np
import pytest

from firmware_app.inference.card import InputSpec
from models.build import data
from models.build.data import Sample
from models.build.field_aspect import (
    FieldAspectUnknown,
    field_ellipse,
    read_round_field,
    round_field,
    width_scaled,
)

FUNDUS = InputSpec(224, 224, "int8", "RGB", "fundus_fov", (127.5,) * 3, (127.5,) * 3)


def _field_photo(
    size: tuple[int, int], half_axes: tuple[float, float], notch: bool = False, seed: int = 0
) -> np.ndarray:
    """A fundus-like photo: an orange, textured elliptic field (half-width, half-height) centred on a
    black frame of (width, height), cut wherever the frame is smaller; optionally the camera's notch,
    a black square bitten out of the rim at the upper right."""
    width, height = size
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    centre = (width / 2, height / 2)
    cv2.ellipse(mask, (centre, (2 * half_axes[0], 2 * half_axes[1]), 0.0), 1, thickness=-1)
    if notch:
        x = int(centre[0] + 0.6 * half_axes[0])
        y = int(centre[1] - 0.8 * half_axes[1])
        side = max(4, int(0.08 * half_axes[0]))
        mask[y - side : y + side, x : x + 3 * side] = 0
    texture = rng.normal(0, 12, (height, width, 1))
    field = np.clip(np.array([190.0, 95.0, 40.0]) + texture, 0, 255)
    return (field * mask[..., np.newaxis]).astype(np.uint8)


def _squashed(rgb: np.ndarray, stretch: float) -> np.ndarray:
    return width_scaled(rgb, 1 / stretch)


@pytest.mark.parametrize("size", [(224, 224), (1280, 857)])
def test_a_round_field_reads_round(size):
    radius = 0.45 * min(size)
    assert field_ellipse(_field_photo(size, (radius, radius))).width_stretch == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("stretch", [1.2, 1.33, 1.5])
def test_an_uncut_squashed_field_reads_its_squash(stretch):
    photo = _field_photo((224, 224), (100 / stretch, 100))
    assert field_ellipse(photo).width_stretch == pytest.approx(stretch, rel=0.02)


@pytest.mark.parametrize("stretch", [1.0, 1.33, 1.5])
def test_a_field_cut_at_top_and_bottom_reads_its_full_height(stretch):
    # The field is 20% taller than the photo: its top and bottom rows are cut by the frame.
    photo = _field_photo((320, 224), (134 / stretch, 134))
    assert photo[0].any() and photo[-1].any()
    assert field_ellipse(photo).width_stretch == pytest.approx(stretch, rel=0.02)


def test_the_cameras_notch_does_not_move_the_estimate():
    photo = _field_photo((224, 224), (80, 120), notch=True)
    assert field_ellipse(photo).width_stretch == pytest.approx(1.5, rel=0.02)


def test_a_real_fundus_squashed_like_aptos_reads_the_squash(retina_rgb):
    assert field_ellipse(retina_rgb).width_stretch == pytest.approx(1.0, abs=0.02)
    assert field_ellipse(_squashed(retina_rgb, 1.33)).width_stretch == pytest.approx(1.33, rel=0.02)


def test_round_field_gives_the_photo_back_its_aspect(retina_rgb):
    squashed = _squashed(retina_rgb, 1.4)
    restored = round_field(squashed)
    assert restored.shape[0] == squashed.shape[0]
    assert restored.shape[1] == pytest.approx(retina_rgb.shape[1], rel=0.02)
    assert field_ellipse(restored).width_stretch == pytest.approx(1.0, abs=0.02)


def test_a_round_field_is_left_as_it_is(retina_rgb):
    assert round_field(retina_rgb) is retina_rgb


def test_a_field_the_sides_cut_has_no_aspect_and_is_left_as_stored():
    # Wider than the photo on nearly every row: the width the fit would need is not in the photo.
    photo = _field_photo((224, 224), (200, 130))
    with pytest.raises(FieldAspectUnknown):
        field_ellipse(photo)
    assert round_field(photo) is photo


def test_a_dark_photo_has_no_aspect_and_is_left_as_stored():
    photo = np.zeros((224, 224, 3), np.uint8)
    with pytest.raises(FieldAspectUnknown):
        field_ellipse(photo)
    assert round_field(photo) is photo


def test_framed_views_are_cached_per_reader(tmp_path, retina_rgb):
    """A stale view framed from the photo as stored must never be served for the restored photo."""
    path = tmp_path / "squashed.png"
    cv2.imwrite(str(path), cv2.cvtColor(_squashed(retina_rgb, 1.4), cv2.COLOR_RGB2BGR))
    samples = [Sample(path, 1, "image-1")]
    as_stored = data.framed_views(samples, FUNDUS, tmp_path, "aspect")
    restored = data.framed_views(samples, FUNDUS, tmp_path, "aspect", read_round_field)
    assert len(list(tmp_path.glob("aspect-*.npy"))) == 2
    assert not np.array_equal(as_stored, restored)
    # The restored view is the device's view of the photo as the camera took it.
    unsquashed = data.framed(round_field(data.read_rgb(path)), FUNDUS)
    np.testing.assert_array_equal(restored[0], unsquashed)
