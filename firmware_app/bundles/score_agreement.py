"""Whether a reference score computed here agrees with the one signed into a bundle's manifest.

Two interpreters run one int8 model with kernels that round a few accumulations differently
(ai-edge-litert and tflite-runtime 2.14 do: the same input tensor gave output 15 on one and 13 on
the other). A difference of a few output steps is therefore legitimate, but a probability tolerance
cannot say so: one step of the dr-referable model's output (0.133 in logits) moves a score near 0.12
by 0.013 and one near 0.5 by 0.033, one near 0 or 1 by almost nothing. So a score is compared where the
interpreter rounds, in the output tensor's quantisation steps (logits for a sigmoid), and agrees
within the number of steps the manifest signs (``score_steps``), or within its signed probability
tolerance. How many steps is the publisher's statement, signed with the scores it qualifies, never
the device's: near dr-referable's threshold 4 steps are about 0.1 in probability, too much to grant
a bundle whose publisher did not say so (a manifest without ``score_steps`` gets its tolerance only).

A model that does not compute what was signed (another model, a tampered one, a wrong card) moves
its reference scores by far more than a few steps: the check still refuses it.
"""

from __future__ import annotations

import math

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


def scores_agree(
    activation: str, output_step: float, score: float, expected: float, tolerance: float, allowed_steps: int
) -> bool:
    """Within the signed ``allowed_steps`` output steps, or within the signed probability ``tolerance``."""
    if abs(score - expected) <= tolerance:
        return True
    steps = output_steps_apart(activation, output_step, score, expected)
    return steps is not None and steps <= allowed_steps
