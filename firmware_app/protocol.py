"""What one patient's screening consists of, and the outcome for the patient as a whole.

A fundus screening photographs both eyes, each in its own slot with its own capture, retake and
result; the patient is referred if either eye refers or could not be graded (an ungradable eye is
never read as healthy). The nurse may screen one eye only (the other cannot be photographed, or was
screened elsewhere): then that eye is the outcome. A dermoscopy screening is one lesion.

A slot may be photographed again (a retake) after its result: a retake is for a photo that could
not be graded, never a second opinion, so a referral stands whatever a later photo of the slot
says (``slot_outcome``), and every photo's result is recorded and sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from firmware_app.inference.triage import Outcome

FUNDUS_SLOTS = ("R", "L")
LESION_SLOT = "lesion"


def slots(modality: str, eyes: Collection[str] = FUNDUS_SLOTS) -> tuple[str, ...]:
    """The slots to photograph, in the protocol's order: the ``eyes`` chosen, or the one lesion."""
    return tuple(eye for eye in FUNDUS_SLOTS if eye in eyes) if modality == "fundus" else (LESION_SLOT,)


def slot_outcome(outcomes: Sequence[Outcome]) -> Outcome:
    """What a slot photographed one or more times stands at: ``refer`` once any of its photos
    referred (a retake cannot clear it), else ``no_refer`` once one of them was graded (a gradable
    photo supersedes one that could not be graded), else ``ungradable``."""
    if not outcomes:
        raise ValueError("a slot's outcome needs at least one photo's")
    for standing in (Outcome.REFER, Outcome.NO_REFER):
        if standing in outcomes:
            return standing
    return Outcome.UNGRADABLE


def patient_outcome(
    modality: str, outcomes: Mapping[str, Outcome], eyes: Collection[str] = FUNDUS_SLOTS
) -> Outcome | None:
    """``refer`` as soon as any slot refers or is ungradable; ``no_refer`` once every slot is
    ``no_refer``; ``None`` while a slot still waits for its photo."""
    expected = slots(modality, eyes)
    taken = [outcomes[slot] for slot in expected if slot in outcomes]
    if any(outcome is not Outcome.NO_REFER for outcome in taken):
        return Outcome.REFER
    return Outcome.NO_REFER if len(taken) == len(expected) else None
