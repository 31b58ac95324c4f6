"""A record that is no longer there (erased in another tab, then opened from the page that tab left
behind, an old bookmark or the back button) is normal use: on main "View" and "Export photo" answered
500, "Something went wrong, call the technician", and logged an error. Now the nurse reads that the
screening is not in the records, with the way back to Records, and the log holds no error."""

from __future__ import annotations

import logging

from tests.web.conftest import csrf_header, on_screen, sign_in, snap, switch_to
from tests.web.test_worklist_and_records import _find, screen_one_eye

GONE = {
    "en": "This screening is not in the records: it may have been erased, from this screen or another.",
    "fr": "Ce dépistage n'est pas dans les dossiers\u00a0: il a peut-être été supprimé, depuis cet écran ou un autre.",
}
BACK = {"en": "Back to Records", "fr": "Retour aux dossiers"}


def erased_in_another_tab(page, app, reference: str) -> None:
    """The patient found and erased by another tab of the same session (its requests, the same cookie)."""
    for action, form in (("", {"reference": reference}), ("/erase", {"reference": reference, "confirmed": "yes"})):
        answer = page.request.post(f"{app.url}/records{action}", form=form, headers=csrf_header(page))
        assert answer.ok, answer.text()
    assert "Erased 1 screening" in answer.text()


def test_a_record_erased_in_another_tab_is_said_not_in_the_records_with_the_way_back(page, app, caplog):
    sign_in(page, app)
    screen_one_eye(page, app, "G-1")
    _find(page, app, "G-1")
    result_id = page.locator("form[action='/records/view'] input[name=result_id]").input_value()
    erased_in_another_tab(page, app, "G-1")
    caplog.clear()
    caplog.set_level(logging.INFO, "edgescreen")
    # Its "Export photo", as the list that tab left behind posts it.
    answer = page.request.post(f"{app.url}/records/export", form={"result_id": result_id}, headers=csrf_header(page))
    assert (answer.status, GONE["en"] in answer.text()) == (404, True), answer.text()
    page.locator("form[action='/records/view'] button").first.click()  # and its "View"
    page.wait_for_url("**/records/view")
    for language in ("en", "fr"):
        switch_to(page, language)  # the same address loaded again says it again
        said = page.locator("[data-test=message]")
        assert said.inner_text() == GONE[language]
        back = page.locator("[data-test=way-back]")
        assert back.inner_text() == BACK[language] and on_screen(back)
        snap(page, "record-not-held")
    back.click()
    page.wait_for_url("**/records")
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert "app.record_not_held" in caplog.text
