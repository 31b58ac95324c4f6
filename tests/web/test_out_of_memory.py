"""The nurse's app out of memory: its error page says so and to restart the device, not "Something
went wrong (ValueError)"; nothing of that screening is recorded. The failed allocation is injected
where OpenCV reports it (the archive's ``imencode`` returns ``False``: tests/test_out_of_memory.py says why not
``RLIMIT_AS``)."""

from __future__ import annotations

import pytest

from tests.test_out_of_memory import counts, starve_the_archive_encoder
from tests.web.conftest import new_patient, shoot, sign_in, snap, start_app


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The device ran out of memory: this screening was not recorded. Restart the device"),
        ("fr", "L'appareil manque de mémoire\u00a0: ce dépistage n'a pas été enregistré. Redémarrez l'appareil"),
    ],
)
def test_the_nurse_is_told_the_device_ran_out_of_memory_and_nothing_is_recorded(
    page, tmp_path, retina_jpeg, monkeypatch, language, words
):
    for app in start_app(tmp_path, sections={"device": f'language = "{language}"\n'}):
        app.show(retina_jpeg)
        sign_in(page, app)
        before = counts(tmp_path)
        starve_the_archive_encoder(monkeypatch)
        new_patient(page, app, "M-1")
        page.wait_for_url("**/capture")
        shoot(page)
        page.locator("[data-test=use]").click()
        message = page.locator("[data-test=message]")
        message.wait_for(timeout=30_000)
        assert words in message.inner_text()
        snap(page, f"out-of-memory-{language}")
        assert counts(tmp_path)[:2] == before[:2]  # no screening, no queued result
