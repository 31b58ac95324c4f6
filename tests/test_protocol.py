"""The patient-level outcome: an eye that refers or could not be graded refers the patient; a slot
photographed again stands at a referral any of its photos gave, else at a graded photo's outcome."""

from __future__ import annotations

import pytest

from firmware_app.inference.triage import Outcome, Triage
from firmware_app.pipeline import ScreeningResult
from firmware_app.protocol import patient_outcome, slot_outcome
from firmware_app.quality.verdict import QualityReport, Verdict
from firmware_app.web.visit import Visit

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


@pytest.mark.parametrize(
    ("photos", "expected"),
    [
        ([NO], NO),
        ([REFER, NO], REFER),  # a retake cannot clear a referral
        ([NO, REFER], REFER),
        ([UNGRADABLE, NO], NO),  # a graded photo supersedes one that could not be graded
        ([NO, UNGRADABLE], NO),
        ([UNGRADABLE, REFER, UNGRADABLE, NO], REFER),
        ([UNGRADABLE, UNGRADABLE], UNGRADABLE),
    ],
)
def test_a_slot_photographed_again(photos, expected):
    assert slot_outcome(photos) is expected


def test_a_slot_without_a_photo_has_no_outcome():
    with pytest.raises(ValueError, match="at least one"):
        slot_outcome([])


def _result(outcome: Outcome) -> ScreeningResult:
    verdict = Verdict.REJECT if outcome is UNGRADABLE else Verdict.GOOD
    return ScreeningResult("frame.jpg", "fundus", Triage(outcome), QualityReport("fundus", verdict, ()))


def test_a_visit_keeps_every_photo_and_stands_at_the_slots_outcome():
    visit = Visit("MRN-1", "fundus")
    referred, cleared, ungradable = _result(REFER), _result(NO), _result(UNGRADABLE)
    visit.record(referred, "R", photo="", photo_id="1")
    visit.record(cleared, "R", photo="", photo_id="2")  # the right eye retaken
    assert visit.results == {"R": cleared}  # the result screen shows the photo just used
    assert visit.standing("R") is referred and visit.taken["R"] == [referred, cleared]
    assert visit.outcome is REFER  # the hand-out's
    visit.record(ungradable, "L", photo="", photo_id="3")
    visit.record(cleared, "L", photo="", photo_id="4")
    assert visit.standing("L") is cleared
    assert visit.outcome is REFER
    # A repeated post's result, by its photo: its slot and how many of the slot's results it made.
    assert visit.used == {"1": ("R", 1), "2": ("R", 2), "3": ("L", 1), "4": ("L", 2)}
    assert visit.standing("R", 1) is referred and visit.standing("L", 1) is ungradable  # as each was recorded


def test_a_result_asked_for_again_leaves_the_visit_and_the_waiting_photo_at_their_slot():
    """The right eye's photo used (its answer lost), the left eye's taken in another tab and waiting,
    then the right eye's result asked for again: showing it moved the visit back to the right eye,
    and the left eye's photo was then screened and recorded as the right eye."""
    visit = Visit("MRN-2", "fundus")
    visit.record(_result(NO), "R", photo="", photo_id="right")
    visit.turn_to("L")  # "Next: Left eye" in the other tab
    visit.hold(object(), visit.slot, photo="left.jpg")  # type: ignore[arg-type]  # the check screen's burst
    visit.show_used("right")
    assert visit.on_screen == ("R", 1)  # the right eye's result on the screen
    assert (visit.slot, visit.pending_slot) == ("L", "L")  # the visit and the photo where they were
    assert visit.context(None, visit.pending_slot).eye == "L"
    visit.record(_result(REFER), visit.pending_slot, photo="left.jpg", photo_id=visit.pending_id)
    assert {slot: len(taken) for slot, taken in visit.taken.items()} == {"R": 1, "L": 1}
    assert visit.on_screen == ("L", None)  # the photo just used
