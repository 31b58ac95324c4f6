"""Names and text typed on the device's command line that it keeps (an operator's name, who made a
calibration profile, a camera's model, a patient's reference) are held to the rule the apps' forms hold
typed text to (``edgescreen_wire.typed_text``): refused with the character named, exit status 2."""

from __future__ import annotations

import pytest

from firmware_app.messages import message, sentence
from firmware_app.records.screening import ScreeningContext
from tests.records.kit import in_language, open_store, record_one, sample_record, small_photo, write_config
from tests.test_cli import edgescreen

# What a terminal can pass in an argument (never a NUL): a bidirectional override and a C1 control.
CONTROLS = (("\u202e", "U+202E"), ("\x85", "U+0085"))


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(("control", "code"), CONTROLS)
def test_an_operators_name_with_a_control_is_refused_naming_it_in_the_devices_language(
    tmp_path, control, code, language
):
    """Refused by argparse's ``type``, in English, before the config's language was read: said now as
    the app's first-operator form says it, in the device's language, with the same exit status."""
    config = in_language(write_config(tmp_path, port=1), language)
    refused = edgescreen("operators", "add", f"AM{control}INA", "--pin-stdin", config=config)
    said = sentence("typed.control", language, what=message("typed.what.name", language), code=code, place=3)
    assert refused.returncode == 2 and f"edgescreen: {said}\n" in refused.stderr, refused.stderr
    assert edgescreen("operators", "list", config=config).stdout == ""


@pytest.mark.parametrize(("control", "code"), CONTROLS)
@pytest.mark.parametrize(
    "args",
    [
        ("calibrate", "flat", "--by", "AM{}INA"),
        ("calibrate", "scale", "--camera-model", "Pi{}Cam"),
        ("calibrate", "colour", "--serial", "SN{}42"),
        ("quality-fit", "--camera-model", "Pi{}Cam"),
    ],
)
def test_a_typed_name_a_profile_keeps_is_refused_naming_its_control(tmp_path, args, control, code):
    config = write_config(tmp_path, port=1)
    refused = edgescreen(*(arg.format(control) for arg in args), config=config)
    assert refused.returncode == 2 and f"argument {args[-2]}: the text holds" in refused.stderr
    assert f"({code}, character 3)" in refused.stderr


def test_a_patient_reference_with_a_control_is_refused_before_any_screening(tmp_path, retina_jpeg):
    refused = edgescreen("screen", str(retina_jpeg), "--patient", "AB\u202eC", "--note", "line\n\tline")
    assert refused.returncode == 2 and "the patient reference holds" in refused.stderr
    assert "(U+202E, character 3)" in refused.stderr


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("command", [("erase",), ("records", "export", "--out", "{out}")])
def test_a_patient_reference_to_erase_or_export_with_a_control_is_refused_before_the_records_are_read(
    tmp_path, retina_rgb, command, language
):
    """``erase`` and ``records export`` took any text as ``--patient``: a pasted override searched the
    records and was audited as an erasure of no one, said as a reference mistyped. The rule of every
    other typed argument now refuses it before the records are opened, in the device's language as
    ``screen`` refuses it (argparse's English refusal came before the config's language was read)."""
    config = in_language(write_config(tmp_path, port=1), language)
    store = open_store(tmp_path)
    record_one(store, small_photo(retina_rgb), sample_record(ScreeningContext(patient_ref="ABC")))
    store.records.close()
    out = tmp_path / "for-the-patient"
    refused = edgescreen(*(part.format(out=out) for part in command), "--patient", "AB\u202eC", config=config)
    what = message("typed.what.patient", language)
    said = sentence("typed.control", language, what=what, code="U+202E", place=3)
    assert refused.returncode == 2 and f"edgescreen: {said}\n" in refused.stderr, refused.stderr
    assert not out.exists()
    assert edgescreen("audit", "list", "--kind", "erasure", config=config).stdout == ""
