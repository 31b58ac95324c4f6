"""The catalogue's French reads as a French nurse would say it (the reviewer's corrections, kept)."""

from __future__ import annotations

import argparse
import re

import pytest

from firmware_app.cli import build_parser
from firmware_app.inference.triage import Outcome
from firmware_app.messages import CATALOGUE, message, sentence
from firmware_app.records.verdicts import SOON_OR_URGENT
from firmware_app.wording import decimal, seconds


def test_french_wording_is_natural():
    assert message("capture.auto", "fr") == "Déclencher dès que la qualité suffit"
    assert message("body_site.genital", "fr") == "Organes génitaux"
    assert message("body_site.palms_soles", "fr") == "Paume ou plante du pied"
    assert "porteront la mention «\u00a0non étalonné\u00a0»" in message("health.calibration.none", "fr")
    assert "établi {ago}" in message("health.calibration.green", "fr")


def test_french_names_a_command_as_typed_never_by_an_english_word_in_brackets():
    """The erasures' backlog said the device must not be "réinitialisé (wipe)": an English word in
    brackets in French. A command is named as the technician types it, as the other French sentences
    name it ("effacé (edgescreen wipe)")."""
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    bracketed = {(key, word) for key, texts in CATALOGUE.items() for word in re.findall(r"\((\w+)\)", texts["fr"])}
    assert [(key, word) for key, word in bracketed if word in commands.choices] == []
    said = message("health.backlog.erasures", "fr")
    assert "l'appareil ne doit pas être effacé (edgescreen wipe) avant leur envoi," in said
    assert "edgescreen wipe --unsent-erasures FICHIER" in said


def test_a_refused_screening_says_the_storage_is_full():
    assert message("records.storage_full", "en").startswith("Storage is full: this screening was not recorded.")
    assert message("records.storage_full", "fr").startswith("Stockage plein\u00a0: ce dépistage")


def test_the_keypads_clear_key_and_the_erasure_never_share_a_french_word():
    assert message("keypad.clear", "fr") == "Vider"
    assert message("records.erase", "fr") == "Supprimer les données de ce patient"
    assert message("records.erase_yes", "fr") == "Oui, supprimer"
    assert message("records.erase_confirm", "fr").startswith("Supprimer ")


def test_numbers_are_written_as_the_language_writes_them():
    """The status bar read "66.8 GB libres" in French."""
    assert decimal(66.84, "en") == "66.8" and decimal(66.84, "fr") == "66,8"
    assert message("status.disk", "fr").format(free=decimal(66.84, "fr")) == "66,8 Go libres"


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        (0.001, "0.001", "0,001"),
        (0.00001, "0.00001", "0,00001"),
        (0.2, "0.2", "0,2"),
        (0.1 + 0.2, "0.3", "0,3"),
        (3.0, "3", "3"),
        (30, "30", "30"),
        (1234567, "1234567", "1234567"),
        (3 * 86400 + 0.5, "259200.5", "259200,5"),
    ],
)
def test_seconds_are_written_with_their_own_decimals_from_a_millisecond_to_days(value, english, french):
    """A lock's wait or a capture's ``--timeout``, as given: their decimals were taken from ``:g``,
    which turns to an exponent past six digits, so ``--timeout 1234567`` read "1234567,000000000" in
    French and 0.00001 s read "0"; a float's last bit ("0.30000000000000004") is not the user's."""
    assert (seconds(value, "en"), seconds(value, "fr")) == (english, french)


def test_the_sync_workers_crashes_are_dated_and_said_as_a_person_says_them():
    """``sync status`` read "the last at 7 December 2026, 16:58" (a day is "on" it), and in French a
    worker "arrêté sans arrêt propre": stopped without a clean stop."""
    day = "7 December 2026, 16:58"
    looping = sentence("sync.state.crash_looping", "en", crashes=3, at=day, state="starting")
    assert looping == f"crash-looping (3 unclean restarts in a row, the last on {day}; now starting)"
    jour = "7 décembre 2026 à 16:58"
    en_boucle = sentence("sync.state.crash_looping", "fr", crashes=3, at=jour, state="démarrage")
    assert f"le dernier survenu le {jour}\u00a0;" in en_boucle, en_boucle
    killed = sentence("sync.crash.killed", "fr", state="connecté")
    assert killed.startswith("interrompu brutalement (tué,") and killed.count("arrêt") == 0, killed


def test_quotation_marks_are_each_languages_own():
    """English quotes in English (the first-start and sign-in screens showed «…» there), and French
    guillemets holding their words with no-break spaces in French."""
    from firmware_app.messages import CATALOGUE

    for key in CATALOGUE:
        assert "«" not in message(key, "en") and "»" not in message(key, "en"), key
        french = message(key, "fr")
        assert french.count("«") == french.count("«\u00a0") and french.count("»") == french.count("\u00a0»"), key
    assert "“edgescreen operators add NAME”" in message("setup.explain", "en")
    assert "«\u00a0edgescreen operators add NOM\u00a0»" in message("signin.no_operators", "fr")


def test_a_reviews_comment_follows_a_colon_set_as_french_sets_one():
    """The record's "verdict (reviewer, date): comment" had its colon in the template, out of the
    catalogue's reach: French read "…):" where every other French colon has its no-break space."""
    assert message("records.review_commented", "en") == "{verdict} ({reviewer}, {when}):"
    assert message("records.review_commented", "fr") == "{verdict} ({reviewer}, {when})\u00a0:"


def test_each_urgency_is_one_word_on_today_the_record_and_the_banner():
    """French Today asked for "une orientation rapide" where the record said "Prochainement": two words
    for the specialist's one "soon". The record's word for an urgency is in its call-back badge, and
    the banner counts "urgent" with the record's word, in each language."""
    for language in ("en", "fr"):
        for urgency in SOON_OR_URGENT:
            word = message(f"urgency.{urgency}", language).lower()
            assert word in message(f"verdict.call_back.{urgency}", language).lower(), (language, urgency)
        urgent = message("urgency.urgent", language).lower()
        for key in ("status.call_back_urgent", "status.call_back_urgent_of.one", "status.call_back_count_urgent.one"):
            assert urgent in message(key, language).lower(), (language, key)


def test_every_no_answer_alert_opens_with_the_same_words():
    """One of the four said "No answer:" ("Pas de réponse :") where the others said the device did not
    answer: the nurse reads the same alert in the same words, whichever button went unanswered."""
    from firmware_app.messages import CATALOGUE

    alerts = [key for key in CATALOGUE if key.endswith("no_answer")]
    assert len(alerts) == 5
    for key in alerts:
        assert message(key, "en").startswith("The device did not answer"), key
        assert message(key, "fr").startswith("L'appareil n'a pas répondu"), key


def test_the_wipe_refused_for_queued_erasures_says_in_french_what_would_be_wiped():
    """French said "effacé maintenant, le poste garderait…" right after "effacement de patient": it
    read as the patient's erasure being erased, and "relancez wipe" named the command bare."""
    for count in ("one", "other"):
        said = message(f"refused.wipe_erasures_queued.{count}", "fr")
        assert "si l'appareil était effacé maintenant, le poste garderait" in said
        assert "puis relancez edgescreen wipe\u00a0;" in said.replace(" ;", "\u00a0;")


def test_each_triage_is_said_in_the_result_screens_words_on_the_record_and_the_patients_line():
    """The French record said "Pas d'orientation nécessaire" where the result screen, the hand-out,
    Today and the list said "Pas d'orientation pour l'instant" (and the English record "Ungradable"
    where they said "Could not be graded"): one triage, one wording. The record (and the command
    line's advice) open with the result screen's heading; the result screen's patient line says it too."""
    for language in ("en", "fr"):
        for outcome in Outcome:
            heading = message(f"result.heading.{outcome}", language)
            assert message(f"triage.{outcome}", language).startswith(heading), (language, outcome)
        heading = message("result.heading.no_refer", language).lower()
        for key in ("patient_outcome.no_refer", "patient_outcome.no_refer_one_eye"):
            assert message(key, language).startswith(heading), (language, key)
