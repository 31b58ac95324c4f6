"""What the nurse should do about a frame: one short instruction per defect, in their language.

The wording lives in ``firmware_app.messages``: ``quality.<reason>``, or ``quality.<modality>.<reason>``
where the two modalities need different advice for the same defect (glare on a retina is fixed by
the working distance, on skin by immersion fluid).
"""

from __future__ import annotations

from collections.abc import Iterable

from firmware_app.messages import CATALOGUE, message
from firmware_app.quality.verdict import QualityReport, Verdict

# What the dermoscopy gate says of a lesion it finds in part or not at all: one larger than the
# dermatoscope's view (a melanoma's patchy pigment most of all) reads as uneven light or a lesion off
# centre, a faint one as no lesion. On ISIC UDA-1 the gate refuses 6 of 159 melanomas, and none of
# 396 naevi, for these reasons alone, each such a lesion: no retake fixes them.
_NOT_FOUND_WHOLE = frozenset({"uneven_illumination", "lesion_off_centre", "no_lesion"})


def instruction(reason: str, modality: str, language: str) -> str:
    specific = f"quality.{modality}.{reason}"
    return message(specific if specific in CATALOGUE else f"quality.{reason}", language)


# A reason that another one's instruction mends, by the one cause they share: a lesion that runs out
# of the picture lies off the middle too, and sliding the dermatoscope towards it centres it; "slide
# the dermatoscope towards it" and "centre it" read as two things to do.
_MENDED_BY = {"lesion_off_centre": "lesion_cut"}


def instructed(reasons: Iterable[str]) -> tuple[str, ...]:
    """The reasons the nurse gets an instruction for, one per cause, in the reasons' order (the worst
    defect first): a reason whose instruction another one's mends (``_MENDED_BY``) is told by that
    one, where the first of the two stands (the live box beside the shutter reads the first alone)."""
    reasons = tuple(reasons)
    causes = (_MENDED_BY[reason] if _MENDED_BY.get(reason) in reasons else reason for reason in reasons)
    return tuple(dict.fromkeys(causes))


def guidance(reasons: Iterable[str], modality: str, language: str) -> list[str]:
    """One instruction per cause (``instructed``), the worst defect first."""
    return [instruction(reason, modality, language) for reason in instructed(reasons)]


def way_out(report: QualityReport, language: str) -> str | None:
    """When to stop retaking a refused lesion photo that may be one the gate cannot find whole
    (the check screen's "Record as not gradable"); ``None`` for every other report."""
    if report.modality != "dermoscopy" or report.verdict is not Verdict.REJECT:
        return None
    return message("quality.dermoscopy.not_found_whole", language) if _NOT_FOUND_WHOLE & set(report.reasons) else None
