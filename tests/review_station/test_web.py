"""The web app through HTTP (FastAPI's TestClient): sign-in, worklist, result page, reads, roles."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import OperationalError

from firmware_app.web.headers import security_headers
from review_station import accounts, audit, dashboard
from review_station.storage.tables import audit as audit_table
from review_station.storage.tables import deliveries, results
from review_station.verdicts import resend_verdicts
from review_station.web.app import create_app
from review_station.words import say
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, sign_in, signed_in_client, station

UNGRADABLE = {"triage": "ungradable", "score": None, "threshold": None}
DAY = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # on or after the project start: a true capture time


def test_every_page_needs_a_session_and_sign_in_needs_its_csrf_token(engine: Engine) -> None:
    client = signed_in_client(engine, station(), "ana", "reviewer")
    client.cookies.clear()
    assert client.get("/").headers["location"] == "/sign-in"
    assert client.get("/", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/sign-in"
    forged = client.post("/sign-in", data={"username": "ana", "password": PASSWORD})
    assert forged.headers["location"] == "/sign-in?stale=1" and "review_session" not in forged.cookies
    assert sign_in(client, "ana", "not the password") == "/sign-in?failed=1"
    assert sign_in(client, "ana", PASSWORD) == "/"
    assert client.get("/").status_code == 200


def test_a_reader_whose_session_ended_signs_in_back_to_the_page_they_were_on_and_only_this_stations(
    engine: Engine,
) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    client.cookies.clear()
    page = f"/results/{result_id}"
    assert (
        client.get(f"{page}?triage=refer").headers["location"]
        == f"/sign-in?back=%2Fresults%2F{result_id}%3Ftriage%3Drefer"
    )
    read = client.post(f"{page}/reads", data={"verdict": "refer", "urgency": "soon"})  # the read's draft waits there
    assert read.headers["location"] == f"/sign-in?back=%2Fresults%2F{result_id}"
    poll = client.get(f"{page}/delivery", headers={"HX-Request": "true", "HX-Current-URL": f"http://station{page}"})
    assert poll.headers["HX-Redirect"] == f"/sign-in?back=%2Fresults%2F{result_id}"
    form = client.get(f"/sign-in?back={page}").text
    assert f'name="back" value="{page}"' in form
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    wrong = client.post("/sign-in", data={"username": "ana", "password": "no", "csrf": csrf, "back": page})
    assert wrong.headers["location"] == f"/sign-in?failed=1&back=%2Fresults%2F{result_id}"
    for elsewhere in ("//evil.example/x", "https://evil.example/"):
        assert 'name="back" value="/"' in client.get("/sign-in", params={"back": elsewhere}).text
    csrf = csrf_of(client, f"/sign-in?back={page}")
    signed = client.post("/sign-in", data={"username": "ana", "password": PASSWORD, "csrf": csrf, "back": page})
    assert signed.headers["location"] == page


def test_an_address_naming_no_page_answers_the_stations_page_in_the_readers_language(engine: Engine) -> None:
    """A mistyped or stale link answered FastAPI's JSON, in English: {"detail":"Not Found"}."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    client.get("/language/fr")
    said = str(escape(say("error.no_such_page", "fr")))
    missing = client.get("/resultats")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert said in missing.text and "ana" in missing.text  # the station's page, its navigation kept
    opened = client.get(f"/results/{result_id}/reads")  # a form's address opened as a page
    assert opened.status_code == 405 and opened.headers["allow"] == "POST" and said in opened.text
    client.cookies.clear()
    client.cookies.set("review_language", "fr")
    assert said in client.get("/resultats").text


def test_the_worklist_puts_refer_and_ungradable_first_oldest_first_with_counts_and_pages(engine: Engine) -> None:
    no_refer = add_results(engine, "cam-01", "site-a", [0.05], captured_at=DAY)
    refer_new = add_results(engine, "cam-01", "site-a", [0.9], captured_at=DAY + timedelta(hours=2))
    refer_old = add_results(engine, "cam-01", "site-a", [0.8], captured_at=DAY)
    ungradable = add_results(engine, "cam-02", "site-b", [0.5], captured_at=DAY, payload=UNGRADABLE)
    many = add_results(engine, "cam-02", "site-b", [0.1] * 12, captured_at=DAY + timedelta(days=3))
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get("/").text
    order = [page.index(f'data-result="{r}"') for r in (*refer_old, *refer_new, *ungradable, *no_refer)]
    assert order == sorted(order) and page.count("data-result=") == 10  # 10 per page
    assert 'data-count-state="awaiting_review">16<' in page and 'data-count-triage="refer">2<' in page
    second = client.get("/?page=2").text
    assert second.count("data-result=") == 6 and "Page 2 of 2" in second
    assert sum(f'data-result="{r}"' in page + second for r in many) == 12
    filtered = client.get("/?site=site-b&captured_from=2026-11-29&captured_to=2026-11-29", headers={"HX-Request": "1"})
    assert "<html" not in filtered.text  # htmx gets the table only
    assert ungradable[0] in filtered.text and many[0] not in filtered.text and "1 result<" in filtered.text
    assert 'data-count-triage="no_refer">0<' in filtered.text


def test_no_query_parameter_writes_into_the_result_pages_alert(engine: Engine) -> None:
    """A crafted link once could (``?refused=...``): a fake refusal in the page's red alert box."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get(f"/results/{result_id}?refused=Call 555: read refused").text
    assert "Call 555" not in page and 'role="alert"' not in page


def test_the_result_page_says_everything_in_plain_words_and_its_view_is_audited(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    page = client.get(f"/results/{result_id}").text
    for words in ("refer: the model found signs", "left eye", "Model score", "0.900", "dr-referable version 1.0.0"):
        assert words in page
    assert "Operating point" in page and "Record the read" in page
    with engine.connect() as connection:
        details = connection.execute(select(audit_table.c.details).where(audit_table.c.kind == "view")).scalars().all()
        assert audit.verify(connection).intact
    assert details == [f'{{"by":"ana","result":"{result_id}"}}']


def test_a_read_needs_the_csrf_token_and_complete_fields_then_queues_the_verdict(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
    assert client.post(f"/results/{result_id}/reads", data=form).status_code == 403
    csrf = csrf_of(client, f"/results/{result_id}")
    missing = client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf, "icdr_grade": ""})
    assert missing.status_code == 422 and "ICDR grade" in missing.text
    # A verdict the read's own grading contradicts is a slip: refused, nothing recorded nor sent.
    for verdict, grade, maculopathy, why in (
        ("no_refer", "proliferative", "absent", "contradicts the ICDR grade proliferative"),
        ("no_refer", "mild", "present", "maculopathy present, which is referable"),
        ("no_refer", "ungradable", "absent", "needs a photo that could be graded"),
        ("ungradable", "none", "absent", "an ungradable verdict contradicts"),
    ):
        grading = {"verdict": verdict, "icdr_grade": grade, "maculopathy": maculopathy}
        comment = "Exudates <near> the fovea"
        slip = client.post(f"/results/{result_id}/reads", data={**form, **grading, "csrf": csrf, "comment": comment})
        assert slip.status_code == 422 and why in slip.text, (verdict, grade, maculopathy)
        # The form comes back as the reader left it, to correct one field rather than redo the read.
        for name, value in {**grading, "urgency": "soon"}.items():
            chosen = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', slip.text, re.S)
            assert chosen and f'<option value="{value}" selected>' in chosen.group(1), name
        assert "Exudates &lt;near&gt; the fovea</textarea>" in slip.text
    done = client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf, "comment": "Refer within 4 weeks"})
    assert done.status_code == 303
    page = client.get(f"/results/{result_id}").text
    assert 'data-delivery="pending"' in page and "Record the read" not in page
    assert "ICDR grade moderate, maculopathy absent" in page
    assert 'Comment: <bdi data-test="comment">Refer within 4 weeks</bdi>' in page
    with engine.connect() as connection:
        delivery = connection.execute(select(deliveries)).one()
        state = connection.execute(select(results.c.state)).scalar_one()
        verdicts = connection.execute(select(audit_table.c.details).where(audit_table.c.kind == "verdict")).scalars()
        [verdict] = [json.loads(details) for details in verdicts]  # the refused one is not a verdict
    assert state == "reviewed" and delivery.topic == "edgescreen/v1/site-a/cam-01/review"
    assert b'"verdict":"refer"' in delivery.payload and b"Refer within 4 weeks" in delivery.payload
    audited = {"result": result_id, "review": delivery.review_id, "kind": "first", "verdict": "refer", "by": "ana"}
    assert verdict == audited


def test_the_delivery_poll_answers_204_while_the_delivery_is_as_the_page_shows_it(engine: Engine) -> None:
    """htmx swaps nothing on a 204: the live region is left alone until the delivery changes."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
    client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(client, f"/results/{result_id}")})
    page = client.get(f"/results/{result_id}").text
    polled = re.search(r'hx-get="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert polled == f"/results/{result_id}/delivery?shown=pending.0.no_ingester"  # none runs in this test
    waiting = say("delivery.why.no_ingester", "en", heard=say("ingester.never", "en"))
    assert str(escape(waiting)) in page  # the sentence its token names
    unchanged = client.get(polled)
    assert unchanged.status_code == 204 and unchanged.content == b""
    with engine.begin() as connection:
        connection.execute(update(deliveries).values(state="sent", attempts=1))
    changed = client.get(polled)
    assert changed.status_code == 200 and 'data-delivery="sent"' in changed.text
    assert f'hx-get="/results/{result_id}/delivery?shown=sent.1"' in changed.text  # the next poll's token
    assert 'data-delivery="sent"' in client.get(f"/results/{result_id}/delivery").text  # no token: the state


def test_second_read_is_blind_and_a_disagreement_goes_to_a_coordinator(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    config = station(second_read_sites=("site-a",))
    first = signed_in_client(engine, config, "ana", "reviewer")
    second = signed_in_client(engine, config, "ben", "reviewer")
    coordinator = signed_in_client(engine, config, "cleo", "coordinator")

    def read(client, verdict: str) -> int:
        form = {"verdict": verdict, "urgency": "routine", "icdr_grade": "mild", "maculopathy": "absent"}
        return client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(client)}).status_code

    assert read(first, "refer") == 303
    assert read(first, "refer") == 422  # not twice by the same reader
    blind = second.get(f"/results/{result_id}").text
    assert "hidden until the result is settled" in blind and "Second read (blind)" in blind
    assert read(second, "no_refer") == 303
    assert "Adjudication" not in second.get(f"/results/{result_id}").text
    assert read(second, "refer") == 422  # a reviewer cannot adjudicate
    queue = coordinator.get("/?state=disagreement").text
    assert result_id in queue
    assert "Adjudication" in coordinator.get(f"/results/{result_id}").text
    assert read(coordinator, "refer") == 303
    with engine.connect() as connection:
        assert connection.execute(select(results.c.state)).scalar_one() == "reviewed"
        assert connection.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1


def test_a_read_that_loses_the_race_is_audited_with_its_verdict_and_its_page_as_a_view(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    ana = signed_in_client(engine, station(), "ana", "reviewer")
    ben = signed_in_client(engine, station(), "ben", "reviewer")
    tokens = {client: csrf_of(client, f"/results/{result_id}") for client in (ana, ben)}  # both open the page
    urgent = {"verdict": "refer", "urgency": "urgent", "icdr_grade": "proliferative", "maculopathy": "present"}
    routine = {"verdict": "no_refer", "urgency": "routine", "icdr_grade": "mild", "maculopathy": "absent"}
    assert ana.post(f"/results/{result_id}/reads", data={**routine, "csrf": tokens[ana]}).status_code == 303
    lost = ben.post(f"/results/{result_id}/reads", data={**urgent, "csrf": tokens[ben], "comment": "new vessels"})
    assert lost.status_code == 422 and "reviewed already" in lost.text
    with engine.connect() as connection:
        events = connection.execute(select(audit_table.c.kind, audit_table.c.details).order_by(audit_table.c.seq))
        ben_saw = [(kind, json.loads(details)) for kind, details in events if '"by":"ben"' in details]
        assert audit.verify(connection).intact
    # Codes only, as every read's event; it differs in care from ana's: kept for a coordinator (test_contrary_reads).
    refused = {"result": result_id, **urgent, "diagnosis": None, "by": "ben", "contrary": 1}
    page = {"result": result_id, "by": "ben"}
    assert ben_saw == [("view", page), ("read_refused", refused), ("view", page)]


def test_the_quarantine_is_for_admins(engine: Engine) -> None:
    reviewer = signed_in_client(engine, station(), "ana", "reviewer")
    admin = signed_in_client(engine, station(), "root", "admin")
    refused = reviewer.get("/quarantine")
    assert refused.status_code == 403 and "for admin accounts" in refused.text
    assert "ana (reviewer)" in refused.text and 'href="/dashboard"' in refused.text  # still signed in, with a way on
    assert admin.get("/quarantine").status_code == 200


def test_worklist_and_dashboard_loads_are_audited_with_their_filters(engine: Engine) -> None:
    add_results(engine, "cam-01", "site-a", [0.9, 0.1])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    assert client.get("/").status_code == 200
    assert client.get("/?site=site-a&triage=refer&page=3", headers={"HX-Request": "1"}).status_code == 200
    assert client.get("/dashboard?site=site-a&days=7").status_code == 200
    with engine.connect() as connection:
        views = connection.execute(
            select(audit_table.c.details).where(audit_table.c.kind == "view").order_by(audit_table.c.seq)
        ).scalars()
        assert [json.loads(details) for details in views] == [
            {"page": "worklist", "by": "ana", "filters": {}, "number": 1},
            {"page": "worklist", "by": "ana", "filters": {"site": "site-a", "triage": "refer"}, "number": 1},
            {"page": "dashboard", "by": "ana", "site": "site-a", "days": 7},
        ]
        assert audit.verify(connection).intact


def test_a_coordinator_amends_a_verdict_sent_in_error_and_the_device_is_sent_the_new_one(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    reviewer = signed_in_client(engine, station(), "ana", "reviewer")
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")

    def read(client, verdict: str, grade: str, **more: str):
        form = {"verdict": verdict, "urgency": "routine", "icdr_grade": grade, "maculopathy": "absent", **more}
        return client.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(client)})

    assert read(reviewer, "refer", "moderate").status_code == 303
    again = read(reviewer, "no_refer", "mild")  # a reader who opened it at the same time, or a slip
    assert again.status_code == 422 and "a coordinator can amend the verdict" in again.text
    assert "Amend the verdict" not in reviewer.get(f"/results/{result_id}").text
    page = coordinator.get(f"/results/{result_id}").text
    assert "Amend the verdict" in page
    # A coordinator's read saved after another's, or an amendment of a read since replaced: refused.
    assert read(coordinator, "no_refer", "mild").status_code == 422
    stale = read(coordinator, "no_refer", "mild", amends="rv-an-older-read")
    assert stale.status_code == 422 and "read again meanwhile" in stale.text
    amends = re.search(r'name="amends" value="([^"]+)"', page).group(1)
    assert read(coordinator, "no_refer", "mild", amends=amends).status_code == 303
    with engine.connect() as connection:
        sent = connection.execute(select(deliveries.c.state, deliveries.c.payload).order_by(deliveries.c.updated_at))
        (first_state, _), (last_state, last_payload) = sent.all()
        finals = dashboard.final_verdicts(connection, "site-a")
        kinds = connection.execute(select(audit_table.c.details).where(audit_table.c.kind == "verdict")).scalars()
        kinds = [json.loads(details)["kind"] for details in kinds]
    # The verdict in error was never acknowledged: it is no longer sent; the amendment is.
    assert (first_state, last_state) == ("superseded", "pending") and b'"verdict":"no_refer"' in last_payload
    assert finals == {result_id: "no_refer"} and kinds == ["first", "amendment"]
    page = coordinator.get(f"/results/{result_id}").text
    assert 'data-delivery="pending"' in page and 'data-read="amendment"' in page


def test_a_restored_device_is_sent_again_every_verdict_it_acknowledged(engine: Engine) -> None:
    [amended, kept] = add_results(engine, "cam-01", "site-a", [0.9, 0.2])
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
    form = {"verdict": "refer", "urgency": "routine", "icdr_grade": "moderate", "maculopathy": "absent"}
    for result_id in (amended, kept):
        posted = coordinator.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(coordinator)})
        assert posted.status_code == 303
    with engine.begin() as connection:  # both acknowledged by the device
        connection.execute(update(deliveries).values(state="stored"))
    page = coordinator.get(f"/results/{amended}").text
    amends = re.search(r'name="amends" value="([^"]+)"', page).group(1)
    fix = {**form, "verdict": "no_refer", "icdr_grade": "mild", "amends": amends, "csrf": csrf_of(coordinator)}
    assert coordinator.post(f"/results/{amended}/reads", data=fix).status_code == 303
    # The amendment is pending already; the verdict it replaced is not sent again: only kept's.
    assert resend_verdicts(engine, "cam-01", by="test") == 1
    with engine.begin() as connection:
        states = sorted(connection.execute(select(deliveries.c.state)).scalars())
        audited = connection.execute(select(audit_table.c.details).where(audit_table.c.kind == "verdicts_resent"))
        assert json.loads(audited.scalar_one()) == {"by": "test", "device": "cam-01", "verdicts": 1}
        connection.execute(update(deliveries).values(state="stored"))  # then all acknowledged
    assert states == ["pending", "pending", "stored"]
    assert resend_verdicts(engine, "cam-01", by="test") == 2  # each result's standing verdict
    with engine.connect() as connection:
        pending = select(deliveries.c.payload).where(deliveries.c.state == "pending")
        resent = sorted(json.loads(payload)["verdict"] for payload in connection.execute(pending).scalars())
    assert resent == ["no_refer", "refer"]  # the amendment's, and kept's
    assert resend_verdicts(engine, "cam-02", by="test") == 0


def test_the_worklist_shows_what_awaits_the_reader_first_and_what_awaits_another_reader_as_theirs(
    engine: Engine,
) -> None:
    [reviewed] = add_results(engine, "cam-01", "site-a", [0.9], captured_at=DAY)  # refer, the oldest
    [second] = add_results(engine, "cam-02", "site-b", [0.8], captured_at=DAY + timedelta(hours=1))
    [waiting] = add_results(engine, "cam-01", "site-a", [0.1], captured_at=DAY + timedelta(hours=2))  # no refer
    config = station(second_read_sites=("site-b",))
    ana, ben = signed_in_client(engine, config, "ana", "reviewer"), signed_in_client(engine, config, "ben", "reviewer")
    form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
    for result_id in (reviewed, second):
        assert ana.post(f"/results/{result_id}/reads", data={**form, "csrf": csrf_of(ana)}).status_code == 303

    def listed(client) -> list[tuple[str, str, str]]:
        rows = re.findall(
            r'<tr data-result="(\w+)".*?data-state="([^"]+)".*?>(Read|View)</a>', client.get("/").text, re.S
        )
        return [(result_id, state, action) for result_id, state, action in rows]

    # ana read both: only the no-refer result awaits her; her first read at site-b awaits another reader.
    assert listed(ana) == [
        (waiting, "awaiting_review", "Read"),
        (second, "awaits another reader", "View"),
        (reviewed, "reviewed", "View"),
    ]
    assert "1 awaits your read" in ana.get("/").text
    page = ana.get(f"/results/{second}").text
    assert "it now awaits a second read by another reader" in page and "Record the read" not in page
    # ben is that other reader: the second read is his work, the refer first.
    assert listed(ben)[:2] == [(second, "awaiting_second_read", "Read"), (waiting, "awaiting_review", "Read")]
    assert "hidden until the result is settled" in ben.get(f"/results/{second}").text


def test_next_result_goes_to_the_next_one_awaiting_the_reader_in_their_filters_order(engine: Engine) -> None:
    first, later = add_results(engine, "cam-01", "site-a", [0.9, 0.8], captured_at=DAY)
    [other_site] = add_results(engine, "cam-02", "site-b", [0.95], captured_at=DAY)
    [no_refer] = add_results(engine, "cam-01", "site-a", [0.1], captured_at=DAY)
    client = signed_in_client(engine, station(), "ana", "reviewer")
    in_order = re.findall(r'<tr data-result="(\w+)"', client.get("/?site=site-a").text)
    assert in_order[2] == no_refer and set(in_order[:2]) == {first, later}
    head, second = in_order[:2]
    assert client.get(f"/results/{head}/next?site=site-a").headers["location"] == f"/results/{second}?site=site-a"
    assert client.get(f"/results/{second}/next?site=site-a").headers["location"] == f"/results/{no_refer}?site=site-a"
    assert client.get(f"/results/{no_refer}/next?site=site-a").headers["location"] == f"/results/{head}?site=site-a"
    # A read keeps the filters, and its page leads on; read all, "next" goes back to the worklist.
    form = {"verdict": "refer", "urgency": "soon", "icdr_grade": "moderate", "maculopathy": "absent"}
    for result_id in (head, second):
        done = client.post(f"/results/{result_id}/reads?site=site-a", data={**form, "csrf": csrf_of(client)})
        assert done.headers["location"] == f"/results/{result_id}?site=site-a"
    assert f'href="/results/{second}/next?site=site-a"' in client.get(f"/results/{second}?site=site-a").text
    assert client.get(f"/results/{second}/next?site=site-a").headers["location"] == f"/results/{no_refer}?site=site-a"
    assert client.get(f"/results/{no_refer}/next").headers["location"] == f"/results/{other_site}?"  # any site
    client.post(
        f"/results/{no_refer}/reads?site=site-a",
        data={**form, "verdict": "no_refer", "icdr_grade": "none", "csrf": csrf_of(client)},
    )
    assert client.get(f"/results/{no_refer}/next?site=site-a").headers["location"] == "/?site=site-a"


# A failure of the database (its server gone) is said to be the database's; any other, in general words.
FAILURES = {
    "error.database_text": OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly")),
    "error.failed_text": RuntimeError("a defect of the station's own"),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("said", FAILURES)
def test_a_failure_no_handler_answers_is_the_station_s_page_with_its_security_headers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, language: str, said: str
) -> None:
    """Starlette answers such a failure from its outermost middleware, outside the station's own: on main
    a bare "Internal Server Error" in English, without the headers every other answer carries (no
    frame-ancestors, no nosniff, kept in a shared desk computer's cache)."""

    def failing(*args: object, **kwargs: object) -> None:
        raise FAILURES[said]

    monkeypatch.setattr(accounts, "session_user", failing)
    client = TestClient(create_app(station(), engine), raise_server_exceptions=False)
    client.cookies.set("review_language", language)
    answer = client.get("/")
    assert answer.status_code == 500
    expected = security_headers({"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
    assert {name: answer.headers.get(name) for name in expected} == expected
    assert str(escape(say(said, language))) in answer.text
    assert type(FAILURES[said]).__name__ not in answer.text


# Each message page's sentence (``message.html``) as the reader gets it: they began lower-case and ended
# without a full stop ("no such result"), fragments on a page of their own; the 413's was mended first.
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_message_page_says_a_sentence_begun_with_a_capital_and_ended_with_a_full_stop(
    engine: Engine, language: str
) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    reviewer = signed_in_client(engine, station(), "ana", "reviewer")
    reviewer.get(f"/language/{language}")
    pages = {
        "no such result": reviewer.get(f"/results/{'0' * 32}"),
        "no result id": reviewer.get("/results/ab%00cd"),
        "no such page": reviewer.get("/resultats"),
        "bad query": reviewer.get("/?page=two"),
        "control": reviewer.get("/?site=a%00b"),
        "role": reviewer.get("/export"),
        "stale form": reviewer.post(f"/results/{result_id}/reads", data={"csrf": "forged"}),
        "refused read": reviewer.post(f"/results/{result_id}/reads", data={"csrf": csrf_of(reviewer), "settles": "x"}),
    }
    for name, page in pages.items():
        assert page.status_code in (403, 404, 405, 422), (name, page.status_code)
        [said] = re.findall(r'<p class="error">(.*?)</p>', page.text, re.DOTALL)
        assert said[0].isupper() and said.endswith("."), (name, said)
