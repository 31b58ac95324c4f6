"""The patient's hand-out, made for printing, is shown on the 800x480 screen first, where the nurse checks
it: with both eyes screened it scrolled (by 41 px, 82 px with the patient's reference; with an eye that
could not be photographed and its sentence, by 54 px), its last lines, the next step and the disclaimer,
off the screen. Its paragraphs sit closer on the screen (the printed page keeps their spacing) and the
reference shares the date's line: it fits whole, in English and French, its text still of 16 px at least.
A lesion's hand-out scrolled by 122 px, its photo under the words: on the screen the photo stands beside them."""

from __future__ import annotations

import pytest

from firmware_app.records.screening import MAX_PATIENT_REF
from tests.conftest import shared_data
from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
    SCREEN,
    cannot_photograph,
    first_eye_screened,
    new_patient,
    shoot,
    sign_in,
    snap,
    switch_to,
    unscrolled,
)


def photographed(page) -> None:
    """The second eye photographed and used."""
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()


def assert_fits_in_both_languages(page, reference: str, name: str) -> None:
    """The hand-out on screen, in English and French, with and without ``reference``: whole, its text and
    controls of the sizes allowed."""
    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    for language in ("en", "fr"):
        switch_to(page, language)
        for with_reference in (False, True):
            page.locator("input[name=with_reference]").set_checked(with_reference)
            page.wait_for_selector("[data-test=handout-reference]", state="attached" if with_reference else "detached")
            shown = "with" if with_reference else "without"
            snap(page, f"handout-on-screen-{name}-{shown}-reference")
            assert page.evaluate(AUDIT) == []  # no text under 16 px, no target under 48 px
            assert unscrolled(page), (language, with_reference)
            assert (reference in page.inner_text("[data-test=handout]")) is with_reference


@pytest.mark.parametrize("second_eye", [photographed, cannot_photograph], ids=["photographed", "not-photographed"])
def test_the_handout_of_both_eyes_fits_the_screen_in_both_languages(page, app, second_eye):
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-4711")
    page.locator("[data-test=next-slot]").click()
    second_eye(page)
    page.wait_for_url("**/result")
    assert_fits_in_both_languages(page, "MRN-4711", second_eye.__name__)


@pytest.mark.parametrize(
    ("photo", "body_site", "outcome"),
    [
        (lambda: DERMOSCOPY_SAMPLE, "trunk", "no_refer"),
        # A referral on the longest body site: the longest heading and next step, in French most of all.
        (lambda: shared_data("dermoscopy/isic-uda1-cc0/images/ISIC_0000000.jpg"), "palms_soles", "refer"),
    ],
    ids=["no-referral", "referral"],
)
def test_the_handout_of_a_lesion_with_its_photo_fits_the_screen_in_both_languages(page, app, photo, body_site, outcome):
    app.show(photo())
    sign_in(page, app)
    new_patient(page, app, "D-4711", "dermoscopy", body_site)
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    assert page.locator("[data-test=triage-lesion]").get_attribute("data-outcome") == outcome
    assert_fits_in_both_languages(page, "D-4711", f"lesion-{outcome}")
    assert page.locator("[data-test=handout-photo]").is_visible()


# The printed page's width in CSS pixels: A5 (148 mm) less its margins (app.css, ``@page``: 12 mm each side).
A5_PRINTED_WIDTH = round((148 - 2 * 12) / 25.4 * 96)
# The right edges of the patient's reference, of the words' column it stands in and of the hand-out.
RIGHT_EDGES = """() => ['[data-test=handout-reference]', '.handout-words', '[data-test=handout]']
  .map((selector) => document.querySelector(selector).getBoundingClientRect().right)"""


def test_the_longest_reference_stays_in_the_words_of_a_lesions_handout_on_screen_and_printed(page, app):
    """A reference is one word, up to ``MAX_PATIENT_REF`` characters (a scanned code): beside the lesion's
    photo, the longest ran on under the photo, its end hidden from the nurse who checks the hand-out;
    on the printed A5 page it ran past the page's edge (the hand-out of a fundus too). It wraps."""
    reference = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 2)[:MAX_PATIENT_REF]
    app.show(DERMOSCOPY_SAMPLE)
    sign_in(page, app)
    new_patient(page, app, reference, "dermoscopy", "palms_soles")
    page.wait_for_url("**/capture")
    shoot(page)
    page.locator("[data-test=use]").click()
    page.wait_for_url("**/result")
    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    for language in ("en", "fr"):
        switch_to(page, language)
        page.locator("input[name=with_reference]").set_checked(True)
        page.wait_for_selector("[data-test=handout-reference]")
        snap(page, "handout-on-screen-longest-reference")
        shown, words, _ = page.evaluate(RIGHT_EDGES)
        assert shown <= words, language  # not under the photo beside the words
        # (The page does not fit 800x480 whole with it in French: 64 characters take two lines of their own.)
        assert page.evaluate(AUDIT) == [] and page.locator("[data-test=handout-photo]").is_visible()
        page.emulate_media(media="print")
        page.set_viewport_size({"width": A5_PRINTED_WIDTH, "height": SCREEN["height"]})
        shown, _, handout = page.evaluate(RIGHT_EDGES)
        assert shown <= handout <= A5_PRINTED_WIDTH, language  # on the page
        page.emulate_media(media="screen")
        page.set_viewport_size(SCREEN)


def test_the_reference_ticked_stays_on_the_handout_through_the_language_switch(page, app):
    """The nurse ticks the patient's reference on the hand-out, then switches the page to the patient's
    language to print it: it came back in that language with the box unticked and no reference, and
    was printed so. The tick is kept through the switch, once: the next load of the hand-out comes
    without it, as before."""
    sign_in(page, app)
    first_eye_screened(page, app, "MRN-4711")
    page.locator("[data-test=handout]").click()
    page.wait_for_url("**/handout")
    page.locator("input[name=with_reference]").check()
    page.wait_for_selector("[data-test=handout-reference]")
    for language in ("fr", "en"):
        switch_to(page, language)
        assert page.locator("input[name=with_reference]").is_checked(), language
        assert "MRN-4711" in page.inner_text("[data-test=handout]"), language
    page.locator("input[name=with_reference]").uncheck()
    page.wait_for_selector("[data-test=handout-reference]", state="detached")
    switch_to(page, "fr")
    assert not page.locator("input[name=with_reference]").is_checked()
    assert "MRN-4711" not in page.inner_text("[data-test=handout]")
    page.locator("input[name=with_reference]").check()
    page.wait_for_selector("[data-test=handout-reference]")
    page.goto(page.url)  # loaded again without a switch: as it comes
    assert not page.locator("input[name=with_reference]").is_checked()
