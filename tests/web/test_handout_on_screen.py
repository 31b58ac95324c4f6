"""The patient's hand-out, made for printing, is shown on the 800x480 screen first, where the nurse checks
it: with both eyes screened it scrolled (by 41 px, 82 px with the patient's reference; with an eye that
could not be photographed and its sentence, by 54 px), its last lines, the next step and the disclaimer,
off the screen. Its paragraphs sit closer on the screen (the printed page keeps their spacing) and the
reference shares the date's line: it fits whole, in English and French, its text still of 16 px at least.
A lesion's hand-out scrolled by 122 px, its photo under the words: on the screen the photo stands beside them."""

from __future__ import annotations

import pytest

from tests.conftest import shared_data
from tests.web.conftest import (
    AUDIT,
    DERMOSCOPY_SAMPLE,
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
