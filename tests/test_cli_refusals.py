"""A command stopped by the device's state (its model, its calibration profile, its records), as a
nurse or technician runs it on a French device: said by the readiness check's sentence for the same
cause, in the device's language, and the cause's English detail kept in the command's log line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firmware_app.config import SAMPLES_DIR
from firmware_app.messages import message
from tests.health.test_doctor import not_a_database, tampered_models, unreadable_profile
from tests.records.kit import in_language, open_store, write_config
from tests.test_cli import edgescreen


def newer_records(tmp_path: Path) -> str:
    """Records a newer EdgeScreen migrated: this one refuses them rather than risk them."""
    with sqlite3.connect(tmp_path / "records.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 999")
    connection.close()
    return ""


# A photo the gate passes, so the model is loaded: the melanoma model is the one ``tampered_models`` changes.
NAEVUS = SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"
# Each refusal: the config's extra lines (made under tmp_path), the exit status, the sentence's key,
# the log event, and the English detail that tells the technician which file and what is wrong.
REFUSALS = {
    "model changed": (tampered_models, 3, "health.models.refused", "model.refused", "does not match its sha256"),
    "model not installed": (
        lambda tmp_path: '[models]\ndermoscopy = "absent"\n',
        3,
        "health.models.missing",
        "model.refused",
        "card.json: model card not found",
    ),
    "model for other photos": (
        lambda tmp_path: '[models]\ndermoscopy = "dr-referable"\n',
        3,
        "health.models.wrong",
        "model.refused",
        "is a fundus model, configured for dermoscopy photos",
    ),
    "profile unreadable": (
        unreadable_profile,
        2,
        "health.calibration.red",
        "calibration.refused",
        "not a readable JSON calibration profile",
    ),
    "profile missing": (
        lambda tmp_path: f'[calibration]\nprofile = "{tmp_path}/absent.json"\n',
        2,
        "health.calibration.missing",
        "calibration.refused",
        "absent.json: calibration profile not found",
    ),
    "records damaged": (not_a_database, 5, "health.records.red", "records.unusable", "the records file is damaged"),
    "records of a newer version": (
        newer_records,
        5,
        "health.records.unusable",
        "records.unusable",
        "newer than this software",
    ),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_command_stopped_by_the_device_says_why_in_its_language_and_logs_the_detail(tmp_path, refusal):
    """``screen`` said "edgescreen: model refused: /.../melanoma/model.tflite: sha256 ... does not match"
    (and "calibration profile refused: ...", "records: ...") in English on a French device, one
    prefix whatever the cause. Now the line is the sentence ``doctor`` shows for the same cause, with
    what the technician does, in the device's language; the cause's own words are the log line."""
    setup, status, key, event, detail = REFUSALS[refusal]
    open_store(tmp_path).records.close()
    config = in_language(write_config(tmp_path, 1, setup(tmp_path)), "fr")
    run = edgescreen("screen", "--modality", "dermoscopy", str(NAEVUS), config=config)
    assert run.returncode == status, run.stderr
    assert "Traceback" not in run.stderr
    (said,) = [line for line in run.stderr.splitlines() if line.startswith("edgescreen: ")]
    assert said == f"edgescreen: {message(key, 'fr')}"
    assert detail not in said
    (logged,) = [line for line in run.stderr.splitlines() if f" {event} " in line]
    assert " ERROR " in logged and detail in logged
