"""Whether a reference score computed here agrees with the one signed into a bundle's manifest.

Two interpreters run one int8 model with kernels that round a few accumulations differently
(ai-edge-litert and tflite-runtime 2.14 do: the same input tensor gave output 15 on one and 13 on
the other). A difference of a few output steps is therefore legitimate, but a probability tolerance
cannot say so: one step of the dr-referable model's output (0.133 in logits) moves a score near 0.12
by 0.013 and one near 0.5 by 0.033, one near 0 or 1 by almost nothing. So a score is compared where the
interpreter rounds, in the output tensor's quantisation steps (logits for a sigmoid), and agrees
within ``OUTPUT_STEP_ALLOWANCE`` steps, or within the manifest's signed probability tolerance (which
manifests signed before this rule carry, and which keeps them valid without re-signing).

A model that does not compute what was signed (another model, a tampered one, a wrong card) moves
its reference scores by far more than a few steps: the check still refuses it.
"""

from __future__ import annotations

import math

# Measured across ai-edge-litert and tflite-runtime 2.14 on the same photos (``.venv/bin/python
# bench/runtime_agreement.py --images 100``, 2026-12-03: both bundles' reference images and 400 real
# photos of both modalities, each scored by both models). The reference images lie 0-2 steps apart.
# Over all 404 photos dr-referable's outputs lie a median 1 step apart, 4 at the 95th percentile, 7 at
# the 99th and 12 at most (a real fundus photo); melanoma's, averaged over four flips, 3.25 at most.
# So 4 steps holds every reference image with room, while a model that computes something else is
# tens of steps away (the two committed manifests' scores of the same reference images lie 45 and 58
# of dr-referable's steps apart). A
# bundle signed with a reference image from the tail would fail the CI's tflite-runtime stage
# (tests/inference/test_signed_bundles_here.py) before it ships.
OUTPUT_STEP_ALLOWANCE = 4

# A sigmoid's score of exactly 0 or 1 has no finite logit; scores this close to 0 or 1 are compared
# as this close (both saturated: no difference, which the probability tolerance also accepts).
_SATURATED = 1e-12


def _logit(score: float) -> float:
    p = min(max(score, _SATURATED), 1.0 - _SATURATED)
    return math.log(p / (1.0 - p))


# The output value a score came from, for the activations with an inverse (softmax has none: its
# score depends on every output, so only the probability tolerance applies to it).
_OUTPUT_OF_SCORE = {"sigmoid": _logit, "none": float}


def output_steps_apart(activation: str, output_step: float, score: float, expected: float) -> float | None:
    """How many output quantisation steps apart two scores of one model are, measured before the
    card's ``activation``; None when the activation cannot be inverted (softmax)."""
    inverse = _OUTPUT_OF_SCORE.get(activation)
    if inverse is None:
        return None
    return abs(inverse(score) - inverse(expected)) / output_step


def scores_agree(activation: str, output_step: float, score: float, expected: float, tolerance: float) -> bool:
    """Within ``OUTPUT_STEP_ALLOWANCE`` output steps, or within the signed probability ``tolerance``."""
    if abs(score - expected) <= tolerance:
        return True
    steps = output_steps_apart(activation, output_step, score, expected)
    return steps is not None and steps <= OUTPUT_STEP_ALLOWANCE
