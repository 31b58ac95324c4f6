"""A device's wrong clock neither pins a result to the top of the worklist nor sinks it, nor hides it
from a date range: the station dates a result by the device's time only when it can vouch for it, else
by the result's arrival (``review_station.dating``), and every export and the result page say which."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Playwright
from sqlalchemy import Engine, select

from review_station import accounts, dashboard, devices
from review_station.export import coded_value_problems, export
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import result_tallies, results
from review_station.verdicts import ReadForm, record_read
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import result_bytes, result_topic
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.web_kit import PASSWORD, add_results, signed_in_client, station

NOW = datetime.now(UTC).replace(microsecond=0)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def wrong_clock_results(engine: Engine) -> dict[str, str]:
    """The reviewer's repro, received in this order: 1970 (the device says its clock was not set), two
    days ago and an hour ago (a clock in step), and tomorrow (no flag: impossible on arrival)."""
    sent = {
        "1970": {"captured_at": "1970-01-01T00:05:01Z", "clock": "before_build"},
        "two days ago": {"captured_at": _at(NOW - timedelta(days=2))},
        "an hour ago": {"captured_at": _at(NOW - timedelta(hours=1))},
        "tomorrow": {"captured_at": _at(NOW + timedelta(days=1))},
    }
    return {name: add_results(engine, "cam-01", "site-a", [0.9], payload=payload)[0] for name, payload in sent.items()}


def worklist_order(engine: Engine) -> list[str]:
    page = signed_in_client(engine, station(), "rita", "reviewer").get("/").text
    return re.findall(r'<tr data-result="([0-9a-f]{32})"', page)


def test_the_worklist_orders_by_the_time_the_station_can_vouch_for(engine: Engine) -> None:
    ids = wrong_clock_results(engine)
    # 1970 and tomorrow are dated by their arrival, after the two others, in the order they arrived.
    assert worklist_order(engine) == [ids[name] for name in ("two days ago", "an hour ago", "1970", "tomorrow")]
    with engine.connect() as connection:
        dated = dict(connection.execute(select(results.c.result_id, results.c.dated_at)).all())
        received = dict(connection.execute(select(results.c.result_id, results.c.received_at)).all())
        days = connection.execute(select(result_tallies.c.dated_on, result_tallies.c.results)).all()
    assert dated[ids["1970"]] == received[ids["1970"]] and dated[ids["tomorrow"]] == received[ids["tomorrow"]]
    assert dated[ids["two days ago"]] == NOW - timedelta(days=2)
    assert sorted(days) == sorted(Counter(moment.date() for moment in dated.values()).items())  # counted as filtered


def review(engine: Engine, result_ids: list[str]) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    _, ana = accounts.sign_in(engine, "ana", PASSWORD, station().web)
    for result_id in result_ids:
        record_read(engine, result_id, ana, ReadForm("refer", "soon", "severe", "present"), ())


def test_exports_take_the_wrong_clock_results_in_their_arrival_range_and_say_so(engine: Engine) -> None:
    ids = wrong_clock_results(engine)
    review(engine, list(ids.values()))
    yesterday, today = (NOW - timedelta(days=1)).date().isoformat(), NOW.date().isoformat()
    rows = list(csv.DictReader(io.StringIO(export(engine, "csv", "site-a", yesterday, today, by="test"))))
    by_id = {row["result_id"]: row for row in rows}
    assert set(by_id) == {ids["1970"], ids["tomorrow"], ids["an hour ago"]}  # not two days ago
    assert (by_id[ids["1970"]]["clock"], by_id[ids["1970"]]["dated_from"]) == ("before_build", "received_at")
    assert (by_id[ids["tomorrow"]]["clock"], by_id[ids["tomorrow"]]["dated_from"]) == ("", "received_at")
    assert (by_id[ids["an hour ago"]]["clock"], by_id[ids["an hour ago"]]["dated_from"]) == ("", "captured_at")

    document = json.loads(export(engine, "fhir", "site-a", "2026-01-01", "2099-12-31", by="test"))
    assert coded_value_problems(document) == []
    resources = [entry["resource"] for entry in document["entry"]]
    reports = {r["identifier"][0]["value"]: r for r in resources if r["resourceType"] == "DiagnosticReport"}
    observations = {r["fullUrl"]: r["resource"] for r in document["entry"]}
    unset = reports[ids["1970"]]
    assert "effectiveDateTime" not in unset and set(unset["effectivePeriod"]) == {"end"}  # start unknown
    note = observations[unset["result"][0]["reference"]]["note"][0]["text"]
    assert "1970-01-01T00:05:01" in note and "before_build" in note
    future = observations[reports[ids["tomorrow"]]["result"][0]["reference"]]
    assert "effectivePeriod" in future and "after the result reached the station" in future["note"][0]["text"]
    trusted = reports[ids["an hour ago"]]
    assert trusted["effectiveDateTime"].startswith(_at(NOW - timedelta(hours=1))[:19])
    assert "note" not in observations[trusted["result"][0]["reference"]]


def test_the_result_page_says_an_impossible_time_and_which_time_is_used(engine: Engine, playwright: Playwright) -> None:
    ids = wrong_clock_results(engine)
    review(engine, [])
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        marked = page.locator(f'tr[data-result="{ids["tomorrow"]}"] [data-test="dated-by-arrival"]')
        assert marked.inner_text() == "(arrival)"
        assert page.locator(f'tr[data-result="{ids["an hour ago"]}"] [data-test="dated-by-arrival"]').count() == 0
        page.goto(f"{base}/results/{ids['tomorrow']}")
        figures = page.inner_text("table.figures")
        assert "impossible: 1 day" not in figures  # said in the unit a reader takes in: hours under 2 days
        assert re.search(r"impossible: 2[34] hours after this result reached the station", figures)
        assert "its arrival here: the device's time is not used" in figures
        page.goto(f"{base}/results/{ids['an hour ago']}")
        assert "the device's capture time" in page.inner_text("table.figures")


def test_the_dashboard_counts_wrong_clock_results_on_their_arrival_day_and_measures_no_delay_from_them(
    engine: Engine,
) -> None:
    ids = wrong_clock_results(engine)
    since = (NOW - timedelta(days=7)).date()
    with engine.connect() as connection:
        per_day = dashboard.daily_triage(connection, "site-a", since)
        delays = dashboard.receipt_delays_h(connection, "site-a", since)
        received = connection.execute(select(results.c.received_at).where(results.c.result_id == ids["1970"])).scalar()
    assert per_day[received.date()]["refer"] >= 2  # 1970 and tomorrow, on the day they arrived
    assert sum(sum(day.values()) for day in per_day.values()) == len(ids)
    assert len(delays) == 2 and max(delays) >= 47  # two days ago and an hour ago only


def stored_at(engine: Engine, received: datetime, payload: dict[str, str]) -> str:
    """One result from cam-01 as the ingester stores it, arriving at ``received``; returns its id."""
    result_id, raw = result_bytes("cam-01", "site-a", payload=payload)
    with engine.begin() as connection:
        store_batch(connection, [Incoming(result_topic("site-a", "cam-01"), raw, received)], {"cam-01": "site-a"})
    return result_id


def test_a_1970_time_without_a_flag_and_a_flagged_time_equal_to_the_arrival_are_dated_by_the_arrival_everywhere(
    engine: Engine,
) -> None:
    """The flag is optional: a 1970 time without one is not trusted either. A flagged time that happens
    to equal the arrival is still not the device's (the stored choice, not a comparison of two times),
    and the worklist, the result page and the CSV export all say so."""
    devices.enrol(engine, "cam-01", "site-a", by="test")
    ids = {
        "1970": stored_at(engine, NOW, {"captured_at": "1970-01-01T00:05:01Z"}),
        "flagged": stored_at(engine, NOW, {"captured_at": _at(NOW), "clock": "unsynchronised"}),
    }
    review(engine, list(ids.values()))
    client = signed_in_client(engine, station(), "rita", "reviewer")
    page = client.get("/?state=reviewed").text
    for result_id in ids.values():
        assert re.search(rf'<tr data-result="{result_id}"((?!</tr>).)*dated-by-arrival', page, flags=re.DOTALL)
        assert "its arrival here: the device's time is not used" in html.unescape(
            client.get(f"/results/{result_id}").text
        )
    today = NOW.date().isoformat()
    rows = csv.DictReader(io.StringIO(export(engine, "csv", "site-a", today, today, by="test")))
    assert {row["result_id"]: row["dated_from"] for row in rows} == dict.fromkeys(ids.values(), "received_at")
