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
from functools import partial
from typing import TYPE_CHECKING

from edgescreen_wire import typed_text
from firmware_app.inference.triage import Triage
from firmware_app.messages import message
from firmware_app.records.database import RequestRefused, Worded

if TYPE_CHECKING:
    from firmware_app.lesion_measurements import LesionMeasurements

EYES = ("L", "R")
# Coarse enough that a site cannot single a patient out; finer sites stay in the local note.
BODY_SITES = ("head_neck", "trunk", "upper_limb", "lower_limb", "palms_soles", "genital", "other")
MAX_PATIENT_REF = 64
MAX_NOTE = 2000


class ContextError(RequestRefused):
    """The nurse's screening context is not acceptable. Its message says which field and why in
    English, for the log; ``key`` and ``values`` say it in the catalogue's words (``said_in``), so the
    command line answers in the device's language and the app in the page's."""

    def __init__(self, detail: str, key: str, **values: int | str | Worded) -> None:
        super().__init__(detail)
        self.key, self.values = key, values


def refuse_control(text: str | None, what: str, name: str) -> None:
    """``text`` refused by the rule for typed text (``edgescreen_wire.typed_text``) as ``ContextError``:
    in English for the log (``what``), in the catalogue's words (``name``, a "typed.what.*") for the
    person, so a command that checks it once the device's language is known (``erase --patient``)
    says it as ``screen`` and the app's forms do."""
    if text is not None and (why := typed_text.refusal(text, what)):
        code, place = typed_text.first_refused(text) or ("", 0)
        raise ContextError(why, "typed.control", what=partial(message, name), code=code, place=place)


@dataclass(frozen=True)
class ScreeningContext:
    """What the nurse adds to a photo: who (locally only), which eye or body site, a note, and the
    signed-in operator who took it (locally only)."""

    patient_ref: str | None = None
    eye: str | None = None
    body_site: str | None = None
    note: str | None = None
    operator: str | None = None
    # The results of the same patient this one is recorded beside (the app's visit: those held as it
    # opened and those it recorded since): it is recorded only while the records hold every one of
    # them but those the review station's notice erased (results, not a patient mid-visit: a wrong
    # photo its administrator erased). Any other gone was erased, and the patient with it, while the
    # visit was open: by ``edgescreen erase``, another process, which the app's own refusal of an
    # erasure mid-visit (it sees only its memory) cannot reach. The screening is then refused
    # (``records.store.PatientErased``), never recorded under an erased patient.
    beside: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.patient_ref is not None and not 0 < len(self.patient_ref.strip()) <= MAX_PATIENT_REF:
            raise ContextError(
                f"the patient reference must have 1 to {MAX_PATIENT_REF} characters",
                "refused.context.patient_length",
                most=MAX_PATIENT_REF,
            )
        if self.note is not None and len(self.note) > MAX_NOTE:
            raise ContextError(
                f"the note must have at most {MAX_NOTE} characters", "refused.context.note_length", most=MAX_NOTE
            )
        # The rule for typed text (a pasted NUL, C1 or bidirectional control refused, tabs and line
        # breaks kept): the web app's forms say it in the nurse's words first; this holds for every face,
        # said as those forms say it (``typed.control``).
        refuse_control(self.patient_ref, "the patient reference", "typed.what.patient")
        refuse_control(self.note, "the note", "typed.what.note")
        if self.eye is not None and self.eye not in EYES:
            choices, given = ", ".join(EYES), repr(self.eye)
            raise ContextError(
                f"the eye must be one of {choices}, not {given}", "refused.context.eye", choices=choices, given=given
            )
        if self.body_site is not None and self.body_site not in BODY_SITES:
            choices, given = ", ".join(BODY_SITES), repr(self.body_site)
            raise ContextError(
                f"the body site must be one of {choices}, not {given}",
                "refused.context.body_site",
                choices=choices,
                given=given,
            )
        if self.eye is not None and self.body_site is not None:
            raise ContextError("a screening is of an eye or of a body site, not both", "refused.context.eye_and_site")

    def for_modality(self, modality: str) -> None:
        """An eye belongs to a fundus photo and a body site to a dermoscopy photo."""
        if modality == "fundus" and self.body_site is not None:
            raise ContextError("a fundus screening takes --eye, not --body-site", "refused.context.fundus_site")
        if modality == "dermoscopy" and self.eye is not None:
            raise ContextError("a dermoscopy screening takes --body-site, not --eye", "refused.context.dermoscopy_eye")


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
    # The SHA-256 of the photo file screened (``Frame.source_sha256``; ``None`` for a camera's frame):
    # kept on the device only, keyed (``ScreeningStore.screened_before``), never in the payload.
    photo_sha256: str | None = None


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

    @property
    def findings(self) -> dict[str, str]:
        """The read's findings as ``edgescreen.review/2`` carried them: ``{}`` for none (``/1``, or a read
        "not assessed"), for the check against the result's modality (``check_findings_of``)."""
        graded = {"icdr_grade": self.icdr_grade, "maculopathy": self.maculopathy, "diagnosis": self.diagnosis}
        return {name: value for name, value in graded.items() if value is not None}
