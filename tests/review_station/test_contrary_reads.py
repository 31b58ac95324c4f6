"""A read refused out of turn that differs in care from the read that stands reaches a coordinator:
flagged on the worklist and shown on the result page until confirmed or amended."""

from __future__ import annotations

import contextlib
import json
import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select

from review_station import accounts, audit, contrary
from review_station.storage.tables import audit as audit_table
from review_station.storage.tables import deliveries, reads
from review_station.verdicts import ReadForm, ReadRefused, record_read
from tests.review_station.test_tallies import counted_from_results, tallied
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station

ROUTINE = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": "none", "maculopathy": "absent"}
URGENT = {"verdict": "refer", "urgency": "urgent", "icdr_grade": "proliferative", "maculopathy": "present"}


def race(engine: Engine, winner: dict[str, str], loser: dict[str, str], comment: str = "") -> tuple[str, str]:
    """Two reviewers open one result of two; ana's read is recorded, ben's refused. Returns the result
    raced for and the other, which nobody read."""
    raced, other = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    ana, ben = (signed_in_client(engine, station(), name, "reviewer") for name in ("ana", "ben"))
    tokens = [csrf_of(client, f"/results/{raced}") for client in (ana, ben)]
    assert ana.post(f"/results/{raced}/reads", data={**winner, "csrf": tokens[0]}).status_code == 303
    lost = ben.post(f"/results/{raced}/reads", data={**loser, "csrf": tokens[1], "comment": comment})
    assert lost.status_code == 422 and "reviewed already" in lost.text
    return raced, other


def flagged_rows(client: TestClient) -> list[str]:
    """The worklist's results that show the refused contrary read badge."""
    rows = re.findall(r'<tr data-result="([0-9a-f]{32})"(.*?)</tr>', client.get("/").text, re.S)
    return [result_id for result_id, cells in rows if 'data-test="contrary-read"' in cells]


def events(engine: Engine, kind: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        assert audit.verify(connection).intact
        found = connection.execute(select(audit_table.c.details).where(audit_table.c.kind == kind))
        return [json.loads(details) for details in found.scalars()]


def test_a_refused_read_that_differs_in_care_is_flagged_until_a_coordinator_confirms_the_read_that_stands(
    engine: Engine,
) -> None:
    raced, other = race(engine, ROUTINE, URGENT, comment="new vessels on the disc")
    cleo = signed_in_client(engine, station(), "cleo", "coordinator")
    assert flagged_rows(cleo) == [raced]
    listed = cleo.get("/?contrary=open").text  # the filter: only the flagged result, counted alone
    assert raced in listed and other not in listed and "<strong>1 result</strong>" in listed
    assert 'data-test="contrary-count"' in cleo.get("/?site=another-site").text  # counted whatever the filters
    page = cleo.get(f"/results/{raced}").text
    refused = re.search(r'<table class="reads" data-test="contrary-reads">.*?</table>', page, re.S).group()
    assert "ben" in refused and "proliferative" in refused and "urgent" in refused and "to settle" in refused
    assert "new vessels on the disc" in refused and 'data-contrary="open"' in refused
    assert "Confirm the read that stands" in page
    reviewer_page = signed_in_client(engine, station(), "dan", "reviewer").get(f"/results/{raced}").text
    assert "it awaits a coordinator" in reviewer_page and "Confirm the read that stands" not in reviewer_page
    [refused_event] = events(engine, "read_refused")
    assert refused_event["contrary"] == 1

    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    assert cleo.post(f"/results/{raced}/contrary-reads", data={"seen": seen, "csrf": csrf_of(cleo)}).status_code == 303
    assert flagged_rows(cleo) == [] and other in cleo.get("/").text and "contrary-count" not in cleo.get("/").text
    page = cleo.get(f"/results/{raced}").text
    assert 'data-contrary="confirmed"' in page and "confirmed by cleo" in page and "Confirm the read" not in page
    with engine.connect() as connection:
        standing = connection.execute(select(reads.c.review_id)).scalar_one()
        assert connection.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1  # nothing resent
    [settled] = events(engine, "contrary_settled")
    assert settled == {"result": raced, "contrary": [1], "how": "confirmed", "review": standing, "by": "cleo"}


def test_a_refused_read_that_agrees_in_care_flags_nothing(engine: Engine) -> None:
    mild = {**ROUTINE, "icdr_grade": "mild"}  # another grade, but neither is referable: the same care
    raced, _ = race(engine, ROUTINE, mild)
    cleo = signed_in_client(engine, station(), "cleo", "coordinator")
    assert flagged_rows(cleo) == [] and "contrary-reads" not in cleo.get(f"/results/{raced}").text
    [refused_event] = events(engine, "read_refused")
    assert refused_event["contrary"] is None


def test_an_amendment_settles_the_refused_reads_its_coordinator_was_shown_and_no_later_one(engine: Engine) -> None:
    raced, _ = race(engine, ROUTINE, URGENT)
    cleo = signed_in_client(engine, station(), "cleo", "coordinator")
    page = cleo.get(f"/results/{raced}").text
    amends = re.search(r'name="amends" value="([^"]+)"', page).group(1)
    settles = re.search(r'name="settles" value="(\d+)"', page).group(1)
    # Another reader's contrary read is refused while cleo has the page open: she has not seen it.
    erin = signed_in_client(engine, station(), "erin", "reviewer")
    soon = {**URGENT, "urgency": "soon"}
    assert erin.post(f"/results/{raced}/reads", data={**soon, "csrf": csrf_of(erin)}).status_code == 422
    amendment = {**URGENT, "amends": amends, "settles": settles, "csrf": csrf_of(cleo)}
    assert cleo.post(f"/results/{raced}/reads", data=amendment).status_code == 303
    page = cleo.get(f"/results/{raced}").text
    assert page.count('data-contrary="amended"') == 1 and page.count('data-contrary="open"') == 1
    assert flagged_rows(cleo) == [raced]
    with engine.connect() as connection:
        amended = connection.execute(select(reads.c.review_id).where(reads.c.kind == "amendment")).scalar_one()
    [settled] = events(engine, "contrary_settled")
    assert settled == {"result": raced, "contrary": [1], "how": "amended", "review": amended, "by": "cleo"}


def test_two_coordinators_confirming_at_once_settle_the_refused_read_once(engine: Engine) -> None:
    """Two coordinators confirm the read that stands from the same page at once. Each read the refused
    reads awaiting, then settled them: without the result held from that look, the second settled and
    committed while the first was between the two, the first settled them again, and the audit log
    said twice that they were settled, by two coordinators. Held back at the database driver as it
    settles, the first lets the second run, which waits for it and finds nothing left to settle."""
    raced, _ = race(engine, ROUTINE, URGENT)
    coordinators = {}
    for name in ("cleo", "dora"):
        accounts.add_user(engine, name, PASSWORD, "coordinator", by="test")
        coordinators[name] = accounts.sign_in(engine, name, PASSWORD, station().web)[1]
    held_thread, settled = threading.get_ident(), {}
    other = threading.Thread(
        target=lambda: settled.update(dora=contrary.confirm(engine, raced, 1, coordinators["dora"]))
    )

    def hold_back(connection, cursor, statement: str, *_: object) -> None:
        if threading.get_ident() == held_thread and statement.startswith("UPDATE contrary_reads"):
            other.start()
            other.join(2)

    event.listen(engine, "before_cursor_execute", hold_back)
    try:
        settled["cleo"] = contrary.confirm(engine, raced, 1, coordinators["cleo"])
    finally:
        event.remove(engine, "before_cursor_execute", hold_back)
    other.join(20)
    assert settled == {"cleo": [1], "dora": []}
    assert [event["by"] for event in events(engine, "contrary_settled")] == ["cleo"]


def test_only_a_coordinator_confirms_and_only_with_a_number_for_what_they_saw(engine: Engine) -> None:
    raced, _ = race(engine, ROUTINE, URGENT)
    dan = signed_in_client(engine, station(), "dan", "reviewer")
    assert dan.post(f"/results/{raced}/contrary-reads", data={"seen": "1", "csrf": csrf_of(dan)}).status_code == 403
    cleo = signed_in_client(engine, station(), "cleo", "coordinator")
    forged = cleo.post(f"/results/{raced}/contrary-reads", data={"seen": "1 OR 1=1", "csrf": csrf_of(cleo)})
    assert forged.status_code == 422 and flagged_rows(cleo) == [raced]


def test_two_reads_saved_at_the_same_moment_record_one_and_refuse_the_other(engine: Engine) -> None:
    """Two reviewers' reads of one result, released together (two ``serve`` processes on one SQLite
    file). SQLite ignores FOR UPDATE, and its transaction began only at the read's insert, so both read
    "awaiting review" and both were recorded: two contrary verdicts queued for the device, the
    worklist's counts off. Each read waits at its insert for the other to reach its own (in vain, a
    moment, once the first holds the result): the second finds the first recorded and is refused, kept
    for a coordinator, as PostgreSQL refused it."""
    [raced] = add_results(engine, "cam-01", "site-a", [0.9])
    readers = []
    for name in ("ana", "ben"):
        accounts.add_user(engine, name, PASSWORD, "reviewer", by="test")
        readers.append(accounts.sign_in(engine, name, PASSWORD, station().web)[1])
    released, inserting = threading.Barrier(2), threading.Barrier(2)
    outcomes: list[str] = []

    def meet_at_the_insert(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO reads"):
            with contextlib.suppress(threading.BrokenBarrierError):
                inserting.wait(timeout=1.0)

    def read(reader: accounts.SignedIn, form: dict[str, str]) -> None:
        released.wait()
        try:
            outcomes.append(record_read(engine, raced, reader, ReadForm(**form), ()))
        except ReadRefused as refused:
            outcomes.append(refused.key)

    threads = [threading.Thread(target=read, args=pair) for pair in zip(readers, (ROUTINE, URGENT), strict=True)]
    event.listen(engine, "before_cursor_execute", meet_at_the_insert)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", meet_at_the_insert)
    assert sorted(outcomes) == ["reviewed", "reviewed_already"]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(reads)).scalar_one() == 1
        assert connection.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1
    assert tallied(engine) == counted_from_results(engine)
    [refused_event] = events(engine, "read_refused")
    assert refused_event["contrary"] == 1
