"""Wrong passwords sent over and over hold no other page: each password is checked off the station's
event loop (scrypt, about 0.1 s of CPU). Checked on it, every page waited for the checks queued before
it: 1 to 4 s a page under four clients guessing. Judged by how many checks end while one page loads
(a count, not a time: the same on a loaded machine), never by a clock."""

from __future__ import annotations

import json
import statistics
import threading
import time
from itertools import count

import httpx2
from sqlalchemy import Engine, select

from review_station import accounts
from review_station.storage.tables import audit
from tests.review_station.browser import served
from tests.review_station.web_kit import PASSWORD, station

GUESSERS = 6
REFUSALS = select(audit.c.details).where(audit.c.kind == "sign_in_refused").order_by(audit.c.seq)


def test_a_stream_of_wrong_passwords_holds_no_other_page_and_each_is_counted(engine: Engine) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base:
        guessing = threading.Event()
        guessing.set()
        guesses = [0] * GUESSERS
        answered = count()  # every guess answered, by any guesser (next() is atomic under the GIL)

        def guess(which: int) -> None:
            # The sign-in form's token is a cookie echoed in the form: a client makes both up.
            with httpx2.Client(cookies={"review_sign_in": "made-up"}, timeout=60) as client:
                while guessing.is_set():
                    form = {"username": "ana", "password": f"wrong guess {which}", "csrf": "made-up"}
                    assert "failed=1" in client.post(f"{base}/sign-in", data=form).headers["location"]
                    guesses[which] += 1
                    next(answered)

        guessers = [threading.Thread(target=guess, args=(which,)) for which in range(GUESSERS)]
        for thread in guessers:
            thread.start()
        try:
            time.sleep(1)  # the checks queued
            during = []  # how many guesses were answered while each page loaded
            for _ in range(7):
                before = next(answered)
                assert httpx2.get(f"{base}/sign-in", timeout=60).status_code == 200
                during.append(next(answered) - before - 1)
        finally:
            guessing.clear()
            for thread in guessers:
                thread.join()
        # Before, the page waited for the check of every guesser ahead of it: about one each.
        assert statistics.median(during) < GUESSERS / 2, during
    # One at a time, as before: the first wrong passwords locked the account, each refused after it as
    # locked (checked at once, counted by none): never more wrong passwords counted than the lockout's.
    with engine.connect() as connection:
        refusals = [json.loads(details)["why"] for (details,) in connection.execute(REFUSALS)]
    assert len(refusals) == sum(guesses)
    assert refusals.count("password") == station().web.lockout_failures, refusals
