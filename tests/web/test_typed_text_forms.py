"""The nurse's forms hold what is typed to the rule the station's forms do (``edgescreen_wire.typed_text``):
a NUL, a right-to-left override or a C1 control, pasted with a USB keyboard or read from a patient's
code, is refused with the form's own error, what was typed kept and the character named by its code
and place, in English and French; never a 500, nothing stored or searched."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from firmware_app.records.screening import MAX_PATIENT_REF
from tests.web.conftest import RunningApp, csrf_header, sign_in, snap, start_app, switch_to, unscrolled

# One of each kind the rule refuses: a C0 control, a bidirectional override and a C1 control (NEL,
# which Python's str.strip() would have taken for a space), each typed as the third character.
CONTROLS = (("\x00", "U+0000"), ("\u202e", "U+202E"), ("\x85", "U+0085"))
SAID = {
    "en": "Invisible character {code} (character 3) in {what}: remove it.",
    "fr": "Caractère invisible {code} (position 3) dans {what}\u00a0: retirez-le.",
}
REFERENCE = {"en": "the reference", "fr": "la référence"}
NAME = {"en": "the name", "fr": "le nom"}


def in_language(page, app: RunningApp, language: str) -> None:
    """The session's language set to ``language`` (the switch flips it)."""
    page.goto(f"{app.url}/records")
    switch_to(page, language)


def typed_into(page, selector: str, text: str) -> None:
    """``text`` in a field as a paste would put it (the on-screen keypad types no control)."""
    page.locator(selector).evaluate("(field, text) => { field.value = text; }", text)


def test_a_patient_reference_with_a_control_is_refused_with_the_form_kept(page, app):
    sign_in(page, app)
    for language in ("en", "fr"):
        in_language(page, app, language)
        for control, code in CONTROLS:
            form = {"reference": f"AB{control}C", "modality": "fundus", "eyes": "R", "consent": "yes"}
            refused = page.request.post(f"{app.url}/patient", form=form, headers=csrf_header(page))
            said = SAID[language].format(what=REFERENCE[language], code=code)
            assert refused.status == 400 and said in refused.text(), (language, code)
            field = f'autocomplete="off" maxlength="{MAX_PATIENT_REF}" value="AB{control}C"'
            assert f'name="reference" inputmode="none" {field}' in refused.text()
        # On the screen: the step with the reference, the sentence above it, the text as it was pasted.
        page.goto(f"{app.url}/patient")
        typed_into(page, "#reference", "AB\u202eC")
        page.locator("[data-test=next]").click()
        page.locator("input[name=consent]").check()
        page.locator("[data-test=start]").click()
        error = page.locator("[data-test=patient-error]")
        assert error.inner_text() == SAID[language].format(what=REFERENCE[language], code="U+202E")
        assert page.locator("#reference").input_value() == "AB\u202eC" and page.locator(".step-1").is_visible()
        snap(page, "patient-typed-control")
        assert unscrolled(page)
    assert page.url.endswith("/patient")  # no visit started: the capture screen never opened


def test_a_records_search_with_a_control_is_refused_without_searching(page, app):
    sign_in(page, app)
    for language in ("en", "fr"):
        in_language(page, app, language)
        for control, code in CONTROLS:
            form = {"reference": f"AB{control}C"}
            refused = page.request.post(f"{app.url}/records", form=form, headers=csrf_header(page))
            said = SAID[language].format(what=REFERENCE[language], code=code)
            assert refused.status == 400 and said in refused.text(), (language, code)
            assert f'value="AB{control}C"' in refused.text() and 'data-test="none-found"' not in refused.text()
        page.goto(f"{app.url}/records")
        typed_into(page, "#reference", "AB\u202eC")
        page.locator("[data-test=find]").click()
        said = SAID[language].format(what=REFERENCE[language], code="U+202E")
        assert page.locator("[data-test=records-error]").inner_text() == said
        assert page.locator("#reference").input_value() == "AB\u202eC"
        assert page.locator("[data-test=none-found]").count() == 0 and unscrolled(page)
        snap(page, "records-typed-control")


@pytest.fixture()
def fresh_app(tmp_path, retina_jpeg) -> Iterator[RunningApp]:
    running = start_app(tmp_path, operator=False)
    app = next(running)
    app.show(retina_jpeg)
    yield app
    next(running, None)


def test_a_first_operators_name_with_a_control_is_refused_with_the_name_kept(page, fresh_app):
    app = fresh_app
    page.goto(f"{app.url}/setup")
    for language in ("en", "fr"):
        switch_to(page, language)
        for control, code in CONTROLS:
            form = {"name": f"AM{control}INA", "pin": "2468", "pin_again": "2468"}
            refused = page.request.post(f"{app.url}/setup", form=form, headers=csrf_header(page))
            said = SAID[language].format(what=NAME[language], code=code)
            assert refused.status == 400 and said in refused.text(), (language, code)
            assert f'value="AM{control}INA"' in refused.text()
        page.goto(f"{app.url}/setup")
        typed_into(page, "#name", "AM\u202eINA")
        page.locator("form.setup").evaluate("form => form.requestSubmit()")
        said = SAID[language].format(what=NAME[language], code="U+202E")
        assert page.locator("[data-test=setup-error]").inner_text() == said
        assert page.locator("#name").input_value() == "AM\u202eINA" and page.locator("#name").is_visible()
        assert unscrolled(page)
        snap(page, "setup-typed-control")
    with sqlite3.connect(app.directory / "records.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM operator").fetchone()[0] == 0
