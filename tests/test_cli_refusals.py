"""A command stopped by the device's state (its model, its calibration profile, its records), as a
nurse or technician runs it on a French device: said by the readiness check's sentence for the same
cause, in the device's language, and the cause's English detail kept in the command's log line. A
request refused as asked (an unknown result id, a mistyped patient reference) is said in the device's
language too, its English the log line's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firmware_app.config import SAMPLES_DIR
from firmware_app.messages import message, sentence
from tests.health.test_doctor import not_a_database, tampered_models, unreadable_profile
from tests.records.kit import DEVICE, in_language, open_store, write_config
from tests.test_cli import edgescreen, said_lines


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
    (said,) = said_lines(run.stderr)
    assert said == f"edgescreen: {message(key, 'fr')}"
    assert detail not in said
    (logged,) = [line for line in run.stderr.splitlines() if f" {event} " in line]
    assert " ERROR " in logged and detail in logged


def no_values(tmp_path: Path) -> dict[str, str]:
    """The values of a refusal that names nothing (a mistyped patient reference is never repeated)."""
    return {}


# Each request refused as asked: the command (run on the records at tmp_path), the sentence's key and its values.
REQUESTS = {
    "unknown result id": (
        lambda tmp_path: ["records", "show", "f" * 32],
        "refused.no_result",
        lambda tmp_path: {"result_id": repr("f" * 32)},
    ),
    "erase: mistyped patient": (
        lambda tmp_path: ["erase", "--patient", "mrn-22"],
        "refused.erase_no_patient",
        no_values,
    ),
    # Answered "no screening under the reference given", as if a reference had been typed and not found.
    "erase: blank patient": (lambda tmp_path: ["erase", "--patient", ""], "refused.patient_blank", no_values),
    "erase: patient of spaces": (lambda tmp_path: ["erase", "--patient", " \t "], "refused.patient_blank", no_values),
    "export: blank patient": (
        lambda tmp_path: ["records", "export", "--patient", " ", "--out", str(tmp_path / "out")],
        "refused.patient_blank",
        no_values,
    ),
    "export: mistyped patient": (
        lambda tmp_path: ["records", "export", "--patient", "mrn-22", "--out", str(tmp_path / "out")],
        "refused.export_no_patient",
        no_values,
    ),
    "export: neither result nor patient": (
        lambda tmp_path: ["records", "export", "--out", str(tmp_path / "out")],
        "refused.export_one_or_patient",
        no_values,
    ),
    "export: --out is a file": (
        lambda tmp_path: ["records", "export", "f" * 32, "--out", str(tmp_path / "config.toml")],
        "refused.export_out_is_file",
        lambda tmp_path: {"path": str(tmp_path / "config.toml")},
    ),
    "sync status: no records yet": (
        lambda tmp_path: ["sync", "status"],
        "refused.no_records_yet",
        lambda tmp_path: {"path": str(tmp_path / "records.sqlite3")},
    ),
    "wipe not confirmed": (
        lambda tmp_path: ["wipe", "--confirm", "cam-99"],
        "refused.wipe_unconfirmed",
        lambda tmp_path: {"device": DEVICE.id, "config": str(tmp_path / "config.toml")},
    ),
}


@pytest.mark.parametrize("request_", list(REQUESTS))
def test_a_refused_request_says_why_in_the_devices_language_and_logs_the_english(tmp_path, request_):
    """``records show``, ``erase`` and ``export`` refused a mistyped id or reference in English on a
    French device ("edgescreen: no screening with result id ..."): the nurse reads it in French now,
    and the technician the same refusal in English in the log line (``command.refused``)."""
    command, key, values = REQUESTS[request_]
    if key != "refused.no_records_yet":
        open_store(tmp_path).records.close()
    config = in_language(write_config(tmp_path, 1), "fr")
    run = edgescreen(*command(tmp_path), config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    (said,) = said_lines(run.stderr)
    assert said == f"edgescreen: {sentence(key, 'fr', **values(tmp_path))}"
    (logged,) = [line for line in run.stderr.splitlines() if " command.refused " in line]
    assert " WARNING " in logged and sentence(key, "en", **values(tmp_path)) in logged


def _typed_control(language: str) -> dict[str, int | str]:
    """The values of a pasted right-to-left override, third character of ``--patient``."""
    return {"what": message("typed.what.patient", language), "code": "U+202E", "place": 3}


# Each context option refused as given (records.screening.ContextError): the command, the sentence's
# key, its values in a language, and the English detail the log keeps.
CONTEXTS = {
    "screen --patient of spaces": (
        ["screen", "--modality", "dermoscopy", "--patient", "   ", str(NAEVUS)],
        "refused.context.patient_length",
        lambda language: {"most": 64},
        "the patient reference must have 1 to 64 characters",
    ),
    "screen --patient with an override": (
        ["screen", "--modality", "dermoscopy", "--patient", "AB\u202eC", str(NAEVUS)],
        "typed.control",
        _typed_control,
        "the patient reference holds an invisible control character (U+202E, character 3)",
    ),
    "screen --note too long": (
        ["screen", "--modality", "dermoscopy", "--note", "x" * 2001, str(NAEVUS)],
        "refused.context.note_length",
        lambda language: {"most": 2000},
        "the note must have at most 2000 characters",
    ),
    "screen --eye on a dermoscopy": (
        ["screen", "--modality", "dermoscopy", "--eye", "L", str(NAEVUS)],
        "refused.context.dermoscopy_eye",
        lambda language: {},
        "a dermoscopy screening takes --body-site, not --eye",
    ),
    "screen --body-site on a fundus": (
        ["screen", "--modality", "fundus", "--body-site", "trunk", str(NAEVUS)],
        "refused.context.fundus_site",
        lambda language: {},
        "a fundus screening takes --eye, not --body-site",
    ),
    "capture --patient too long": (
        ["capture", "--auto", "--patient", "p" * 65],
        "refused.context.patient_length",
        lambda language: {"most": 64},
        "the patient reference must have 1 to 64 characters",
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("context", list(CONTEXTS))
def test_a_refused_context_option_says_why_in_the_devices_language_and_logs_the_english(tmp_path, context, language):
    """``screen`` and ``capture`` refused a bad --patient, --note or --eye in the English of
    records/screening.py whatever the device's language ("edgescreen: the note must have at most 2000
    characters" on a French device): now the catalogue's sentence in the device's language (a control
    character as the app's forms say it), nothing screened, and the English detail the log line's."""
    command, key, values, detail = CONTEXTS[context]
    config = in_language(write_config(tmp_path, 1), language)
    run = edgescreen(*command, config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    (said,) = said_lines(run.stderr)
    assert said == f"edgescreen: {sentence(key, language, **values(language))}"
    (logged,) = [line for line in run.stderr.splitlines() if " command.refused " in line]
    assert " WARNING " in logged and detail in logged
    assert not (tmp_path / "records.sqlite3").exists()  # refused before anything was opened or screened
