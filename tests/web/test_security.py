"""Sign-in and the session in the browser: PIN lockout, idle lock, CSRF, cookie flags, no stack traces."""

from __future__ import annotations

import time

import pytest

from tests.web.conftest import OPERATOR, csrf_header, enter_pin, new_patient, sign_in, snap, start_app


def test_five_wrong_pins_lock_the_account_for_a_minute(page, app):
    page.goto(f"{app.url}/signin")
    snap(page, "signin")
    for attempt in range(5):
        sign_in(page, app, pin="0000")
        error = page.locator("[data-test=signin-error]").inner_text()
        assert ("locked" in error) == (attempt == 4), error
    snap(page, "signin-locked")
    sign_in(page, app)  # the right PIN, during the lock: still refused
    assert "locked" in page.locator("[data-test=signin-error]").inner_text()
    assert page.url.endswith("/signin")


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


def test_a_failure_shows_a_sentence_not_a_stack_trace(page, app):
    sign_in(page, app)
    page.wait_for_url("**/ready")
    page.goto(f"{app.url}/patient")
    response = page.request.post(f"{app.url}/records/view", form={"result_id": "0" * 32}, headers=csrf_header(page))
    assert response.status == 500
    text = response.text()
    assert "Traceback" not in text and "call the technician" in text
