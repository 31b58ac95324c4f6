"""What the device keeps about one screening, as small immutable values.

The nurse's context (patient reference, free-text note) and the image's source name are kept here
so that records can store them encrypted; everything that may leave the device is chosen from these
values by the allow-list in ``sync/payload.py``, which never reads the identifying ones.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from edgescreen_wire import typed_text
from firmware_app.inference.triage import Triage

if TYPE_CHECKING:
    from firmware_app.lesion_measurements import LesionMeasurements

EYES = ("L", "R")
# Coarse enough that a site cannot single a patient out; finer sites stay in the local note.
BODY_SITES = ("head_neck", "trunk", "upper_limb", "lower_limb", "palms_soles", "genital", "other")
MAX_PATIENT_REF = 64
MAX_NOTE = 2000


class ContextError(ValueError):
    """The nurse's screening context is not acceptable; the message says which field and why."""


@dataclass(frozen=True)
class ScreeningContext:
    """What the nurse adds to a photo: who (locally only), which eye or body site, a note, and the
    signed-in operator who took it (locally only)."""

    patient_ref: str | None = None
    eye: str | None = None
    body_site: str | None = None
    note: str | None = None
    operator: str | None = None

    def __post_init__(self) -> None:
        if self.patient_ref is not None and not 0 < len(self.patient_ref.strip()) <= MAX_PATIENT_REF:
            raise ContextError(f"the patient reference must have 1 to {MAX_PATIENT_REF} characters")
        if self.note is not None and len(self.note) > MAX_NOTE:
            raise ContextError(f"the note must have at most {MAX_NOTE} characters")
        # The rule for typed text (a pasted NUL, C1 or bidirectional control refused, tabs and line
        # breaks kept): the web app's forms say it in the nurse's words first; this holds for every face.
        for what, text in (("the patient reference", self.patient_ref), ("the note", self.note)):
            if text is not None and (why := typed_text.refusal(text, what)):
                raise ContextError(why)
        if self.eye is not None and self.eye not in EYES:
            raise ContextError(f"the eye must be one of {', '.join(EYES)}, not {self.eye!r}")
        if self.body_site is not None and self.body_site not in BODY_SITES:
            raise ContextError(f"the body site must be one of {', '.join(BODY_SITES)}, not {self.body_site!r}")
        if self.eye is not None and self.body_site is not None:
            raise ContextError("a screening is of an eye or of a body site, not both")

    def for_modality(self, modality: str) -> None:
        """An eye belongs to a fundus photo and a body site to a dermoscopy photo."""
        if modality == "fundus" and self.body_site is not None:
            raise ContextError("a fundus screening takes --eye, not --body-site")
        if modality == "dermoscopy" and self.eye is not None:
            raise ContextError("a dermoscopy screening takes --body-site, not --eye")


@dataclass(frozen=True)
class QualitySummary:
    """The quality gate's verdict as records and the wire keep it: codes and numbers, no prose."""

    verdict: str
    reasons: tuple[str, ...] = ()
    measures: Mapping[str, float] = field(default_factory=dict)


def new_result_id() -> str:
    """A random id: it links nothing to the patient, and receivers de-duplicate on it."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class ScreeningRecord:
    """One screening as it is recorded; ``quality`` and ``calibration_id`` come when those stages do."""

    result_id: str
    captured_at: datetime
    modality: str
    triage: Triage
    context: ScreeningContext
    source: str
    quality: QualitySummary | None = None
    calibration_id: str | None = None
    # The state of the clock ``captured_at`` was read from (a ``records.clock.ClockState`` value).
    clock: str | None = None
    # Dermoscopy: the lesion's diameter and the skin's tone (``edgescreen.result/2`` sends them coarsened).
    lesion: LesionMeasurements | None = None


@dataclass(frozen=True)
class Review:
    """A specialist's verdict on one result, as received on the ``review`` topic."""

    review_id: str
    result_id: str
    verdict: str
    reviewed_at: datetime
    reviewer: str
    comment: str | None
    # From ``edgescreen.review/2`` (None from ``/1``): how soon the patient is to be seen, and the
    # read's findings, a fundus read's grade and maculopathy or a dermoscopy read's diagnosis.
    urgency: str | None = None
    icdr_grade: str | None = None
    maculopathy: str | None = None
    diagnosis: str | None = None
