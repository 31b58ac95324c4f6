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


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(("control", "code"), CONTROLS)
@pytest.mark.parametrize(
    "args",
    [
        ("calibrate", "flat", "--by", "AM{}INA"),
        ("calibrate", "scale", "--camera-model", "Pi{}Cam"),
        ("calibrate", "colour", "--serial", "SN{}42"),
        ("quality", "fit", "--camera-model", "Pi{}Cam"),
    ],
)
def test_a_typed_name_a_profile_keeps_is_refused_naming_its_control(tmp_path, args, control, code, language):
    """Refused by argparse's ``type`` in English on a French device ("the text holds an invisible
    control character"): said now by the app's sentence for it, in the device's language."""
    config = in_language(write_config(tmp_path, port=1), language)
    refused = edgescreen(*(arg.format(control) for arg in args), "photo.png", config=config)
    said = sentence("typed.control", language, what=message("typed.what.text", language), code=code, place=3)
    assert refused.returncode == 2 and _argument(args[-2], said, language) in refused.stderr, refused.stderr


def _argument(name: str, said: str, language: str) -> str:
    """How argparse's refusal of the argument ``name`` ends, in ``language``."""
    return message("argparse.argument", language) % {"argument_name": name, "message": said}


# A value argparse's ``type`` refuses: the command, and the catalogue's sentence for it with its values.
REFUSED_VALUES = {
    "a port that is no number": (("app", "--port", "abc"), "argument.port", "--port"),
    "a port out of range": (("app", "--port", "70000"), "argument.port", "--port"),
    "audit list --last x": (("audit", "list", "--last", "x"), "argument.at_least_one", "--last"),
    "a board not COLUMNSxROWS": (("calibrate", "geometry", "--board", "9by6", "a.png"), "argument.board", "--board"),
    "a square of 0 mm": (("calibrate", "geometry", "--square-mm", "0", "a.png"), "argument.millimetres", "--square-mm"),
    "a target not a size": (
        ("calibrate", "scale", "--target-mm", "big", "a.png"),
        "argument.millimetres",
        "--target-mm",
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("refusal", list(REFUSED_VALUES))
def test_a_value_refused_by_its_type_is_said_in_the_devices_language(tmp_path, refusal, language):
    """``app --port abc`` said "argument --port: 'abc' is not a port number (1 to 65535)" in English on
    a French device, as did the other refusals of a typed value: the parse comes before the config is
    loaded. The parse now speaks the language the config names."""
    args, key, name = REFUSED_VALUES[refusal]
    config = in_language(write_config(tmp_path, port=1), language)
    refused = edgescreen(*args, config=config)
    said = sentence(key, language, value=repr(args[args.index(name) + 1]))
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.endswith(_argument(name, said, language) + "\n"), refused.stderr
    assert "Traceback" not in refused.stderr


# argparse's own refusals: the command, and how its French ends.
USAGE_ERRORS = {
    "an unknown option": (("app", "--bogus"), message("argparse.unrecognized", "fr") % "--bogus"),
    "a missing required option": (("backup",), message("argparse.required", "fr") % "--out"),
    "an option without its value": (
        ("audit", "list", "--last"),
        _argument("--last", message("argparse.expected_one", "fr"), "fr"),
    ),
    "a number that is no number": (
        ("capture", "--preview-frames", "x"),
        _argument("--preview-frames", message("argparse.invalid_value", "fr") % {"type": "int", "value": "x"}, "fr"),
    ),
}


@pytest.mark.parametrize("error", list(USAGE_ERRORS))
def test_argparses_own_refusals_are_said_in_french_on_a_french_device(tmp_path, error):
    """On a French device argparse said "unrecognized arguments", "the following arguments are
    required", "invalid int value" and "expected one argument" in English; exit status 2 in both."""
    args, french = USAGE_ERRORS[error]
    english = edgescreen(*args, config=write_config(tmp_path, port=1))
    refused = edgescreen(*args, config=in_language(write_config(tmp_path, port=1), "fr"))
    assert refused.returncode == english.returncode == 2
    last = refused.stderr.splitlines()[-1]
    assert last.startswith("edgescreen") and last.endswith(f": erreur\u00a0: {french}"), last
    assert english.stderr.splitlines()[-1].split(": error: ")[1] not in last


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
