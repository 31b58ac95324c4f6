"""Once a specialist's verdict is on the device it is what the nurse acts on: the record leads with it,
and names the device's triage beside it as the one the specialist reviewed. On main the record of an
eye that could not be photographed, which the specialist read "no referral" (an artificial eye, an eye
examined in person), said "Triage: ... Arrange the referral with the patient." over "Review: Specialist:
no referral", without saying which one stands; so did a photo the device referred and the specialist
did not, and a photo the device cleared read "Triage: No referral needed now" under the specialist's
"refer. Call the patient back". The call-backs follow the specialist (Today and the banner: CLEAR-3,
and REF-2 and CANNOT-1, whose referrals the nurse arranged: CANNOT-1's "if referred", as for any photo
the device could not grade); the test holds them there."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from firmware_app.records.screening import Review, ScreeningContext
from tests.records.kit import open_store, sample_record
from tests.web.conftest import (
    AUDIT,
    cannot_photograph,
    new_patient,
    on_screen,
    sign_in,
    snap,
    switch_to,
    type_on_keypad,
)
from tests.web.test_worklist_and_records import with_verdicts

# Each patient's device triage, and what the record leads with once the specialist's verdict is in.
LEADS = {
    "CANNOT-1": {  # could not be photographed, so referred; the specialist: no referral, so a call-back
        "en": (
            "Specialist: no referral. Tell the patient if referred for an unreadable photo",
            "Could not be photographed",
        ),
        "fr": (
            "Spécialiste\xa0: pas d'orientation. Prévenez le patient s'il a été orienté faute de photo lisible",
            "Impossible à photographier",
        ),
    },
    "REF-2": {  # referred by the device; the specialist: no referral, so a call-back (the referral arranged)
        "en": (
            "Specialist: no referral. Tell the patient; cancel the referral if nothing else needs it",
            "Refer to a specialist",
        ),
        "fr": (
            "Spécialiste\xa0: pas d'orientation. Prévenez le patient\xa0; annulez l'orientation sauf autre motif",
            "Adresser à un spécialiste",
        ),
    },
    "CLEAR-3": {  # cleared by the device; the specialist: refer, so a call-back
        "en": ("Specialist: refer. Call the patient back", "No referral needed now"),
        "fr": ("Spécialiste\xa0: adresser. Rappelez le patient", "Pas d'orientation pour l'instant"),
    },
}
REVIEWED = {"en": "Device's triage, reviewed", "fr": "Tri de l'appareil, revu"}
# What the device told the nurse to do, which must no longer read as an instruction once overruled.
OVERRULED = {"en": ("Arrange the referral", "rescreen at the usual interval"), "fr": ("Organisez", "; nouveau")}


def an_eye_that_could_not_be_photographed(page, app, reference: str) -> str:
    """Recorded through the capture screen's "Cannot photograph this eye"; returns its result id."""
    new_patient(page, app, reference, eyes=("R",))
    cannot_photograph(page)
    page.locator("[data-test=finish]").click()
    page.wait_for_url("**/patient")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        (result_id,) = db.execute("SELECT result_id FROM screening").fetchone()
    return result_id


def test_the_record_leads_with_the_specialists_verdict_over_the_device_triage_it_reviewed(page, app):
    sign_in(page, app)
    cannot = an_eye_that_could_not_be_photographed(page, app, "CANNOT-1")
    store = open_store(app.directory)
    assert store.add_review(Review("rev-c", cannot, "no_refer", datetime.now(UTC), "dr-lopez", None)) == "stored"
    store.records.close()
    with_verdicts(
        app,
        (
            (sample_record(ScreeningContext("REF-2", eye="L"), score=0.9), "no_refer", "routine"),
            (sample_record(ScreeningContext("CLEAR-3", eye="R"), score=0.05), "refer", "routine"),
        ),
    )
    page.goto(f"{app.url}/today?filter=verdict")  # the call-backs follow the specialist: all three
    for language in ("en", "fr"):
        switch_to(page, language)
        assert "3" in page.locator("[data-test=call-back-banner]").inner_text()
        reasons = [badge.get_attribute("data-call-back") for badge in page.locator("[data-call-back]").all()]
        assert sorted(reasons) == ["no_refer", "no_refer_if_referred", "refer"]
        assert page.locator("[data-test=open-verdict]").count() == 3
        snap(page, "today-verdicts-over-triage")
        page.locator("[data-call-back=no_refer_if_referred]").scroll_into_view_if_needed()
        snap(page, "today-verdicts-over-triage-not-photographed")
    for reference, said in LEADS.items():
        page.goto(f"{app.url}/records")
        page.locator("#reference").click()  # the last search's record shown: the field tapped brings the keypad
        page.locator("#reference").fill("")
        type_on_keypad(page, "reference", reference)
        page.locator("[data-test=find]").click()
        page.locator("table.worklist button").first.click()
        page.wait_for_url("**/records/view")
        for language, (lead, triage) in said.items():
            switch_to(page, language)
            detail = page.locator("[data-test=detail]")
            first = detail.locator("h2 + p")  # right under the heading, before any field
            assert first.inner_text() == lead and on_screen(first)
            fields = dict(
                zip(detail.locator("dt").all_inner_texts(), detail.locator("dd").all_inner_texts(), strict=True)
            )
            assert fields[REVIEWED[language]] == triage, fields
            assert not any(words in detail.inner_text() for words in OVERRULED[language])
            assert page.evaluate(AUDIT) == []
            snap(page, f"record-verdict-leads-{reference}")
