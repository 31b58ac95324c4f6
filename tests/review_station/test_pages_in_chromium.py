"""The station's pages as a reader uses them, in Debian's Chromium: signing in, working through the
worklist result by result, by keyboard, and at phone width as well as on a desk."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Playwright
from sqlalchemy import Engine, select, update

from review_station import accounts
from review_station.storage.tables import reads, sessions
from review_station.web.app import LANGUAGE_COOKIE, SESSION_COOKIE
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.web_kit import PASSWORD, SESSION_ENDED, add_results, station


def sign_in_on(page, base: str, username: str = "ana", password: str = PASSWORD) -> None:
    page.goto(f"{base}/sign-in")
    sign_in_here(page, username, password)


def sign_in_here(page, username: str = "ana", password: str = PASSWORD) -> None:
    """Sign in on the sign-in page the browser is on, which leads back to the page its ``back`` names."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    # Wait for the page the form leads to: a test that reads the page at once otherwise races its load.
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_signing_in_ends_on_a_page_to_get_so_a_reload_never_resends_the_password(
    engine: Engine, playwright: Playwright
) -> None:
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright) as page:
        stale = page.context.new_page()
        stale.goto(f"{base}/sign-in")
        sign_in_on(page, base, password="not the password")  # this sign-in page replaces the other's token
        assert page.url == f"{base}/sign-in?failed=1"
        stale.fill("input[name=username]", "ana")
        stale.fill("input[name=password]", PASSWORD)
        with stale.expect_navigation():
            stale.click("button[type=submit]")
        assert stale.url == f"{base}/sign-in?stale=1" and "had expired" in stale.inner_text("main")
        requests = []
        stale.on("request", lambda request: requests.append(request.method))
        stale.reload()
        assert requests[0] == "GET"
        sign_in_on(page, base)
        assert page.url == f"{base}/" and "Worklist" in page.inner_text("h1")


def focused(page) -> str:
    """The focused element, as ``name`` for a form field, else its text."""
    return page.evaluate("() => document.activeElement.name || document.activeElement.textContent.trim()")


def test_by_keyboard_the_main_content_and_the_read_form_come_in_a_sensible_order(
    engine: Engine, playwright: Playwright
) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        page.wait_for_selector("text=Worklist")
        page.keyboard.press("Tab")
        assert focused(page) == "Skip to main content" and page.locator(".skip-link").is_visible()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
        page.goto(f"{base}/results/{result_id}")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # skip the header
        page.keyboard.press("Tab")
        assert focused(page) == "← Worklist"
        page.keyboard.press("Tab")
        assert focused(page) == "Go to the read form"
        page.keyboard.press("Enter")
        order = []
        for _ in range(6):
            page.keyboard.press("Tab")
            order.append(focused(page))
        assert order == ["icdr_grade", "maculopathy", "verdict", "urgency", "comment", "Record the read"]


def test_a_reader_works_through_results_one_after_another_at_phone_width_and_on_a_desk(
    engine: Engine, playwright: Playwright
) -> None:
    """No page wider than the screen: at 390 px each result is a card and the read form is below the
    figures; at 1200 px the worklist is a table and the form beside the figures. Screenshots go to
    ``EDGESCREEN_SCREENSHOTS`` when it is set."""
    first, second = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base:
        for width, height in ((390, 844), (1200, 800)):
            with chromium_page(playwright, width=width, height=height) as page:
                sign_in_on(page, base)
                assert page.evaluate("() => document.documentElement.scrollWidth") <= width
                action = page.locator("tr[data-result] a").first
                assert action.inner_text() == "Read" and action.bounding_box()["x"] + 20 < width
                assert page.locator("tr[data-result] [data-test=photographed]").all_inner_texts() == ["left eye"] * 2
                snap(page, f"worklist-{width}")
                action.click()
                assert "No photo was shared for this result" in page.inner_text("main")
                assert page.evaluate("() => document.documentElement.scrollWidth") <= width
                form, figures = page.locator("#read-form"), page.locator(".columns > section").first
                button = page.locator("#read-form button[type=submit]").bounding_box()
                assert button["x"] >= 0 and button["x"] + button["width"] <= width
                beside = form.bounding_box()["x"] > figures.bounding_box()["x"] + figures.bounding_box()["width"] - 1
                assert beside == (width >= 1200)
                snap(page, f"result-{width}")
            if width == 390:  # read the first on the phone, the next on the desk
                read_and_go_on(playwright, engine, base, first, second)


def read_and_go_on(playwright: Playwright, engine: Engine, base: str, read: str, following: str) -> None:
    """At phone width: a read without a photo, recorded with the grading not assessed, then "Next result"."""
    with chromium_page(playwright, width=390, height=844) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{read}")
        page.select_option("select[name=verdict]", "refer")
        page.select_option("select[name=urgency]", "soon")
        page.click("text=Record the read")
        page.wait_for_selector("text=not assessed (no photo)")
        snap(page, "result-read-390")
        page.click("text=Next result awaiting you →")
        assert page.url == f"{base}/results/{following}?"


def record_after_the_session_ends(
    page, base: str, result_id: str, read: dict[str, str], comment: str, end: Callable[[], None]
) -> None:
    """A read written in full on ``result_id``'s page (``read``'s choices, ``comment``), the session
    ended by ``end`` meanwhile, then "Record the read": the request that finds the session ended."""
    page.goto(f"{base}/results/{result_id}")
    for name, value in read.items():
        page.select_option(f"select[name={name}]", value)
    page.fill("textarea[name=comment]", comment)
    end()
    with page.expect_navigation():
        page.click("text=Record the read")


def test_a_read_being_written_when_the_session_ends_waits_on_its_page_after_signing_in_again(
    engine: Engine, playwright: Playwright
) -> None:
    """The session ended while the reader wrote: "Record the read" led to the sign-in page, and signing
    in to the worklist, the grading, verdict, urgency and comment gone. The sign-in page says the
    absolute end was why, in the reader's language: the cookie expired with the session, and nothing
    was said."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    config = station()
    read = {"icdr_grade": "severe", "maculopathy": "absent", "verdict": "refer", "urgency": "soon"}
    comment = "Venous beading in two quadrants: see within the month"
    told = {
        "en": f"Your session ended {config.web.session_minutes} minutes after you signed in, the station's limit.",
        "fr": f"Votre session a pris fin {config.web.session_minutes} minutes après votre connexion, la limite",
    }

    def time_is_up() -> None:
        with engine.begin() as connection:
            connection.execute(update(sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    with served(config, engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        [cookie] = [cookie for cookie in page.context.cookies() if cookie["name"] == SESSION_COOKIE]
        lasts_s = cookie["expires"] - datetime.now(UTC).timestamp()
        assert lasts_s > (config.web.session_minutes + config.web.idle_minutes) * 60 - 30  # outlives the session
        record_after_the_session_ends(page, base, result_id, read, comment, time_is_up)
        assert page.url.startswith(f"{base}/sign-in?expired=1&back=")
        assert told["en"] in page.inner_text("[data-test=signed-out-expired]")
        snap(page, "sign-in-expired-en")
        sign_in_here(page)
        assert page.url == f"{base}/results/{result_id}"
        assert {name: page.input_value(f"select[name={name}]") for name in read} == read
        assert page.input_value("textarea[name=comment]") == comment
        page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "fr", "url": base}])
        time_is_up()
        page.goto(f"{base}/results/{result_id}")
        assert page.url.startswith(f"{base}/sign-in?expired=1&back=")
        assert told["fr"] in page.inner_text("[data-test=signed-out-expired]")
        snap(page, "sign-in-expired-fr")
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        assert page.input_value("textarea[name=comment]") == comment  # kept through both ends
        with page.expect_navigation():
            page.click("#read-form button[type=submit]")
    with engine.connect() as connection:
        stored = connection.execute(select(reads.c.verdict, reads.c.urgency, reads.c.comment)).one()
    assert tuple(stored) == ("refer", "soon", comment)


def test_a_reader_who_leaves_the_station_idle_is_signed_out_told_why_and_finds_their_draft_on_signing_in(
    engine: Engine, playwright: Playwright
) -> None:
    """The clock is the session's stored last request, set back past ``idle_minutes`` (as the absolute
    expiry is tested by its stored time). A request then leads to the sign-in page, which says why in the
    reader's language; the read being written waits on its page; and a page left open that polls its
    verdict's delivery goes to the sign-in page by itself, its polls not counting as the reader's."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    config = station()
    read = {"icdr_grade": "moderate", "maculopathy": "absent", "verdict": "refer", "urgency": "soon"}
    comment = "Dot haemorrhages in all four quadrants"

    def walk_away() -> None:
        idle = timedelta(minutes=config.web.idle_minutes, seconds=30)
        with engine.begin() as connection:
            connection.execute(update(sessions).values(last_request_at=datetime.now(UTC) - idle))

    told = {
        "en": f"You were signed out after {config.web.idle_minutes} minutes without using the station.",
        "fr": f"Votre session a été fermée après {config.web.idle_minutes} minutes sans utiliser la station.",
    }
    with served(config, engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        record_after_the_session_ends(page, base, result_id, read, comment, walk_away)
        assert page.url.startswith(f"{base}/sign-in?idle=1&back=")
        assert told["en"] in page.inner_text("[data-test=signed-out-idle]")
        sign_in_here(page)
        assert page.url == f"{base}/results/{result_id}"
        assert {name: page.input_value(f"select[name={name}]") for name in read} == read
        assert page.input_value("textarea[name=comment]") == comment
        with page.expect_navigation():
            page.click("text=Record the read")
        page.wait_for_selector("[data-delivery=pending]")  # the page polls its delivery every second
        page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "fr", "url": base}])
        walk_away()
        page.wait_for_url(f"{base}/sign-in?idle=1&back=%2Fresults%2F{result_id}*", timeout=10_000)
        assert told["fr"] in page.inner_text("[data-test=signed-out-idle]")
    with engine.connect() as connection:
        stored = connection.execute(select(reads.c.verdict, reads.c.urgency, reads.c.comment)).one()
    assert tuple(stored) == ("refer", "soon", comment)


def test_a_reader_back_long_after_their_session_ended_is_told_that_it_ended_and_a_stranger_cookie_nothing(
    engine: Engine, playwright: Playwright
) -> None:
    """Back the next morning, long past ``idle_minutes`` after the session's absolute end: before, the
    browser had dropped the cookie with it (and the station its row), and the sign-in page said nothing.
    Now it says, of the browser, that the session ended, once, in the reader's language. A cookie the
    station never signed anyone in with is told nothing: "ended" would be a lie. The clock is the
    session's stored times, set back; the browser keeps its cookie that long, as its expiry shows."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    config = station()

    away = timedelta(hours=14)  # from the session's end to the next morning

    def next_morning() -> None:
        overnight = datetime.now(UTC) - away
        with engine.begin() as connection:
            connection.execute(update(sessions).values(expires_at=overnight, last_request_at=overnight))

    with served(config, engine) as base, chromium_page(playwright, width=800, height=480) as page:
        for language in ("en", "fr"):
            page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": base}])
            sign_in_on(page, base)
            [cookie] = [cookie for cookie in page.context.cookies() if cookie["name"] == SESSION_COOKIE]
            lasts = timedelta(seconds=cookie["expires"] - datetime.now(UTC).timestamp())
            assert lasts > timedelta(minutes=config.web.session_minutes) + away  # still sent the next morning
            next_morning()
            page.goto(f"{base}/results/{result_id}")
            assert page.url == f"{base}/sign-in?ended=1&back=%2Fresults%2F{result_id}"
            assert page.inner_text("[role=alert]") == SESSION_ENDED[language]
            snap(page, f"sign-in-ended-{language}")
        page.goto(f"{base}/")
        assert page.url == f"{base}/sign-in" and page.locator("[role=alert]").count() == 0  # told once
        never = {"name": SESSION_COOKIE, "value": secrets.token_urlsafe(32), "url": base}
        page.context.add_cookies([never])
        page.goto(f"{base}/results/{result_id}")
        assert page.url == f"{base}/sign-in?back=%2Fresults%2F{result_id}"
        assert page.locator("[role=alert]").count() == 0


def test_a_draft_is_never_put_into_a_form_after_a_read_was_recorded(engine: Engine, playwright: Playwright) -> None:
    """A coordinator's draft amendment is for the reads they saw: once another read is recorded the
    page's form starts blank, as the amendment it would have made is refused."""
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    accounts.add_user(engine, "cleo", PASSWORD, "coordinator", by="test")
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base, "cleo")
        page.goto(f"{base}/results/{result_id}")
        page.select_option("select[name=verdict]", "ungradable")
        page.fill("textarea[name=comment]", "a draft")
        page.reload()
        assert page.input_value("textarea[name=comment]") == "a draft"  # kept while nothing changed
        page.select_option("select[name=icdr_grade]", "none")
        page.select_option("select[name=maculopathy]", "absent")
        page.select_option("select[name=verdict]", "no_refer")
        page.fill("textarea[name=comment]", "recorded")
        with page.expect_navigation():
            page.click("text=Record the read")
        assert "Amend" in page.inner_text("#read-form legend")
        assert page.input_value("textarea[name=comment]") == ""
        assert page.input_value("select[name=verdict]") == ""


def test_a_draft_is_its_readers_alone_on_a_shared_computer(engine: Engine, playwright: Playwright) -> None:
    [result_id] = add_results(engine, "cam-01", "site-a", [0.9])
    for name in ("ana", "ben"):
        accounts.add_user(engine, name, PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base)
        page.goto(f"{base}/results/{result_id}")
        page.select_option("select[name=verdict]", "refer")
        page.fill("textarea[name=comment]", "ana's unfinished read")
        with page.expect_navigation():
            page.click("text=Sign out")
        sign_in_on(page, base, "ben")  # the same tab
        page.goto(f"{base}/results/{result_id}")
        assert page.input_value("textarea[name=comment]") == "" and page.input_value("select[name=verdict]") == ""


def test_signing_out_clears_the_readers_drafts_in_the_tab_and_only_theirs(
    engine: Engine, playwright: Playwright
) -> None:
    """Signing out is leaving the read: signed in again, the reader's forms start blank. A colleague's
    draft, kept in the same tab when their session ended at this desk, still waits for them."""
    first, second = add_results(engine, "cam-01", "site-a", [0.9, 0.8])
    for name in ("ana", "ben"):
        accounts.add_user(engine, name, PASSWORD, "reviewer", by="test")
    drafts = "() => Object.keys(sessionStorage).filter((key) => key.startsWith('read-draft:')).sort()"
    with served(station(), engine) as base, chromium_page(playwright) as page:
        sign_in_on(page, base, "ben")
        page.goto(f"{base}/results/{first}")
        page.fill("textarea[name=comment]", "ben's unfinished read")
        with engine.begin() as connection:  # ben's session's time is up; ana takes the desk
            connection.execute(update(sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        sign_in_on(page, base, "ana")
        for result_id in (first, second):
            page.goto(f"{base}/results/{result_id}")
            page.select_option("select[name=verdict]", "refer")
            page.fill("textarea[name=comment]", "ana's unfinished read")
        assert page.evaluate(drafts) == sorted(
            [f"read-draft:ana:{first}", f"read-draft:ana:{second}", f"read-draft:ben:{first}"]
        )
        with page.expect_navigation():
            page.click("text=Sign out")
        assert page.evaluate(drafts) == [f"read-draft:ben:{first}"]
        sign_in_on(page, base, "ana")
        for result_id in (first, second):
            page.goto(f"{base}/results/{result_id}")
            assert page.input_value("textarea[name=comment]") == "" and page.input_value("select[name=verdict]") == ""
        with page.expect_navigation():
            page.click("text=Sign out")
        sign_in_on(page, base, "ben")
        page.goto(f"{base}/results/{first}")
        assert page.input_value("textarea[name=comment]") == "ben's unfinished read"
