"""The station's catalogue: every sentence in English and French, every key a page asks for present,
and the language each reader chose, or the station's, on every page."""

from __future__ import annotations

import ast
import re
import string
from dataclasses import fields as dataclass_fields
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from edgescreen_wire.review import DIAGNOSES, ICDR_GRADES, MACULOPATHY, URGENCIES
from firmware_app.config import LANGUAGES
from firmware_app.messages import message
from review_station import accounts, words
from review_station.config import ReviewConfig, WebConfig
from review_station.verdicts import VERDICTS
from review_station.web import words as page_words
from review_station.web.app import LANGUAGE_COOKIE, create_app, local_path
from review_station.web.worklist import QUALITY_VERDICTS, STATES, TRIAGES, Filters
from tests.review_station.web_kit import add_results, signed_in_client, station

ROOT = Path(page_words.__file__).resolve().parent
# A key written out where a page or the code asks for it: t("key"), counted("key", ...), say("key", ...).
ASKED = re.compile(r"""\b(?:t|counted|say|english)\(\s*["']([a-z_]+(?:\.[a-z_A-Z0-9]+)+)["']""")
# The codes a page shows in words (``words.code``), each kind with every value it can take.
CODES = {
    "state": STATES,
    "triage": (*TRIAGES, *VERDICTS),
    "quality": QUALITY_VERDICTS,
    "modality": ("fundus", "dermoscopy"),
    "urgency": URGENCIES,
    "icdr": ICDR_GRADES,
    "maculopathy": MACULOPATHY,
    "diagnosis": DIAGNOSES,
    "read_kind": ("first", "second", "adjudication", "amendment"),
    "settlement": ("confirmed", "amended"),
    "delivery": ("pending", "sent", "stored", "duplicate", "unknown_result", "unsendable"),
    "role": accounts.ROLES,
}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_sentence_is_in_english_and_french_with_the_same_values() -> None:
    for key, texts in words.CATALOGUE.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[language].strip() for language in LANGUAGES), key
        assert fields(texts["en"]) == fields(texts["fr"]), key


def test_every_key_the_pages_and_the_code_ask_for_is_in_the_catalogue() -> None:
    sources = [*ROOT.glob("templates/*.html"), ROOT / "app.py", ROOT / "describe.py", ROOT.parent / "cli.py"]
    asked = {key for source in sources for key in ASKED.findall(source.read_text(encoding="utf-8"))}
    asked |= set(re.findall(r'"(error\.[a-z_]+)"', (ROOT / "app.py").read_text(encoding="utf-8")))  # refusals
    assert len(asked) > 140  # the patterns find them
    # The keys a page builds from a code: "worklist.waits_on." ~ state, "delivery.why." ~ state, "photo.view." ~ view.
    asked |= {f"worklist.waits_on.{state}" for state in ("awaiting_second_read", "disagreement")}
    asked |= {
        f"delivery.why.{state}" for state in ("pending", "sent", "stored", "duplicate", "unknown_result", "unsendable")
    }
    asked |= {f"photo.view.{view}" for view in ("colour", "red_free", "contrast")}
    asked |= {"cli.photos_purged", "cli.results_erased", "cli.resent"}  # the command line's counted sentences
    asked |= {f"{kind}.{value}" for kind, values in CODES.items() for value in values}
    asked |= {f"describe.triage.{triage}" for triage in TRIAGES} | {f"describe.quality.{q}" for q in QUALITY_VERDICTS}
    plural = {key for key in asked if f"{key}.one" in words.CATALOGUE}
    asked = (asked - plural) | {f"{key}.{form}" for key in plural for form in ("one", "other")}
    assert sorted(asked - set(words.CATALOGUE)) == []


def refusal_keys(source: Path, *refusals: str) -> set[str]:
    """The keys a refusal is raised with (its second argument): a constant, or one of two."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in refusals and len(node.args) > 1:
            key = node.args[1]
            choices = [key.body, key.orelse] if isinstance(key, ast.IfExp) else [key]
            found |= {choice.value for choice in choices if isinstance(choice, ast.Constant)}
    return found


def test_every_refusal_of_a_read_an_export_an_account_or_a_device_has_its_sentence() -> None:
    """A refused read or export is said in the reader's language, a refused account change or enrolment
    in the station's (the command line's): each reason the code gives has a key."""
    station = ROOT.parent
    read = refusal_keys(station / "verdicts.py", "ReadRefused", "ReadOutOfTurn")
    exported = refusal_keys(station / "export.py", "ExportError") | {"bad_from", "bad_to", "not_yours"}
    account = refusal_keys(station / "accounts.py", "AccountError") | {"passwords_differ"}  # cli.py's
    device = refusal_keys(station / "devices.py", "DeviceError") | {"bad_device", "bad_site"}  # "bad_{what}"
    assert len(read) >= 15 and len(exported) >= 7 and len(account) >= 7 and len(device) >= 4
    missing = {f"refused.{key}" for key in read} | {f"export.refused.{key}" for key in exported}
    missing |= {f"account.refused.{key}" for key in account} | {f"device.refused.{key}" for key in device}
    assert sorted(missing - set(words.CATALOGUE)) == []


def test_french_is_set_with_the_devices_typography_and_numbers() -> None:
    """A non-breaking space before the colon, as the device sets it; a decimal comma; the values untouched."""
    assert words.say("delivery.label", "fr") == "Avis vers l'appareil\u00a0:"
    assert words.say("result.heading", "fr", device="cam : 01", site="a") == "Résultat de cam : 01 à a"
    assert page_words.number(0.7312, "fr", 3) == "0,731" and page_words.number(0.7312, "en", 3) == "0.731"
    assert words.code("triage", "no_refer", "fr") == "pas d'orientation"
    assert words.code("triage", "a_newer_code", "fr") == "a newer code"


def test_the_disclaimer_is_the_devices_sentence_in_each_language(engine: Engine) -> None:
    add_results(engine, "cam-01", "site-a", [0.9])
    client = signed_in_client(engine, station(), "ana", "reviewer")
    for language in LANGUAGES:
        client.cookies.set(LANGUAGE_COOKIE, language)
        page = client.get("/").text
        assert message("result.disclaimer", language).replace("'", "&#39;") in page
    assert "Aide au tri uniquement, pas un diagnostic\u00a0:" in page


def test_the_language_is_the_stations_until_a_reader_chooses_theirs(engine: Engine) -> None:
    english = signed_in_client(engine, station(), "ana", "reviewer")
    assert '<html lang="en">' in english.get("/").text and "<h1>Worklist</h1>" in english.get("/").text
    french_station = ReviewConfig(web=WebConfig(secure_cookies=False, page_size=10, language="fr"))
    french = signed_in_client(engine, french_station, "bea", "reviewer")
    assert '<html lang="fr">' in french.get("/").text and "<h1>Liste de travail</h1>" in french.get("/").text
    # The switch: remembered by the browser, back on the page it was used on.
    switched = english.get("/language/fr", params={"back": "/?state=reviewed"}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/?state=reviewed"
    assert "<h1>Liste de travail</h1>" in english.get("/").text
    assert "Tableau de bord" in english.get("/dashboard").text  # every page's header
    english.get("/language/xx")  # no such language: nothing changes
    assert "<h1>Liste de travail</h1>" in english.get("/").text
    english.get("/language/en")
    assert "<h1>Worklist</h1>" in english.get("/").text


def test_the_sign_in_page_has_the_switch_and_speaks_the_chosen_language(engine: Engine) -> None:
    client = TestClient(create_app(station(), engine), follow_redirects=False)
    page = client.get("/sign-in").text
    assert 'href="/language/fr?back=%2Fsign-in"' in page and "<h1>Sign in</h1>" in page
    client.get("/language/fr", params={"back": "/sign-in"})
    assert "<h1>Connexion</h1>" in client.get("/sign-in").text


def test_the_switch_sends_a_reader_back_to_this_station_only() -> None:
    assert local_path("/results/ab?x=1") == "/results/ab?x=1"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", ""):
        assert local_path(elsewhere) == "/"


def test_text_the_station_does_not_take_is_refused_in_the_readers_language(engine: Engine) -> None:
    """A control character in a filter: the message page names the field and the character in French."""
    client = signed_in_client(engine, station(), "ana", "reviewer")
    client.cookies.set(LANGUAGE_COOKIE, "fr")
    refused = client.get("/", params={"site": "a\x00b"})
    assert refused.status_code == 422 and "<h1>Refusé</h1>" in refused.text
    assert "caractère de contrôle invisible dans le filtre du site (U+0000, caractère 2)" in refused.text
    named = {f"input.what.the_{field.name}_filter" for field in dataclass_fields(Filters)} | {"input.what.the_site"}
    assert sorted(named - set(words.CATALOGUE)) == []
