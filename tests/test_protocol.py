"""The patient-level outcome: an eye that refers or could not be graded refers the patient."""

from __future__ import annotations

import pytest

from firmware_app.inference.triage import Outcome
from firmware_app.protocol import patient_outcome

REFER, NO, UNGRADABLE = Outcome.REFER, Outcome.NO_REFER, Outcome.UNGRADABLE


@pytest.mark.parametrize(
    ("eyes", "expected"),
    [
        ({}, None),
        ({"R": NO}, None),
        ({"R": REFER}, REFER),
        ({"R": UNGRADABLE}, REFER),
        ({"R": NO, "L": NO}, NO),
        ({"R": NO, "L": REFER}, REFER),
        ({"R": NO, "L": UNGRADABLE}, REFER),
    ],
)
def test_fundus_patient_outcome(eyes, expected):
    assert patient_outcome("fundus", eyes) == expected


def test_one_eye_chosen_is_the_patients_outcome():
    assert patient_outcome("fundus", {"L": NO}, eyes=("L",)) is NO
    assert patient_outcome("fundus", {"R": UNGRADABLE}, eyes=("R",)) is REFER
    assert patient_outcome("fundus", {}, eyes=("L",)) is None
    assert patient_outcome("fundus", {"R": REFER}, eyes=("L",)) is None  # not an eye of this screening


def test_a_lesion_is_its_own_outcome():
    assert patient_outcome("dermoscopy", {"lesion": NO}) is NO
    assert patient_outcome("dermoscopy", {"lesion": UNGRADABLE}) is REFER
