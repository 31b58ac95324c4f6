"""A blind second read settles a result only when it agrees with the first on what the patient gets."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import pytest
from sqlalchemy import Engine, select

from edgescreen_wire.review import MAX_COMMENT
from review_station import accounts
from review_station.config import WebConfig
from review_station.storage.tables import deliveries, results
from review_station.web.app import LANGUAGE_COOKIE
from review_station.web.worklist import Filters, worklist_page
from tests.review_station.kit import statements
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station

DERMOSCOPY = {"modality": "dermoscopy", "eye": None, "body_site": "trunk"}


def fundus(verdict: str, urgency: str, grade: str, maculopathy: str) -> dict[str, str]:
    return {"verdict": verdict, "urgency": urgency, "icdr_grade": grade, "maculopathy": maculopathy}


URGENT = fundus("refer", "urgent", "proliferative", "present")  # new vessels on the disc, and a maculopathy


def dermoscopy(verdict: str, urgency: str, diagnosis: str) -> dict[str, str]:
    return {"verdict": verdict, "urgency": urgency, "diagnosis": diagnosis}


def home(diagnosis: str) -> dict[str, str]:
    """A dermoscopy read that sends the patient home."""
    return dermoscopy("no_refer", "routine", diagnosis)


def two_reads(engine: Engine, payload: dict[str, object], first: dict[str, str], second: dict[str, str]) -> str:
    """Both reads of one result at a second-read site, by two reviewers; returns the result's state."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], payload=payload)
    config = station(second_read_sites=("site-a",))
    for name, form in (("ana", first), ("ben", second)):
        client = signed_in_client(engine, config, name, "reviewer")
        posted = client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(client)})
        assert posted.status_code == 303, posted.text
    with engine.connect() as connection:
        return connection.execute(select(results.c.state)).scalar_one()


@pytest.mark.parametrize(
    ("payload", "first", "second"),
    [
        # Both refer, but only the first saw new vessels and a maculopathy and asked for it urgently.
        ({}, URGENT, fundus("refer", "routine", "moderate", "absent")),
        ({}, fundus("refer", "soon", "moderate", "absent"), fundus("refer", "urgent", "moderate", "absent")),
        ({}, fundus("refer", "soon", "moderate", "absent"), fundus("refer", "soon", "severe", "absent")),
        ({}, fundus("refer", "soon", "moderate", "absent"), fundus("refer", "soon", "moderate", "present")),
        (DERMOSCOPY, dermoscopy("refer", "urgent", "melanoma"), dermoscopy("refer", "urgent", "basal_cell_carcinoma")),
        (DERMOSCOPY, dermoscopy("refer", "soon", "melanoma"), dermoscopy("refer", "soon", "naevus")),
        # An actinic keratosis is premalignant and usually treated; a naevus is left alone.
        (DERMOSCOPY, home("actinic_keratosis"), home("naevus")),
        # "other" names no known lesion: it is not a benign one the reader recognised.
        (DERMOSCOPY, home("other"), home("dermatofibroma")),
    ],
)
def test_reads_that_differ_on_what_the_patient_gets_go_to_a_coordinator(
    engine: Engine, payload: dict[str, object], first: dict[str, str], second: dict[str, str]
) -> None:
    assert two_reads(engine, payload, first, second) == "disagreement"
    with engine.connect() as connection:
        assert connection.execute(select(deliveries)).first() is None  # nothing reaches the nurse yet


@pytest.mark.parametrize(
    ("payload", "first", "second"),
    [
        ({}, fundus("no_refer", "routine", "none", "absent"), fundus("no_refer", "routine", "mild", "absent")),
        ({}, URGENT, URGENT),
        (DERMOSCOPY, home("naevus"), home("dermatofibroma")),
    ],
)
def test_reads_that_agree_on_what_the_patient_gets_settle_and_the_second_is_sent(
    engine: Engine, payload: dict[str, object], first: dict[str, str], second: dict[str, str]
) -> None:
    assert two_reads(engine, payload, first, second) == "reviewed"
    document = sent(engine)
    assert (document["verdict"], document["reviewer"]) == (second["verdict"], "ben")


def sent(engine: Engine) -> dict[str, object]:
    """The one verdict queued for the device."""
    with engine.connect() as connection:
        [payload] = connection.execute(select(deliveries.c.payload)).scalars().all()
    return json.loads(payload)


FIRST, SECOND = "First reader / Premier lecteur: ", "Second reader / Second lecteur: "


@pytest.mark.parametrize(
    ("comments", "sent_comment"),
    [
        (("new vessels on the disc", "laser this week"), f"{FIRST}new vessels on the disc\n{SECOND}laser this week"),
        # The first reader's alone: sent as the second reader's (the one ``reviewer`` names), it would be lost.
        (("new vessels on the disc", ""), f"{FIRST}new vessels on the disc"),
    ],
)
def test_reads_that_agree_send_the_nurse_both_comments_each_by_its_reader_s_place_not_name(
    engine: Engine, comments: tuple[str, str], sent_comment: str
) -> None:
    first, second = ({**URGENT, "comment": comment} for comment in comments)
    assert two_reads(engine, {}, first, second) == "reviewed"
    assert sent(engine)["comment"] == sent_comment  # the first reader's name goes nowhere


def test_two_comments_share_the_wire_s_limit_a_short_one_whole(engine: Engine) -> None:
    first, second = {**URGENT, "comment": "see the lower edge"}, {**URGENT, "comment": "b" * MAX_COMMENT}
    assert two_reads(engine, {}, first, second) == "reviewed"
    comment = sent(engine)["comment"]
    assert len(comment) == MAX_COMMENT and comment.startswith(f"{FIRST}see the lower edge\n{SECOND}bbb")
    assert comment.endswith("b…")


def test_a_coordinator_is_told_of_every_disagreement_however_far_down_the_worklist_lists_it(engine: Engine) -> None:
    """A disagreement is listed among every result awaiting a coordinator by the device's triage: one
    on a "no referral" sits below a page of referrals, and its patient is told nothing meanwhile."""
    first, second = fundus("refer", "soon", "moderate", "absent"), fundus("no_refer", "routine", "none", "absent")
    assert two_reads(engine, {"score": 0.1, "triage": "no_refer"}, first, second) == "disagreement"
    add_results(engine, "cam-02", "site-b", [0.9] * 12)  # more referrals awaiting a read than a page holds
    config = station(second_read_sites=("site-a",))
    cleo = signed_in_client(engine, config, "cleo", "coordinator")
    for page in (cleo.get("/").text, cleo.get("/?site=site-b").text):  # any filter: still told
        assert 'data-state="disagreement"' not in page  # the row itself is on a later page
        told = re.search(r'data-test="disagreement-count">(.*?)</p>', page, re.S).group(1)  # type: ignore[union-attr]
        assert "1 result&#39;s two reads disagree" in told and 'href="/?state=disagreement"' in told
    elsewhere = signed_in_client(engine, config, "cole", "coordinator", sites=frozenset({"site-b"}))
    reviewer = signed_in_client(engine, config, "dina", "reviewer")
    for page in (elsewhere.get("/").text, reviewer.get("/").text):  # not their site; not theirs to settle
        assert 'data-test="disagreement-count"' not in page


def test_the_worklist_page_leaves_the_disagreement_count_and_its_query_out_when_told_to(engine: Engine) -> None:
    """What ``bench/review_ingest.py`` times the count against: the same page, without the count's query."""
    first, second = fundus("refer", "soon", "moderate", "absent"), fundus("no_refer", "routine", "none", "absent")
    assert two_reads(engine, {}, first, second) == "disagreement"
    accounts.add_user(engine, "cleo", PASSWORD, "coordinator", by="test")
    _, cleo = accounts.sign_in(engine, "cleo", PASSWORD, WebConfig())
    pages = {}
    for counted in (True, False):
        with statements(engine) as sent, engine.connect() as connection:
            pages[counted] = worklist_page(connection, Filters.from_query({}), 1, 10, cleo, counted)
        pages[counted] = (pages[counted], [sql for sql, _ in sent if "coalesce(sum(result_tallies.results)" in sql])
    (counting, counting_sql), (left_out, left_out_sql) = pages[True], pages[False]
    assert counting.disagreements == 1 and len(counting_sql) == 1
    assert left_out.disagreements == 0 and left_out_sql == []
    assert left_out == dataclasses.replace(counting, disagreements=0)


def own_read(page: str) -> str | None:
    """The text of the reader's own read as the page shows it, if it shows one."""
    found = re.search(r'<table class="reads" data-test="own-read">(.*?)</table>', page, re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else None


def test_the_first_reader_sees_their_own_read_while_the_second_is_awaited_and_the_second_reader_does_not(
    engine: Engine,
) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    config = station(second_read_sites=("site-a",))
    ana, ben = (signed_in_client(engine, config, name, "reviewer") for name in ("ana", "ben"))
    comment = "Cotton-wool spots nasally"
    first = {**fundus("refer", "soon", "severe", "absent"), "comment": comment}
    assert ana.post(f"/results/{result_id}/reads", data={**first, "csrf": csrf_of(ana)}).status_code == 303
    page = f"/results/{result_id}"
    assert own_read(ana.get(page).text) == (
        "Your read, as you recorded it: Read By Verdict Grading Urgency first awaiting the second read ana refer "
        f"ICDR grade severe, maculopathy absent soon Comment: {comment}"
    )
    blind = ben.get(page).text
    assert own_read(blind) is None and comment not in blind and "data-read=" not in blind
    assert "1 read so far, hidden until the result is settled" in blind
    assert 'id="read-form"' in blind
    ana.cookies.set(LANGUAGE_COOKIE, "fr")
    assert own_read(ana.get(page).text) == (
        "Votre lecture, telle que vous l'avez enregistrée : Lecture Par Avis Gradation Urgence première "
        f"en attente de la seconde lecture ana à adresser grade ICDR sévère, maculopathie absente prochainement "
        f"Commentaire : {comment}"
    )
    second = {**fundus("refer", "soon", "severe", "absent"), "comment": "Agreed"}
    assert ben.post(f"/results/{result_id}/reads", data={**second, "csrf": csrf_of(ben)}).status_code == 303
    settled = ana.get(page).text
    assert own_read(settled) is None and comment in settled and "Agreed" in settled  # both reads, as any reviewed
