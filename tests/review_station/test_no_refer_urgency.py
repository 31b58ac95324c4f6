"""A "no referral" refers no one, so the device shows no urgency beside it
(firmware_app/records/verdicts.py): the station refuses one marked "soon" or "urgent", in the reader's
language, rather than store an urgency that would reach nobody; a referral keeps any urgency."""

from __future__ import annotations

import re

from playwright.sync_api import Playwright
from sqlalchemy import Engine, func, select, update

from edgescreen_wire.result import RESULT_V3
from review_station import accounts
from review_station.storage.tables import deliveries, reads, results
from review_station.web.app import LANGUAGE_COOKIE
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.test_undelivered import answer
from tests.review_station.web_kit import PASSWORD, add_results, csrf_of, signed_in_client, station

NO_REFER = {"verdict": "no_refer", "icdr_grade": "mild", "maculopathy": "absent"}
URGENT_REFERRAL = {"verdict": "refer", "urgency": "urgent", "icdr_grade": "proliferative", "maculopathy": "present"}


def _stored(engine: Engine) -> tuple[int, int, str]:
    """How many reads and deliveries the station holds, and the result's state."""
    with engine.connect() as connection:
        count = [connection.execute(select(func.count()).select_from(t)).scalar_one() for t in (reads, deliveries)]
        return count[0], count[1], connection.execute(select(results.c.state)).scalar_one()


def test_a_no_referral_marked_soon_or_urgent_is_refused_in_the_readers_language(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.2], schema=RESULT_V3)
    client = signed_in_client(engine, station(), "ana", "reviewer")
    csrf = csrf_of(client, f"/results/{result_id}")
    english = client.post(f"/results/{result_id}/reads", data={**NO_REFER, "urgency": "soon", "csrf": csrf})
    assert english.status_code == 422 and "a no-refer verdict refers no one" in english.text
    # The form comes back as the reader left it, the urgency to correct.
    chosen = re.search(r'<select name="urgency"[^>]*>(.*?)</select>', english.text, re.S)
    assert chosen and '<option value="soon" selected>' in chosen.group(1)
    client.cookies.set(LANGUAGE_COOKIE, "fr")
    french = client.post(f"/results/{result_id}/reads", data={**NO_REFER, "urgency": "urgent", "csrf": csrf})
    assert french.status_code == 422 and "n&#39;adresse personne" in french.text
    assert _stored(engine) == (0, 0, "awaiting_review")  # nothing recorded, nothing sent
    routine = client.post(f"/results/{result_id}/reads", data={**NO_REFER, "urgency": "routine", "csrf": csrf})
    assert routine.status_code == 303 and _stored(engine) == (1, 1, "reviewed")


def test_a_referral_keeps_its_urgency_to_the_device(engine: Engine) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V3)
    client = signed_in_client(engine, station(), "ana", "reviewer")
    form = {**URGENT_REFERRAL, "csrf": csrf_of(client, f"/results/{result_id}")}
    assert client.post(f"/results/{result_id}/reads", data=form).status_code == 303
    with engine.connect() as connection:
        payload = connection.execute(select(deliveries.c.payload)).scalar_one()
    assert b'"verdict":"refer"' in payload and b'"urgency":"urgent"' in payload


def test_a_no_referral_stored_soon_before_the_refusal_agrees_with_a_routine_second_read(engine: Engine) -> None:
    """A first read stored "no referral, soon" before the station refused it: the second reader can only
    say routine, which the device would show the same (no urgency), so the result settles."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.2])
    config = station(second_read_sites=("site-a",))
    for name in ("ana", "ben"):
        client = signed_in_client(engine, config, name, "reviewer")
        form = {**NO_REFER, "urgency": "routine", "csrf": csrf_of(client, f"/results/{result_id}")}
        assert client.post(f"/results/{result_id}/reads", data=form).status_code == 303
        if name == "ana":  # as the station stored it before
            with engine.begin() as connection:
                connection.execute(update(reads).values(urgency="soon"))
    assert _stored(engine) == (2, 1, "reviewed")


def test_a_no_referral_stored_soon_before_the_refusal_is_listed_undelivered_as_routine(engine: Engine) -> None:
    """The same old read, which its device then answered it does not hold: the dashboard's undelivered
    list, which a coordinator passes on to the clinic by telephone, said "no refer, soon", an urgency
    the second reads and the form no longer give a "no referral"; it now says routine, in each language."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.2])
    coordinator = signed_in_client(engine, station(), "cleo", "coordinator")
    form = {**NO_REFER, "urgency": "routine", "csrf": csrf_of(coordinator, f"/results/{result_id}")}
    assert coordinator.post(f"/results/{result_id}/reads", data=form).status_code == 303
    with engine.begin() as connection:  # as the station stored it before
        connection.execute(update(reads).values(urgency="soon"))
    answer(engine, "site-a", "cam-01", result_id, "unknown_result")
    for language, said in (("en", "no refer, routine"), ("fr", "pas d&#39;orientation, habituelle")):
        coordinator.cookies.set(LANGUAGE_COOKIE, language)
        listed = re.search(r'<table id="undelivered-verdicts">(.*?)</table>', coordinator.get("/dashboard").text, re.S)
        assert listed and result_id[:8] in listed.group(1)
        assert f'<td class="no_refer">{said}</td>' in listed.group(1), listed.group(1)


def test_in_chromium_the_form_keeps_a_no_referrals_urgency_routine(engine: Engine, playwright: Playwright) -> None:
    """The form follows the verdict: "no referral" sets the urgency to routine and offers no other; a
    referral offers them all again, and its urgent read is recorded."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9], schema=RESULT_V3)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        urgency = page.locator("select[name=urgency]")
        page.select_option("select[name=urgency]", "urgent")
        page.select_option("select[name=verdict]", "no_refer")
        assert urgency.input_value() == "routine"
        assert page.locator("select[name=urgency] option[value=urgent]").is_disabled()
        page.select_option("select[name=verdict]", "refer")
        assert page.locator("select[name=urgency] option[value=urgent]").is_enabled()
        for name, value in URGENT_REFERRAL.items():
            page.select_option(f"select[name={name}]", value)
        with page.expect_navigation():
            page.click("text=Record the read")
    with engine.connect() as connection:
        assert connection.execute(select(reads.c.verdict, reads.c.urgency)).one() == ("refer", "urgent")
