"""What one patient's screening consists of, and the outcome for the patient as a whole.

A fundus screening photographs both eyes, each in its own slot with its own capture, retake and
result; the patient is referred if either eye refers or could not be graded (an ungradable eye is
never read as healthy). A dermoscopy screening is one lesion.
"""

from __future__ import annotations

from collections.abc import Mapping

from firmware_app.inference.triage import Outcome

FUNDUS_SLOTS = ("R", "L")
LESION_SLOT = "lesion"


def slots(modality: str) -> tuple[str, ...]:
    return FUNDUS_SLOTS if modality == "fundus" else (LESION_SLOT,)


def patient_outcome(modality: str, outcomes: Mapping[str, Outcome]) -> Outcome | None:
    """``refer`` as soon as any slot refers or is ungradable; ``no_refer`` once every slot is
    ``no_refer``; ``None`` while a slot still waits for its photo."""
    taken = [outcomes[slot] for slot in slots(modality) if slot in outcomes]
    if any(outcome is not Outcome.NO_REFER for outcome in taken):
        return Outcome.REFER
    return Outcome.NO_REFER if len(taken) == len(slots(modality)) else None
