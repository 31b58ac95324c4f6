"""The patient being screened on one session: reference, what is photographed, and each slot's results.

Kept in the app's memory only until the nurse finishes; every result in it is already recorded. A
slot photographed again keeps its earlier results: what the slot stands at is
``protocol.slot_outcome`` of them all, so a retake cannot clear a referral.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, field

from firmware_app.inference.triage import Outcome
from firmware_app.pipeline import BurstCheck, ScreeningResult
from firmware_app.protocol import FUNDUS_SLOTS, patient_outcome, slot_outcome, slots
from firmware_app.records.screening import ScreeningContext


@dataclass
class Visit:
    reference: str
    modality: str
    body_site: str | None = None
    # The eyes the nurse chose to photograph (fundus): both unless one cannot be.
    eyes: tuple[str, ...] = FUNDUS_SLOTS
    slot: str = ""
    # Every result recorded for each slot, in the order the photos were used.
    taken: dict[str, list[ScreeningResult]] = field(default_factory=dict)
    # Each used photo as the check screen showed it (a JPEG data URI), by result id: a lesion's
    # hand-out shows the photo of the result it gives, the one way a specialist finds that lesion
    # among others of the same coarse body site.
    photos: dict[str, str] = field(default_factory=dict)
    # The burst the nurse is checking before submitting it, and its chosen frame at the check
    # screen's display size as a JPEG data URI (encoded once, shown inline: no second request).
    pending: BurstCheck | None = None
    pending_photo: str = ""
    # The slot the waiting photo was taken for: what it is screened and recorded as once used, never
    # the slot the visit stands at then (another tab may have moved on to the other eye meanwhile).
    pending_slot: str = ""
    # The waiting photo's id, carried by the check screen's "Use this photo": a post of it again once
    # it is used (its answer was lost: a dropped connection, and she taps again) is answered with
    # its result as it was recorded, found by the slot it was used for and how many of the slot's
    # results it made (``used``), though the slot was photographed again since; a post of another id
    # (a screen of a photo no longer waiting) uses nothing.
    pending_id: str = ""
    used: dict[str, tuple[str, int]] = field(default_factory=dict)
    # The photo the result screen shows after such a post (an entry of ``used``), kept so that a
    # reload of /result shows what she was looking at, not the slot's latest; it does not move the slot
    # the visit stands at. Cleared when a photo is used or she goes back to the camera (``turn_to``).
    shown: tuple[str, int] | None = None
    # The slot the nurse chose to photograph again ("Retake this one" on its result screen, the
    # one way to): its camera takes photos until one is used. Any other slot with a result says it
    # was screened instead (``screened_already``): Back from a result reloaded the eye's camera, and
    # a shot there recorded the eye a second time, unasked, a second result for the station.
    again: str = ""
    # The patient's results the records held as the visit opened (earlier visits, a lesion before
    # "Another lesion"): an erasure of the patient before the visit's first result removes them, and
    # that result is refused as the next ones are (``context``).
    held: tuple[str, ...] = ()
    # The slots a result of which the review station's notice erased while the visit was open
    # (``forget``): the result screen says so until the slot is recorded again.
    erased: list[str] = field(default_factory=list)
    # Carried by the capture, check and result screens' forms: a post from a screen opened for
    # another visit (a second tab of the session has since opened another patient) is refused, not
    # filed under the patient open now.
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    def __post_init__(self) -> None:
        self.slot = self.slot or self.slots[0]

    def hold(self, checked: BurstCheck | None, slot: str = "", photo: str = "", photo_id: str = "") -> None:
        """The burst to check before submitting, taken for ``slot`` (``None``: submitted or given up
        for a retake), under ``photo_id`` when it is one put back to wait again (else a new id: a new
        photo)."""
        self.pending, self.pending_slot, self.pending_photo = checked, slot if checked else "", photo
        self.pending_id = (photo_id or secrets.token_urlsafe(12)) if checked else ""

    def turn_to(self, slot: str) -> None:
        """Back to the camera for ``slot`` (if one of the visit's, else the current one): the photo
        waiting is given up, and the result asked for again is no longer what the result screen shows."""
        self.slot = slot if slot in self.slots else self.slot
        self.hold(None)
        self.shown = None

    def photograph(self, slot: str) -> None:
        """Back to the camera for ``slot`` as the nurse chose it (a result screen's Next or "Retake this
        one", a check screen's Retake): photographed again, if it has a result already."""
        self.turn_to(slot)
        self.again = self.slot

    @property
    def retaking(self) -> bool:
        """Whether the camera is for a slot with a result chosen to photograph again: that result is
        recorded and stands, as it was, until another photo is used (a photo given up on its check
        screen leaves it so), and the nurse may go back to it (``keep_earlier``)."""
        return self.slot == self.again and self.slot in self.taken

    def keep_earlier(self, slot: str) -> None:
        """``slot``, chosen to photograph again, is not after all (the capture screen's "Keep the
        earlier photo": "Retake this one" pressed by mistake): its camera is closed again."""
        if slot == self.again:
            self.again = ""

    @property
    def screened_already(self) -> bool:
        """Whether the slot the visit stands at has a result and was not chosen to photograph again:
        its camera must not take it a second time."""
        return self.slot in self.taken and self.slot != self.again

    def record(self, result: ScreeningResult, slot: str, photo: str = "", photo_id: str = "") -> None:
        """A photo of ``slot`` (``photo``, as the check screen showed it; ``photo_id``, its id while it
        waited) was used, or (neither) the slot was recorded as not photographed: its result joins the
        slot's earlier ones, and the visit stands at that slot."""
        taken = self.taken.setdefault(slot, [])
        taken.append(result)
        if slot in self.erased:
            self.erased.remove(slot)
        if photo_id:
            self.used[photo_id] = (slot, len(taken))
        self.slot, self.shown = slot, None
        if slot == self.again:  # photographed again as chosen: a further one is chosen on its result again
            self.again = ""
        if result.result_id:
            self.photos[result.result_id] = photo

    def forget(self, result_ids: Collection[str]) -> None:
        """These results were erased since they were recorded (the review station's notice, taken by the
        sync service): the visit holds them no more, so no screen shows them, no slot stands at them and
        the hand-out gives none of them; a slot left with none is to photograph again. A photo used for
        a slot whose results changed is no longer asked for again by its id (``used`` counts them)."""
        for slot, taken in list(self.taken.items()):
            kept = [result for result in taken if result.result_id not in result_ids]
            if len(kept) == len(taken):
                continue
            self.taken[slot] = kept
            if not kept:
                del self.taken[slot]
            if slot not in self.erased:
                self.erased.append(slot)
            self.used = {photo: used for photo, used in self.used.items() if used[0] != slot}
            if self.shown and self.shown[0] == slot:
                self.shown = None
        for result_id in result_ids:
            self.photos.pop(result_id, None)

    def show_used(self, photo_id: str) -> None:
        """The result screen shows the photo used as ``photo_id`` (its answer lost, asked for again);
        the visit stays where it stands (a photo of another slot may be waiting)."""
        self.shown = self.used[photo_id]

    @property
    def on_screen(self) -> tuple[str, int | None]:
        """What the result screen shows: the slot and how many of its results, those up to the photo
        asked for again (``shown``), else all the current slot's (``None``)."""
        return self.shown or (self.slot, None)

    @property
    def results(self) -> dict[str, ScreeningResult]:
        """Each photographed slot's latest result: what the result screen shows of the photo just used."""
        return {slot: taken[-1] for slot, taken in self.taken.items()}

    def standing(self, slot: str, count: int | None = None) -> ScreeningResult:
        """The slot's latest result with the outcome the slot stands at (``slot_outcome``): the
        result the hand-out gives the patient, an earlier referral when a retake did not refer;
        ``count``: as the slot stood once its first ``count`` results were recorded."""
        taken = self.taken[slot][:count]
        outcome = slot_outcome([result.triage.outcome for result in taken])
        return next(result for result in reversed(taken) if result.triage.outcome is outcome)

    @property
    def slots(self) -> tuple[str, ...]:
        return slots(self.modality, self.eyes)

    def context(self, operator: str | None, slot: str) -> ScreeningContext:
        """How a photo of ``slot`` is screened and recorded: the eye, for a fundus visit; beside the
        patient's results the visit knows of (``held``, then its own), which an erasure of the patient
        meanwhile removed (``ScreeningContext.beside``)."""
        eye = slot if self.modality == "fundus" else None
        beside = self.beside
        return ScreeningContext(self.reference, eye=eye, body_site=self.body_site, operator=operator, beside=beside)

    @property
    def beside(self) -> tuple[str, ...]:
        """The patient's results the visit knows of (``held``, then its own): an erasure of the patient
        removes them (``ScreeningStore.gone``)."""
        return (*self.held, *self.result_ids)

    @property
    def result_ids(self) -> list[str]:
        """Every result the visit recorded: a visit finished with an eye not photographed names them (never
        the patient), so that Today's row for that eye opens the patient's record."""
        return [result.result_id for taken in self.taken.values() for result in taken if result.result_id]

    @property
    def eyes_not_photographed(self) -> list[str]:
        """The eyes chosen and not photographed yet: what finishing now records as not photographed
        (Today lists them, to call the patient back). A lesion is no eye: a skin visit has none."""
        return [slot for slot in self.slots if slot not in self.results] if self.modality == "fundus" else []

    @property
    def next_slot(self) -> str | None:
        return self.next_slot_besides("")

    def next_slot_besides(self, shown: str) -> str | None:
        """The next slot to photograph other than ``shown``: what a result screen offers beside ``shown``'s
        own button, its result erased by the station leaving it one to photograph too (``forget``)."""
        return next((slot for slot in self.slots if slot not in self.results and slot != shown), None)

    @property
    def outcome(self) -> Outcome | None:
        outcomes = {slot: self.standing(slot).triage.outcome for slot in self.taken}
        return patient_outcome(self.modality, outcomes, self.eyes)
