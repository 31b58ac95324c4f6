"""Test-time flips (``models.build.test_time``): each flip is the view's own mirror image, the same
whether one view or a stack of them is flipped, and flipping twice gives the view back."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_app.inference.test_time import flipped
from models.build.test_time import FLIP_SETS

VIEWS = np.random.default_rng(3).integers(0, 256, (2, 4, 6, 3), dtype=np.uint8)


def test_a_left_right_mirror_reverses_each_row_and_keeps_the_colours():
    mirror = flipped(VIEWS, "left_right")
    np.testing.assert_array_equal(mirror[1, 2, 0], VIEWS[1, 2, -1])
    np.testing.assert_array_equal(flipped(VIEWS, "up_down")[0, 0, 5], VIEWS[0, -1, 5])


@pytest.mark.parametrize("flip", sorted({f for flips in FLIP_SETS.values() for f in flips}))
def test_a_stack_is_flipped_view_by_view_and_back_again(flip: str):
    stacked = flipped(VIEWS, flip)
    assert stacked.flags.c_contiguous and stacked.shape == VIEWS.shape
    for view, flipped_view in zip(VIEWS, stacked, strict=True):
        np.testing.assert_array_equal(flipped(view, flip), flipped_view)
    np.testing.assert_array_equal(flipped(stacked, flip), VIEWS)


def test_both_is_one_mirror_after_the_other():
    np.testing.assert_array_equal(flipped(VIEWS, "both"), flipped(flipped(VIEWS, "left_right"), "up_down"))
