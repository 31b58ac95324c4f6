import dataclasses
import grp
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
import typing
from pathlib import Path

import pytest

from firmware_app.config import Config, ConfigError, load_config, parse_config
from firmware_app.web.answer_time import opening_s
from review_station.config import ReviewConfig
from tests.conftest import PROJECT_ROOT
from tests.tls_files import SiteTls, site_tls, write_key


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_documented_defaults(monkeypatch):
    monkeypatch.delenv("EDGESCREEN_CONFIG", raising=False)
    config = load_config(None)
    assert config == Config()
    assert config.device.language == "en"
    assert config.models.threads == 2
    assert (config.models.directory / "dr-referable").name == "dr-referable"


def test_values_are_read_and_relative_paths_resolve_against_the_file(tmp_path):
    config = load_config(str(write(tmp_path, '[device]\nlanguage = "fr"\n[models]\ndirectory = "m"\nthreads = 1\n')))
    assert config.device.language == "fr"
    assert config.models.directory == tmp_path / "m"
    assert config.models.threads == 1
    assert config.source == str(tmp_path / "config.toml")


def test_environment_variable_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGESCREEN_CONFIG", str(write(tmp_path, '[device]\nsite = "clinic-7"\n')))
    assert load_config(None).device.site == "clinic-7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[device]\nlanguage = "de"\n', "[device].language: expected one of 'en', 'fr', got 'de'"),
        ("[models]\nthreads = 0\n", "[models].threads: expected a value from 1 to 64, got 0"),
        ('[models]\nthreads = "two"\n', "[models].threads: expected an integer, got 'two'"),
        ("[device]\ncolour = 1\n", "[device].colour: unknown key"),
        ("[printer]\nx = 1\n", "[printer]: unknown section"),
        ("[device\n", "not valid TOML"),
        ("device = 3\n", "[device]: expected a table"),
    ],
)
def test_a_bad_file_names_the_file_the_key_and_the_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(str(path))
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_a_missing_named_file_is_an_error_not_the_defaults(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "absent.toml"))


def test_camera_and_calibration_sections(tmp_path):
    text = (
        '[camera]\nbackend = "opencv"\ndevice = 2\nfiles = ["a.jpg", "/abs/b"]\nexposure_us = 8000\n'
        '[calibration]\nprofile = "profiles/p.json"\n'
    )
    config = load_config(str(write(tmp_path, text)))
    assert config.camera.backend == "opencv" and config.camera.device == 2
    assert config.camera.files == (tmp_path / "a.jpg", Path("/abs/b"))
    assert config.camera.exposure_us == 8000 and config.camera.analogue_gain is None
    assert config.calibration.profile == tmp_path / "profiles" / "p.json"


def test_an_empty_profile_means_uncalibrated(tmp_path):
    config = load_config(str(write(tmp_path, '[calibration]\nprofile = ""\n[camera]\nlens_position = ""\n')))
    assert config.calibration.profile is None and config.camera.lens_position is None
    with pytest.raises(ConfigError, match=r"\[camera\].backend: expected one of"):
        load_config(str(write(tmp_path, '[camera]\nbackend = "webcam"\n')))


@pytest.mark.parametrize(("key", "value"), [("open_attempts", 6), ("open_attempts", 20), ("open_backoff", 10.5)])
def test_a_camera_opening_longer_than_minutes_is_refused(tmp_path, key, value):
    """The camera loop's watchdog waits the longest opening: 20 attempts after 30 s was 182 days."""
    with pytest.raises(ConfigError, match=rf"\[camera\]\.{key}: expected a value from .* to .*, got {value}"):
        load_config(str(write(tmp_path, f"[camera]\n{key} = {value}\n")))
    longest = parse_config({"camera": {"frame_timeout": 60.0, "open_attempts": 5, "open_backoff": 10.0}}, "t", tmp_path)
    assert opening_s(longest.camera) <= 10 * 60


def test_quality_limits_are_read_per_modality(tmp_path):
    camera = '[quality]\ncamera_model = "hq-cam"\n'
    text = camera + "[quality.fundus]\nmax_noise = 2.5\n[quality.dermoscopy]\nmax_bubbles = 9\n"
    config = load_config(str(write(tmp_path, text)))
    assert config.quality.camera_model == "hq-cam"
    assert config.quality.fundus.max_noise == 2.5
    assert config.quality.dermoscopy.max_bubbles == 9
    assert config.quality.fundus.min_sharpness == Config().quality.fundus.min_sharpness


@pytest.mark.parametrize(
    ("modality", "retired"),
    [("fundus", "max_brightness"), ("fundus", "max_bright_fraction"), ("dermoscopy", "min_brightness")],
)
def test_a_retired_quality_limit_still_loads_with_a_warning(tmp_path, caplog, modality, retired):
    """A device config written for an earlier release (fundus max_brightness and dermoscopy
    min_brightness, both retired in issue 9; fundus max_bright_fraction, whose fitted value judged a
    warmer camera's red alone) must not stop the device after an upgrade, nor bring back the rule
    it was fitted for: the key is ignored and named in a warning."""
    path = write(tmp_path, f"[quality.{modality}]\n{retired} = 0.6\nmax_noise = 2.5\n")
    with caplog.at_level("WARNING"):
        config = load_config(str(path))
    limits = getattr(config.quality, modality)
    assert limits.max_noise == 2.5
    assert not hasattr(limits, retired)
    assert f"config.retired_key key=[quality].{modality}.{retired}" in caplog.text


def test_a_bad_quality_limit_names_its_key(tmp_path):
    path = write(tmp_path, "[quality.fundus]\nmax_glare = 0.1\n")
    with pytest.raises(ConfigError, match=r"\[quality\].fundus.max_glare: unknown key"):
        load_config(str(path))


def _numeric_keys() -> list[tuple[str, str, type]]:
    """(TOML table, key, type) of every int and float setting, nested tables included."""
    found = []

    def walk(cls: type, table: str) -> None:
        hints = typing.get_type_hints(cls)
        for spec in dataclasses.fields(cls):
            kinds = (hints[spec.name], *typing.get_args(hints[spec.name]))  # an optional number too
            if dataclasses.is_dataclass(kinds[0]):
                walk(kinds[0], f"{table}.{spec.name}" if table else spec.name)
            elif float in kinds or int in kinds:
                found.append((table, spec.name, float if float in kinds else int))

    walk(Config, "")
    return found


NUMERIC_KEYS = _numeric_keys()
FLOAT_KEYS = [(table, key) for table, key, kind in NUMERIC_KEYS if kind is float]


def test_every_numeric_setting_has_a_range():
    for table, key, _ in NUMERIC_KEYS:
        cls = Config
        for part in table.split("."):
            cls = typing.get_type_hints(cls)[part]
        spec = next(f for f in dataclasses.fields(cls) if f.name == key)
        assert spec.metadata.get("min") is not None, f"[{table}] {key} has no range"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize(("table", "key"), FLOAT_KEYS, ids=[f"{t}.{k}" for t, k in FLOAT_KEYS])
def test_nan_and_infinity_are_refused_everywhere(tmp_path, table, key, value):
    """nan fails every comparison, so it passed every range check (min_brightness = nan made a dark photo good)."""
    path = write(tmp_path, f"[{table}]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}: .*{key}: expected a finite number, got"):
        load_config(str(path))


@pytest.mark.parametrize("bad", ["", "clinic 7", "clinic/7", "+", "#", "-lead", "clinic\n7", "é", "x" * 65])
@pytest.mark.parametrize("key", ["id", "site"])
def test_device_id_and_site_follow_the_wires_rule_at_load(tmp_path, key, bad):
    path = write(tmp_path, f"[device]\n{key} = {json.dumps(bad)}\n")
    with pytest.raises(ConfigError, match=rf"\[device\]\.{key}: expected an id the wire accepts"):
        load_config(str(path))


def test_a_wire_id_is_accepted(tmp_path):
    config = load_config(str(write(tmp_path, '[device]\nid = "fundus-cam_07.b"\nsite = "Clinic7"\n')))
    assert (config.device.id, config.device.site) == ("fundus-cam_07.b", "Clinic7")


# The broker the sync worker connects to, and the address the nurse's app listens on: an empty
# [app] bind, the way other keys are left unset, listened on every interface (the socket's "") and
# published "http://:8080/" to the kiosk, which never opened it.
HOST_KEYS = [("sync", "broker_host"), ("app", "bind")]


@pytest.mark.parametrize(("table", "key"), HOST_KEYS)
@pytest.mark.parametrize("host", ["", "   ", "broker host", "broker\n"])
def test_an_empty_or_malformed_host_is_refused(tmp_path, table, key, host):
    path = write(tmp_path, f"[{table}]\n{key} = {json.dumps(host)}\n")
    with pytest.raises(ConfigError, match=rf"\[{table}\]\.{key}: expected a host name or an IP address"):
        load_config(str(path))


@pytest.mark.parametrize(("table", "key"), HOST_KEYS)
@pytest.mark.parametrize("host", ["broker.clinic.local", "10.0.0.7", "::1", "fe80::1%eth0", "0.0.0.0"])
def test_host_names_and_addresses_are_accepted(tmp_path, table, key, host):
    config = load_config(str(write(tmp_path, f'[{table}]\n{key} = "{host}"\n')))
    assert getattr(getattr(config, table), key) == host


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sync]\nbackoff_initial_s = 60.0\nbackoff_max_s = 10.0\n", "[sync].backoff_initial_s: expected at most"),
        ("[sync]\nbackoff_initial_s = 400.0\n", "backoff_initial_s: expected at most backoff_max_s (300.0), got 400.0"),
    ],
)
def test_a_lower_bound_above_its_upper_bound_is_refused(tmp_path, text, expected):
    with pytest.raises(ConfigError) as error:
        load_config(str(write(tmp_path, text)))
    assert expected in str(error.value)


def test_tls_files_must_exist_and_be_regular_files(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_config(str(write(tmp_path, f'[sync]\ntls_ca_file = "{ca}"\n'))).sync.tls_ca_file == ca
    for value, expected in [("absent.pem", "expected an existing file"), (".", "expected a regular file")]:
        path = write(tmp_path, f'[sync]\ntls_ca_file = "{value}"\n')
        with pytest.raises(
            ConfigError, match=rf"\[sync\]\.tls_ca_file: {expected}, got '.*' \((No such file|a directory)"
        ):
            load_config(str(path))


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ('tls_cert_file = "ca.pem"\n', "tls_cert_file: TLS is on only with tls_ca_file"),
        ('tls_ca_file = "ca.pem"\ntls_key_file = "ca.pem"\n', "tls_key_file: a key needs its certificate"),
    ],
)
def test_a_client_certificate_without_tls_is_refused(tmp_path, keys, expected):
    (tmp_path / "ca.pem").write_text("pem")
    with pytest.raises(ConfigError, match=rf"\[sync\]\.{expected}"):
        load_config(str(write(tmp_path, "[sync]\n" + keys)))


def _app_tls(tmp_path: Path, certificate: Path, key: Path) -> Path:
    return write(tmp_path, f'[app]\ntls_cert_file = "{certificate}"\ntls_key_file = "{key}"\n')


def test_the_apps_tls_files_load_and_set_the_tablets_port(tmp_path):
    tls = site_tls(tmp_path / "tls")
    app = load_config(str(_app_tls(tmp_path, tls.certificate, tls.key))).app
    assert (app.tls_cert_file, app.tls_key_file, app.tls_port) == (tls.certificate, tls.key, 8443)
    assert load_config(None).app.tls_cert_file is None


def _bad_certificate(tls: SiteTls) -> tuple[Path, Path, str]:
    tls.certificate.write_text("not a certificate")
    return tls.certificate, tls.key, rf"tls_cert_file: {tls.certificate} is not a PEM certificate"


def _bad_key(tls: SiteTls) -> tuple[Path, Path, str]:
    tls.key.write_text("not a key")
    return tls.certificate, tls.key, rf"tls_key_file: {tls.key}: not a PEM private key"


def _another_key(tls: SiteTls) -> tuple[Path, Path, str]:
    key = tls.key.with_name("other.key")
    write_key(key)  # another device's key, say
    return tls.certificate, key, rf"tls_key_file: {key} does not match the certificate {tls.certificate}"


def _missing(tls: SiteTls) -> tuple[Path, Path, str]:
    absent = tls.key.with_name("absent.crt")
    return absent, tls.key, rf"tls_cert_file: expected an existing file, got '{absent}'"


def _exposed_key(tls: SiteTls) -> tuple[Path, Path, str]:
    tls.key.chmod(0o644)
    return tls.certificate, tls.key, rf"tls_key_file: {tls.key}: .* is readable by others \(mode -rw-r--r--\)"


@pytest.mark.parametrize("spoil", [_bad_certificate, _bad_key, _another_key, _missing, _exposed_key])
def test_the_apps_tls_files_are_refused_at_load_naming_the_file(tmp_path, spoil):
    certificate, key, expected = spoil(site_tls(tmp_path / "tls"))
    with pytest.raises(ConfigError, match=rf"\[app\]\.{expected}"):
        load_config(str(_app_tls(tmp_path, certificate, key)))


@pytest.mark.parametrize("given", ["tls_cert_file", "tls_key_file"])
def test_the_apps_tls_files_come_both_or_neither(tmp_path, given):
    tls = site_tls(tmp_path / "tls")
    path = tls.certificate if given == "tls_cert_file" else tls.key
    other = "tls_key_file" if given == "tls_cert_file" else "tls_cert_file"
    with pytest.raises(ConfigError, match=rf"\[app\]\.{given}: .*set {other} too"):
        load_config(str(write(tmp_path, f'[app]\n{given} = "{path}"\n')))


def _load_within(path: Path, seconds: float) -> ConfigError:
    """``load_config(path)``'s error, which must come at once (a thread, so a hang fails the test)."""
    outcome: list[ConfigError] = []

    def load() -> None:
        with pytest.raises(ConfigError) as error:
            load_config(str(path))
        outcome.append(error.value)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(seconds)
    assert outcome, f"load_config({path}) did not return within {seconds} s"
    return outcome[0]


def test_a_fifo_as_config_is_refused_at_once(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert "must be a regular file, not a FIFO" in str(_load_within(fifo, 5))


def test_a_device_or_a_directory_as_config_is_refused(tmp_path):
    assert "must be a regular file, not a character device" in str(_load_within(Path("/dev/zero"), 5))
    assert "must be a regular file, not a directory" in str(_load_within(tmp_path, 5))


@pytest.mark.parametrize(
    ("table", "key"),
    [("records", "database"), ("sync", "tls_ca_file"), ("calibration", "profile"), ("camera", "files")],
)
@pytest.mark.parametrize(("value", "expected"), [("~no-such-user/x", "no such user's home"), ("a\0b", "no NUL")])
def test_a_path_that_cannot_be_one_names_its_key(tmp_path, table, key, value, expected):
    """An unknown ~user (a typo) raised pathlib's RuntimeError, a NUL the check's ValueError: tracebacks."""
    written = json.dumps([value] if key == "files" else value)
    with pytest.raises(ConfigError, match=rf"\[{table}\]\.{key}(\[0\])?: expected a path, got .*{expected}"):
        load_config(str(write(tmp_path, f"[{table}]\n{key} = {written}\n")))


# The device's config as another user than its service's reads it: the command's own loading, with the
# installed file's path as the default (what /etc/edgescreen/config.toml is to `edgescreen doctor`).
LOAD_AS_ANOTHER_USER = """
import sys
from pathlib import Path
from firmware_app.config import ConfigError, load_config
try:
    load_config(None, env="EDGESCREEN_CONFIG_UNSET", default=Path(sys.argv[1]))
except ConfigError as error:
    sys.exit(str(error))
"""
NOBODY = 65534


def test_a_device_config_this_user_may_not_read_is_said_with_who_may(tmp_path, not_over_file_modes):
    """install-device leaves /etc/edgescreen 0750 root:edgescreen: `edgescreen doctor` run as the
    desktop's user, not `sudo -u edgescreen`, ended in a PermissionError traceback. It must name the
    file and who may read it, and never take the embedded defaults for the device's settings. Run as
    root without the capabilities that pass over file modes, outside the folder's owner and group."""
    folder = tmp_path / "etc"
    folder.mkdir()
    config = write(folder, '[device]\nid = "cam-07"\n')
    os.chown(folder, NOBODY, NOBODY)
    folder.chmod(0o750)
    run = subprocess.run(
        [*not_over_file_modes, sys.executable, "-c", LOAD_AS_ANOTHER_USER, str(config)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stdout + run.stderr  # the ConfigError, not the defaults
    group = grp.getgrgid(NOBODY).gr_name
    assert f"{config}: this user may not read the config file: run the command as its service's user" in run.stderr
    assert f"(sudo -u {group} ...)" in run.stderr


def test_a_config_file_has_a_size_limit(tmp_path):
    path = write(tmp_path, "# padding\n" * 30_000)
    with pytest.raises(ConfigError, match="a config file is at most 262,144 bytes"):
        load_config(str(path))


def test_the_result_schema_is_v1_until_configured_and_only_a_known_one(tmp_path):
    assert load_config(str(write(tmp_path, "[sync]\n"))).sync.result_schema == "edgescreen.result/1"
    v2 = write(tmp_path, '[sync]\nresult_schema = "edgescreen.result/2"\n')
    assert load_config(str(v2)).sync.result_schema == "edgescreen.result/2"
    v3 = write(tmp_path, '[sync]\nresult_schema = "edgescreen.result/3"\n')
    assert load_config(str(v3)).sync.result_schema == "edgescreen.result/3"
    with pytest.raises(ConfigError, match=r"\[sync\]\.result_schema"):
        load_config(str(write(tmp_path, '[sync]\nresult_schema = "edgescreen.result/4"\n')))


def _keys(section: object, prefix: str) -> typing.Iterator[tuple[str, str]]:
    """(table, key) for every setting under ``section``, nested tables as ``a.b``."""
    for item in dataclasses.fields(section):  # type: ignore[arg-type]
        value = getattr(section, item.name)
        if dataclasses.is_dataclass(value):
            yield from _keys(value, f"{prefix}.{item.name}".lstrip("."))
        elif not item.metadata.get("internal"):
            yield prefix, item.name


# The README's two configuration blocks, "the embedded defaults": (how each opens, its root).
README_BLOCKS = {"device": ("[device]", Config), "station": ("[database]", ReviewConfig)}


def _readme_block(which: str) -> str:
    """The README's configuration block of the device or of the review station."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    opening = f"```toml\n{README_BLOCKS[which][0]}"
    block = readme[readme.index(opening) + len("```toml\n") :]
    return block[: block.index("\n```\n")]


@pytest.mark.parametrize("which", README_BLOCKS)
def test_the_readmes_configuration_block_lists_every_setting(which):
    """Each key of firmware_app/config.py (review_station/config.py) is in the README's block, set or
    commented out, or named in a comment (``# a / b: what they are``); the quality limits (dozens, each tuned)
    are shown by example and left to config.py, as the block says. The station's had left out
    ``[broker] keepalive_s``."""
    listed, table = set(), ""
    for line in _readme_block(which).splitlines():
        if heading := re.match(r"\[([\w.]+)\]", line):
            table = heading.group(1)
        elif key := re.match(r"#?\s*(\w+)\s*=", line):
            listed.add((table, key.group(1)))
        elif line.startswith("#"):  # "# tls_cert_file / tls_key_file: ...; tls_ca_file: ..."
            listed.update((table, name) for name in re.findall(r"(?:^#|/|;)\s*(\w+)\s*(?=[:/])", line))
    limits = {"quality.fundus", "quality.dermoscopy"}
    every = _keys(README_BLOCKS[which][1](), "")
    assert [key for key in every if key[0] not in limits and key not in listed] == []


def _differences(shown: object, default: object, where: str) -> typing.Iterator[str]:
    for item in dataclasses.fields(shown):  # type: ignore[arg-type]
        ours, theirs = getattr(shown, item.name), getattr(default, item.name)
        if dataclasses.is_dataclass(ours):
            yield from _differences(ours, theirs, f"{where}.{item.name}".lstrip("."))
        elif ours != theirs and not item.metadata.get("internal"):
            yield f"[{where}] {item.name}: README {ours!r}, code {theirs!r}"


@pytest.mark.parametrize("which", README_BLOCKS)
def test_every_value_the_readmes_block_sets_is_the_embedded_default(which):
    """The block is "the embedded defaults": a technician copies lines from it. Its quality examples
    had kept limits re-derived since (min_sharpness 0.57 for 0.544, max_hair_fraction 0.15 for the
    declared 0.23), which doctor then reports amber as set apart from their default. Read by the
    loader itself, the commented-out lines left out."""
    root = README_BLOCKS[which][1]
    document = tomllib.loads(_readme_block(which).replace("<checkout>", str(PROJECT_ROOT)))
    shown = parse_config(document, "README", PROJECT_ROOT, root)
    assert list(_differences(shown, root(), "")) == []


# Where a technician sets a commented-out setting by deleting its "# ": the template install-device
# writes to /etc/edgescreen/config.toml, and the README's two blocks.
COMMENTED_SETTINGS = {
    "device/config.toml": lambda: (PROJECT_ROOT / "device/config.toml").read_text(),
    **{f"README {which}": lambda which=which: _readme_block(which) for which in README_BLOCKS},
}


@pytest.mark.parametrize("where", COMMENTED_SETTINGS)
def test_every_commented_out_setting_is_valid_toml_once_its_hash_is_deleted(where):
    """device/config.toml says "set 8883 and the three tls_ lines"; its tls_ lines carried their
    explanation after the value without a "#", so the config the technician made that way did not
    load ("not valid TOML ... at line 34") and the device could not screen until it was found."""
    text = COMMENTED_SETTINGS[where]()
    lines = text.splitlines()
    refused = []
    for number, line in enumerate(lines):
        if re.match(r"# \w+ = ", line):
            uncommented = [*lines[:number], line[2:], *lines[number + 1 :]]
            try:
                tomllib.loads("\n".join(uncommented))
            except tomllib.TOMLDecodeError:
                refused.append(line)
    assert refused == []
