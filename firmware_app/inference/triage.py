"""From a model score to a triage outcome: refer, no referral, or ungradable.

The outcome is never a diagnosis. ``ungradable`` is decided upstream by the quality gate and
is final: nothing here can turn an image the gate rejected into ``no_refer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from firmware_app.inference.card import OperatingPoint
from firmware_app.inference.model import ModelReference, Prediction


class Outcome(StrEnum):
    REFER = "refer"
    NO_REFER = "no_refer"
    UNGRADABLE = "ungradable"


@dataclass(frozen=True)
class Triage:
    """A triage and everything a reviewer needs to weigh it.

    ``score``, ``operating_point`` and ``model`` are ``None`` only when the model was not run
    (the image was ungradable). ``research_only`` marks a model run forced on an ungradable image:
    its score is kept for research, but its outcome stays ``ungradable``.
    """

    outcome: Outcome
    score: float | None = None
    operating_point: OperatingPoint | None = None
    model: ModelReference | None = None
    research_only: bool = False

    @property
    def threshold(self) -> float | None:
        return self.operating_point.threshold if self.operating_point else None


def triage(prediction: Prediction, operating_point: OperatingPoint) -> Triage:
    """``refer`` at or above the operating point's threshold, ``no_refer`` below it."""
    outcome = Outcome.REFER if prediction.score >= operating_point.threshold else Outcome.NO_REFER
    return Triage(outcome, prediction.score, operating_point, prediction.model)


def ungradable(prediction: Prediction | None = None, operating_point: OperatingPoint | None = None) -> Triage:
    """An ungradable triage; a forced research run keeps its score but never its outcome."""
    if prediction is None:
        return Triage(Outcome.UNGRADABLE)
    return Triage(Outcome.UNGRADABLE, prediction.score, operating_point, prediction.model, research_only=True)
