"""A read being saved, a sign-out, a coordinator's confirmation or handled verdict, and the sign-in
redirect of an ended session hold no other page: their database work runs off the station's event loop,
as every page's does. Done on it, one of them waiting for the database (another read of the result, an
ingester's batch on SQLite's one write lock, an erasure) held every request of its ``serve`` process
meanwhile: every other specialist's pages, reads and polls. Judged by whether another reader's page is
answered while that work is held at its statement (it waits for that answer, a while at most), never by
a clock."""

from __future__ import annotations

import threading

import httpx2
import pytest
from sqlalchemy import Engine, event

from review_station import accounts
from review_station.web.app import SESSION_COOKIE
from tests.review_station.browser import served
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, sign_in, station

ROUTINE = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": "none", "maculopathy": "absent"}


def save_a_read(client: httpx2.Client, result_id: str, csrf: str) -> httpx2.Response:
    return client.post(f"/results/{result_id}/reads", data=ROUTINE | {"csrf": csrf})


def sign_out(client: httpx2.Client, _: str, csrf: str) -> httpx2.Response:
    return client.post("/sign-out", data={"csrf": csrf})


def confirm_the_standing_read(client: httpx2.Client, result_id: str, csrf: str) -> httpx2.Response:
    return client.post(f"/results/{result_id}/contrary-reads", data={"seen": "1", "csrf": csrf})


def mark_a_verdict_handled(client: httpx2.Client, _: str, csrf: str) -> httpx2.Response:
    return client.post("/undelivered/no-such-review/handled", data={"csrf": csrf})


def come_back_signed_out(client: httpx2.Client, *_: str) -> httpx2.Response:
    """A page asked with a session the station does not hold: the sign-in redirect asks whether it
    ended one (``accounts.end_told``, which deletes it if so). The signed-in session's cookie goes first:
    beside it the client would send both, in an order of its own, and the station reads the last."""
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, "no-such-session")
    return client.get("/")


# Each piece of work, the statement it is held at (the first of its kind once the reader asked: the
# session check before it asks none; the form's token is fetched before, its page asks some) and its
# answer.
WORK = {
    "read": (save_a_read, "INSERT INTO reads", 303),
    "sign-out": (sign_out, "DELETE FROM sessions", 303),
    "confirmation": (confirm_the_standing_read, "SELECT reads", 303),
    "handled": (mark_a_verdict_handled, "SELECT deliveries", 404),
    "ended-session": (come_back_signed_out, "DELETE FROM sessions", 303),
}


@pytest.mark.parametrize("work", WORK)
def test_another_readers_page_is_answered_while_a_readers_database_work_is_held(engine: Engine, work: str) -> None:
    asking, held_at, answer = WORK[work]
    [result, opened] = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    holding, answered = threading.Event(), threading.Event()
    waited: list[bool] = []  # whether the held work saw the other page answered, rather than give up

    def hold_the_work(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith(held_at) and not holding.is_set():
            holding.set()
            waited.append(answered.wait(timeout=20))

    with served(station(), engine) as base:
        readers = []
        for name in ("ana", "bruno"):
            accounts.add_user(engine, name, PASSWORD, "coordinator", by="test")
            readers.append(httpx2.Client(base_url=base, timeout=60))
            sign_in(readers[-1], name, PASSWORD)
        ana, bruno = readers
        csrf, asked = csrf_of(ana, f"/results/{result}"), []
        working = threading.Thread(target=lambda: asked.append(asking(ana, result, csrf).status_code))
        event.listen(engine, "before_cursor_execute", hold_the_work)
        try:
            working.start()
            assert holding.wait(30), f"the {work} never reached {held_at}"
            # Bruno's open result page asks how its delivery goes, as it does every few seconds.
            polled = bruno.get(f"/results/{opened}/delivery")
            answered.set()
            working.join(60)
        finally:
            event.remove(engine, "before_cursor_execute", hold_the_work)
            answered.set()
        for client in readers:
            client.close()
    assert polled.status_code == 200 and asked == [answer]
    assert waited == [True]  # before, the poll waited for the work, which gave up waiting for it first
