"""A francophone specialist's station, in Debian's Chromium: the switch on the sign-in page, then the
worklist, a result and its read form in French, with no English sentence of the station's left on the
page, on the 800x480 screen and on a desk. Screenshots (both languages) go to ``EDGESCREEN_SCREENSHOTS``."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, Playwright
from sqlalchemy import Engine

from review_station import accounts, words
from review_station.heartbeats import Instance, beat
from review_station.verdicts import ReadForm, record_read
from tests.review_station.browser import chromium_page, served
from tests.review_station.test_end_to_end import snap
from tests.review_station.test_pages_in_chromium import sign_in_here
from tests.review_station.web_kit import PASSWORD, add_results, station

SIZES = ((800, 480), (1280, 800))


def english_leftovers(text: str) -> list[str]:
    """The station's English sentences (each literal run of 12 characters or more between its values)
    that show in ``text``, where the French says something else."""
    found = []
    for texts in words.CATALOGUE.values():
        if texts["en"] == texts["fr"]:
            continue
        for literal, *_ in string.Formatter().parse(texts["en"]):
            run = literal.strip(" :;,.()")
            if len(run) >= 12 and run not in texts["fr"] and run in text:
                found.append(run)
    return found


def visible(page: Page) -> str:
    return page.inner_text("body")


def fits(page: Page, width: int) -> bool:
    """Nothing wider than the window: French is longer, and no sentence may push the page sideways."""
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def sign_in_in_french(page: Page, base: str, username: str) -> None:
    """Switch the sign-in page to French, then sign in: the reader's choice holds on the worklist it leads to."""
    page.goto(f"{base}/sign-in")
    page.click("[data-test=languages] a[lang=fr]")
    sign_in_here(page, username)
    page.wait_for_selector("h1:text('Liste de travail')")


def test_a_specialist_switches_to_french_and_reads_the_worklist_a_result_and_the_read_form_in_french(
    engine: Engine, playwright: Playwright
) -> None:
    add_results(engine, "cam-01", "site-a", [0.9, 0.8])  # one read on the small screen, one on the desk
    accounts.add_user(engine, "ana", PASSWORD, "reviewer", by="test")
    with served(station(), engine) as base:
        for width, height in SIZES:
            with chromium_page(playwright, width=width, height=height) as page:
                page.goto(f"{base}/sign-in")
                assert page.inner_text("h1") == "Sign in"
                snap(page, f"fr-sign-in-en-{width}")
                page.click("[data-test=languages] a[lang=fr]")
                assert page.url == f"{base}/sign-in" and page.inner_text("h1") == "Connexion"
                assert page.get_attribute("html", "lang") == "fr" and english_leftovers(visible(page)) == []
                snap(page, f"fr-sign-in-fr-{width}")
                sign_in_here(page, "ana")

                page.wait_for_selector("h1:text('Liste de travail')")
                shown = visible(page)
                assert (
                    re.search(r"\d attend(?:ent)? votre lecture", shown)
                    and "à adresser" in shown
                    and "fond d'œil" in shown
                    and "œil gauche" in page.inner_text("table.worklist")  # the result page's words for the eye
                )
                assert "Aide au tri uniquement, pas un diagnostic" in shown
                assert english_leftovers(shown) == [] and fits(page, width)
                snap(page, f"fr-worklist-fr-{width}")

                page.click("tr[data-result] a:text('Lire')")
                page.wait_for_selector("#read-form")
                shown = visible(page)
                assert "Résultat de cam-01 à site-a" in shown and "Votre lecture" in shown
                assert "Aucune photo n'a été partagée pour ce résultat" in shown
                assert re.search(r"reçu le \d{1,2} [a-zéû]+ 20\d\d à \d\d:\d\d UTC", shown)  # the device's dates
                assert re.search(r"Score du modèle\s+0,[89]00", shown), shown
                options = page.locator("select[name=urgency] option").all_inner_texts()
                assert options == ["habituelle", "prochainement", "urgente"]
                assert "à adresser" in page.locator("select[name=verdict] option").all_inner_texts()
                assert page.inner_text("#read-form button[type=submit]") == "Enregistrer la lecture"
                assert english_leftovers(shown) == [] and fits(page, width)
                snap(page, f"fr-result-fr-{width}")
                if width == 800:  # the read, recorded in French, and the verdict on its way
                    page.select_option("select[name=verdict]", "refer")
                    page.select_option("select[name=urgency]", "soon")
                    page.click("#read-form button[type=submit]")
                    page.wait_for_selector("[data-test=delivery-status] strong")
                    shown = visible(page)
                    assert "Avis vers l'appareil" in shown and "non évaluée (pas de photo)" in shown
                    assert "prochainement" in shown and english_leftovers(shown) == []
                    snap(page, f"fr-result-read-fr-{width}")

                page.click("[data-test=languages] a[lang=en]")  # and back: the same page in English
                page.wait_for_selector("html[lang=en]")
                assert page.url.startswith(f"{base}/results/")
                assert "Next result awaiting you" in visible(page) and "Tableau de bord" not in visible(page)
                snap(page, f"fr-result-en-{width}")
                page.goto(f"{base}/")
                assert page.inner_text("h1") == "Worklist" and fits(page, width)
                snap(page, f"fr-worklist-en-{width}")


def test_the_dashboard_the_export_and_the_quarantine_are_in_french_too(engine: Engine, playwright: Playwright) -> None:
    """An administrator's pages: every sentence of the station's in French, the export's codes kept; the
    dashboard's ingester row (one not heard from for an hour) too."""
    add_results(engine, "cam-01", "site-a", [0.9, 0.1])
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with engine.begin() as connection:
        beat(connection, Instance("review-ingest-1", "station-host", 4242), False, now=hour_ago)
    accounts.add_user(engine, "root", PASSWORD, "admin", by="test")
    with served(station(), engine) as base:
        for width, height in SIZES:
            with chromium_page(playwright, width=width, height=height) as page:
                sign_in_in_french(page, base, "root")
                for path, heading, name in (
                    ("/dashboard", "Tableau de bord", "dashboard"),
                    ("/export", "Exporter les résultats relus", "export"),
                    ("/quarantine", "Quarantaine", "quarantine"),
                ):
                    page.goto(f"{base}{path}")
                    shown = visible(page)
                    assert page.inner_text("h1") == heading and english_leftovers(shown) == [], path
                    assert path != "/dashboard" or "sans nouvelles depuis le" in shown
                    assert fits(page, width), path
                    snap(page, f"fr-{name}-fr-{width}")
                page.goto(f"{base}/export")
                assert "noms de colonnes en anglais" in visible(page)  # the files keep their codes
                page.goto(f"{base}/export?format=csv&site=site-a&start=2026-12-09&end=2026-12-01")
                assert "Export refusé\u00a0: la période est vide" in visible(page)


def test_two_reads_that_disagree_fit_a_small_laptop_in_french(engine: Engine, playwright: Playwright) -> None:
    """The reads' table beside the adjudication form, in French (longer words: "habituelle", "pas
    d'orientation"), on a small laptop's 1024 pixels: the table keeps to the page, its words whole."""
    [result_id] = add_results(engine, "cam-01", "site-b", [0.9])
    config = station(second_read_sites=("site-b",))
    for name, role in (("ana", "reviewer"), ("ben", "reviewer"), ("cora", "coordinator")):
        accounts.add_user(engine, name, PASSWORD, role, by="test")
    for name, read in (("ana", ReadForm("refer", "routine", comment="lu")), ("ben", ReadForm("no_refer", "routine"))):
        _, reader = accounts.sign_in(engine, name, PASSWORD, config.web)
        record_read(engine, result_id, reader, read, config.review.second_read_sites)
    with served(config, engine) as base, chromium_page(playwright, width=1024, height=600) as page:
        sign_in_in_french(page, base, "cora")
        page.goto(f"{base}/results/{result_id}")
        assert page.locator("table.reads tr[data-read]").count() == 2 and "habituelle" in visible(page)
        assert fits(page, 1024)
        snap(page, "fr-disagreement-1024")
