"""Text a person typed, on both databases: a NUL or a bidirectional control in a read's comment, a
sign-in name, a filter or a result id is refused in words (PostgreSQL failed with a 500 and lost the
read), and stored text from before the rule shows its controls as codes."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update

from edgescreen_wire.typed_text import cleaned, marked, refusal
from review_station.storage.tables import reads, results
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, sign_in, signed_in_client, station

READ = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069"]


@pytest.mark.parametrize("control", CONTROLS)
def test_each_control_is_refused_named_by_its_code_and_place(control: str) -> None:
    why = refusal(f"ab{control}cd", "the comment")
    assert why is not None and f"U+{ord(control):04X}, character 3" in why and why.startswith("the comment ")
    assert cleaned(f"ab{control}cd{control}") == ("abcd", 2)
    assert marked(f"ab{control}cd") == f"ab[U+{ord(control):04X}]cd"


def test_what_people_type_is_kept() -> None:
    typed = "line 1\r\nline 2\n\tTab, é, 👁️‍🗨️ 🇫🇷, مرحبا שלום, \u200f\u200e marks, \u200b"
    assert refusal(typed, "the comment") is None and cleaned(typed) == (typed, 0) and marked(typed) == typed


@pytest.mark.parametrize("comment", ["before\x00after", "Refer \u202eevig ton od", "see notes \u2067"])
def test_a_comment_with_a_control_is_refused_with_the_form_kept(engine: Engine, comment: str) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    refused = client.post(f"/results/{result_id}/reads", data={**READ, "comment": comment, "csrf": csrf_of(client)})
    assert refused.status_code == 422 and "the comment holds an invisible control character" in refused.text
    assert 'value="moderate" selected' in refused.text and comment.split()[-1][-3:] in refused.text
    with engine.connect() as connection:
        assert connection.execute(select(results.c.state)).scalar_one() == "awaiting_review"
        assert connection.execute(select(reads)).first() is None
    kept = {**READ, "comment": "line\r\n\tnext", "csrf": csrf_of(client)}
    assert client.post(f"/results/{result_id}/reads", data=kept).status_code == 303


def test_a_name_with_a_nul_signs_nobody_in_and_fails_nothing(engine: Engine) -> None:
    client = signed_in_client(engine, station(), "ana", "reviewer")
    client.cookies.clear()
    assert sign_in(client, "ana\x00", PASSWORD) == "/sign-in?failed=1"
    assert sign_in(client, "ana", PASSWORD) == "/"


@pytest.mark.parametrize("query", ["/?site=site-a%00", "/?device=cam%00", "/?captured_from=2026-01-01%00"])
def test_a_filter_with_a_control_is_refused_in_words(engine: Engine, query: str) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    for path in (query, f"/results/{result_id}{query[1:]}", f"/results/{result_id}/next{query[1:]}"):
        refused = client.get(path)
        assert refused.status_code == 422 and "invisible control character in the" in refused.text
        assert "filter (U+0000" in refused.text
        assert "Sign out" in refused.text  # the signed-in page's navigation kept
    assert client.get("/?site=site-a%E2%80%AE").status_code == 422  # U+202E


def test_the_dashboard_refuses_a_site_with_a_control(engine: Engine) -> None:
    client = signed_in_client(engine, station(), "ana", "admin")
    for path in ("/dashboard?site=a%00", "/dashboard/screenings.svg?site=a%00"):
        refused = client.get(path)
        assert refused.status_code == 422 and "invisible control character in the site (U+0000" in refused.text
    assert client.get("/dashboard?site=a").status_code == 200


def test_a_result_id_that_is_no_id_is_not_found(engine: Engine) -> None:
    client = signed_in_client(engine, station(), "ana", "reviewer")
    for path in ("", "/next", "/delivery", "/photo-panel", "/photo.jpg"):
        missing = client.get(f"/results/ab%00cd{path}")
        assert missing.status_code == 404 and "No such result: a result id" in missing.text, path
    posted = client.post("/results/ab%00cd/reads", data={**READ, "csrf": csrf_of(client)})
    assert posted.status_code == 404
    assert client.get("/?page=two").status_code == 422  # a malformed query: a page in words, not JSON
    assert client.get(f"/results/{'0' * 32}").status_code == 404  # well formed, unknown: not found either


def test_a_comment_stored_before_the_rule_shows_its_controls_as_codes(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    client.post(f"/results/{result_id}/reads", data={**READ, "comment": "Refer", "csrf": csrf_of(client)})
    with engine.begin() as connection:
        connection.execute(update(reads).values(comment="Refer \u202eevig ton od"))
    page = client.get(f"/results/{result_id}").text
    assert '<bdi data-test="comment">Refer [U+202E]evig ton od</bdi>' in page and "\u202e" not in page
