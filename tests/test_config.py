from pathlib import Path

import pytest

from firmware_app.config import Config, ConfigError, load_config


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


def test_quality_limits_are_read_per_modality(tmp_path):
    camera = '[quality]\ncamera_model = "hq-cam"\n'
    text = camera + "[quality.fundus]\nmax_noise = 2.5\n[quality.dermoscopy]\nmax_bubbles = 9\n"
    config = load_config(str(write(tmp_path, text)))
    assert config.quality.camera_model == "hq-cam"
    assert config.quality.fundus.max_noise == 2.5
    assert config.quality.dermoscopy.max_bubbles == 9
    assert config.quality.fundus.min_sharpness == Config().quality.fundus.min_sharpness


def test_a_bad_quality_limit_names_its_key(tmp_path):
    path = write(tmp_path, "[quality.fundus]\nmax_glare = 0.1\n")
    with pytest.raises(ConfigError, match=r"\[quality\].fundus.max_glare: unknown key"):
        load_config(str(path))
