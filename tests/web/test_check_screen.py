"""From the shutter to the result without a page load: the shutter and "Use this photo" are htmx posts
answered with the next screen (CSRF kept, refresh and back still work), and the photo being checked
zooms by tap and by pinch (real touch events through Chromium's input pipeline); the reasons to
retake are read in full, one instruction per cause; each swapped screen's title takes the focus, and
the rest of the screen waits while the photo is used."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.messages import message
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.guidance import guidance
from tests.conftest import write_rgb
from tests.degradations import defocus, glare, uneven
from tests.lesion_renderer import render_lesion
from tests.web.conftest import (
    AUDIT,
    SCREEN,
    csrf_header,
    every_line_shown,
    first_eye_screened,
    new_patient,
    on_screen,
    pressed_after_another_patient_opened,
    shoot,
    sign_in,
    snap,
    start_app,
    switch_to,
    unscrolled,
)
from tests.web.test_result_erased_by_the_station import erased_by_the_station, erased_said

# Set on the page before the shutter: still there at the result only if no page was loaded meanwhile.
MARK = "window.sameDocument = true"
SAME_DOCUMENT = "window.sameDocument === true"


def test_shutter_and_use_swap_the_next_screen_in_without_a_page_load(page, app):
    sign_in(page, app)
    new_patient(page, app, "H-1")
    page.wait_for_selector("#guidance[data-seq]")
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.evaluate(MARK)

    shoot(page)
    photo = page.locator("[data-test=checked-photo]")
    assert photo.get_attribute("src").startswith("data:image/jpeg;base64,")  # came with the screen
    size = photo.evaluate("(image) => image.decode().then(() => [image.naturalWidth, image.naturalHeight])")
    assert max(size) > 200 and size[0] <= 400 and size[1] <= 300  # at the check box's size, not full
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").get_attribute("data-outcome") in ("refer", "no_refer")
    assert page.evaluate(SAME_DOCUMENT)
    asked = [(r.method, r.url.removeprefix(app.url), r.resource_type) for r in requests]
    assert [entry for entry in asked if not entry[1].startswith(("/status", "/capture/stream"))] == [
        ("POST", "/capture/shoot", "xhr"),
        ("POST", "/check/use", "xhr"),
    ], asked
    tokens = {r.headers.get("x-csrf-token") for r in requests if r.method == "POST"}
    assert len(tokens) == 1 and None not in tokens

    page.reload()  # refresh: the result is a page of its own
    assert page.locator("[data-test=triage-R]").is_visible()
    assert page.locator("[data-test=connection]").is_visible()  # the status bar of a full page
    page.go_back()  # to the photo already used: back to the camera, as before
    page.wait_for_url("**/capture")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1


def test_the_shutter_answered_with_the_check_screen_raises_no_script_error(page, app):
    """The capture screen's "working" line was looked up again once the check screen had replaced
    it: a TypeError in the console at every photo (no longer there, its line could not be hidden)."""
    sign_in(page, app)
    new_patient(page, app, "H-3")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    shoot(page)
    page.locator("[data-test=checked-photo]").wait_for()
    page.wait_for_timeout(300)  # htmx's afterRequest comes after the swap
    assert errors == []


def test_two_posts_of_use_this_photo_record_it_once(page, app):
    """A second tab, or a retry of a slow answer, posting while the first is being screened: the
    photo is taken by the first, and the second finds none to record again (after it, the photo's
    result screen)."""
    sign_in(page, app)
    new_patient(page, app, "H-3")
    shoot(page)
    headers = {"HX-Request": "true", **csrf_header(page)}
    use = page.locator("form[action='/check/use']")
    form = {name: use.locator(f"input[name={name}]").input_value() for name in ("visit", "photo")}
    post = """([headers, form]) => fetch('/check/use', {method: 'POST', headers, body: new URLSearchParams(form)})"""
    answer = "(r) => r.headers.get('HX-Redirect') || r.status"
    answers = page.evaluate(
        f"(asked) => Promise.all([1, 2].map(() => ({post})(asked).then({answer})))", [headers, form]
    )
    # The second is sent on to the camera (loaded as a page), or answered with the result.
    assert 200 in answers and set(answers) <= {200, "/capture"}, answers
    # A post of a photo that neither waits nor was used (a stale screen's) is sent to the camera.
    stale = page.evaluate(f"(asked) => ({post})(asked).then({answer})", [headers, {**form, "photo": "stale"}])
    assert stale == "/capture", stale
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_use_this_photo_on_the_check_screen_of_a_patient_left_since_is_told_so(page, app):
    """The check screen of a patient left since in another tab ("New patient", then start), whose
    camera now waits with no photo: "Use this photo" loaded the next patient's camera without a word,
    as if the photo had been used. It says the screen was for another patient and nothing was saved,
    as every other post of such a screen does."""
    sign_in(page, app)
    new_patient(page, app, "H-5")
    shoot(page)
    pressed_after_another_patient_opened(page, app, "use", "check/use")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0


def test_the_check_screen_reloads_and_a_swapped_post_without_the_token_is_refused(page, app):
    sign_in(page, app)
    new_patient(page, app, "H-2")
    shoot(page)
    page.reload()
    assert page.locator("[data-test=checked-photo]").get_attribute("src").startswith("data:image/jpeg")
    refused = page.request.post(f"{app.url}/check/use", headers={"HX-Request": "true"})
    assert refused.status == 403 and "expired" in refused.text()
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1


def test_a_signed_out_swap_loads_the_sign_in_page(page, app):
    sign_in(page, app)
    new_patient(page, app, "H-3")
    page.wait_for_selector("#guidance[data-seq]")
    page.context.clear_cookies()
    page.locator("[data-test=shutter]").click()
    page.wait_for_url("**/signin")
    assert page.locator("form.signin").is_visible() and page.locator("main main").count() == 0


def test_the_photo_zooms_by_tap_and_by_pinch(browser, app):
    context = browser.new_context(viewport=SCREEN, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, app)
        new_patient(page, app, "Z-1")
        shoot(page)
        box = page.locator("#zoom")
        photo = box.locator("img")
        box.tap()
        assert box.get_attribute("data-scale") == "2.50" and "zoomed" in box.get_attribute("class")
        page.wait_for_function("() => document.querySelector('#zoom img').src.endsWith('/check/photo')")
        assert photo.evaluate("(image) => image.decode().then(() => image.naturalWidth)") > 400  # full size
        snap(page, "check-zoomed")
        box.tap()
        assert box.get_attribute("data-scale") == "1.00"

        bounds = box.bounding_box()
        x, y = bounds["x"] + bounds["width"] / 2, bounds["y"] + bounds["height"] / 2
        cdp = context.new_cdp_session(page)

        def touch(kind: str, spread: float) -> None:
            points = [{"x": x - spread, "y": y}, {"x": x + spread, "y": y}] if spread else []
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", 20)
        for spread in (40, 60, 80):  # the fingers move apart: 40 px to 160 px, four times
            touch("touchMove", spread)
        touch("touchEnd", 0)
        assert box.get_attribute("data-scale") == "4.00"
        assert page.evaluate("visualViewport.scale") == 1  # the photo zoomed, not the page
        touch("touchStart", 80)
        touch("touchMove", 10)  # pinched in past the whole photo: back to it all, never smaller
        touch("touchEnd", 0)
        assert box.get_attribute("data-scale") == "1.00"
    finally:
        context.close()


# Whether every reason on the check screen is read in full where it stands: no inner scroll, no line
# below the screen, and the title on one line.
REASONS_IN_FULL = """() => {
  const box = document.querySelector("[data-test=check-quality]");
  const title = document.querySelector("h1.slot");
  const titleHeight = title.getBoundingClientRect().height;
  const lines = [...box.querySelectorAll("li")].map((li) => li.getBoundingClientRect().bottom);
  return {scrolls: box.scrollHeight > box.clientHeight + 1, lowest: Math.max(...lines), count: lines.length,
          titleLines: Math.round(titleHeight / parseFloat(getComputedStyle(title).lineHeight))};
}"""


def reasons_read_in_full(page, app, patient: str, button: str, shot: str, *visit: str) -> tuple[dict, str]:
    """Shoot for a new visit (``new_patient``'s ``visit``) and check that every reason to retake is
    read in full where it stands and ``button`` (``use``, ``retake``) is on the screen, unscrolled;
    the measures of ``REASONS_IN_FULL`` and the reasons' text, for the caller's own checks."""
    new_patient(page, app, patient, *visit)
    shoot(page)
    shown = page.evaluate(REASONS_IN_FULL)
    assert not shown["scrolls"] and shown["lowest"] <= 480, shown
    assert on_screen(page.locator(f"[data-test={button}]")) and unscrolled(page)
    snap(page, shot)
    return shown, page.locator("[data-test=check-quality]").inner_text()


def test_the_reasons_to_retake_are_read_in_full_under_a_one_line_title(page, app, tmp_path, retina_rgb):
    app.show(write_rgb(tmp_path / "poor.jpg", glare(uneven(defocus(retina_rgb, 2), 1), 1)))
    sign_in(page, app)
    for language in ("en", "fr"):
        switch_to(page, language)
        shown, _ = reasons_read_in_full(page, app, f"Q-{language.upper()}", "retake", "check-reasons")
        assert shown["count"] >= 2 and shown["titleLines"] == 1, shown


def faint_lesion(folder: Path, retina_rgb: np.ndarray) -> Path:
    """A lesion too faint for the gate to find: refused as "no lesion found" whatever the framing."""
    return write_rgb(folder / "faint.png", render_lesion(seed=2, pigment=(215, 170, 152)).rgb)


def warmer_retina(folder: Path, retina_rgb: np.ndarray) -> Path:
    """A fundus camera's photo that a warm white balance leaves with little blue (``quality.modality``)."""
    warmer = retina_rgb.copy()
    warmer[:, :, 2] = (warmer[:, :, 2] * 0.8).astype(np.uint8)
    return write_rgb(folder / "retina.jpg", warmer)


@pytest.mark.parametrize(
    ("photo", "patient", "words", "button", "shot"),
    [
        pytest.param(
            faint_lesion,
            "F",
            {"en": "No retake fixes it", "fr": "Enregistrez-la comme ininterprétable"},
            "use",
            "check-faint-lesion",
            id="faint-lesion",
        ),
        pytest.param(
            warmer_retina,
            "W",
            {"en": "This is a retina photo, not skin", "fr": "C'est une photo de rétine"},
            "retake",
            "check-wrong-modality",
            id="retina-on-skin",
        ),
    ],
)
def test_a_photo_refused_on_a_skin_visit_is_told_why_in_the_nurses_language(
    page, app, tmp_path, retina_rgb, photo, patient, words, button, shot
):
    """Read in full without scrolling, in the nurse's language: a lesion too faint for the gate is
    told when to stop retaking and record it as not gradable instead; a retina on a visit set to
    skin is told it is a retina, not skin."""
    app.show(photo(tmp_path, retina_rgb))
    sign_in(page, app)
    for language, said in words.items():
        switch_to(page, language)
        _, reasons = reasons_read_in_full(
            page, app, f"{patient}-{language.upper()}", button, shot, "dermoscopy", "trunk"
        )
        assert said in reasons, reasons


def held_use_post(page) -> list:
    """Hold every post of "Use this photo" on its way (let go by the caller) once the tap disabled the
    button. The route's handler runs on the test's side only when Playwright dispatches events, so the
    button may be disabled before the post is in hand: wait for it with Playwright's own waits."""
    held: list = []
    page.route("**/check/use", lambda route: held.append(route))
    page.locator("[data-test=use]").click()
    page.wait_for_function("() => document.querySelector('[data-test=use]').disabled")
    for _ in range(1500):  # up to 30 s on a loaded machine; usually none
        if held:
            return held
        page.wait_for_timeout(20)
    raise AssertionError("the post of Use this photo never reached the test's route")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_retake_waits_while_the_photo_is_used_and_the_result_is_where_the_nurse_lands(page, app, language):
    """A tap on Retake while "Use this photo" was on its way posted the retake: the page left for the
    capture screen, and the result, recorded meanwhile, was never seen. Both wait for the answer now."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "H-9")
    shoot(page)
    held = held_use_post(page)  # the post stays on its way until it is let go
    assert page.locator("[data-test=retake]").is_disabled()
    snap(page, "check-using")
    page.locator("[data-test=retake]").click(force=True)  # the tap does nothing
    held[0].continue_()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-R]").is_visible()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1


# What has the keyboard's focus: its data-test, else its tag and classes.
FOCUSED = "(() => { const e = document.activeElement; return e.dataset.test || `${e.localName}.${e.className}`; })()"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_swapped_screen_gives_its_title_the_focus_never_use_this_photo(page, app, language):
    """The check screen and the result come in place of the screen before (htmx). On main the focus
    was left on the page's body: a keyboard or a screen reader went through the top bar and the nav
    again, 8 Tabs, to reach the new screen's buttons. Now each screen's title has it, read first, one
    Tab before Retake; never "Use this photo", where a stray Enter would record a photo unseen."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "K-1")
    used = []
    page.on("request", lambda request: used.append(request) if request.url.endswith("/check/use") else None)
    shoot(page)
    assert page.evaluate(FOCUSED) == "h1.slot"
    snap(page, "check-focused")
    page.keyboard.press("Enter")  # a stray Enter on the title does nothing
    page.wait_for_timeout(500)
    assert not used and page.url.endswith("/check")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "retake"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "use"
    page.keyboard.press("Enter")
    page.wait_for_url("**/result")
    title = page.locator("[data-test=triage-R] h1")
    assert title.evaluate("(e) => e === document.activeElement") and title.inner_text()
    snap(page, "result-focused")
    page.keyboard.press("Tab")  # the result's first action, not the top bar's
    assert page.evaluate("document.activeElement.closest('.result .actions') !== null")


def test_a_title_focused_as_its_screen_loads_has_no_ring_round_it(page, app):
    """The language switch loads the screen anew, and its title takes the focus (``autofocus``):
    Chromium drew its focus ring round the check screen's eye and the result's heading, a black box
    that looked like a field to type in. The title keeps the focus, without the box."""
    sign_in(page, app)
    new_patient(page, app, "K-2")
    shoot(page)
    for screen, title in (("check", "h1.slot"), ("result", "[data-test=triage-R] h1")):
        for language in ("fr", "en"):
            switch_to(page, language)  # a page load, the title focused as it comes
            focused = page.locator(title)
            assert focused.evaluate("(e) => e === document.activeElement"), (screen, language)
            assert focused.evaluate("(e) => getComputedStyle(e).outlineStyle") == "none", (screen, language)
            snap(page, f"{screen}-title-focused-after-load")
        if screen == "check":
            page.locator("[data-test=use]").click()
            page.wait_for_url("**/result")


# Whether an element of the top bar or the nav can be reached while the photo is used: inert, it
# takes neither a tap nor the focus.
REACHABLE = "(e) => { e.focus(); return document.activeElement === e && e.closest('[inert]') === null; }"
LEAVING = (
    "[data-test=language]",
    "form[action='/lock'] button",
    ".nav a[href='/ready']",
    ".nav a[href='/patient']",
    ".nav a[href='/today']",
    ".nav a[href='/records']",
    "[data-test=sign-out]",
)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_top_bar_and_the_nav_wait_while_the_photo_is_used_and_come_back_when_it_fails(page, app, language):
    """The photo being used is recorded whatever is tapped next. On main the nav, Lock and the language
    switch stayed live meanwhile: a tap left the screen and the result was never seen. Now they wait
    with Retake; a post that fails (here the answer never comes back) gives them all back."""
    sign_in(page, app)
    switch_to(page, language)
    new_patient(page, app, "H-10")
    shoot(page)
    held = held_use_post(page)  # the post stays on its way until let go
    assert [selector for selector in LEAVING if page.locator(selector).evaluate(REACHABLE)] == []
    snap(page, "check-using-held")
    page.locator(".nav a[href='/today']").click(force=True)  # the taps do nothing
    page.locator("[data-test=language]").click(force=True)
    page.wait_for_timeout(300)
    assert page.url.endswith("/check") and page.locator("html").get_attribute("lang") == language

    held[0].abort()  # failed: everything back, the photo still waiting to be used
    page.wait_for_function("() => !document.querySelector('[data-test=use]').disabled")
    assert [selector for selector in LEAVING if not page.locator(selector).evaluate(REACHABLE)] == []
    assert page.locator("[data-test=retake]").is_enabled()
    page.unroute("**/check/use")
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert [selector for selector in LEAVING if not page.locator(selector).evaluate(REACHABLE)] == []
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 1


def cut_lesion(folder: Path) -> Path:
    """A naevus running out of the photo's right edge, skin left empty on its left: the gate finds it
    both cut and off the middle (``dermoscopy._framing``), one cause."""
    return write_rgb(folder / "cut.png", render_lesion(seed=7, centre=(0.97, 0.5), radius=0.25).rgb)


def test_a_lesion_cut_at_the_edge_is_told_one_thing_to_do(page, tmp_path):
    """A lesion cut at the edge of the photo is off the middle too. On main the check screen of a
    single photo (``[camera] burst = 1``; a burst none of whose frames passes is told its one most
    common defect) said both "slide the dermatoscope towards it" and "centre it", two things to do
    for one cause; now the slide alone, in both languages, live while aiming as on the check screen."""
    photo = cut_lesion(tmp_path)
    for app in start_app(tmp_path, burst=1):
        reasons = QualityGate(app.config.quality).check(read_frame(photo), "dermoscopy").reasons
        assert {"lesion_cut", "lesion_off_centre"} <= set(reasons), reasons
        app.show(photo)
        sign_in(page, app)
        for language in ("en", "fr"):
            switch_to(page, language)
            slide, centre = (message(f"quality.{reason}", language) for reason in ("lesion_cut", "lesion_off_centre"))
            new_patient(page, app, f"C-{language.upper()}", "dermoscopy", "trunk")
            page.wait_for_selector("#guidance[data-seq]", timeout=30_000)
            assert centre not in page.locator("[data-test=guidance]").inner_text()
            shoot(page)
            told = page.locator("[data-test=check-quality] li").all_inner_texts()
            assert slide in told and centre not in told, told
            snap(page, "check-lesion-cut")


# The most reasons the gate gave a real retina photo (compressed, burnt out, shifted: 361 characters of
# instructions in French), in its order.
MOST_REASONS = ("compressed", "glare", "too_bright", "field_cut", "no_optic_disc")

# The buttons (``data-test``) over which a line of the reasons' text, or their box, is painted: a line
# the box clips (scrolled away inside it) is not painted.
PAINTED_OVER = """(box, buttons) => {
  const frame = box.getBoundingClientRect();
  const clips = getComputedStyle(box).overflowY !== "visible";
  const range = document.createRange();
  range.selectNodeContents(box);
  const parts = [frame, ...range.getClientRects()].map(({top, bottom, left, right}) => (clips
    ? {top: Math.max(top, frame.top), bottom: Math.min(bottom, frame.bottom), left, right}
    : {top, bottom, left, right}));
  const meets = (a, b) => a.top < a.bottom && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5
    && a.left < b.right && b.left < a.right;
  return buttons.filter((name) => {
    const button = document.querySelector(`[data-test=${name}]`).getBoundingClientRect();
    return parts.some((part) => meets(part, button));
  });
}"""

# Whether an element lies whole in the reasons' box as it stands (none of it scrolled away inside it).
IN_THE_BOX = """(element) => {
  const box = element.closest("[data-test=check-quality]");
  const top = box.getBoundingClientRect().top + box.clientTop;
  const shown = element.getBoundingClientRect();
  return shown.top >= top - 0.5 && shown.bottom <= Math.min(top + box.clientHeight, innerHeight) + 0.5;
}"""


def reasons_reachable(reasons) -> bool:
    """Whether each line of the check screen's reasons is read where it stands, or else in a box that
    scrolls, whose last reason comes whole into it once scrolled to."""
    if every_line_shown(reasons):
        return True
    height, box, overflow = reasons.evaluate(
        "(element) => [element.scrollHeight, element.clientHeight, getComputedStyle(element).overflowY]"
    )
    if height <= box or overflow not in ("auto", "scroll"):
        return False
    last = reasons.locator("li").last
    last.evaluate("(element) => element.scrollIntoView({block: 'nearest'})")
    return last.evaluate(IN_THE_BOX)


@pytest.mark.parametrize("erased", [False, True], ids=["", "beside-an-erased-result"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_most_reasons_to_retake_leave_retake_and_record_on_the_screen(
    page, app, tmp_path, retina_rgb, language, erased
):
    """The right eye photographed again, refused for the most reasons the gate gave a retina photo
    (``MOST_REASONS``, put in as the check screen writes them), with or without the review station's
    notice of its erased result: the reasons ran over "Retake" and "Record as not gradable" and below
    the 800x480 screen, in English and French. The buttons stay whole on the screen with nothing over
    them, the verdict and the first instruction are read unscrolled, and every other reason is read
    where it stands or scrolled to in its box."""
    sign_in(page, app)
    switch_to(page, language)
    first_eye_screened(page, app, f"M-{language.upper()}{int(erased)}", eyes=("R",))
    if erased:
        erased_by_the_station(app, "R")
        page.reload()
    app.show(write_rgb(tmp_path / "poor.jpg", glare(uneven(defocus(retina_rgb, 2), 1), 1)))
    page.locator("[data-test=retake-slot]").click()
    page.wait_for_url("**/capture")
    shoot(page)
    notice = page.locator("[data-test=erased-note]")
    assert notice.all_inner_texts() == ([erased_said(language, message("eye.R", language))] if erased else [])
    reasons = page.locator("[data-test=check-quality]")
    assert "verdict-reject" in reasons.get_attribute("class")
    reasons.evaluate(
        "(element, lines) => element.replaceChildren(...lines.map((line) => "
        "Object.assign(document.createElement('li'), {textContent: line})))",
        [message("quality.verdict.reject", language), *guidance(MOST_REASONS, "fundus", language)],
    )
    snap(page, f"check-most-reasons{'-beside-an-erased-result' if erased else ''}")
    buttons = ["retake", "use"]
    assert all(on_screen(page.locator(f"[data-test={name}]")) for name in buttons)
    assert reasons.evaluate(PAINTED_OVER, buttons) == []
    assert all(line.evaluate(IN_THE_BOX) for line in reasons.locator("li").all()[:2])
    assert all(on_screen(element) for element in notice.all())
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    assert reasons_reachable(reasons)
