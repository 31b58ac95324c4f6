"""An eye the nurse could not photograph reaches the station as the device sends it (ungradable, its one
quality reason ``not_photographed``, no photo, model or calibration): its result page said "No photo was
shared" (the device's setting), "the device's quality gate refused the photo", "not run (photo
rejected)" and "uncalibrated device", of a photo that never was. It says the eye could not be
photographed, and that the device referred the patient, in English and French; the worklist, which
listed it as a plain "ungradable" of quality "reject", says so too, in its Quality column ("ungradable"
stays its triage, as its filter and tallies name it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Playwright
from sqlalchemy import Engine

from edgescreen_wire.result import NOT_PHOTOGRAPHED, RESULT_V3, encode_result
from firmware_app.inference.triage import ungradable
from firmware_app.records.screening import QualitySummary, ScreeningContext, ScreeningRecord, new_result_id
from firmware_app.sync.payload import result_payload
from review_station import accounts, devices
from review_station.ingest.batch import Incoming, store_batch
from tests.review_station.browser import chromium_page, served
from tests.review_station.kit import result_topic
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_french_in_chromium import fits
from tests.review_station.test_pages_in_chromium import sign_in_on
from tests.review_station.test_worklist_narrow_in_chromium import LINES
from tests.review_station.web_kit import PASSWORD, add_results, station

SAID = {
    "en": {
        "notice": "This eye could not be photographed at the device: no photo exists, and the device referred "
        "the patient",
        "Triage": "ungradable: the eye could not be photographed",
        "Model score": "not run (no photo)",
        "Image quality": "none: could not be photographed",
        "Calibration": "none (no photo)",
    },
    "fr": {
        "notice": "Cet œil n'a pas pu être photographié sur l'appareil : aucune photo n'existe, et l'appareil "
        "a adressé le patient",
        "Tri": "ininterprétable : l'œil n'a pas pu être photographié",
        "Score du modèle": "non exécuté (pas de photo)",
        "Qualité d'image": "aucune : impossible à photographier",
        "Étalonnage": "aucun (pas de photo)",
    },
}

# The worklist's Triage and Quality columns, in the words of their filters' options: the result page's
# sentences ran to four lines of the one ("ungradable: the eye could not be photographed") and five of
# the other ("none: the nurse could not photograph the eye") at 800 px. The Quality's is the result page's
# own, after its "none": the filter said "eye not photographed" of what the result page said otherwise.
NOT_PHOTOGRAPHED_QUALITY = {"en": "could not be photographed", "fr": "impossible à photographier"}
WORKLIST_COLUMNS = {
    language: (triage, NOT_PHOTOGRAPHED_QUALITY[language])
    for language, triage in (("en", "ungradable"), ("fr", "ininterprétable"))
}

# Under its read form, what reaches the nurse: the grading was named there, of an eye never graded.
REACHES_NURSE = {
    "en": "The nurse sees the verdict, its urgency and the comment; no grading: this eye has no photo. A no-refer "
    "verdict refers no one: its urgency is routine.",
    "fr": "L'infirmier voit l'avis, son urgence et le commentaire ; pas de gradation : cet œil n'a pas de photo. "
    "Un avis « pas d'orientation » n'adresse personne : son urgence est habituelle.",
}


def plain(text: str) -> str:
    """French's no-break spaces (before a colon, a semicolon) as the spaces the catalogue writes."""
    return text.replace("\u00a0", " ")


def not_photographed_document() -> dict[str, Any]:
    """The device's result document of an eye recorded as impossible to photograph
    (``record_not_photographed``), from cam-01 at site-a."""
    record = ScreeningRecord(
        new_result_id(),
        datetime.now(UTC),
        "fundus",
        ungradable(),
        ScreeningContext("MRN-1", eye="R"),
        "",
        quality=QualitySummary("reject", (NOT_PHOTOGRAPHED,)),
        calibration_id=None,
    )
    return result_payload(record, "cam-01", "site-a", RESULT_V3)


def not_photographed_result(engine: Engine) -> str:
    """``not_photographed_document`` through the ingester's own batch writer; returns its id."""
    document = not_photographed_document()
    devices.enrol(engine, "cam-01", "site-a", by="test")
    with engine.begin() as connection:
        incoming = Incoming(result_topic("site-a", "cam-01"), encode_result(document), datetime.now(UTC))
        store_batch(connection, [incoming], devices.active_sites(connection))
    return document["result_id"]


def test_the_result_page_of_an_eye_that_could_not_be_photographed_says_so(engine: Engine, playwright: Playwright):
    result_id = not_photographed_result(engine)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        page.wait_for_selector("table.worklist")
        for language, said in SAID.items():
            if language == "fr":
                page.click("[data-test=languages] a[lang=fr]")
                page.wait_for_selector("html[lang=fr]")
            page.goto(base)
            cells = page.locator(f"tr[data-result='{result_id}'] td")
            columns = (cells.first, cells.nth(6))  # Triage and Quality, two lines at most
            assert tuple(cell.inner_text() for cell in columns) == WORKLIST_COLUMNS[language] and fits(page, 800)
            assert all(cell.evaluate(LINES) <= 2 for cell in columns)
            snap(page, f"not-photographed-worklist-{language}")
            # Its State pill on two lines at most: beside "ininterprétable" it wrapped on three, then four.
            assert cells.locator(".pill").evaluate(LINES) <= 2
            page.goto(f"{base}/results/{result_id}")
            notice = plain(page.inner_text("[data-test=no-photo]"))
            assert notice.startswith(said["notice"]), notice
            assert "share_images" not in notice
            figures = page.locator("table.figures tr")
            values = [plain(value) for value in figures.locator("td").all_inner_texts()]
            rows = dict(zip(figures.locator("th").all_inner_texts(), values, strict=True))
            assert {label: rows[label] for label in said if label != "notice"} == {
                label: value for label, value in said.items() if label != "notice"
            }
            assert page.locator("main img").count() == 0 and fits(page, 800)
            assert page.locator("select[name=icdr_grade][required]").count() == 0  # the grading: not assessed
            assert plain(page.inner_text("[data-test=reaches-nurse]")) == REACHES_NURSE[language]
            snap(page, f"not-photographed-result-{language}")


# A photo the gate refused: ungradable, its quality "reject" for a reason of the gate's.
REFUSED = {
    "triage": "ungradable",
    "score": None,
    "threshold": None,
    "quality": {"verdict": "reject", "reasons": ["blur"], "measures": {}},
}


def test_the_worklist_quality_filter_has_an_eye_not_photographed_of_its_own(engine: Engine, playwright: Playwright):
    """The Quality filter filed an eye that could not be photographed (sent as ``reject``) with the photos
    the gate refused, though its Quality column says no photo exists: it has an option of its own, named
    as its reason and its result page's Image quality are ("could not be photographed"), and "reject"
    lists the refused photos alone."""
    unphotographed = not_photographed_result(engine)
    [refused] = add_results(engine, "cam-01", "site-a", [0.5], payload=REFUSED)
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base, chromium_page(playwright, width=800, height=480) as page:
        sign_in_on(page, base)
        page.wait_for_selector("table.worklist")
        for language, option in NOT_PHOTOGRAPHED_QUALITY.items():
            if language == "fr":
                page.click("[data-test=languages] a[lang=fr]")
                page.wait_for_selector("html[lang=fr]")
            page.goto(base)
            listed = {}
            for value in (NOT_PHOTOGRAPHED, "reject"):
                # The table htmx swaps in, not the one shown before the answer came (read too early, it
                # listed both rows, and the second vanished under the test).
                page.eval_on_selector("table.worklist", "(table) => { table.dataset.before = 'filtered'; }")
                page.select_option("select[name=quality]", value)
                page.wait_for_selector("table.worklist:not([data-before])")
                rows = page.locator("table.worklist tbody tr[data-result]")
                listed[value] = [rows.nth(i).get_attribute("data-result") for i in range(rows.count())]
                if value == NOT_PHOTOGRAPHED:
                    chosen = page.locator("select[name=quality] option:checked").inner_text()
                    assert chosen == option and fits(page, 800)
                    snap(page, f"not-photographed-quality-filter-{language}")
            assert listed == {NOT_PHOTOGRAPHED: [unphotographed], "reject": [refused]}
