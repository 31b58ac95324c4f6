"""A result's page says who else opened it lately: the station double-reads, and two readers who open
the same result at once would both read it without knowing. In English and French; the reader's own
openings are not said, nor older ones, nor another result's; nobody is kept from reading; and the page
finds them in one statement through the audit log's ``audit_recent`` index."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from review_station import audit
from review_station.opened import RECENTLY
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


def test_the_openings_are_one_statement_through_the_recent_events_index(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    ana = signed_in_client(engine, station(), "ana", "reviewer")
    with statements(engine) as sent:
        ana.get(f"/results/{result_id}")
    [(sql, parameters)] = [(sql, parameters) for sql, parameters in sent if "FROM audit" in sql and "LIKE" in sql]
    read = plan(engine, sql, parameters)
    assert "audit_recent" in read and "SCAN audit\n" not in f"{read}\n", read
