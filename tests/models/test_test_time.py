"""Test-time flips (``models.build.test_time``): each flip is one of the square view's symmetries, the
same whether one view or a stack of them is flipped; a mirror image flipped twice gives the view back,
and the eight views of the ``dihedral`` set are the view's quarter turns and theirs mirrored, each once."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_app.inference.test_time import flipped, transposes
from models.build.test_time import FLIP_SETS

VIEWS = np.random.default_rng(3).integers(0, 256, (2, 4, 6, 3), dtype=np.uint8)
SQUARE_VIEWS = np.random.default_rng(4).integers(0, 256, (2, 5, 5, 3), dtype=np.uint8)
MIRRORS = ("left_right", "up_down", "both", "transpose", "transpose_both")


def test_a_left_right_mirror_reverses_each_row_and_keeps_the_colours():
    mirror = flipped(VIEWS, "left_right")
    np.testing.assert_array_equal(mirror[1, 2, 0], VIEWS[1, 2, -1])
    np.testing.assert_array_equal(flipped(VIEWS, "up_down")[0, 0, 5], VIEWS[0, -1, 5])


@pytest.mark.parametrize("flip", sorted({f for flips in FLIP_SETS.values() for f in flips}))
def test_a_stack_is_flipped_view_by_view(flip: str):
    stacked = flipped(SQUARE_VIEWS, flip)
    assert stacked.flags.c_contiguous and stacked.shape == SQUARE_VIEWS.shape
    for view, flipped_view in zip(SQUARE_VIEWS, stacked, strict=True):
        np.testing.assert_array_equal(flipped(view, flip), flipped_view)


@pytest.mark.parametrize("flip", MIRRORS)
def test_a_mirror_image_flipped_again_is_the_view(flip: str):
    np.testing.assert_array_equal(flipped(flipped(SQUARE_VIEWS, flip), flip), SQUARE_VIEWS)


def test_the_dihedral_views_are_the_quarter_turns_of_the_view_and_of_its_mirror_image():
    view = SQUARE_VIEWS[0]
    expected = [np.rot90(image, turns) for image in (view, view[:, ::-1]) for turns in range(4)]
    views = [view] + [flipped(view, flip) for flip in FLIP_SETS["dihedral"]]
    assert len(views) == 8
    for image in expected:
        assert sum(np.array_equal(image, candidate) for candidate in views) == 1


def test_only_the_mirror_images_along_the_axes_keep_a_view_that_is_not_square():
    assert not transposes(FLIP_SETS["flips"]) and transposes(FLIP_SETS["dihedral"])
    for flip in FLIP_SETS["flips"]:
        assert flipped(VIEWS, flip).shape == VIEWS.shape


def test_both_is_one_mirror_after_the_other():
    np.testing.assert_array_equal(flipped(VIEWS, "both"), flipped(flipped(VIEWS, "left_right"), "up_down"))
