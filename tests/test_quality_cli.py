"""The quality gate as the nurse meets it: ``edgescreen quality`` and ``edgescreen screen`` on real
(and really degraded) images, in a real process."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.messages import message
from tests.conftest import write_rgb
from tests.degradations import defocus, underexpose
from tests.records.kit import records_table
from tests.test_cli import edgescreen, json_lines


@pytest.fixture()
def blurred_retina(tmp_path: Path, retina_rgb: np.ndarray) -> Path:
    return write_rgb(tmp_path / "blurred.jpg", defocus(retina_rgb, 3))


def _config(tmp_path: Path, text: str) -> Path:
    """A device config of ``text`` keeping its records in ``tmp_path``, never the checkout's ``var/``."""
    path = tmp_path / "config.toml"
    path.write_text(f"{text}{records_table(tmp_path)}", encoding="utf-8")
    return path


def test_quality_command_reports_verdict_reasons_and_guidance(blurred_retina, retina_jpeg):
    run = edgescreen("quality", "--modality", "fundus", "--json", str(blurred_retina), str(retina_jpeg))
    assert run.returncode == 0, run.stderr
    blurred, good = json_lines(run.stdout)
    assert blurred["verdict"] == "reject" and blurred["reasons"] == ["blurred"]
    assert blurred["guidance"] == [message("quality.blurred", "en")]
    assert blurred["measures"]["sharpness"] < good["measures"]["sharpness"]
    assert good["verdict"] == "good" and good["reasons"] == [] and good["speed"] == "full"


def test_quality_command_text_and_preview(tmp_path, retina_rgb):
    dark = write_rgb(tmp_path / "dark.jpg", underexpose(retina_rgb, 3))
    run = edgescreen("quality", "--preview", "--modality", "fundus", str(dark))
    assert run.returncode == 0, run.stderr
    assert "REJECT" in run.stdout and "[too_dark] Too dark" in run.stdout


def test_an_ungradable_image_never_reaches_the_model(tmp_path, blurred_retina):
    """The models directory is empty: loading a model would fail (exit 3), so a clean ungradable
    result proves the model was not run."""
    config = _config(tmp_path, f'[device]\nlanguage = "fr"\n[models]\ndirectory = "{tmp_path / "none"}"\n')
    run = edgescreen("screen", "--modality", "fundus", "--json", str(blurred_retina), config=config)
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert result["triage"] == "ungradable"
    assert result["score"] is None and result["model"] is None
    assert result["quality"]["verdict"] == "reject" and "blurred" in result["quality"]["reasons"]
    assert result["guidance"] == [message("quality.blurred", "fr")]
    assert result["advice"] == message("triage.ungradable", "fr")


@pytest.mark.parametrize(
    ("name", "pixels", "reason", "modality"),
    [
        ("grey.png", np.full((600, 600), 120, np.uint8), "greyscale", "fundus"),
        ("black.png", np.zeros((600, 800, 3), np.uint8), "no_field_of_view", "fundus"),
        # A dermatoscope with its cap on, or its light off: recorded ungradable, the run goes on.
        ("black.png", np.zeros((600, 800, 3), np.uint8), "too_dark", "dermoscopy"),
    ],
)
def test_unusable_photos_are_ungradable_with_a_reason(tmp_path, name, pixels, reason, modality):
    path = tmp_path / name
    assert cv2.imwrite(str(path), pixels)
    run = edgescreen("screen", "--modality", modality, "--json", str(path))
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert result["triage"] == "ungradable" and result["quality"]["reasons"] == [reason]
    assert len(result["guidance"]) == 1


def test_screen_text_shows_the_reasons_and_what_to_do(blurred_retina):
    run = edgescreen("screen", "--modality", "fundus", str(blurred_retina))
    assert run.returncode == 0, run.stderr
    assert "UNGRADABLE" in run.stdout and "[blurred] Hold still" in run.stdout


def test_a_good_image_gets_the_models_triage_and_its_quality(retina_jpeg):
    run = edgescreen("screen", "--modality", "fundus", "--json", str(retina_jpeg))
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert result["triage"] in ("refer", "no_refer")
    assert result["quality"]["verdict"] == "good" and "guidance" not in result


def test_a_research_run_keeps_the_score_but_stays_ungradable(tmp_path, blurred_retina):
    config = _config(tmp_path, "[quality]\nresearch_run = true\n")
    run = edgescreen("screen", "--modality", "fundus", "--json", str(blurred_retina), config=config)
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert result["triage"] == "ungradable" and result["research_only"] is True
    assert 0.0 <= result["score"] <= 1.0


def test_run_screens_the_dermoscopy_sample_too():
    run = edgescreen("run", "--json")
    assert run.returncode == 0, run.stderr
    results = {result["modality"]: result for result in json_lines(run.stdout)}
    assert results["dermoscopy"]["quality"]["verdict"] in ("good", "usable")
    assert results["fundus"]["quality"]["verdict"] in ("good", "usable")
