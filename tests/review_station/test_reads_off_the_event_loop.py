"""A read being saved holds no other page: its database work runs off the station's event loop, as every
page's does. Saved on it, a read waiting for the database (another read of the result, an ingester's
batch on SQLite's one write lock, an erasure) held every request of its ``serve`` process meanwhile:
every other specialist's pages, reads and polls. Judged by whether another reader's page is answered
while the read is held at its insert (the read waits for that answer, a while at most), never by a clock."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import Engine, event, func, select

from review_station import accounts
from review_station.storage.tables import reads
from tests.review_station.browser import served
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, sign_in, station

ROUTINE = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": "none", "maculopathy": "absent"}


def test_another_readers_page_is_answered_while_a_read_is_being_saved(engine: Engine) -> None:
    [read, opened] = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    saving, answered = threading.Event(), threading.Event()
    waited: list[bool] = []  # whether the held read saw the other page answered, rather than give up

    def hold_the_read(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO reads"):
            saving.set()
            waited.append(answered.wait(timeout=20))

    with served(station(), engine) as base:
        readers = []
        for name in ("ana", "bruno"):
            accounts.add_user(engine, name, PASSWORD, "reviewer", by="test")
            readers.append(httpx.Client(base_url=base, timeout=60))
            sign_in(readers[-1], name, PASSWORD)
        ana, bruno = readers
        form = ROUTINE | {"csrf": csrf_of(ana, f"/results/{read}")}
        saved: list[int] = []
        reading = threading.Thread(
            target=lambda: saved.append(ana.post(f"/results/{read}/reads", data=form).status_code)
        )
        event.listen(engine, "before_cursor_execute", hold_the_read)
        try:
            reading.start()
            assert saving.wait(30), "the read never reached its insert"
            # Bruno's open result page asks how its delivery goes, as it does every few seconds.
            polled = bruno.get(f"/results/{opened}/delivery")
            answered.set()
            reading.join(60)
        finally:
            event.remove(engine, "before_cursor_execute", hold_the_read)
            answered.set()
        for client in readers:
            client.close()
    assert polled.status_code == 200 and saved == [303]
    assert waited == [True]  # before, the poll waited for the read, which gave up waiting for it first
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(reads)).scalar_one() == 1
