"""A fresh device's first run needs no terminal: the app's first screen creates the first operator,
and closes for good once any operator exists (``edgescreen operators add`` stays for the others)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape

from firmware_app import operators
from firmware_app.messages import message, sentence
from firmware_app.records import screening
from firmware_app.web import server
from tests.conftest import PROJECT_ROOT
from tests.mqtt_broker import free_port
from tests.records.kit import in_language, write_config
from tests.web.conftest import (
    AUDIT,
    csrf_header,
    network_address,
    snap,
    start_app,
    switch_to,
    type_on_keypad,
    unscrolled,
)


@pytest.fixture()
def fresh_app(tmp_path, retina_jpeg):
    running = start_app(tmp_path, operator=False)
    app = next(running)
    app.show(retina_jpeg)
    yield app
    next(running, None)


def test_the_first_screen_creates_the_first_operator_then_closes(page, fresh_app):
    app = fresh_app
    page.goto(app.url)
    page.wait_for_url("**/setup")
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    assert "with “edgescreen operators add NAME”." in page.inner_text("main")  # English quotes in English
    snap(page, "setup")
    page.locator("[data-test=language]").click()
    assert "avec «\u00a0edgescreen operators add NOM\u00a0»." in page.inner_text("main")
    snap(page, "setup")
    page.locator("[data-test=language]").click()
    page.locator("[data-test=next]").click()  # no name yet: refused at once, not after the PINs
    assert page.locator("[data-test=name-needed]").inner_text() == "Type your name first."
    assert page.locator("#name").is_visible() and not page.locator("#pin").is_visible()
    type_on_keypad(page, "name", "N'DIAYE A")
    page.locator("[data-test=next]").click()
    assert page.locator("#pin").is_visible()
    # The PIN step fits the screen, its keypad under the field (the patient screen's two columns are not its).
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "setup-pin")
    type_on_keypad(page, "pin", "1357")
    page.locator("[data-test=next-pin]").click()
    type_on_keypad(page, "pin_again", "1358")
    page.locator("[data-test=create]").click()
    assert page.locator("[data-test=setup-error]").inner_text() == "The two PINs differ: type the PIN again."
    assert page.locator("#pin").is_visible()  # back at the PIN step
    type_on_keypad(page, "pin", "1357")
    page.locator("[data-test=next-pin]").click()
    type_on_keypad(page, "pin_again", "1357")
    page.locator("[data-test=create]").click()
    page.wait_for_url("**/ready")
    assert page.locator(".nav .operator").inner_text() == "N'DIAYE A"

    page.goto(f"{app.url}/setup")  # closed now: to sign-in
    assert page.url.endswith("/signin")
    refused = page.request.post(
        f"{app.url}/setup", form={"name": "MALLORY", "pin": "0000", "pin_again": "0000"}, headers=csrf_header(page)
    )
    assert refused.status == 403 and "has an operator already" in refused.text()
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT name FROM operator").fetchall() == [("N'DIAYE A",)]
        assert db.execute("SELECT count(*) FROM audit WHERE kind = 'operator'").fetchone()[0] == 1


def maxlength(page, field: str) -> int:
    """How many characters the page's ``field`` holds, as rendered."""
    return int(page.locator(field).get_attribute("maxlength"))


def test_the_typed_fields_hold_as_many_characters_as_their_checks_take(page, tmp_path, monkeypatch, retina_jpeg):
    """The first-run form and the network's sign-in each wrote 40 themselves: a longest name changed
    where accounts are checked (``operators.MAX_NAME``) left them cutting names short, or taking names
    the account then refused. The PIN fields wrote 12 (``operators.MAX_PIN``), the patient reference's
    64 (``screening.MAX_PATIENT_REF``), the same way, and the PIN's label said "4 to 12 digits" itself.
    Each takes the app's one constant, drawn here at 12, 5 to 8 and 20 to tell it from a number
    written in the page."""
    assert (server.MAX_NAME, server.MIN_PIN, server.MAX_PIN, server.MAX_PATIENT_REF) == (
        operators.MAX_NAME,
        operators.MIN_PIN,
        operators.MAX_PIN,
        screening.MAX_PATIENT_REF,
    )
    monkeypatch.setattr(server, "MAX_NAME", 12)
    monkeypatch.setattr(server, "MIN_PIN", 5)
    monkeypatch.setattr(server, "MAX_PIN", 8)
    monkeypatch.setattr(server, "MAX_PATIENT_REF", 20)
    running = start_app(tmp_path, app='bind = "0.0.0.0"\n', operator=False)
    app = next(running)
    app.show(retina_jpeg)  # a camera, so the patient screen opens
    try:
        page.goto(f"{app.url}/setup")
        assert (maxlength(page, "#pin"), maxlength(page, "#pin_again")) == (8, 8)
        type_on_keypad(page, "name", "ABCDEFGHIJKLM")  # one more than it holds
        assert page.locator("#name").input_value() == "ABCDEFGHIJKL"
        page.locator("[data-test=next]").click()
        assert page.locator("label[for=pin]").inner_text() == "PIN (5 to 8 digits)"
        type_on_keypad(page, "pin", "13579")
        page.locator("[data-test=next-pin]").click()
        type_on_keypad(page, "pin_again", "13579")
        page.locator("[data-test=create]").click()
        page.wait_for_url("**/ready")
        tablet = app.url.replace("127.0.0.1", network_address())  # a tablet on the network
        page.goto(f"{tablet}/signin")
        assert maxlength(page, "#pin") == 8
        page.locator("#operator").press_sequentially("ABCDEFGHIJKLM")
        assert page.locator("#operator").input_value() == "ABCDEFGHIJKL"
        type_on_keypad(page, "pin", "13579")
        page.locator("form.signin button[type=submit]").click()
        page.wait_for_url("**/ready")
        for screen in ("patient", "records"):
            page.goto(f"{tablet}/{screen}")
            assert maxlength(page, "#reference") == 20, screen
    finally:
        next(running, None)


def test_the_language_switch_keeps_the_first_operators_name_and_step(page, fresh_app):
    """Typed a name, Next, then the switch to her language: the form came back empty at its first
    step, the name to type again. Now the name and the PIN step are kept; the PINs are not (a secret is
    not kept for a reload): from the second PIN's step she is back at the first PIN's, both typed again."""
    page.goto(fresh_app.url)
    page.wait_for_url("**/setup")
    type_on_keypad(page, "name", "AWA")
    page.locator("[data-test=next]").click()
    page.locator("[data-test=language]").click()
    page.locator("html[lang=fr]").wait_for(state="attached")
    assert page.locator("#pin").is_visible() and page.locator("#name").input_value() == "AWA"
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "setup-pin-after-language-switch")
    type_on_keypad(page, "pin", "2580")
    page.locator("[data-test=next-pin]").click()
    type_on_keypad(page, "pin_again", "25")
    page.locator("[data-test=language]").click()
    page.locator("html[lang=en]").wait_for(state="attached")
    assert page.locator("#pin").is_visible() and page.locator("#pin").input_value() == ""
    assert page.locator("#pin_again").input_value() == ""
    snap(page, "setup-pin-after-language-switch")
    page.locator("[data-test=language]").click()  # and back to French, as kept
    page.locator("html[lang=fr]").wait_for(state="attached")
    assert page.locator("#pin").is_visible()
    snap(page, "setup-pin-after-language-switch")
    page.locator(".step-2 [data-step-to='1']").click()
    assert page.locator("#name").input_value() == "AWA"
    page.locator("[data-test=next]").click()
    type_on_keypad(page, "pin", "2580")
    page.locator("[data-test=next-pin]").click()
    type_on_keypad(page, "pin_again", "2580")
    page.locator("[data-test=create]").click()
    page.wait_for_url("**/ready")
    assert page.locator(".nav .operator").inner_text() == "AWA"


def test_the_first_operator_cannot_be_made_from_the_network(page, tmp_path, retina_jpeg):
    """With the app opened to the network for tablets, a fresh device's first-run screen is the
    device's own: a browser elsewhere is told where to make the first operator, and a form posted
    from there creates nobody."""
    running = start_app(tmp_path, operator=False, app='bind = "0.0.0.0"\n')
    app = next(running)
    try:
        remote = app.url.replace("127.0.0.1", network_address())
        page.goto(remote)
        assert page.url.endswith("/setup")
        assert "on the device's own screen" in page.locator("body").inner_text()
        snap(page, "setup-from-the-network")
        page.locator("[data-test=language]").click()
        page.wait_for_load_state()
        assert "sur l'écran de l'appareil lui-même" in page.locator("body").inner_text()
        snap(page, "setup-from-the-network")
        refused = page.request.post(
            f"{remote}/setup", form={"name": "MALLORY", "pin": "0000", "pin_again": "0000"}, headers=csrf_header(page)
        )
        assert refused.status == 403
        with sqlite3.connect(app.directory / "records.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM operator").fetchone()[0] == 0
        page.goto(app.url)  # the device's own screen still makes it
        page.wait_for_url("**/setup")
        assert page.locator("[data-test=create]").count() == 1
    finally:
        next(running, None)


def _start_lines(config: Path) -> list[str]:
    """The first two lines ``edgescreen app`` prints on ``config``, without a terminal."""
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "app"]
    app = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        return [app.stdout.readline().strip(), app.stdout.readline().strip()]
    finally:
        app.terminate()
        app.wait(30)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_fresh_device_starts_without_a_terminal_and_points_to_the_first_screen(tmp_path, language):
    """Said in the device's language (on main English whatever it was), as is the device whose every
    operator is disabled."""
    port = free_port()
    config = in_language(write_config(tmp_path, 1, f"[app]\nport = {port}\n"), language)
    opened = sentence("app.open", language, address=f"http://127.0.0.1:{port}/")
    assert _start_lines(config) == [message("app.no_operator_yet", language), opened]
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "operators"]
    subprocess.run(
        [*command, "add", "Amina", "--pin-stdin"], input="2468\n", text=True, check=True, capture_output=True
    )
    subprocess.run([*command, "disable", "Amina"], check=True, capture_output=True)
    assert _start_lines(config) == [message("app.no_operator_enabled", language), opened]


def test_a_first_operators_name_too_long_is_refused_with_the_longest_the_accounts_take(page, fresh_app):
    """The form holds ``MAX_NAME`` characters; a name sent longer all the same (another client) is
    refused in the sentence the command line says, with the check's own number."""
    page.goto(f"{fresh_app.url}/setup")
    for language in ("en", "fr"):
        switch_to(page, language)
        form = {"name": "A" * (operators.MAX_NAME + 1), "pin": "2468", "pin_again": "2468"}
        refused = page.request.post(f"{fresh_app.url}/setup", form=form, headers=csrf_header(page))
        said = sentence("operators.bad_name", language, most=operators.MAX_NAME)
        assert refused.status == 400 and str(escape(said)) in refused.text(), language


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_pin_too_short_is_refused_at_its_own_step_not_after_typing_it_twice(page, fresh_app, language):
    """A PIN of 2 digits went on to "The same PIN again", and was refused only once typed twice and
    posted, both PINs then lost: refused at once where it is typed, as an empty name is."""
    page.goto(fresh_app.url)
    page.wait_for_url("**/setup")
    switch_to(page, language)
    type_on_keypad(page, "name", "AMINA")
    page.locator("[data-test=next]").click()
    type_on_keypad(page, "pin", "12")
    page.locator("[data-test=next-pin]").click()
    assert page.locator("[data-test=pin-short]").inner_text() == sentence(
        "operators.bad_pin", language, fewest=operators.MIN_PIN, most=operators.MAX_PIN
    )
    assert page.locator("#pin").is_visible() and not page.locator("#pin_again").is_visible()
    assert unscrolled(page) and page.evaluate(AUDIT) == []
    snap(page, "setup-pin-short")
    type_on_keypad(page, "pin", "34")  # 1234: long enough, on to the same PIN again
    page.locator("[data-test=next-pin]").click()
    assert page.locator("#pin_again").is_visible() and not page.locator("[data-test=pin-short]").is_visible()


def test_the_pin_steps_show_the_name_being_made(page, fresh_app):
    """Whose PIN she is typing, read on the PIN steps: they showed no name, in either language."""
    page.goto(fresh_app.url)
    page.wait_for_url("**/setup")
    for language, label in (("en", "Name"), ("fr", "Nom")):
        switch_to(page, language)
        page.locator("#name").fill("")
        assert not page.locator("[data-test=name-shown]").is_visible(), language  # typed here, not shown twice
        type_on_keypad(page, "name", "N'DIAYE A")
        page.locator("[data-test=next]").click()
        shown = page.locator("[data-test=name-shown]")
        assert shown.is_visible() and shown.inner_text().split() == [label, "N'DIAYE", "A"], language
        assert unscrolled(page) and page.evaluate(AUDIT) == [], language
        snap(page, "setup-pin-name")
        type_on_keypad(page, "pin", "2468")
        page.locator("[data-test=next-pin]").click()
        assert shown.is_visible() and unscrolled(page), language
        snap(page, "setup-pin-again-name")
        page.locator(".step-3 [data-step-to='2']").click()
        page.locator(".step-2 [data-step-to='1']").click()
