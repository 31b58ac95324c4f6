"""The Records and Ready screens at 800x480 after a day's campaign (30 screenings): the kiosk has no
scroll bar a nurse finds, so each fits the screen whole, in both languages."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import cv2

from firmware_app.health.checks import Check, Level
from firmware_app.messages import CATALOGUE, message, sentence
from firmware_app.records.clock import current_boot
from firmware_app.records.database import BUSY_TIMEOUT_S
from firmware_app.records.screening import Review, ScreeningContext
from firmware_app.web.device import Device
from tests.records.kit import open_store, record_one, sample_record, small_photo
from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    OPERATOR,
    on_screen,
    sign_in,
    snap,
    switch_to,
    type_on_keypad,
    unscrolled,
)

DAY = 30

# Two agreeing blind reads, as they reach the device: one comment, a reader to a line.
LONG_READ = "First reader / Premier lecteur: early signs\nSecond reader / Second lecteur: agree, recheck in 6 months"
# The records the fit test opens, newest first, and what on each tells it is the one opened.
OPENED = {
    "verdicts": "[data-test=comment]:not(:has-text('reader'))",
    "lesion": "[data-test=record-photo]",
    "long-read": "[data-test=comment]:has-text('reader')",
    "eye": "[data-test=detail]:not(:has([data-test=record-photo], [data-test=comment]))",
}


def a_days_campaign(app, retina_rgb, reference: str) -> None:
    """30 screenings: the patient searched for came back every day for a month, both eyes on the last.
    Queued on this boot, as a day's campaign is, the app's (``current_boot``): of another on this
    machine's clock, never synchronised, they read undated, a warning more on the list."""
    store = open_store(app.directory, boot=current_boot())
    start = datetime.now(UTC) - timedelta(days=DAY)
    for day in range(DAY):
        context = ScreeningContext(eye="R" if day % 2 else "L", patient_ref=reference)
        record_one(store, small_photo(retina_rgb), sample_record(context, captured_at=start + timedelta(days=day)))


def test_ready_fits_the_screen_after_a_days_campaign(page, app, retina_rgb):
    a_days_campaign(app, retina_rgb, "AB-12")
    page.goto(f"{app.url}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        sign_in(page, app)
        page.wait_for_url("**/ready")
        snap(page, "fit-ready")
        assert unscrolled(page) and page.evaluate(AUDIT) == [], f"ready ({language}) scrolls"
        assert page.locator("[data-test=problems]").is_hidden()  # the count said only over a list that scrolls
        page.locator("[data-test=sign-out]").click()
        page.wait_for_url("**/signin")


def test_a_patients_records_fit_the_screen_a_page_at_a_time(page, app, retina_rgb):
    """30 screenings of one patient: the list came under the search with the keypad below it, 1,500 px
    of page. Found, the keypad is put away until the reference field is tapped, and the list is shown a
    page at a time, newest first, the way to the older ones under it."""
    a_days_campaign(app, retina_rgb, "AB-12")
    sign_in(page, app)
    for language in ("en", "fr"):
        switch_to(page, language)
        page.goto(f"{app.url}/records")
        page.locator("#reference").fill("")
        type_on_keypad(page, "reference", "AB-12")
        page.locator("[data-test=find]").click()
        page.locator("[data-test=found]").wait_for()
        snap(page, "fit-records")
        assert unscrolled(page) and page.evaluate(AUDIT) == [], f"records ({language}) scrolls"
        assert page.locator("[data-test=erase]").is_visible()
        seen = []
        while True:
            rows = page.locator("table.worklist tr")
            assert rows.count() > 0 and unscrolled(page), (language, page.url)
            snap(page, "fit-records-page")
            seen += rows.all_inner_texts()
            if not page.locator("[data-test=older]").count():
                break
            page.locator("[data-test=older]").click()
            page.locator("[data-test=newer]").wait_for()
        snap(page, "fit-records-oldest")
        assert len(seen) == 30, language
        page.locator("#reference").click()  # another patient: the keypad comes back
        page.locator('[data-keypad="reference"] [data-key="clear"]').click()
        type_on_keypad(page, "reference", "ZZ-1")
        assert unscrolled(page), language
        snap(page, "fit-records-typing")
        page.locator("[data-test=find]").click()
        page.locator("[data-test=none-found]").wait_for()


def the_fullest_records(app, reference: str) -> None:
    """The patient's fullest records, the newest of the campaign, oldest first: an eye's read twice by the
    specialists, the standing verdict urgent, with its findings and the comment of two readers, a line
    each (``LONG_READ``); a lesion's as the dermatoscope records it, with its photo (4:3, shown 240x180
    beside the words), the operator, and the triage with the longest words; an eye's read twice, the
    standing verdict with a comment of a line."""
    store = open_store(app.directory)
    now = datetime.now(UTC)
    eye = ScreeningContext(eye="R", patient_ref=reference)
    lesion = ScreeningContext(body_site="palms_soles", patient_ref=reference, operator=OPERATOR)
    skin = cv2.cvtColor(cv2.imread(str(DERMOSCOPY_SAMPLE)), cv2.COLOR_BGR2RGB)
    long_read, read = (sample_record(eye, captured_at=now - timedelta(hours=hours)) for hours in (2, 0))
    record_one(store, small_photo(), long_read)
    record_one(
        store,
        skin,
        replace(sample_record(lesion, captured_at=now - timedelta(hours=1), score=0.05), modality="dermoscopy"),
    )
    record_one(store, small_photo(), read)
    reviews = (
        Review("rev-1", long_read.result_id, "no_refer", now, "dr-lopez", None, "routine"),
        Review("rev-2", long_read.result_id, "refer", now, "dr-lopez", LONG_READ, "urgent", "severe", "present"),
        Review("rev-3", read.result_id, "no_refer", now, "dr-lopez", None),
        Review("rev-4", read.result_id, "refer", now, "dr-lopez", "Early signs: see again in 6 months"),
    )
    assert [store.add_review(review) for review in reviews] == ["stored"] * 4


def test_a_record_opened_over_its_patients_list_fits_the_screen(page, app, retina_rgb):
    """A record opened from a patient's list came over that list (the search, the record in words, then
    a page of the patient's screenings): past the screen's foot, where the kiosk has no scroll bar. It
    fits, in both languages, the list and its search put away, their count, the way back to the page
    the record was opened from and the erasure in the search's row; the fullest records too
    (``the_fullest_records``): a lesion's with its photo took 507 px in French, an eye's with two
    verdicts 588 px. A read too long for any layout (two readers' comment and the findings under two
    verdicts) scrolls, read whole, the way back above it."""
    a_days_campaign(app, retina_rgb, "AB-12")
    the_fullest_records(app, "AB-12")
    sign_in(page, app)
    page.goto(f"{app.url}/records")
    type_on_keypad(page, "reference", "AB-12")
    page.locator("[data-test=find]").click()
    for language in ("en", "fr"):
        switch_to(page, language)
        for shown, row, (name, holds) in zip((1, 1, 1, 2), (0, 1, 2, 0), OPENED.items(), strict=True):
            page.goto(f"{app.url}/records?page={shown}")  # the search's list again
            page.locator("table.worklist button", has_text=message("records.view", language)).nth(row).click()
            page.locator("[data-test=detail]").wait_for()
            assert page.locator(holds).count() == 1, (name, language)
            snap(page, f"fit-records-opened-{name}")
            assert on_screen(page.locator("[data-test=see-list]")) and page.evaluate(AUDIT) == [], (name, language)
            if name == "long-read":
                assert not unscrolled(page), language  # else it belongs with the records that fit
                for part in ("comment", "findings"):
                    read = page.locator(f"[data-test={part}]").last
                    read.evaluate("e => e.scrollIntoView({block: 'center'})")  # as a finger scrolls it up
                    assert on_screen(read), (part, language)  # the whole of it on the screen at once
                snap(page, f"fit-records-opened-{name}-scrolled")
            else:
                assert unscrolled(page), f"{name} opened ({language}) scrolls"
            found = page.locator("[data-test=found]").inner_text()
            assert found == message("records.found.other", language).format(count=DAY + 3)
            assert page.locator("[data-test=erase]").is_visible()
            page.locator("[data-test=see-list]").click()
            assert page.locator("[data-test=paging]").inner_text() == message("records.page", language).format(
                page=shown, pages=11
            )


def at_its_longest(name: str) -> Check:
    """Check ``name`` red or amber in its longest wording (French, the longer), each value in it a
    path of 40 characters, a moment (lost screenings' times) an hour ago, a lock's wait (``seconds``,
    a number its sentence words) the busy timeout."""
    keys = [key for key in CATALOGUE if key.startswith(f"health.{name}.") and not key.endswith(".green")]
    key = max(keys, key=lambda key: len(message(key, "fr")))
    names = {field for text in CATALOGUE[key].values() for _, field, _, _ in string.Formatter().parse(text) if field}
    values = dict.fromkeys(names, "/var/lib/edgescreen/records/records.db3")
    moment = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    values |= {field: moment for field in ("after", "until") if field in names}
    values |= {"seconds": BUSY_TIMEOUT_S} if "seconds" in names else {}
    level = Level.AMBER if key.endswith(".amber") else Level.RED
    return Check(name, level, key, values)


def test_ready_says_on_its_first_screen_how_many_checks_need_seeing_to(page, app, monkeypatch):
    """Every check the list shows red or amber at once, each in its longest wording: over 3,000
    characters in French before their values, several screens whatever the layout, and the technician
    must read each whole. The count of them is said on the first screen, under the verdict, in both
    languages; the list scrolls."""
    sign_in(page, app)
    page.wait_for_url("**/ready")
    names = page.eval_on_selector_all("[data-test^=check-]", "es => es.map((e) => e.dataset.test.slice(6))")
    assert len(names) >= 13, names  # every check the device runs for the list
    worst = [at_its_longest(name) for name in names]
    monkeypatch.setattr(Device, "readiness", lambda device, fresh=False: worst)
    for language in ("en", "fr"):
        switch_to(page, language)
        page.goto(f"{app.url}/ready")
        snap(page, "fit-ready-every-check")
        said = page.locator("[data-test=problems]")
        assert said.inner_text() == sentence("ready.problems", language, count=len(worst)), language
        assert on_screen(said) and on_screen(page.locator("[data-test=recheck]")), language
        assert page.locator(".checks > .check").count() == len(worst), language
        assert page.evaluate(AUDIT) == [], language


# Content added under Ready's list with no resize of the window, as an htmx swap adds it (a banner in the
# top bar, a longer answer): the page then runs past the screen's foot.
GROW = """() => document.querySelector(".checks").insertAdjacentHTML("afterend", '<div style="height: 480px"></div>')"""
# The page's error events from now on, kept in window.errors: Chromium reports there (not as an uncaught
# error) a resize observer whose callback resizes what it observes.
ERRORS_KEPT = (
    """() => { window.errors = []; addEventListener("error", (event) => window.errors.push(event.message)); }"""
)


def test_ready_says_how_many_checks_need_seeing_to_once_its_page_grows_past_the_screen(page, app, monkeypatch):
    """The count of the checks to see to was measured as the page loaded and at a resize of the window
    only: a page that grew later (a banner swapped into the top bar) ran past the screen's foot with the
    count unsaid. It is measured again whenever the page changes size."""
    sign_in(page, app)
    page.wait_for_url("**/ready")
    name = page.eval_on_selector_all("[data-test^=check-]", "es => es.map((e) => e.dataset.test.slice(6))")[0]
    monkeypatch.setattr(Device, "readiness", lambda device, fresh=False: [at_its_longest(name)])
    for language in ("en", "fr"):
        switch_to(page, language)
        page.goto(f"{app.url}/ready")
        said = page.locator("[data-test=problems]")
        assert unscrolled(page) and said.is_hidden(), language  # one check to see to: its list fits
        page.evaluate(ERRORS_KEPT)
        page.evaluate(GROW)
        said.wait_for()  # shown once the page has grown, with no resize
        snap(page, "fit-ready-grown")
        assert said.inner_text() == sentence("ready.problems", language, count=1) and on_screen(said), language
        assert page.evaluate("window.errors") == [], language  # no loop of the observer's notifications
