"""Sign-in and the session in the browser: PIN lockout, idle lock, switching operator at a locked
screen, CSRF, cookie flags, no stack traces."""

from __future__ import annotations

import logging
import sqlite3
import time
import tracemalloc
from collections.abc import Iterator

import httpx2
import pytest

from firmware_app.app import open_store
from firmware_app.messages import plural_key
from firmware_app.operators import Operators
from firmware_app.wording import french_of
from tests.web.conftest import (
    AUDIT,
    OPERATOR,
    PIN,
    add_operator,
    csrf_header,
    enter_pin,
    first_eye_screened,
    new_patient,
    on_screen,
    sign_in,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)


def test_five_wrong_pins_lock_the_account_for_a_minute(page, app):
    page.goto(f"{app.url}/signin")
    snap(page, "signin")
    for attempt in range(5):
        sign_in(page, app, pin="0000")
        error = page.locator("[data-test=signin-error]").inner_text()
        assert ("locked" in error) == (attempt == 4), error
    assert error == (
        "Too many wrong PINs. Amina's account is locked: try again in 1\u00a0minute, "
        "or ask the technician to unlock it."
    )
    snap(page, "signin-locked")
    sign_in(page, app)  # the right PIN, during the lock: still refused
    assert "locked" in page.locator("[data-test=signin-error]").inner_text()
    assert page.url.endswith("/signin")
    page.locator("[data-test=language]").click()
    sign_in(page, app)
    assert page.locator("[data-test=signin-error]").inner_text() == (
        "Trop de codes incorrects. Le compte d'Amina est bloqué\u00a0: réessayez dans 1\u00a0minute, "
        "ou demandez au technicien de le débloquer."
    )
    snap(page, "signin-locked")


def test_the_wrong_pin_refusal_stays_over_the_language_switch_and_in_no_address(page, app):
    """The refusal vanished when the nurse switched language on the sign-in page, where the name she had
    tapped was kept: it is said again in the other language, from the session's memory, once."""
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    add_operator(app, "Bruno", "1357")  # two names: the one tapped is the one kept
    page.goto(f"{app.url}/signin")
    page.get_by_label("Bruno").check()
    enter_pin(page, "0000")
    refusal = page.locator("[data-test=signin-error]")
    assert refusal.inner_text() == "Wrong PIN: try again."
    for language, words in (("fr", "Code incorrect\u00a0: réessayez."), ("en", "Wrong PIN: try again.")):
        switch_to(page, language)
        assert page.locator("html").get_attribute("lang") == language
        assert refusal.inner_text() == words and page.get_by_label("Bruno").is_checked()
        snap(page, "signin-wrong-pin-switched")
    assert not [address for address in addresses if "Wrong" in address or "incorrect" in address], addresses
    page.reload()  # read once: a later load of the page says no refusal
    assert refusal.count() == 0


def test_no_name_tapped_or_no_pin_typed_is_said_in_the_nurses_language_and_never_counted(page, app):
    add_operator(app, "Bruno", "1357")  # two names: none is chosen for her
    page.goto(f"{app.url}/signin")
    for language, choose, pin_needed in (
        ("en", "Tap your name first.", "Type your PIN first."),
        ("fr", "Touchez d'abord votre nom.", "Tapez d'abord votre code."),
    ):
        switch_to(page, language)
        page.goto(f"{app.url}/signin")  # no name tapped (the switch keeps the one tapped before it)
        type_on_keypad(page, "pin", PIN)
        page.locator("form.signin button[type=submit]").click()  # a PIN, no name
        # The app's sentence, not the browser's bubble in the browser's language (no page was posted)
        assert page.locator("[data-test=signin-error]").inner_text() == choose
        snap(page, "signin-no-name")
        page.get_by_label(OPERATOR).check()
        page.locator("form.signin button[type=submit]").click()  # a name, no PIN
        assert page.locator("[data-test=signin-error]").inner_text() == pin_needed
        assert page.get_by_label(OPERATOR).is_checked()  # the name tapped stays tapped
        snap(page, "signin-no-pin")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:  # no wrong PIN counted
        assert db.execute("SELECT failed_pins FROM operator WHERE name = ?", (OPERATOR,)).fetchone() == (0,)
    enter_pin(page)
    page.wait_for_url("**/ready")


def test_the_language_switch_keeps_the_name_tapped_at_the_device_and_puts_it_in_no_address(page, app):
    """The switch reloads the page: the name the nurse had tapped on the device's screen came back
    untapped (the network's page kept its typed name). It goes with the switch's post, as that one,
    and comes back once from the session's memory; the PIN, a secret, is typed again."""
    add_operator(app, "Bruno", "1357")  # two names: none is tapped for her
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    page.goto(f"{app.url}/signin")
    page.get_by_label("Bruno").check()
    type_on_keypad(page, "pin", "13")
    for language in ("fr", "en", "fr"):
        switch_to(page, language)
        assert page.locator("html").get_attribute("lang") == language
        assert page.get_by_label("Bruno").is_checked() and not page.get_by_label(OPERATOR).is_checked()
        assert page.locator("#pin").input_value() == ""  # a secret is not kept for a reload
        snap(page, "signin-name-kept")
    assert not [address for address in addresses if "Bruno" in address], addresses
    page.reload()  # read once: a later load of the page has no name tapped
    assert not page.locator("input[name=operator]:checked").count()
    page.get_by_label("Bruno").check()
    switch_to(page, "en")
    enter_pin(page, "1357")  # the name kept is the one signed in
    page.wait_for_url("**/ready")


def test_with_no_enabled_operator_sign_in_is_not_told_to_tap_a_name(page, app):
    """Every account disabled, the screen said "No operator accounts yet", and "Sign in" tapped added
    "Tap your name first." under it, with no name to tap. It says every account is disabled and the
    technician adds one (none can be enabled again)."""
    store = open_store(app.config)
    try:
        Operators(store.records).disable(OPERATOR)
    finally:
        store.records.close()
    page.goto(f"{app.url}/signin")
    said = {
        "en": "Every operator account is disabled: the technician adds one, under a new name, with "
        "“edgescreen operators add NAME”.",
        "fr": "Tous les comptes opérateur sont désactivés\u00a0: le technicien en crée un, sous un nouveau nom, "
        "avec «\u00a0edgescreen operators add NOM\u00a0».",
    }
    for language, alert in said.items():
        switch_to(page, language)
        assert page.locator("form.signin").get_by_role("alert").all_inner_texts() == [alert], language
        snap(page, "signin-every-operator-disabled")
        page.locator("form.signin button[type=submit]").click()
        assert page.locator("form.signin").get_by_role("alert").all_inner_texts() == [alert], language
        snap(page, "signin-no-operator-submitted")


def test_a_later_round_of_wrong_pins_locks_for_hours_and_says_so(page, app):
    with sqlite3.connect(app.directory / "records.sqlite3") as db:  # nine rounds of wrong PINs already
        db.execute("UPDATE operator SET failed_pins = 49 WHERE name = ?", (OPERATOR,))
    sign_in(page, app, pin="0000")  # the tenth round: 2^9 minutes
    error = page.locator("[data-test=signin-error]").inner_text()
    assert error == (
        "Too many wrong PINs. Amina's account is locked: try again in 9\u00a0hours, or ask the technician to unlock it."
    )
    page.locator("[data-test=language]").click()
    sign_in(page, app)
    french = page.locator("[data-test=signin-error]").inner_text()
    assert french.endswith("réessayez dans 9\u00a0heures, ou demandez au technicien de le débloquer.")
    snap(page, "signin-locked-hours")


def test_french_of_a_name_elides_before_a_vowel():
    assert [french_of(name) for name in ("Amina", "Émile", "Hélène", "Bruno")] == [
        "d'Amina",
        "d'Émile",
        "d'Hélène",
        "de Bruno",
    ]


def test_counts_take_their_singular_or_plural_form_in_each_language():
    assert [plural_key("time.minutes", count, "en") for count in (0, 1, 2)] == [
        "time.minutes.other",
        "time.minutes.one",
        "time.minutes.other",
    ]
    assert [plural_key("time.minutes", count, "fr") for count in (0, 1, 2)] == [
        "time.minutes.one",
        "time.minutes.one",
        "time.minutes.other",
    ]


def test_session_cookie_is_httponly_and_strict_and_rotates_at_sign_in(page, app):
    page.goto(f"{app.url}/signin")
    (before,) = page.context.cookies()
    sign_in(page, app)
    page.wait_for_url("**/ready")
    (after,) = page.context.cookies()
    assert after["httpOnly"] and after["sameSite"] == "Strict"
    assert after["value"] != before["value"]
    assert page.evaluate("document.cookie") == ""


def test_a_post_without_the_csrf_token_does_nothing(page, app):
    sign_in(page, app)
    page.wait_for_url("**/ready")
    response = page.request.post(f"{app.url}/patient", form={"reference": "X1", "modality": "fundus", "consent": "yes"})
    assert response.status == 403 and "expired" in response.text()
    response = page.request.post(
        f"{app.url}/patient", form={"reference": "X1", "modality": "fundus", "consent": "yes", "csrf": "forged"}
    )
    assert response.status == 403
    page.goto(f"{app.url}/capture")
    assert page.url.endswith("/patient")  # no patient was opened


def test_signed_out_pages_send_to_sign_in(page, app):
    for path in ("/ready", "/patient", "/capture", "/today", "/records", "/result"):
        page.goto(f"{app.url}{path}")
        assert page.url.endswith("/signin"), path


@pytest.fixture()
def quick_lock_app(tmp_path, retina_jpeg):
    running = start_app(tmp_path, app="lock_after_s = 5\n")
    app = next(running)
    app.show(retina_jpeg)
    yield app
    next(running, None)


def test_idle_screen_locks_and_the_pin_resumes_the_patient(page, quick_lock_app):
    app = quick_lock_app
    sign_in(page, app)
    new_patient(page, app, "MRN-77")
    page.wait_for_url("**/capture")
    page.goto(f"{app.url}/today")
    time.sleep(6)
    page.goto(f"{app.url}/today")
    page.wait_for_url("**/signin")
    assert OPERATOR in page.locator("form.signin").inner_text()
    assert "without use" in page.locator("form.signin").inner_text()  # locked by the idle timer, and it says so
    snap(page, "locked")
    enter_pin(page)
    page.wait_for_url("**/capture")  # the patient in progress is kept


def test_a_forged_result_id_is_answered_as_a_record_not_held_never_a_failure(page, app, caplog):
    """A result id no form of the app sends (any text, long): on main a 500, "call the technician", an
    error logged. Now the page a record erased meanwhile gets (tests/web/test_record_not_held.py), no
    trace of the app's insides, and no error logged; the app's failures say a sentence too
    (tests/web/test_error_page.py)."""
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for forged in ("0" * 32, "", "x" * 5000, "'; DROP TABLE screening; --"):
        response = page.request.post(f"{app.url}/records/view", form={"result_id": forged}, headers=csrf_header(page))
        text = response.text()
        assert response.status == 404 and "not in the records" in text, text
        assert "Traceback" not in text and "technician" not in text
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


def form_of(megabytes: int) -> Iterator[bytes]:
    """A urlencoded form of many 1 MB fields (each under Starlette's own 1 MB cap), sent in 64 KB pieces."""
    for index in range(megabytes):
        field = f"f{index}=".encode() + b"a" * (2**20 - 16) + b"&"
        yield from (field[start : start + 2**16] for start in range(0, len(field), 2**16))


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_form_is_refused_before_it_is_read(app, declared):
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if declared:
        headers["content-length"] = str(sum(len(piece) for piece in form_of(50)))
    tracemalloc.start()  # the app runs in this process: what it holds is counted here
    try:
        response = httpx2.post(f"{app.url}/signin", content=form_of(50), headers=headers, timeout=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413 and "far larger than any form" in response.text
    assert peak < 16 * 2**20  # the page rendered, not the body; on main a 403 after holding all 50 MB (peak 60 MB)
    # Posted to an address the app has no page for: still 413, not the page-not-found's 404.
    form = {"content-type": "application/x-www-form-urlencoded"}
    unknown = httpx2.post(f"{app.url}/no-such-page", content=form_of(1), headers=form, timeout=60)
    assert unknown.status_code == 413


def test_another_operator_signs_the_locked_one_out_and_the_recorded_eye_stays(page, app):
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-88")
    add_operator(app, "Bruno", "1357")
    page.locator("form[action='/lock'] button").click()
    page.wait_for_url("**/signin")
    for language, words in (("en", "Not Amina? Sign out"), ("fr", "Vous n'êtes pas Amina\u00a0? Se déconnecter")):
        switch_to(page, language)
        assert page.locator("[data-test=not-me]").inner_text() == words
        assert on_screen(page.locator("[data-test=not-me]"))
        snap(page, "locked-not-me")
    page.locator("[data-test=not-me]").click()
    page.wait_for_url("**/signin")
    page.get_by_label("Bruno").check()
    enter_pin(page, "1357")
    page.wait_for_url("**/ready")  # a fresh session: Amina's patient is not resumed under Bruno
    assert page.locator(".nav .operator").inner_text() == "Bruno"
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT eye, operator FROM screening").fetchall() == [("R", OPERATOR)]


def test_a_locked_account_of_the_longest_name_keeps_sign_out_on_the_screen(page, quick_lock_app):
    """Locked after wrong PINs, the account waits minutes or hours: the colleague at the screen signs
    it out to sign herself in. With a name of 40 characters, the French lock sentence took three lines
    and pushed "Not ...? Sign out" below the 800x480 screen. The screen locked when idle, which says
    the longer sentence of the two."""
    app = quick_lock_app
    name = "MARIE-HÉLÈNE DE LA FONTAINE-BEAUMARCHAIS"  # the longest a name may be
    assert len(name) == 40
    add_operator(app, name, "1357")
    page.goto(f"{app.url}/signin")
    page.get_by_label(name).check()
    enter_pin(page, "1357")
    page.wait_for_url("**/ready")
    time.sleep(6)
    page.goto(f"{app.url}/today")
    page.wait_for_url("**/signin")
    assert "without use" in page.locator("form.signin").inner_text()
    for _ in range(5):
        enter_pin(page, "0000")
    for language in ("en", "fr"):
        switch_to(page, language)
        enter_pin(page, "0000")  # the lock's sentence shown, in this language
        assert name in page.locator("[data-test=signin-error]").inner_text()
        snap(page, "locked-out-longest-name")
        not_me = page.locator("[data-test=not-me]")
        assert name in not_me.inner_text()
        assert on_screen(not_me) and unscrolled(page), language
        assert page.evaluate(AUDIT) == [], language
    page.locator("[data-test=not-me]").click()
    page.wait_for_url("**/signin")
    assert page.get_by_label(OPERATOR).is_visible()  # the list of names: another operator signs in


def test_an_unknown_address_says_so_in_the_nurses_language_with_a_way_back(page, app):
    sign_in(page, app)
    page.wait_for_url("**/ready")
    for language, words, form_only, back in (
        ("en", "This page does not exist.", "This screen opens from its button only", "Back"),
        ("fr", "Cette page n'existe pas.", "Cet écran s'ouvre seulement par son bouton", "Retour"),
    ):
        switch_to(page, language)
        response = page.goto(f"{app.url}/no-such-page")
        assert response.status == 404
        assert page.locator("[data-test=message]").inner_text() == words
        assert page.locator(".nav .operator").inner_text() == OPERATOR  # still the app, signed in
        snap(page, "not-found")
        assert page.goto(f"{app.url}/check/use").status == 405  # a form's address, loaded again
        assert page.locator("[data-test=message]").inner_text().startswith(form_only)
        page.get_by_role("link", name=back).click()
        page.wait_for_url("**/ready")


def test_no_other_site_frames_the_app_and_no_script_but_its_own_runs_in_it(page, app):
    # Every answer says so: a page, a static file, an address the app has no page for.
    for path in ("/signin", "/static/app.js", "/no-such-page"):
        headers = httpx2.get(f"{app.url}{path}").headers
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
    # Another site's page showing the sign-in keypad inside its own: Chromium shows nothing of it.
    page.set_content(f'<iframe src="{app.url}/signin" width="800" height="480"></iframe>')
    page.wait_for_timeout(1000)
    (framed,) = page.main_frame.child_frames
    assert OPERATOR not in framed.evaluate("document.documentElement.innerText")
    # A script that got into one of its pages (as text a device or a station sent might) is refused.
    sign_in(page, app)
    page.wait_for_url("**/ready")
    slipped = "document.body.append(Object.assign(document.createElement('script'), {textContent: 'window.ran = 1'}))"
    page.evaluate(slipped)
    assert page.evaluate("window.ran") is None


def test_the_handouts_controls_work_with_no_inline_script(page, app):
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-65")
    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    page.locator("input[name=with_reference]").check()  # posts the form at once
    page.wait_for_selector("[data-test=handout-reference]")
    page.locator("[data-prints]").click()
    assert page.evaluate("window.printed") == 1
    assert refused == []


def test_the_sign_in_page_leaves_no_error_in_the_browsers_console(page, app):
    """Chromium asks every site for /favicon.ico unless the page names its icon: the app has none, so the
    first page of each start logged "Failed to load resource: 404" in the console, an error that hides
    the ones that matter (a CSP refusal, a script failing). The pages name an empty icon, which the CSP
    allows (img-src data:)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{app.url}/signin")
    sign_in(page, app)
    page.wait_for_url("**/ready")
    page.wait_for_load_state("networkidle")
    assert errors == []
