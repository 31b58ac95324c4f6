"""The app's error page for a failure no screen answers itself: a sentence in the nurse's language
saying what to do, never the error's class ("Something went wrong (ModelError)" on a French screen).
The failure is injected where it arises (the model's run, the records' write), as
tests/web/test_out_of_memory.py injects its allocation failure."""

from __future__ import annotations

import pytest

from firmware_app.inference.errors import ModelError
from firmware_app.inference.model import TriageModel
from firmware_app.records.database import RecordsDamaged
from firmware_app.records.store import ScreeningStore
from tests.test_out_of_memory import counts
from tests.web.conftest import new_patient, shoot, sign_in, snap, start_app


def model_refusing(*args: object) -> None:
    raise ModelError("fundus model: the interpreter failed to run")


def records_damaged(*args: object, **kwargs: object) -> None:
    raise RecordsDamaged("records.sqlite3: the records file is damaged (database disk image is malformed)")


@pytest.mark.parametrize(
    ("target", "failure", "language", "words"),
    [
        (TriageModel, model_refusing, "en", "A model cannot be loaded. Call the technician to reinstall it"),
        (TriageModel, model_refusing, "fr", "Un modèle ne peut pas être chargé. Appelez le technicien"),
        (ScreeningStore, records_damaged, "en", "The records are damaged. Call the technician"),
        (ScreeningStore, records_damaged, "fr", "Les dossiers sont endommagés. Appelez le technicien"),
    ],
)
def test_a_failure_at_use_this_photo_is_said_in_the_nurse_s_words(
    page, tmp_path, retina_jpeg, monkeypatch, target, failure, language, words
):
    for app in start_app(tmp_path, sections={"device": f'language = "{language}"\n'}):
        app.show(retina_jpeg)
        sign_in(page, app)
        before = counts(tmp_path)
        new_patient(page, app, "E-1")
        page.wait_for_url("**/capture")
        shoot(page)
        method = "predict_input" if target is TriageModel else "record_screening"
        monkeypatch.setattr(target, method, failure)
        page.locator("[data-test=use]").click()
        message = page.locator("[data-test=message]")
        message.wait_for(timeout=30_000)
        shown = message.inner_text()
        assert words in shown, shown
        assert "Error" not in page.content() and "Damaged" not in page.content()
        snap(page, f"error-{method}")
        assert counts(tmp_path)[:2] == before[:2]  # nothing recorded
