"""What a result's specialist verdicts mean on the device: which one stands, and which ask the nurse to
call the patient back. Queries of the records (the worklist, the banner, the photos' retention) share
these, so the nurse's list and what the device keeps for it never disagree.

Reads codes and times only, as SQL fragments over ``screening s`` and its latest verdict ``r``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from firmware_app.records.clock import ClockState

# A result's verdicts in the order the station decided them (its clock, the same for every verdict; the
# device's may jump, and two ingesters' messages may arrive out of order): the last one stands.
_REVIEW_SEQUENCE = ("reviewed_at", "received_at", "rowid")
REVIEW_ORDER = ", ".join(_REVIEW_SEQUENCE)
LATEST_REVIEW_FIRST = ", ".join(f"{column} DESC" for column in _REVIEW_SEQUENCE)

# What a specialist's latest verdict asks of the nurse that the device did not, so the patient is to be
# called back. A referral or a "not gradable" may ask something; a "no referral" only of a patient the
# device referred (below), else it confirms or clears. The device gives no urgency, so the nurse
# arranged a routine referral at best: whatever the device triaged, an urgent or a "soon" one means
# bringing it forward, and a verdict read only as a badge on Today the day it arrives may never reach
# her; its badge names the urgency, the one thing to act on. Else, when the device triaged "no_refer",
# the patient may have gone home told "no referral", so a referral and a photo the specialist could not
# grade (a retake or an examination) both mean calling them back. A referral of a photo the device
# found ungradable does too, worded "unless already referred": the nurse told that patient to be
# referred (the result screen: "retake the photo, or refer for a manual examination"), unless a retake
# of the eye or lesion came back "no_refer" and replaced it (``protocol.slot_outcome``): then the
# patient went home told "no referral", and only this verdict says otherwise. The records do not link a
# retake to the photo it replaced, so the nurse, who knows the visit, decides. And a "no referral" asks
# something of a patient the device referred: the nurse told them so and arranged the referral at the
# visit, and they wait for an appointment nobody needs unless told, and the referral cancelled (unless
# another eye or lesion of theirs still needs it: the nurse, who knows the visit, decides). So does a
# "no referral" of a photo the device found ungradable (an eye that could not be photographed among
# them), worded "if referred": the nurse told that patient to be referred for want of a readable photo,
# unless a retake replaced it, as for a referral of one. A patient the device referred whose result a
# specialist once said "no referral" of, that call-back opened, stands as one it cleared: the nurse told
# them and cancelled the referral, so an amendment back to a referral or a "not gradable" calls them
# back. Likewise a patient the device cleared whose referral call-back was opened: the nurse referred
# them, so an amendment to "no referral" calls them back, as the device's referral would (``_told``).
REFER = "refer"
NO_REFER = "no_refer"
UNGRADABLE = "ungradable"
CALL_BACK_VERDICTS = (REFER, UNGRADABLE)
URGENT = "urgent"
SOON_OR_URGENT = ("soon", URGENT)
UNLESS_REFERRED = "refer_unless_referred"
IF_REFERRED = "no_refer_if_referred"


def _told(outcome: str) -> str:
    """An SQL condition on a screening ``s`` and its latest verdict ``r``, true when the patient went
    home told ``outcome`` ("refer" or "no_refer"), or was told it since: the device triaged it, or
    triaged the other and a verdict of ``s`` before ``r`` said it and was opened on its own, before
    ``r`` was (its call-back, which the nurse opens the record to make). One opened only with ``r``,
    or never, was read by nobody: nothing was said."""
    other = NO_REFER if outcome == REFER else REFER
    return (
        f"(s.outcome = '{outcome}' OR (s.outcome = '{other}' AND EXISTS (SELECT 1 FROM review earlier "
        f"WHERE earlier.result_id = s.result_id AND earlier.verdict = '{outcome}' AND earlier.rowid <> r.rowid "
        "AND earlier.opened_at < coalesce(r.opened_at, '9999'))))"
    )


TOLD_REFERRAL = _told(REFER)
TOLD_NO_REFERRAL = _told(NO_REFER)

# Why a screening ``s``'s latest verdict ``r`` asks for a call-back, ``NULL`` when it does not: the
# verdict itself when it overturns a referral the patient was told ("no_refer", ``TOLD_REFERRAL``),
# ``no_refer_if_referred`` when it clears an ungradable photo, else its urgency when it asks for one,
# else the verdict itself when it overturns a "no referral" the patient was told (``TOLD_NO_REFERRAL``),
# else ``refer_unless_referred`` (a referral of an ungradable photo). The badge on Today names it.
CALL_BACK_REASON = (
    f"CASE WHEN r.verdict = '{NO_REFER}' AND {TOLD_REFERRAL} THEN r.verdict "
    f"WHEN s.outcome = '{UNGRADABLE}' AND r.verdict = '{NO_REFER}' THEN '{IF_REFERRED}' "
    f"WHEN r.verdict NOT IN {CALL_BACK_VERDICTS!r} THEN NULL "
    f"WHEN r.urgency IN {SOON_OR_URGENT!r} THEN r.urgency "
    f"WHEN {TOLD_NO_REFERRAL} THEN r.verdict "
    f"WHEN s.outcome = '{UNGRADABLE}' AND r.verdict = '{REFER}' THEN '{UNLESS_REFERRED}' END"
)

# A screening ``s`` joined to its latest verdict ``r`` (by the station's time; ``LEFT JOIN`` keeps those
# without one).
LATEST_REVIEW = (
    "review r ON r.rowid = "
    f"(SELECT rowid FROM review WHERE result_id = s.result_id ORDER BY {LATEST_REVIEW_FIRST} LIMIT 1)"
)


# Why one screening's latest verdict asks for a call-back (``CALL_BACK_REASON``), its ``result_id`` the
# parameter: its record says it as Today does. No row without a verdict, ``NULL`` when it asks nothing.
CALL_BACK_OF_ONE = f"SELECT {CALL_BACK_REASON} FROM screening s JOIN {LATEST_REVIEW} WHERE s.result_id = ?"


# Whether a screening ``s``'s latest verdict ``r`` asks the nurse to call the patient back
# (``CALL_BACK_REASON``) and nobody has opened the record since it arrived (``Store.view`` marks a
# result's verdicts opened): the banner counts these, and Today lists them first.
AWAITING_CALL_BACK = f"({CALL_BACK_REASON}) IS NOT NULL AND r.opened_at IS NULL"


def to_call_back(columns: str) -> str:
    """``columns`` of the screenings awaiting a call-back (``AWAITING_CALL_BACK``), each joined to its
    latest verdict ``r``."""
    return f"SELECT {columns} FROM screening s JOIN {LATEST_REVIEW} WHERE {AWAITING_CALL_BACK}"


# How much later than its arrival here a verdict may be dated before the station's clock is taken to have
# been ahead of the device's: the two clocks drift apart by seconds, and the broker holds a verdict for
# minutes at most while the device is online (longer while it is not, which makes it later, not earlier).
STATION_AHEAD_BY = timedelta(minutes=5)


def station_clock_ahead(reviewed_at: str, received_at: str, clock: str | None) -> bool:
    """Whether a verdict is dated (``reviewed_at``, the station's clock) later than this device received it
    (``received_at``, its own, in the state ``clock`` it was then) by more than ``STATION_AHEAD_BY``: a
    date the verdict cannot have had, which shown alone tells the nurse of a decision from the future. It
    still orders the amendments (``REVIEW_ORDER``): the station's one clock dated them all. Not when this
    device's clock was not set (``BEFORE_BUILD``): its arrival's date is the one that cannot be true."""
    if clock == ClockState.BEFORE_BUILD:
        return False
    return datetime.fromisoformat(reviewed_at) - datetime.fromisoformat(received_at) > STATION_AHEAD_BY
