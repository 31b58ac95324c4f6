"""The app's error page for a failure no screen answers itself: a sentence in the nurse's language
saying what to do, never the error's class ("Something went wrong (ModelError)" on a French screen).
The failure is injected where it arises (the model's run, the records' write), as
tests/web/test_out_of_memory.py injects its allocation failure."""

from __future__ import annotations

import errno
import html
import logging

import httpx2
import pytest
from starlette.staticfiles import StaticFiles

from firmware_app.inference.interpreter import interpreter_class
from firmware_app.messages import message
from firmware_app.records.database import RecordsDamaged
from firmware_app.records.store import ScreeningStore
from firmware_app.web.headers import HEADERS
from firmware_app.web.sessions import COOKIE, Sessions
from tests.mqtt_broker import wait_until
from tests.test_out_of_memory import counts
from tests.web.conftest import new_patient, shoot, sign_in, snap, start_app, switch_to


def interpreter_failing(*args: object) -> None:
    """The TFLite interpreter's own failure of a run (a kernel that fails on this input)."""
    raise RuntimeError("tensorflow/lite/kernels/conv.cc: Node number 3 (CONV_2D) failed to invoke.")


def records_damaged(*args: object, **kwargs: object) -> None:
    raise RecordsDamaged("records.sqlite3: the records file is damaged (database disk image is malformed)")


# The model loaded and verified, then failed while running on the photo: on main the page said "A model
# cannot be loaded. Call the technician to reinstall it", wrong of a model that loaded.
MODEL_RUN = {"en": "A model failed while reading the photo", "fr": "Un modèle a échoué en lisant la photo"}
RECORDS = {
    "en": "The records are damaged. Call the technician",
    "fr": "Les dossiers sont endommagés. Appelez le technicien",
}


@pytest.mark.parametrize(
    ("failing", "language", "words"),
    [
        ("invoke", "en", MODEL_RUN["en"]),
        ("invoke", "fr", MODEL_RUN["fr"]),
        ("record_screening", "en", RECORDS["en"]),
        ("record_screening", "fr", RECORDS["fr"]),
    ],
)
def test_a_failure_at_use_this_photo_is_said_in_the_nurse_s_words(
    page, tmp_path, retina_jpeg, monkeypatch, failing, language, words
):
    for app in start_app(tmp_path, sections={"device": f'language = "{language}"\n'}):
        app.show(retina_jpeg)
        sign_in(page, app)
        before = counts(tmp_path)
        new_patient(page, app, "E-1")
        page.wait_for_url("**/capture")
        shoot(page)
        # Injected where it arises, once the model has loaded and warmed up: the runtime's interpreter.
        target = interpreter_class()[1] if failing == "invoke" else ScreeningStore
        monkeypatch.setattr(target, failing, interpreter_failing if failing == "invoke" else records_damaged)
        page.locator("[data-test=use]").click()
        message = page.locator("[data-test=message]")
        message.wait_for(timeout=30_000)
        shown = message.inner_text()
        assert words in shown and "cannot be loaded" not in shown and "ne peut pas être chargé" not in shown, shown
        assert "Error" not in page.content() and "Damaged" not in page.content()
        # The screen's words have the focus, and the top bar and the nav, waiting while it was used, are back.
        assert page.evaluate("document.activeElement.dataset.test") == "message"
        assert page.locator("[inert]").count() == 0
        snap(page, f"error-{failing}")
        assert counts(tmp_path)[:2] == before[:2]  # nothing recorded
        if failing == "invoke":  # Back: the photo waits to be used again, and is once the model runs
            monkeypatch.undo()
            page.locator("a.button[href='/']").click()
            page.wait_for_url("**/check")
            page.locator("[data-test=use]").click()
            page.wait_for_url("**/result")


def static_file_unreadable(*args: object, **kwargs: object) -> None:
    """The card failing under a static file: a failure outside every page, no screen answers it."""
    raise OSError(errno.EIO, "Input/output error", "app.css")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_failure_no_page_answers_is_the_app_s_error_page_with_its_security_headers(tmp_path, monkeypatch, language):
    """Starlette answers such a failure from its outermost middleware, outside the app's own: on main a
    bare "Internal Server Error" in English, without the headers every other answer carries (no
    frame-ancestors, no nosniff)."""
    for app in start_app(tmp_path, sections={"device": f'language = "{language}"\n'}):
        monkeypatch.setattr(StaticFiles, "get_response", static_file_unreadable)
        answer = httpx2.get(f"{app.url}/static/app.css", timeout=30)
        assert answer.status_code == 500
        assert {name: answer.headers.get(name) for name in HEADERS} == HEADERS
        assert html.escape(message("app.error", language), quote=False) in answer.text
        assert 'data-test="message"' in answer.text and "OSError" not in answer.text


def test_a_failure_no_page_answers_is_said_in_the_language_the_browser_carries(page, app, monkeypatch):
    """A browser whose session the app no longer holds (a restart forgot it) still carries the language
    switch's cookie, and its pages come back in that language: the failure page of a static file came
    in the device's (English on a French screen)."""
    for language in ("fr", "en"):  # the device's is English
        page.goto(f"{app.url}/signin")
        switch_to(page, language)
        page.context.clear_cookies(name=COOKIE)  # the session forgotten, the language switch's cookie kept
        with monkeypatch.context() as failing:
            failing.setattr(StaticFiles, "get_response", static_file_unreadable)
            answer = page.goto(f"{app.url}/static/app.css?not-cached")  # the sign-in page had it cached
            assert answer is not None and answer.status == 500
            assert page.locator("[data-test=message]").inner_text() == message("app.error", language)
            snap(page, "error-static-file")


def said_of_the_failure(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The log records of the static file's failure (``static_file_unreadable``), by its file or its error:
    the device's other threads (its sync worker, with no broker) may log errors meanwhile."""
    return [
        record
        for record in caplog.records
        if "app.css" in record.getMessage() or (record.exc_info and isinstance(record.exc_info[1], OSError))
    ]


def test_a_failure_no_page_answers_is_logged_once_and_opens_no_session(tmp_path, monkeypatch, caplog):
    """Such a failure was logged twice, as ``app.failed`` and as the server's traceback of it (Starlette
    raises it again after its page), and its request, without a cookie, opened a session no answer
    handed out, kept for 12 hours beside the nurse's."""
    kept: list[Sessions] = []
    made = Sessions.__init__
    monkeypatch.setattr(Sessions, "__init__", lambda self, *args: kept.append(self) or made(self, *args))
    for app in start_app(tmp_path):
        uvicorn_log = logging.getLogger("uvicorn.error")  # its own handler, not the root's: caught here too
        uvicorn_log.addHandler(caplog.handler)
        try:
            monkeypatch.setattr(StaticFiles, "get_response", static_file_unreadable)
            (sessions,) = kept
            before = len(sessions)
            caplog.clear()
            assert httpx2.get(f"{app.url}/static/app.css", timeout=30).status_code == 500
            # The server's record comes last, once the page is sent: waited for, then counted with the rest.
            wait_until(lambda: any(record.exc_info for record in said_of_the_failure(caplog)), 10, "the server's log")
            said = said_of_the_failure(caplog)
            assert len(said) == 1, [record.getMessage() for record in said]
            assert len(sessions) == before
        finally:
            uvicorn_log.removeHandler(caplog.handler)
