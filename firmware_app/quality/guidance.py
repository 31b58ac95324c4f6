"""What the nurse should do about a frame: one short instruction per defect, in their language.

The wording lives in ``firmware_app.messages``: ``quality.<reason>``, or ``quality.<modality>.<reason>``
where the two modalities need different advice for the same defect (glare on a retina is fixed by
the working distance, on skin by immersion fluid).
"""

from __future__ import annotations

from collections.abc import Iterable

from firmware_app.messages import CATALOGUE, message


def instruction(reason: str, modality: str, language: str) -> str:
    specific = f"quality.{modality}.{reason}"
    return message(specific if specific in CATALOGUE else f"quality.{reason}", language)


def guidance(reasons: Iterable[str], modality: str, language: str) -> list[str]:
    """One instruction per reason, in the reasons' order (the worst defect first)."""
    return [instruction(reason, modality, language) for reason in reasons]
