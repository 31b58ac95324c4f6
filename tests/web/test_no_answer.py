"""A request of the screen that gets no answer says so: "Use this photo" or the shutter posted while the
app restarts, the connection drops, the device hangs past the timeout, or an error answer with no
screen in it comes back. Before, the buttons came back and nothing was said: the nurse tapped again, or
left thinking the photo recorded. Real Chromium; the failures are made at the browser's network layer
(Playwright's page.route)."""

from __future__ import annotations

import pytest

from firmware_app.messages import message
from tests.conftest import write_rgb
from tests.degradations import defocus, glare, uneven
from tests.web.conftest import (
    AUDIT,
    first_eye_screened,
    new_patient,
    on_screen,
    recorded,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
    unscrolled,
)

ALERT = "[role=alert][data-test=no-answer]"


# The margin, in px, that the screen keeps under what ends it (the alert at its foot, the result
# screen's buttons): a box that ended 7 px above the screen's edge looked cut off.
FOOT = 8

# What of the screen the shown alert lies over: the top bar, the nav, the photo, its zoom hint and the
# column of the verdict and the buttons (the capture and check screens), each named by its selector;
# "foot" when it ends less than FOOT px above the screen's foot.
HIDDEN_BY_ALERT = f"""() => {{
  const alert = document.querySelector(".no-answer").getBoundingClientRect();
  const parts = [".topbar", ".nav", ".capture .preview", ".capture .hint", ".capture .side"];
  return parts.filter((part) => {{
    const box = document.querySelector(part)?.getBoundingClientRect();
    return box && box.left < alert.right && alert.left < box.right && box.top < alert.bottom && alert.top < box.bottom;
  }}).concat(alert.bottom > innerHeight - {FOOT} ? ["foot"] : []);
}}"""

# Which of the result screen's parts something else lies over (the alert, the buttons kept in view), or
# are off the screen: what is at the centre, the top edge or the bottom edge of each is not the part
# itself (the buttons kept in view lay over the disclaimer's foot), or it ends less than FOOT px above
# the screen's foot.
RESULT_COVERED = f"""() => [...document.querySelectorAll(".result > *")].filter((part) => {{
  const box = part.getBoundingClientRect();
  const x = box.left + box.width / 2;
  const own = [box.top + 1, box.top + box.height / 2, box.bottom - 1]
    .every((y) => part.contains(document.elementFromPoint(x, y)));
  return !own || box.bottom > innerHeight - {FOOT};
}}).map((part) => part.className)"""


def use_unanswered(language: str) -> str:
    """What the check screen says when "Use this photo" gets no answer (its gradable photo's button)."""
    return message("check.no_answer", language).format(button=message("check.use", language))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_use_this_photo_left_unanswered_says_it_may_be_recorded_and_a_retry_records_it_once(page, app, language):
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "N-1")
    shoot(page)
    page.route("**/status", lambda route: route.abort("connectionreset"))  # the bar's poll: not hers
    page.evaluate("htmx.trigger(document.body, 'status-changed')")
    page.wait_for_timeout(500)
    assert not page.locator(ALERT).is_visible()
    page.route("**/check/use", lambda route: route.abort("connectionreset"))  # htmx:sendError
    page.locator("[data-test=use]").click()
    alert = page.locator(ALERT)
    alert.wait_for(timeout=10_000)
    assert alert.inner_text().strip() == use_unanswered(language)
    assert not alert.locator("a").is_visible()  # its own sentence says what to do
    assert on_screen(alert) and on_screen(page.locator("[data-test=use]"))
    assert page.locator("[data-test=use]").is_enabled() and page.locator(".nav a[href='/today']").is_visible()
    assert page.evaluate(HIDDEN_BY_ALERT) == [] and on_screen(page.locator(".capture .hint"))
    assert unscrolled(page) and page.evaluate(AUDIT) == []  # targets, text size and contrast
    snap(page, "check-no-answer")

    page.unroute("**/check/use")
    page.locator("[data-test=use]").click()  # the retry: the alert goes, the photo is recorded
    page.wait_for_url("**/result")
    assert not page.locator(ALERT).is_visible()
    assert len(recorded(app)) == 1


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_alert_of_an_ungradable_photo_left_unanswered_hides_none_of_the_check_screen(
    page, app, language, tmp_path, retina_rgb
):
    """The tallest check screen (reasons to retake, "Record as not gradable" under Retake) and the
    longest alert: laid over the screen's foot, in French it hid the button it says to tap again."""
    app.show(write_rgb(tmp_path / "poor.jpg", glare(uneven(defocus(retina_rgb, 2), 1), 1)))
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "N-13")
    shoot(page)
    page.route("**/check/use", lambda route: route.abort("connectionreset"))
    page.locator("[data-test=use]").click()
    alert = page.locator(ALERT)
    alert.wait_for(timeout=10_000)
    button = message("check.use_ungradable", language)
    assert alert.inner_text().strip() == message("check.no_answer", language).format(button=button)
    assert page.evaluate(HIDDEN_BY_ALERT) == []
    for part in (alert, page.locator("[data-test=use]"), page.locator(".capture .hint")):
        assert on_screen(part)
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "check-ungradable-no-answer")


def answer_lost(route) -> None:
    """The request handled by the server (the photo recorded, the visit closed), the connection then
    dropped before its answer came."""
    route.fetch()
    route.abort("connectionreset")


def used_with_answer_lost(page, app, language: str, reference: str) -> None:
    """A new patient's first photo used and recorded, its answer lost: the check screen stays, its
    alert saying the photo may be recorded."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, reference)
    shoot(page)
    page.route("**/check/use", answer_lost, times=1)
    page.locator("[data-test=use]").click()
    page.locator(ALERT).wait_for(timeout=10_000)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_use_this_photo_recorded_but_its_answer_lost_shows_its_result_when_tapped_again(page, app, language):
    """The server records the photo and the connection drops before its answer comes. A tap again
    was sent to the camera for the same eye, with nothing to say the photo was recorded; it is
    answered with that photo's result screen, as the first answer was, and records nothing more."""
    used_with_answer_lost(page, app, language, "N-3")
    assert page.locator(ALERT).inner_text().strip() == use_unanswered(language)
    [(eye, outcome)] = recorded(app)
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "check-answer-lost")

    page.locator("[data-test=use]").click()  # again: its result, not the camera
    page.wait_for_url("**/result")
    assert page.locator(f"[data-test=triage-{eye}]").get_attribute("data-outcome") == outcome
    assert page.locator("[data-test=next-slot]").is_visible() and not page.locator(ALERT).is_visible()
    assert recorded(app) == [(eye, outcome)]
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "result-after-answer-lost")
    page.reload()  # its address was pushed: the result is a page of its own
    assert page.locator(f"[data-test=triage-{eye}]").get_attribute("data-outcome") == outcome


@pytest.mark.parametrize("language", ["en", "fr"])
def test_use_this_photo_tapped_again_after_the_eye_was_retaken_shows_that_photos_own_result(
    page, app, language, retina_blurred, retina_jpeg
):
    """The answer of an ungradable photo is lost; in another tab the nurse retakes that eye and uses a
    graded photo, which the eye now stands at. A tap again on the first tab's button showed the eye as
    it stands now, "no referral", for the photo that could not be graded; it shows that photo's own
    result, as it was recorded, and records nothing more; a reload shows it still (it showed the eye's
    latest), until a new photo of the eye is used."""
    app.show(retina_blurred)
    used_with_answer_lost(page, app, language, "N-14")
    assert recorded(app) == [("R", "ungradable")]

    other = page.context.new_page()  # the same session moves on in another tab: the eye retaken
    other.goto(f"{app.url}/result")
    app.show(retina_jpeg)
    other.locator("[data-test=retake-slot]").click()
    other.wait_for_url("**/capture")
    shoot(other)
    other.locator("[data-test=use]").click()
    other.wait_for_url("**/result")
    assert other.locator("[data-test=triage-R]").get_attribute("data-outcome") == "no_refer"
    other.close()

    page.locator("[data-test=use]").click()  # the first tab's photo again: its own result
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") == "ungradable"
    assert page.locator("[data-test=earlier-stands]").count() == 0
    assert recorded(app) == [("R", "ungradable"), ("R", "no_refer")]
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "result-after-answer-lost-and-retaken")

    page.reload()  # what she was looking at, not the eye's latest result
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") == "ungradable"
    page.locator("[data-test=retake-slot]").click()  # the eye retaken once more: its new photo's result
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    page.reload()
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") == "no_refer"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_other_eyes_photo_waiting_in_another_tab_is_recorded_as_that_eye_when_a_lost_answer_is_asked_again(
    page, app, language
):
    """The right eye's answer is lost; in another tab the nurse goes on to the left eye and takes its
    photo, which waits on the check screen; in the first tab she taps "Use" again to see her result.
    Showing it moved the visit back to the right eye, and the left eye's photo, used then, was
    triaged and recorded as the right eye. Each photo is recorded as the eye it was taken for."""
    used_with_answer_lost(page, app, language, "N-15")
    assert [eye for eye, _ in recorded(app)] == ["R"]

    other = page.context.new_page()  # the same session goes on in another tab: the left eye
    other.goto(f"{app.url}/result")
    other.locator("[data-test=next-slot]").click()
    other.wait_for_url("**/capture")
    shoot(other)  # the left eye's photo waits on the other tab's check screen

    page.locator("[data-test=use]").click()  # the first tab: the lost answer asked for again
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").is_visible()
    assert page.locator("form:has([data-test=retake-slot]) input[name=slot]").input_value() == "R"
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "result-asked-again-other-eye-waiting")

    other.reload()  # the check screen, still of the left eye
    assert other.locator("h1.slot").inner_text().strip() == message("eye.L", language)
    other.locator("[data-test=use]").click()
    other.wait_for_url("**/result")
    assert other.locator("[data-test=triage-L]").is_visible()
    assert [eye for eye, _ in recorded(app)] == ["R", "L"]  # before: ["R", "R"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_shutter_unanswered_or_answered_with_no_screen_says_nothing_was_recorded(page, app, language):
    """A plain-text 500 (what Starlette answers for a failure outside the app's pages) was swapped in
    as it came: the screen went blank under the top bar. The timeout is made short here; the app's
    own is under a minute with the default camera."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "N-2")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    page.route(
        "**/capture/shoot",
        lambda route: route.fulfill(status=500, content_type="text/plain", body="Internal Server Error"),
    )
    page.locator("[data-test=shutter]").click()
    page.wait_for_function("() => !document.querySelector('#working') || document.querySelector('#working').hidden")
    assert page.locator("main .capture").is_visible()  # the screen stays
    alert = page.locator(ALERT)
    alert.wait_for(timeout=10_000)
    assert message("app.no_answer", language) in alert.inner_text()
    assert page.locator("[data-test=shutter]").is_visible() and not page.locator("#working").is_visible()
    assert page.evaluate(HIDDEN_BY_ALERT) == [] and on_screen(alert)
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "capture-no-answer")

    page.locator(ALERT + " a").click()  # Try again: the capture screen anew, the alert gone
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    assert not page.locator(ALERT).is_visible()
    page.unroute("**/capture/shoot")
    page.route("**/capture/shoot", lambda route: None)  # the device hangs: never answered
    camera = app.config.camera  # the default camera's allowance: she is told within a minute
    assert camera.frame_timeout * (camera.burst + 1) * 1000 < page.evaluate("htmx.config.timeout") < 60_000
    page.evaluate("htmx.config.timeout = 500")
    page.locator("[data-test=shutter]").click()
    alert.wait_for(timeout=10_000)
    assert message("app.no_answer", language) in alert.inner_text()
    assert recorded(app) == []


def test_the_screen_waits_for_the_longest_burst_the_camera_is_allowed(page, tmp_path, retina_jpeg):
    """A camera allowed a minute a frame and a burst of 30 may take 31 minutes over its burst: the
    page's fixed minute told the nurse "no answer, nothing was recorded" while the camera was still at
    it. The page waits as long as the app's own allowance for the burst, and more."""
    running = start_app(tmp_path, burst=30, sections={"camera": "frame_timeout = 60\n"})
    app = next(running)
    app.show(retina_jpeg)
    sign_in(page, app)
    new_patient(page, app, "N-12")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    camera = app.config.camera
    assert (camera.frame_timeout, camera.burst) == (60, 30)
    assert page.evaluate("htmx.config.timeout") > 60 * (30 + 1) * 1000
    next(running, None)


# Polls the status bar now and waits for the poll's end, answered or not.
POLL_STATUS = """() => new Promise((done) => {
  const bar = document.getElementById("status");
  for (const name of ["htmx:afterRequest", "htmx:sendError"]) bar.addEventListener(name, done, { once: true });
  htmx.trigger(document.body, "status-changed");
})"""


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_status_bar_unanswered_or_answered_with_an_error_keeps_its_last_status_and_says_nothing(
    page, app, language
):
    """A plain-text 500 to the bar's poll (every 5 s, not the nurse's request) was swapped in as it
    came: "Internal Server Error" in place of the connection and the counts."""
    sign_in(page, app)
    switch_to(page, language)
    page.goto(f"{app.url}/today")
    bar = page.locator("#status")
    bar.locator("[data-test=connection]").wait_for()
    page.evaluate(POLL_STATUS)
    shown = bar.inner_html()
    page.route(
        "**/status", lambda route: route.fulfill(status=500, content_type="text/plain", body="Internal Server Error")
    )
    page.evaluate(POLL_STATUS)
    assert bar.inner_html() == shown and "Internal Server Error" not in page.locator("body").inner_text()
    assert not page.locator(ALERT).is_visible()
    page.unroute("**/status")
    page.route("**/status", lambda route: route.abort("connectionreset"))
    page.evaluate(POLL_STATUS)
    assert bar.inner_html() == shown and not page.locator(ALERT).is_visible()
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "status-bar-unanswered")
    page.unroute("**/status")
    page.evaluate(POLL_STATUS)  # answered again: polled as before
    assert bar.inner_html() == shown


@pytest.mark.parametrize("language", ["en", "fr"])
def test_retake_unanswered_or_answered_with_no_screen_says_nothing_was_recorded(page, app, language):
    """Retake was a plain form post: unanswered (the app restarting), Chromium put its own error page
    in place of the app, in no words of ours. It is posted as the screen's other requests are."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "N-4")
    shoot(page)
    alert = page.locator(ALERT)
    for failure in (
        lambda route: route.abort("connectionreset"),
        lambda route: route.fulfill(status=500, content_type="text/plain", body="Internal Server Error"),
    ):
        page.route("**/retake", failure)
        page.locator("[data-test=retake]").click()
        alert.wait_for(timeout=10_000)
        assert message("app.no_answer", language) in alert.inner_text() and alert.locator("a").is_visible()
        assert page.url.endswith("/check") and page.locator("[data-test=retake]").is_enabled()
        assert page.locator("[data-test=use]").is_enabled()
        assert unscrolled(page) and page.evaluate(AUDIT) == []
        page.unroute("**/retake")
    snap(page, "check-retake-no-answer")
    assert recorded(app) == []

    page.locator("[data-test=retake]").click()  # answered: the camera again, its preview live
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    assert not alert.is_visible() and recorded(app) == []


def retake_form(page) -> dict[str, str]:
    """What the check screen's Retake posts: the photo it gives up and the slot it was taken for."""
    fields = ("csrf", "visit", "slot", "photo")
    return {name: page.locator(f"form[action='/retake'] input[name={name}]").input_value() for name in fields}


def test_retake_without_javascript_is_the_form_post_it_was(page, app):
    """The form's own post (no htmx) is answered with the redirect to the camera, as before."""
    sign_in(page, app)
    new_patient(page, app, "N-5")
    shoot(page)
    answer = page.request.post(f"{app.url}/retake", form=retake_form(page), max_redirects=0)
    assert answer.status == 303 and answer.headers["location"].endswith("/capture")


def plain_500(route) -> None:
    """What Starlette answers for a failure outside the app's pages: no screen in it."""
    route.fulfill(status=500, content_type="text/plain", body="Internal Server Error")


def drop(route) -> None:
    route.abort("connectionreset")


def unanswered(page, button: str, path: str, failure, said: str) -> None:
    """Tap ``button`` while ``path`` gets ``failure``: the screen stays, its buttons back, the alert says ``said``."""
    alert = page.locator(ALERT)
    url = page.url
    page.route(path, failure)
    page.locator(f"[data-test={button}]").click()
    alert.wait_for(timeout=10_000)
    assert alert.inner_text().strip() == said and not alert.locator("a").is_visible()
    assert page.url == url
    page.locator(f"[data-test={button}]").click(trial=True, timeout=2_000)  # enabled, and not under the alert
    assert on_screen(alert) and unscrolled(page) and page.evaluate(AUDIT) == []
    assert page.evaluate(HIDDEN_BY_ALERT) == []  # over the top bar it hid Lock, and in French the nav
    page.unroute(path)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_result_screens_buttons_unanswered_say_what_may_have_been_recorded(page, app, language):
    """The result screen's "Retake this one", "Next: <eye>" and Finish were plain form posts: unanswered (the app
    restarting), Chromium put its own error page in place of the app. They say it in our words: the
    result on screen is recorded and nothing else was; "Finish anyway" may have listed the eye on
    Today as not photographed, and a tap again lists it once."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "N-6")
    [(eye, outcome)] = recorded(app)
    nothing_else = message("result.no_answer", language)
    for button, path in (("retake-slot", "**/retake"), ("next-slot", "**/retake"), ("finish", "**/finish")):
        for failure in (drop, plain_500):
            unanswered(page, button, path, failure, nothing_else)
    assert page.evaluate(RESULT_COVERED) == []  # in French too: its buttons on one row under the alert
    snap(page, "result-no-answer")
    assert recorded(app) == [(eye, outcome)]

    page.locator("[data-test=finish]").click()  # answered: the question, loaded as a page
    page.wait_for_url("**/finish")
    other = "L" if eye == "R" else "R"
    listed = message("result.finish_no_answer", language).format(
        eye=message(f"eye.{other}", language), button=message("result.finish_anyway", language)
    )
    unanswered(page, "finish-yes", "**/finish", answer_lost, listed)  # the eye listed as not photographed
    assert page.evaluate(RESULT_COVERED) == []  # in French too: the outcome and the disclaimer, under the question
    snap(page, "finish-anyway-no-answer")
    page.locator("[data-test=finish-yes]").click()  # again: the patient screen, listed once
    page.wait_for_url("**/patient")
    page.wait_for_load_state()
    assert page.locator(".nav a.current[href='/patient']").is_visible()
    assert recorded(app) == [(eye, outcome)]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_result_screens_next_eye_loads_the_camera_as_a_page(page, app, language):
    """Answered, "Next: <eye>" and "Retake this one" bring the camera with its live preview, as the
    form posts did."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, "N-7")
    page.locator("[data-test=next-slot]").click()
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    assert not page.locator(ALERT).is_visible()


def close_visit_elsewhere(page, app) -> None:
    """Another tab of the session finishes the open visit (an eye not photographed, confirmed)."""
    form = {name: page.locator(f"input[name={name}]").first.input_value() for name in ("csrf", "visit")}
    answer = page.request.post(f"{app.url}/finish", form={**form, "confirmed": "yes"}, max_redirects=0)
    assert answer.status == 303


def give_up_photo_elsewhere(page, app) -> None:
    """Another tab of the session retakes: the photo waiting on this check screen is given up."""
    assert page.request.post(f"{app.url}/retake", form=retake_form(page), max_redirects=0).status == 303


@pytest.mark.parametrize("language", ["en", "fr"])
def test_use_this_photo_with_no_photo_waiting_loads_the_camera_as_a_page(page, app, language):
    """The server answered a plain redirect: htmx swapped the capture screen in without a page load,
    and its live preview never started (no verdict, no automatic shutter)."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "N-8")
    shoot(page)
    page.wait_for_url("**/check")
    give_up_photo_elsewhere(page, app)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/capture")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)  # the preview's verdicts come
    assert recorded(app) == []
    snap(page, "use-no-photo-waiting")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_shutter_or_use_this_photo_with_no_open_visit_loads_the_patient_screen_as_a_page(page, app, language):
    """A redirect swapped the patient screen into the camera's or the check screen's page, its address
    and its nav left as they were."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "N-9")
    page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
    close_visit_elsewhere(page, app)
    page.locator("[data-test=shutter]").click()
    page.wait_for_url("**/patient")
    assert page.locator(".nav a.current[href='/patient']").is_visible()
    snap(page, "shutter-no-visit")

    new_patient(page, app, "N-10")
    shoot(page)
    page.wait_for_url("**/check")
    close_visit_elsewhere(page, app)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/patient")
    assert page.locator(".nav a.current[href='/patient']").is_visible() and recorded(app) == []


def test_the_result_screens_buttons_without_javascript_are_the_form_posts_they_were(page, app):
    """The forms' own posts (no htmx) are answered with redirects, as before."""
    sign_in(page, app)
    first_eye_screened(page, app, "N-11")
    form = {name: page.locator(f"input[name={name}]").first.input_value() for name in ("csrf", "visit")}
    answer = page.request.post(f"{app.url}/finish", form=form, max_redirects=0)
    assert answer.status == 303 and answer.headers["location"].endswith("/finish")
    answer = page.request.post(f"{app.url}/retake", form={**form, "slot": "L"}, max_redirects=0)
    assert answer.status == 303 and answer.headers["location"].endswith("/capture")
