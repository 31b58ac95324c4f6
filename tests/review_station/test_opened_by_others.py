"""A result's page says who else opened it lately: the station double-reads, and two readers who open
the same result at once would both read it without knowing. In English and French; the reader's own
openings are not said, nor older ones, nor another result's; nobody is kept from reading; and the page
finds them in one statement through the audit log's ``audit_recent`` index."""

from __future__ import annotations

import contextlib
import html
import re
import threading
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, event, select, update

from review_station import audit
from review_station.opened import RECENTLY, Opening, opened_by_others
from review_station.storage.tables import audit as audit_log
from review_station.web.app import LANGUAGE_COOKIE
from tests.review_station.kit import plan, statements
from tests.review_station.web_kit import add_results, signed_in_client, station


def said(page: str) -> list[str]:
    """The page's sentences on others' openings, as a reader reads them."""
    found = re.findall(r'data-test="opened-by-other">(.*?)</p>', page, re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", sentence)) for sentence in found]


def test_a_result_page_says_who_else_opened_it_lately_and_still_lets_the_reader_read(engine: Engine) -> None:
    [result_id, other] = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    config = station(second_read_sites=("site-a",))
    ana = signed_in_client(engine, config, "ana", "reviewer")
    bruno = signed_in_client(engine, config, "bruno", "reviewer")
    page = f"/results/{result_id}"
    assert said(ana.get(page).text) == []
    assert said(ana.get(page).text) == []  # her own opening is no news to her
    assert said(bruno.get(page).text) == ["ana opened this result less than a minute ago"]
    now = datetime.now(UTC)
    with engine.begin() as connection:  # earlier openings, as the audit log holds them
        for by, ago, opened in (
            ("carla", timedelta(minutes=3, seconds=10), result_id),
            ("dora", timedelta(minutes=1, seconds=5), result_id),
            ("emil", RECENTLY + timedelta(minutes=1), result_id),  # too long ago to be a read in progress
            ("fred", timedelta(seconds=5), other),
        ):
            audit.append(connection, "view", {"result": opened, "by": by}, at=now - ago)
    shown = ana.get(page).text
    assert said(shown) == [
        "bruno opened this result less than a minute ago",
        "dora opened this result 1 minute ago",
        "carla opened this result 3 minutes ago",
    ]
    assert 'id="read-form"' in shown  # told, not stopped
    ana.cookies.set(LANGUAGE_COOKIE, "fr")
    assert said(ana.get(page).text) == [
        "bruno a ouvert ce résultat il y a moins d'une minute",
        "dora a ouvert ce résultat il y a 1 minute",
        "carla a ouvert ce résultat il y a 3 minutes",
    ]


def test_two_readers_opening_a_result_at_the_same_moment_are_both_shown_it_and_both_audited(engine: Engine) -> None:
    """Each page's view is appended to the audit log, numbered after the last event. On SQLite the last
    was read before the transaction took the database's write lock (pysqlite begins it at the first
    write): two readers (two ``serve`` processes, or two threads of one) opening a page at once read the
    same last event, numbered theirs alike, and the second's insert failed, an HTTP 500 in place of the
    page. Each opening waits at its insert for the other to reach its own (in vain, a moment, once the
    first holds the log), so both have read the last event before either writes, if they can."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    readers = [signed_in_client(engine, station(), name, "reviewer") for name in ("ana", "bruno")]
    inserting = threading.Barrier(2)
    shown: list[int | Exception] = []

    def meet_at_the_insert(connection, cursor, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO audit"):
            with contextlib.suppress(threading.BrokenBarrierError):
                inserting.wait(timeout=1.0)

    def open_page(reader) -> None:
        try:
            shown.append(reader.get(f"/results/{result_id}").status_code)
        except Exception as error:  # the station's failure, as the test client raises it
            shown.append(error)

    opening = [threading.Thread(target=open_page, args=(reader,)) for reader in readers]
    event.listen(engine, "before_cursor_execute", meet_at_the_insert)
    try:
        for thread in opening:
            thread.start()
        for thread in opening:
            thread.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", meet_at_the_insert)
    assert shown == [200, 200]
    with engine.connect() as connection:
        assert audit.verify(connection).first_bad is None
        views = connection.execute(select(audit_log.c.details).where(audit_log.c.kind == "view")).scalars().all()
    assert sorted(views) == sorted(f'{{"by":"{name}","result":"{result_id}"}}' for name in ("ana", "bruno"))


def test_openings_are_told_by_when_they_happened_whatever_offset_or_precision_their_time_was_written_with(
    engine: Engine,
) -> None:
    """The audit log keeps each event's time as the ISO text it was given: an opening written in another
    offset, or to the second, sorts as text before or after the cut-off whatever its moment was."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    now = datetime(2026, 12, 4, 17, 0, 0, 500000, tzinfo=UTC)
    with engine.begin() as connection:
        for by, at in (
            ("ana", (now - timedelta(minutes=2)).astimezone(timezone(timedelta(hours=-5)))),  # "...T11:58..-05:00"
            ("bruno", (now - timedelta(minutes=20)).astimezone(timezone(timedelta(hours=5)))),  # "...T21:40..+05:00"
            ("carla", (now - RECENTLY).replace(microsecond=0)),  # "...T16:45:00+00:00": 0.5 s too early
            ("dora", (now - RECENTLY + timedelta(seconds=1)).replace(microsecond=0)),  # 0.5 s in
        ):
            audit.append(connection, "view", {"result": result_id, "by": by}, at=at)
        assert opened_by_others(connection, result_id, "emil", now) == [Opening("ana", 2), Opening("dora", 14)]


def test_an_opening_whose_compared_time_was_edited_breaks_the_audit_check(engine: Engine) -> None:
    """``at_utc`` is outside the hashes: moved into the last minutes, an old opening is told as a read in
    progress, with the chain intact. The check finds it, and any offset or precision ``at`` was written
    with is no finding."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    now = datetime.now(UTC)
    long_ago, moved = (now - timedelta(hours=3)).replace(microsecond=0), now - timedelta(minutes=4)
    with engine.begin() as connection:
        for by, at in (
            ("ana", (now - timedelta(minutes=2)).astimezone(timezone(timedelta(hours=-5)))),
            ("bruno", long_ago),
            ("carla", now - timedelta(minutes=1)),
        ):
            audit.append(connection, "view", {"result": result_id, "by": by}, at=at)
        assert audit.verify(connection).intact
        seq = connection.execute(select(audit_log.c.seq).where(audit_log.c.details.contains('"bruno"'))).scalar_one()
        connection.execute(update(audit_log).where(audit_log.c.seq == seq).values(at_utc=moved))
        assert [opening.by for opening in opened_by_others(connection, result_id, "dora")] == ["carla", "ana", "bruno"]
        check = audit.verify(connection)
    assert (check.events, check.first_bad) == (seq - 1, seq)
    assert (
        check.problem
        == f"event {seq} (view) was altered: at_utc {moved.isoformat()} is not its time {long_ago.isoformat()}"
    )


def test_the_openings_are_one_statement_through_the_recent_events_index(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    ana = signed_in_client(engine, station(), "ana", "reviewer")
    with statements(engine) as sent:
        ana.get(f"/results/{result_id}")
    [(sql, parameters)] = [(sql, parameters) for sql, parameters in sent if "FROM audit" in sql and "LIKE" in sql]
    read = plan(engine, sql, parameters)
    assert "audit_recent" in read and "SCAN audit\n" not in f"{read}\n", read
    # The time bounds the index's range (as a time: ``at_utc``), not a filter over every "view" event.
    assert any("at_utc" in line and ("USING INDEX" in line or "Index Cond" in line) for line in read.splitlines())
