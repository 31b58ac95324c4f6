"""A lesion whose photo the device kept, read in Debian's Chromium at 800x480: its page told the reader to
"leave the grading out" ("sans la gradation : elle est enregistrée comme non évaluée") above a form that
asks for a diagnosis, whose French default "non évaluée (pas de photo)" agreed with a gradation, not with
"Diagnostic". Its words are the diagnosis's, in English and French, in the notice, the form and the read
recorded, whose column was headed "Grading". Screenshots go to ``EDGESCREEN_SCREENSHOTS``."""

from __future__ import annotations

from playwright.sync_api import Playwright
from sqlalchemy import Engine

from review_station import accounts
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_french_in_chromium import english_leftovers, fits
from tests.review_station.test_not_photographed_in_chromium import plain
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.test_second_read import DERMOSCOPY
from tests.review_station.web_kit import PASSWORD, add_results, station

SAID = {
    "en": {
        "notice": "leave the diagnosis out: it is recorded as not assessed",
        "blank": "not assessed (no photo)",
        "column": "Diagnosis",
    },
    "fr": {
        "notice": "sans le diagnostic : il est enregistré comme non évalué",
        "blank": "non évalué (pas de photo)",
        "column": "Diagnostic",
    },
}


def test_a_lesion_without_its_photo_is_read_with_the_diagnosis_s_words(engine: Engine, playwright: Playwright) -> None:
    lesions = add_results(engine, "cam-02", "site-a", [0.7, 0.6], payload=DERMOSCOPY)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        for (language, said), lesion in zip(SAID.items(), lesions, strict=True):
            page.context.add_cookies([{"name": "review_language", "value": language, "url": base}])
            page.goto(f"{base}/results/{lesion}")
            assert said["notice"] in plain(page.inner_text("[data-test=no-photo]")), language
            assert page.locator("select[name=diagnosis] option").first.inner_text() == said["blank"]
            assert fits(page, 800) and (language == "en" or english_leftovers(page.inner_text("body")) == [])
            snap(page, f"lesion-without-photo-{language}")
            page.select_option("select[name=verdict]", "refer")
            page.select_option("select[name=urgency]", "soon")
            with page.expect_navigation():
                page.click("#read-form button[type=submit]")
            reads = page.locator("table.reads").first
            assert reads.locator("th").nth(3).inner_text() == said["column"], language
            assert reads.locator("tr").nth(1).locator("td").nth(3).inner_text() == said["blank"]  # undiagnosed
            snap(page, f"lesion-without-photo-read-{language}")
