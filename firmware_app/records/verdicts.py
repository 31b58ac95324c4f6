"""What a result's specialist verdicts mean on the device: which one stands, and which ask the nurse to
call the patient back. Queries of the records (the worklist, the banner, the photos' retention) share
these, so the nurse's list and what the device keeps for it never disagree.

Reads codes and times only, as SQL fragments over ``screening s`` and its latest verdict ``r``.
"""

from __future__ import annotations

# A result's verdicts in the order the station decided them (its clock, the same for every verdict; the
# device's may jump, and two ingesters' messages may arrive out of order): the last one stands.
_REVIEW_SEQUENCE = ("reviewed_at", "received_at", "rowid")
REVIEW_ORDER = ", ".join(_REVIEW_SEQUENCE)
LATEST_REVIEW_FIRST = ", ".join(f"{column} DESC" for column in _REVIEW_SEQUENCE)

# What a specialist's latest verdict asks of the nurse that the device did not, so the patient is to
# be called back. When the device triaged "no_refer", the patient may have gone home told "no
# referral", so both a referral and a photo the specialist could not grade (a retake or an
# examination) mean calling them back. Whatever the device triaged, a referral or a "not gradable"
# the specialist marks urgent does too: the device gives no urgency, so the nurse arranged a routine
# referral at best, and a verdict read only as a badge on Today the day it arrives may never reach
# her. A specialist's routine "refer" on a photo the device found ungradable is no call-back: the
# nurse told that patient to be referred (the result screen: "retake the photo, or refer for a manual
# examination"; the patient's outcome and hand-out count it as a referral), and a retake that
# replaced it is a screening of its own, called back by its own verdict.
NO_REFER = "no_refer"
CALL_BACK_VERDICTS = ("refer", "ungradable")
URGENT = "urgent"

# Why a screening ``s``'s latest verdict ``r`` asks for a call-back, ``NULL`` when it does not: the
# verdict itself when it overturns a "no_refer" (the badge names it), else ``urgent``.
CALL_BACK_REASON = (
    f"CASE WHEN r.verdict NOT IN {CALL_BACK_VERDICTS!r} THEN NULL "
    f"WHEN s.outcome = '{NO_REFER}' THEN r.verdict WHEN r.urgency = '{URGENT}' THEN '{URGENT}' END"
)

# A screening ``s`` joined to its latest verdict ``r`` (by the station's time; ``LEFT JOIN`` keeps those
# without one).
LATEST_REVIEW = (
    "review r ON r.rowid = "
    f"(SELECT rowid FROM review WHERE result_id = s.result_id ORDER BY {LATEST_REVIEW_FIRST} LIMIT 1)"
)


def to_call_back(columns: str) -> str:
    """``columns`` of the screenings whose latest verdict asks the nurse to call the patient back
    (``CALL_BACK_REASON``) and whose record nobody has opened since it arrived (``Store.view`` marks a result's verdicts
    opened), each joined to that verdict ``r``."""
    return (
        f"SELECT {columns} FROM screening s JOIN {LATEST_REVIEW} "
        f"WHERE ({CALL_BACK_REASON}) IS NOT NULL AND r.opened_at IS NULL"
    )
