"""``edgescreen quality fit``: a camera's own limits from its first good photos."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from firmware_app.config import FundusQualityConfig, QualityConfig, load_config
from firmware_app.quality.fit import apply_limits, fit_limits
from firmware_app.quality.fundus import RULES
from firmware_app.quality.gate import MEASURES
from tests.conftest import write_rgb
from tests.test_cli import edgescreen, json_lines


def _good_photos(retina_rgb: np.ndarray, count: int) -> list[np.ndarray]:
    """The same healthy retina as a camera's first photos: exposures and eyes (left, right) vary."""
    gains = np.linspace(0.85, 1.15, count)
    return [
        np.clip(retina_rgb[:, :: (1 if i % 2 else -1)] * gain, 0, 255).astype(np.uint8) for i, gain in enumerate(gains)
    ]


@pytest.fixture(scope="module")
def measured(retina_rgb):
    return [MEASURES["fundus"](rgb, 512, None) for rgb in _good_photos(retina_rgb, 10)]


def test_fitted_limits_are_never_looser_than_the_defaults_nor_tighter_than_midway(measured):
    defaults = FundusQualityConfig()
    for limit in fit_limits(measured, RULES, defaults):
        midway = (limit.photos_median + limit.default) / 2
        if limit.setting.startswith("min_"):
            assert limit.default <= limit.value <= max(limit.default, midway) + 1e-9, limit
        else:
            assert min(limit.default, midway) - 1e-9 <= limit.value <= limit.default, limit


def test_unbounded_limits_follow_the_photos_alone(measured):
    """As the leave-one-source-out bench fits them: the photos' percentiles, widened."""
    fitted = {f.setting: f for f in fit_limits(measured, RULES, FundusQualityConfig(), within_defaults=False)}
    sharpness = fitted["min_sharpness"]
    assert sharpness.value < sharpness.photos_min < sharpness.photos_median
    limits = apply_limits(FundusQualityConfig(), list(fitted.values()))
    assert limits.min_sharpness == sharpness.value


def test_no_photo_no_limits():
    with pytest.raises(ValueError, match="no measured photo"):
        fit_limits([], RULES, FundusQualityConfig())


def test_the_command_writes_a_profile_the_device_loads(tmp_path, retina_rgb):
    photos = [write_rgb(tmp_path / f"first-{i}.jpg", rgb) for i, rgb in enumerate(_good_photos(retina_rgb, 10))]
    profile = tmp_path / "camera.toml"
    run = edgescreen(
        "quality", "fit", "--camera-model", "cam-A", "--modality", "fundus", "--out", str(profile), *map(str, photos)
    )
    assert run.returncode == 0, run.stderr
    document = tomllib.loads(profile.read_text(encoding="utf-8"))
    assert document["quality"]["camera_model"] == "cam-A"
    assert "min_sharpness" in document["quality"]["fundus"] and "preview_min_sharpness" in document["quality"]["fundus"]
    assert "# photos" in profile.read_text(encoding="utf-8")  # each limit with its statistics
    config = load_config(str(profile))
    assert config.quality.camera_model == "cam-A"
    assert config.quality.fundus.min_sharpness >= QualityConfig().fundus.min_sharpness
    check = edgescreen("quality", "--modality", "fundus", "--json", str(photos[5]), config=profile)
    assert check.returncode == 0, check.stderr
    assert json_lines(check.stdout)[0]["verdict"] != "reject"


def test_too_few_measurable_photos_leave_no_profile(tmp_path, retina_rgb):
    photos = [write_rgb(tmp_path / f"p{i}.jpg", rgb) for i, rgb in enumerate(_good_photos(retina_rgb, 3))]
    black = write_rgb(tmp_path / "black.jpg", np.zeros((400, 400, 3), np.uint8))
    profile = tmp_path / "camera.toml"
    run = edgescreen("quality", "fit", "--camera-model", "cam-B", "--out", str(profile), *map(str, [*photos, black]))
    assert run.returncode == 2
    assert "at least 10" in run.stderr and "1 left out" in run.stderr
    assert not profile.exists()
