"""The framing augmentation gives a share of training views another dermatoscope's dark surround,
and leaves a recipe without it drawing exactly the views it drew before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from models.build.augment import Augmentation, augment

# Geometry, light and optics off: what is left is the framing alone.
STILL = Augmentation(
    max_rotation_deg=0.0,
    max_scale=0.0,
    brightness=0.0,
    channel_gain=0.0,
    max_gamma=1.0,
    illumination_ramp=0.0,
    blur_probability=0.0,
    jpeg_probability=0.0,
)
GREY = np.full((224, 224, 3), 160, np.uint8)


def _framed_views(how: Augmentation, count: int = 40) -> list[np.ndarray]:
    return [augment(GREY, np.random.default_rng([7, i]), how) for i in range(count)]


def test_without_framing_the_view_keeps_its_corners_and_the_generator_its_draws():
    for view in _framed_views(STILL):
        np.testing.assert_array_equal(view, GREY)
    plain, framing_off = np.random.default_rng(3), np.random.default_rng(3)
    augment(GREY, plain, Augmentation())
    augment(GREY, framing_off, Augmentation(framing=0.0, max_border=0.3))
    assert plain.random() == framing_off.random()


def test_every_framed_view_is_dark_outside_and_each_kind_of_framing_occurs():
    """Bars: black rows or columns along the edges; a round field: black corners, the middles of
    the sides kept; a vignette: corners dimmed but not black. The middle is always untouched."""
    kinds = set()
    for view in _framed_views(replace(STILL, framing=1.0)):
        corner, middle = int(view[0, 0, 0]), int(view[112, 112, 0])
        assert middle == 160
        if view[0].max() == 0 or view[:, 0].max() == 0:
            kinds.add("bars")
        elif corner == 0:
            assert view[112, 0, 0] == 160
            kinds.add("round")
        else:
            assert corner <= round(160 * (1 - STILL.vignette_depth[0]))
            kinds.add("vignette")
    assert kinds == {"bars", "round", "vignette"}
