"""Every screen at 800x480 in both languages: screenshots for a person to look at (test-artifacts/),
and what can be measured: no scrolling on capture, check and result; touch targets of 48 px; text
of 16 px; text contrast of at least 4.5:1 (WCAG AA) against its background."""

from __future__ import annotations

import re

from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    SCREEN,
    enter_pin,
    new_patient,
    on_screen,
    shoot,
    sign_in,
    snap,
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
        if page.locator("html").get_attribute("lang") != language:
            page.locator("[data-test=language]").click()
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
        page.locator("[data-test=sign-out]").click()
        page.wait_for_url("**/signin")
        if page.locator("html").get_attribute("lang") != language:  # signed out: the device's language again
            page.locator("[data-test=language]").click()
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
