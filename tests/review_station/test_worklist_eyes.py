"""The worklist tells a patient's two eyes, or two lesions, apart: each row says which eye or body site,
in the reader's language, in the result page's own words, and a page costs what it cost before: the
same statements however many rows it shows, its rows read from the order index alone."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from review_station.web.app import LANGUAGE_COOKIE
from tests.review_station.kit import plan, statements
from tests.review_station.web_kit import add_results, signed_in_client, station

DERMOSCOPY = {"modality": "dermoscopy", "eye": None}


def shown(page: str) -> dict[str, str]:
    """Each worklist row's eye or body site, by result id."""
    rows = re.findall(r'<tr data-result="([0-9a-f]{32})".*?data-test="photographed">([^<]*)<', page, re.DOTALL)
    return dict(rows)


def test_each_row_says_which_eye_or_body_site_in_english_and_french(engine: Engine) -> None:
    [left] = add_results(engine, "cam-01", "site-a", [0.9], payload={"eye": "L"})
    [right] = add_results(engine, "cam-01", "site-a", [0.9], payload={"eye": "R"})
    [unsaid] = add_results(engine, "cam-01", "site-a", [0.9], payload={"eye": None})
    [arm] = add_results(engine, "cam-02", "site-a", [0.9], payload=DERMOSCOPY | {"body_site": "upper_limb"})
    [back] = add_results(engine, "cam-02", "site-a", [0.9], payload=DERMOSCOPY | {"body_site": "trunk"})
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get("/").text
    assert "<th>Eye / body site</th>" in page
    assert shown(page) == {
        left: "left eye",
        right: "right eye",
        unsaid: "not recorded",
        arm: "upper limb",
        back: "trunk",
    }
    client.cookies.set(LANGUAGE_COOKIE, "fr")
    page = client.get("/").text
    assert "<th>Œil / site corporel</th>" in page
    assert shown(page) == {
        left: "œil gauche",
        right: "œil droit",
        unsaid: "non renseigné",
        arm: "membre supérieur",
        back: "tronc",
    }
    # The result page's heading says it in the same words.
    assert 'data-test="photographed">membre supérieur<' in client.get(f"/results/{arm}").text


def test_a_page_costs_the_same_statements_whatever_it_shows_and_reads_its_rows_from_the_order_index(
    engine: Engine,
) -> None:
    add_results(engine, "cam-01", "site-a", [0.9], payload={"eye": "L"})
    client = signed_in_client(engine, station(), "ana", "reviewer")
    with statements(engine) as one_row:
        assert len(shown(client.get("/").text)) == 1
    add_results(engine, "cam-01", "site-a", [0.9, 0.1] * 3, payload={"eye": "R"})
    add_results(engine, "cam-02", "site-a", [0.9, 0.1], payload=DERMOSCOPY | {"body_site": "trunk"})
    with statements(engine) as nine_rows:
        assert len(shown(client.get("/").text)) == 9
    assert len(nine_rows) == len(one_row)  # no statement per row
    # The rows: those awaiting the reader, then the rest (the page is not full), both in the order index's.
    listed = [(sql, parameters) for sql, parameters in nine_rows if "results.body_site" in sql and "ORDER BY" in sql]
    assert len(listed) == 2
    covering = {"sqlite": "USING COVERING INDEX results_order", "postgresql": "Index Only Scan using results_order"}
    for sql, parameters in listed:
        read = plan(engine, sql, parameters)
        assert covering[engine.dialect.name] in read, read
