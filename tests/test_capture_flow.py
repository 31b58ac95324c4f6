"""``edgescreen capture`` end to end: the files camera, the preview check, a burst, the real models, a
real SQLite file; run as a process whose stdin is not a terminal, as a kiosk or a script runs it."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_app.app import build_pipeline
from firmware_app.calibration.profile import CalibrationProfile, new_profile, write_profile
from firmware_app.calibration.scale import measure_scale, square_side_px
from firmware_app.capture.camera import CameraSettings, Controls
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture_flow import CaptureOptions, aim, capture_and_screen, preview_check
from firmware_app.config import Config
from firmware_app.lesion_measurements import feret_diameter_px
from firmware_app.messages import message
from firmware_app.quality.gate import QualityGate
from tests.calibration.render import scale_target
from tests.conftest import PROJECT_ROOT, write_rgb
from tests.lesion_renderer import render_lesion
from tests.records.kit import DEVICE, in_language, write_config
from tests.sync.signing import station_key, trusting
from tests.test_cli import said_lines

MM_PER_PIXEL = 0.035
SIZE = (640, 480)


def capture(config: Path, *args: str, as_json: bool = True) -> subprocess.CompletedProcess[str]:
    json_option = ["--json"] if as_json else []
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), "capture", *json_option, *args]
    return subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )


def camera_config(tmp_path: Path, *files: Path, extra: str = "", sync: str = "") -> Path:
    names = ", ".join(f'"{f}"' for f in files)
    return write_config(tmp_path, port=1, extra=f"{sync}[camera]\nfiles = [{names}]\nburst = 3\n{extra}")


def outbox_payloads(tmp_path: Path) -> list[dict]:
    with sqlite3.connect(tmp_path / "records.sqlite3") as db:
        return [json.loads(row[0]) for row in db.execute("SELECT payload FROM outbox")]


def test_capture_screens_and_records_the_best_frame_of_a_burst(tmp_path, retina_jpeg):
    run = capture(camera_config(tmp_path, retina_jpeg), "--modality", "fundus", "--eye", "R", "--preview-frames", "4")
    assert run.returncode == 0, run.stderr
    (result,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert result["image"] == str(retina_jpeg) and result["modality"] == "fundus"
    assert result["triage"] in ("refer", "no_refer") and 0.0 <= result["score"] <= 1.0
    assert result["quality"]["verdict"] in ("good", "usable")
    assert result["model"]["id"] == "dr-referable" and result["calibration"] == "uncalibrated"
    assert "capture.triggered" in run.stderr and "capture.burst frames=3" in run.stderr
    (payload,) = outbox_payloads(tmp_path)
    assert payload["result_id"] == result["result_id"] and payload["eye"] == "R"
    assert payload["triage"] == result["triage"]


def scaled_dermatoscope(tmp_path: Path, sync: str = "") -> tuple[Path, CalibrationProfile, Path]:
    """A device whose camera photographs a rendered naevus, with the technician's scale step done (through
    the calibration code, on a photographed 10 mm square): its config, its profile and the photo."""
    lesion = render_lesion(*SIZE, seed=4, radius=0.2)
    photo = write_rgb(tmp_path / "naevus.png", lesion.rgb)
    target = scale_target(MM_PER_PIXEL, 10.0, SIZE, 9, seed=1)
    scale = measure_scale([square_side_px(target)], 10.0, SIZE)
    profile = dataclasses.replace(new_profile("bench-dermatoscope", "SN-1", "test", DEVICE.id), scale=scale)
    scaled = write_profile(profile, tmp_path / "profile.json")
    extra = f'[calibration]\nprofile = "{tmp_path / "profile.json"}"\n'
    return camera_config(tmp_path, photo, extra=extra, sync=sync), scaled, photo


def test_a_dermoscopy_capture_states_the_diameter_with_a_scale_profile_and_the_skin_tone(tmp_path):
    config, scaled, photo = scaled_dermatoscope(tmp_path, sync='result_schema = "edgescreen.result/2"\n')
    lesion = render_lesion(*SIZE, seed=4, radius=0.2)
    run = capture(config, "--modality", "dermoscopy", "--body-site", "trunk", "--preview-frames", "2")
    assert run.returncode == 0, run.stderr
    (result,) = [json.loads(line) for line in run.stdout.splitlines()]
    true_mm = feret_diameter_px(lesion.mask) * MM_PER_PIXEL
    print(f"diameter {result['lesion']['diameter_mm']} mm, true {true_mm:.2f} mm; skin {result['skin_tone']}")
    assert result["calibration"] == scaled.id
    assert result["lesion"]["scale"] == "calibrated" and result["lesion"]["diameter_at_least"] is False
    assert 0.88 * true_mm <= result["lesion"]["diameter_mm"] <= 1.03 * true_mm  # see test_lesion_measurements
    assert result["lesion"]["over_6mm"] is (true_mm > 6)
    assert result["skin_tone"]["category"] in ("very_light", "light")
    assert result["skin_tone"]["coverage"] in ("inside", "outside")
    # Configured for edgescreen.result/2: the payload carries them, coarsened (0.5 mm, the category).
    (payload,) = outbox_payloads(tmp_path)
    assert payload["schema"] == "edgescreen.result/2" and payload["result_id"] == result["result_id"]
    assert payload["lesion_diameter_mm"] == round(result["lesion"]["diameter_mm"] * 2) / 2
    assert payload["skin_tone"] == result["skin_tone"]["category"] and "ita_degrees" not in json.dumps(payload)
    assert payload["operating_point"] == result["operating_point"]["name"]
    assert payload["quality_reference"] in ("good", "usable")

    uncalibrated = tmp_path / "plain"
    uncalibrated.mkdir()
    run = capture(camera_config(uncalibrated, photo), "--modality", "dermoscopy", "--preview-frames", "2")
    assert run.returncode == 0, run.stderr
    (result,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert result["lesion"] == {
        "diameter_mm": None,
        "diameter_at_least": False,
        "over_6mm": None,
        "scale": "no scale calibration",
    }
    assert result["skin_tone"]["category"]
    (payload,) = outbox_payloads(uncalibrated)
    assert payload["schema"] == "edgescreen.result/1", "a device sends /1 until configured for /2"


@pytest.mark.parametrize(
    ("language", "diameter"),
    [("en", r"Lesion diameter \d+\.\d mm\."), ("fr", r"Diamètre de la lésion\xa0: \d+,\d mm\.")],
)
def test_the_result_line_writes_the_diameter_as_the_devices_language_writes_numbers(tmp_path, language, diameter):
    """A French result line read "score 0,000" beside "Diamètre de la lésion : 7.6 mm": the diameter kept
    the English decimal point."""
    config, _, _ = scaled_dermatoscope(tmp_path)
    run = capture(in_language(config, language), "--modality", "dermoscopy", "--preview-frames", "2", as_json=False)
    assert run.returncode == 0, run.stderr
    assert re.search(diameter, run.stdout), run.stdout


def test_a_missing_camera_is_a_clear_error_and_nothing_is_recorded(tmp_path):
    run = capture(camera_config(tmp_path, tmp_path / "nowhere.jpg"), "--modality", "fundus")
    assert run.returncode == 6
    assert "The camera is not working" in run.stderr and "nowhere.jpg: no such image file" in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "The camera is not working: none of the 2 photos it reads can be used. Call the technician."),
        (
            "fr",
            "La caméra ne fonctionne pas\u00a0: aucune des 2 photos qu'elle lit n'est utilisable. "
            "Appelez le technicien.",
        ),
    ],
)
def test_a_camera_failure_is_said_in_the_nurses_language(tmp_path, language, said):
    """The files camera's folder holds no usable photo: the nurse reads what happened in her language,
    where the French sentence held the camera's English ("files camera: none of the 2 images in
    /path can be used (...)"); those words, path and all, stay in the log line before it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (folder / name).write_bytes(b"no frame")
    config = camera_config(tmp_path, folder)
    config.write_text(config.read_text().replace("[device]\n", f'[device]\nlanguage = "{language}"\n', 1))
    run = capture(config, "--modality", "fundus")
    assert run.returncode == 6 and run.stdout == ""
    told = said_lines(run.stderr)
    assert told == [f"edgescreen: {said}"], run.stderr
    logged = [line for line in run.stderr.splitlines() if "capture.camera_failed" in line]
    assert len(logged) == 1 and f"none of the 2 images in {folder} can be used" in logged[0]


@pytest.mark.parametrize("language, said", [("en", "within 0.5 s"), ("fr", "en 0,5 s")])
def test_aiming_that_never_passes_times_out(tmp_path, language, said):
    """The time given up after is written as the nurse's language writes numbers: "0.5 s" said in
    French read "en 0.5 s"."""
    plain = write_rgb(tmp_path / "plain.png", render_lesion(*SIZE, seed=0).rgb)  # skin, not a retina
    config = in_language(camera_config(tmp_path, plain), language)
    run = capture(config, "--modality", "fundus", "--preview-frames", "1000000", "--timeout", "0.5")
    assert run.returncode == 7
    assert said in run.stderr, run.stderr
    assert run.stdout == ""


def test_on_a_terminal_enter_takes_the_burst_and_guidance_is_shown_when_it_changes(retina_rgb, tmp_path):
    """The interactive path in process: Enter on stdin, one guidance line while nothing changes."""
    config = Config()
    camera = FilesCamera([write_rgb(tmp_path / "retina.png", retina_rgb)], CameraSettings())
    options = CaptureOptions("fundus", "en", burst=2, auto=False, timeout_s=30)
    shown: list[str] = []
    with build_pipeline(config) as pipeline:
        result = capture_and_screen(
            camera, Controls(), pipeline, QualityGate(config.quality), options, None, io.StringIO("\n"), shown.append
        )
    assert result.triage.outcome.value in ("refer", "no_refer")
    assert shown[0] == message("capture.aim", "en") and shown[-1] == message("capture.taking", "en")
    assert len(shown) == 3  # the same photo every frame: its guidance is shown once
    assert not camera.is_open


def test_auto_takes_the_burst_at_the_first_passing_preview_frame(tmp_path):
    lesion = write_rgb(tmp_path / "naevus.png", render_lesion(*SIZE, seed=4).rgb)
    config = Config()
    options = CaptureOptions("dermoscopy", "en", burst=1, auto=True, max_preview_frames=30)
    shown: list[str] = []
    with build_pipeline(config) as pipeline, FilesCamera([lesion], CameraSettings()) as camera:
        check = preview_check(pipeline, QualityGate(config.quality), "dermoscopy")
        report = aim(camera, check, options, lambda: False, shown.append)
    assert report.passed and shown == [message("quality.verdict.good", "en")]


def test_a_device_given_the_stations_verdict_key_asks_for_signed_verdicts_in_its_results(tmp_path, retina_jpeg):
    _, public = station_key(tmp_path)
    config = camera_config(tmp_path, retina_jpeg, sync=trusting(public))
    run = capture(config, "--modality", "fundus", "--eye", "R", "--preview-frames", "2")
    assert run.returncode == 0, run.stderr
    (payload,) = outbox_payloads(tmp_path)
    assert (payload["schema"], payload["review_schema"]) == ("edgescreen.result/3", "edgescreen.review/3")
