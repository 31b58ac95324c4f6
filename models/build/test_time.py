"""The sets of test-time flips a candidate may name (``--test-time-flips``; the flips themselves are
the device's, ``firmware_app.inference.test_time``)."""

from __future__ import annotations

FLIP_SETS: dict[str, tuple[str, ...]] = {
    "mirror": ("left_right",),
    "flips": ("left_right", "up_down", "both"),
    # The square's eight symmetries: the view, its mirror images and its quarter turns.
    "dihedral": (
        "left_right",
        "up_down",
        "both",
        "transpose",
        "transpose_left_right",
        "transpose_up_down",
        "transpose_both",
    ),
}
