"""Every screen at 800x480 in both languages: screenshots for a person to look at (test-artifacts/),
and what can be measured: no scrolling on capture, check and result; touch targets of 48 px; text
of 16 px; text contrast of at least 4.5:1 (WCAG AA) against its background."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.app import open_store
from firmware_app.backup import LAST_BACKUP
from firmware_app.messages import message
from firmware_app.web.server import CAMERA_NOT_SET_UP
from firmware_app.wording import readable_date
from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    SCREEN,
    RunningApp,
    enter_pin,
    first_eye_screened,
    new_patient,
    on_screen,
    shoot,
    sign_in,
    sign_out,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)


def check_screen(page, name: str, no_scroll: bool = False) -> None:
    snap(page, name)
    assert page.evaluate(AUDIT) == [], name
    if no_scroll:
        assert unscrolled(page), f"{name} scrolls"


def test_each_screen_in_both_languages(page, app, retina_jpeg):
    page.goto(f"{app.url}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        sign_in(page, app)
        page.wait_for_url("**/ready")
        check_screen(page, "screen-ready")
        free = {"en": r"\d+\.\d GB free", "fr": r"\d+,\d Go libres"}[language]  # the status bar's free space
        assert re.search(free, page.inner_text("body")), free
        assert on_screen(page.locator(".title-row .primary"))  # "Start screening" without scrolling
        for path in ("/patient", "/today", "/records", "/patient/scan"):
            page.goto(f"{app.url}{path}")
            check_screen(page, f"screen-{path[1:].replace('/', '-')}", no_scroll=path == "/patient/scan")
        if language == "fr":  # French screens show a dermoscopy patient, English ones a fundus patient
            app.show(DERMOSCOPY_SAMPLE)
            new_patient(page, app, "S-FR", "dermoscopy", "trunk")
        else:
            new_patient(page, app, "S-EN")
        page.wait_for_url("**/capture")
        page.wait_for_selector("#guidance[data-seq]")
        check_screen(page, "screen-capture", no_scroll=True)
        # The camera's frame keeps its proportions in the 4:3 box (a square fundus is not stretched).
        assert page.locator("#preview").evaluate("e => getComputedStyle(e).objectFit") == "contain"
        shoot(page)
        check_screen(page, "screen-check", no_scroll=True)
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
        check_screen(page, "screen-result", no_scroll=True)
        page.set_viewport_size({"width": 1280, "height": 800})  # the larger 7-inch panel
        check_screen(page, "screen-result-1280x800")
        page.set_viewport_size(SCREEN)
        page.locator("[data-test=handout]").click()
        check_screen(page, "screen-handout")
        page.goto(f"{app.url}/today")
        check_screen(page, "screen-today-with-entry")
        page.locator("form[action='/lock'] button").click()
        page.wait_for_url("**/signin")
        locked_by_hand = {"en": "The screen is locked", "fr": "L'écran est verrouillé"}[language]
        assert locked_by_hand in page.locator("form.signin").inner_text()  # not "locked after 5 min without use"
        check_screen(page, "screen-locked")
        enter_pin(page)
        sign_out(page)
        switch_to(page, language)  # signed out: the device's language again
        check_screen(page, "screen-signin")
        app.show(retina_jpeg)

    # The audit itself catches what it is for: a small, pale line of text and a small button.
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
        '<p style="font-size:12px;color:#bbb">pale</p><button style="min-height:20px;height:20px">x</button>')"""
    )
    problems = page.evaluate(AUDIT)
    assert any(p.startswith("small text pale") for p in problems) and any(p.startswith("contrast") for p in problems)
    assert any(p.startswith("small target x") for p in problems)


# Each banner alone, and each other banner with patients to call back (counted beside it, never hidden).
BANNERS = (
    "offline",
    "call-back",
    "camera-lost",
    "camera-not-set-up",
    "call-back+offline",
    "camera-lost+call-back",
    "camera-not-set-up+call-back",
)
CUT = """e => [e, ...e.querySelectorAll("*")]
  .filter((c) => c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1)
  .map((c) => `${c.tagName} ${c.scrollWidth}x${c.scrollHeight} in ${c.clientWidth}x${c.clientHeight}`)"""


@pytest.fixture()
def banner_app(request, tmp_path, retina_jpeg, status_shown) -> Iterator[tuple[RunningApp, str]]:
    """The app with one banner of the status bar shown, at its longest: the offline one for real
    (no broker, ``offline_banner_after_s = 1``; said at its longest, 90 minutes: longer is said in hours,
    then days), the others put in the status bar's data (a call-back of 12 patients, all urgent; the
    camera lost, or set up wrong);
    with ``+call-back``, patients to call back as well (12, all urgent: the count at its longest), with
    ``+offline`` the site server unreachable as well (said by the connection beside the banner)."""
    banner = request.param
    if "offline" in banner:
        status_shown["waiting_minutes"] = 90
    if "call-back" in banner:
        status_shown["to_call_back"] = {"patients": 12, "urgent": 12}
    if banner.startswith("camera"):
        not_set_up = banner.startswith("camera-not-set-up")
        status_shown["camera_banner"] = CAMERA_NOT_SET_UP if not_set_up else "banner.camera_lost"
    running = start_app(tmp_path, app="offline_banner_after_s = 1\n" if "offline" in banner else "")
    app = next(running)
    app.show(retina_jpeg)
    yield app, banner
    next(running, None)


def fits_with_banner(page, banner: str, name: str, no_scroll: bool = True) -> None:
    """The screen fits 800x480 unscrolled, the banner shown whole (never cut) in the top bar's place,
    and beside it, whole too, online or offline with the backlog and (``+call-back``) the patients to
    call back with the urgent ones."""
    first = banner.split("+")[0]  # the banner shown: the others are counted beside it
    shown = page.locator(f"[data-test={'camera' if first.startswith('camera') else first}-banner]")
    shown.wait_for(timeout=15_000)
    snap(page, f"banner-{banner.replace('+', '-and-')}-{name}")
    assert unscrolled(page) or not no_scroll, name
    assert page.locator(".topbar").bounding_box()["height"] <= 55, name
    assert shown.evaluate(CUT) == [], f"{name}: the banner is cut"
    kept = [page.locator("[data-test=connection-state]")]
    if banner.endswith("+offline"):
        assert page.locator("[data-test=connection]").inner_text() in ("Offline", "Hors ligne"), name
    if banner.endswith("+call-back"):
        kept.append(page.locator("[data-test=call-back-count]"))
        assert page.locator("[data-test=call-back-count-urgent]").is_visible(), name
    for locator in kept:
        assert locator.is_visible() and locator.evaluate(CUT) == [], f"{name}: {locator} hidden or cut"
        assert on_screen(locator), name


@pytest.mark.parametrize("banner_app", BANNERS, indirect=True)
def test_the_screens_that_fit_still_fit_with_each_banner_in_both_languages(page, banner_app):
    app, banner = banner_app
    page.goto(f"{app.url}/signin")
    for language in ("en", "fr"):
        switch_to(page, language)
        sign_in(page, app)
        page.wait_for_url("**/ready")
        fits_with_banner(page, banner, "ready", no_scroll=False)  # a list: only its button must show
        assert on_screen(page.locator(".title-row .primary"))
        page.goto(f"{app.url}/patient")
        fits_with_banner(page, banner, "patient")
        type_on_keypad(page, "reference", "B-1")
        page.locator("input[name=modality][value=dermoscopy]").check()
        page.locator("[data-test=next]").click()
        fits_with_banner(page, banner, "patient-skin")
        assert on_screen(page.locator("[data-test=start]"))
        page.locator("button[data-step-to='1']").click()
        page.locator("input[name=modality][value=fundus]").check()
        page.locator("[data-test=next]").click()
        fits_with_banner(page, banner, "patient-eyes")
        page.locator("input[name=consent]").check()
        page.locator("[data-test=start]").click()
        page.wait_for_url("**/capture")
        fits_with_banner(page, banner, "capture")
        shoot(page)
        fits_with_banner(page, banner, "check")
        page.locator("[data-test=use]").click()
        page.wait_for_url("**/result")
        fits_with_banner(page, banner, "result")
        page.locator("[data-test=finish]").click()
        page.locator("[data-test=finish-confirm]").wait_for()
        fits_with_banner(page, banner, "finish-confirm")
        page.goto(f"{app.url}/patient/scan")
        fits_with_banner(page, banner, "scan")
        page.locator("[data-test=sign-out]").click()  # asked first: the patient is in progress
        page.locator("[data-test=leave-visit]").wait_for()
        fits_with_banner(page, banner, "sign-out-question")
        page.locator("[data-test=leave-start]").click()
        page.wait_for_url("**/signin")


def test_the_checks_and_the_status_bar_say_times_sizes_and_model_states_alike_in_french(page, app, monkeypatch):
    """The clock line in local time as every other time (not a UTC ISO time), free space in GB with the
    French decimal comma as the status bar says it, and the models' state in French."""
    monkeypatch.setenv("TZ", "America/Halifax")  # a zone never at UTC's time, summer or winter
    time.tzset()
    try:
        sign_in(page, app)
        page.locator("[data-test=language]").click()
        page.wait_for_url("**/ready")
        snap(page, "ready-values")
        clock = page.locator("[data-test=check-clock]").inner_text()
        assert "UTC" not in clock
        now = datetime.now(UTC)
        assert any(readable_date(now - timedelta(minutes=m), "fr") in clock for m in (0, 1)), clock
        storage = page.locator("[data-test=check-disk]").inner_text()
        free = re.search(r"\d+,\d Go libres", storage)
        assert free and free[0] in page.locator("#status").inner_text(), storage  # the status bar's words
        models = page.locator("[data-test=check-models]").inner_text()
        assert "(signé)" in models and "signed" not in models, models
        assert "signed" not in page.locator("[data-test=models]").text_content()
        page.locator("[data-test=language]").click()
        assert "(signed)" in page.locator("[data-test=check-models]").inner_text()
        assert re.search(r"Storage: \d+\.\d GB free", page.locator("[data-test=check-disk]").inner_text())
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_backup_line_says_how_long_ago_as_a_person_would(page, app):
    """The day of the first screening the Ready list read "the first screening is 0 days old": now
    "today", "yesterday", "3 days ago", in both languages."""
    sign_in(page, app)
    first_eye_screened(page, app, "B-1")
    page.goto(f"{app.url}/ready")
    backup = page.locator("[data-test=check-backup]")
    assert "Not backed up yet; the first screening was today." in backup.inner_text()
    switch_to(page, "fr")
    assert "Pas encore de sauvegarde\u00a0; le premier dépistage a eu lieu aujourd'hui." in backup.inner_text()
    backup.scroll_into_view_if_needed()  # the list is longer than the screen: the line in the screenshot
    snap(page, "ready-backup-age")
    for days, french, english in ((1, "hier", "yesterday"), (3, "il y a 3\u00a0jours", "3\u00a0days ago")):
        backed_up = datetime.now(UTC) - timedelta(days=days, hours=1)
        with sqlite3.connect(app.directory / "records.sqlite3") as db:  # as `edgescreen backup` marks it
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (LAST_BACKUP, backed_up.isoformat()))
        page.reload()
        assert f"Dossiers sauvegardés {french}." in backup.inner_text()
        switch_to(page, "en")
        assert f"Records backed up {english}." in backup.inner_text()
        backup.scroll_into_view_if_needed()
        snap(page, f"ready-backup-age-{days}")
        switch_to(page, "fr")


def test_the_ready_list_warns_of_an_erasure_request_withheld_as_altered(page, app):
    """A patient's erasure request altered on the card is never sent: the station keeps her results
    until its administrator erases them, so the line asks the nurse to call the technician. It read
    "OK" beside those words; it is a warning, as every line that sends for the technician."""
    store = open_store(app.config)
    try:
        store.records.connection.execute("INSERT INTO erasure_outbox (payload, queued_at) VALUES (?, '')", (b"x",))
    finally:
        store.records.close()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    line = page.locator("[data-test=check-backlog]")
    for language in ("en", "fr"):
        switch_to(page, language)
        assert line.get_attribute("data-level") == "amber", line.inner_text()
        assert line.locator(".level").inner_text() == message("level.amber", language)
        line.scroll_into_view_if_needed()
        snap(page, "ready-erasures-withheld")
