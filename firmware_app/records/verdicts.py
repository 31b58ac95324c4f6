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

# What a specialist's latest verdict asks of the nurse when the device triaged "no_refer": the patient
# may have gone home told "no referral", so both a referral and a photo the specialist could not grade
# (a retake or an examination) mean calling them back.
NO_REFER = "no_refer"
CALL_BACK_VERDICTS = ("refer", "ungradable")

# A screening ``s`` joined to its latest verdict ``r`` (by the station's time; ``LEFT JOIN`` keeps those
# without one).
LATEST_REVIEW = (
    "review r ON r.rowid = "
    f"(SELECT rowid FROM review WHERE result_id = s.result_id ORDER BY {LATEST_REVIEW_FIRST} LIMIT 1)"
)


def to_call_back(columns: str) -> str:
    """``columns`` of the screenings whose latest verdict asks the nurse to call the patient back
    and whose record nobody has opened since it arrived (``Store.view`` marks a result's verdicts
    opened), each joined to that verdict ``r``."""
    return (
        f"SELECT {columns} FROM screening s JOIN {LATEST_REVIEW} "
        f"WHERE s.outcome = '{NO_REFER}' AND r.verdict IN {CALL_BACK_VERDICTS!r} AND r.opened_at IS NULL"
    )
