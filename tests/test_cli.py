"""The ``edgescreen`` command as a nurse or technician runs it: a real process, real models, real images."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.config import LANGUAGES, SAMPLES_DIR
from firmware_app.messages import message, sentence
from firmware_app.records.witness import read_witness, witness_path
from firmware_app.wording import readable_date
from tests.absent_runtimes import shadow_runtimes
from tests.capture import fake_picamera2
from tests.capture.jpeg_damage import zeroed_block
from tests.conftest import (
    PROJECT_ROOT,
    as_from_a_terminal,
    other_copies,
    shared_data,
    write_oriented,
    write_rgb,
)
from tests.mqtt_broker import Broker, Tap, free_port, wait_until
from tests.records.kit import records_table
from tests.sync.kit import ProcessLog, edgescreen_process


def edgescreen(
    *args: str, config: Path | None = None, env: dict[str, str] | None = None, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """``edgescreen *args`` in a process of its own. Without ``config`` it reads ``$EDGESCREEN_CONFIG``,
    which conftest points at records of the test's own; a ``config`` given keeps them in a tmp folder
    too (``records_table``) when the command may open them."""
    command = [*prefix, sys.executable, "-m", "firmware_app", *(["--config", str(config)] if config else []), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, env=env)


def said_lines(stderr: str) -> list[str]:
    """The sentences a command said on ``stderr`` ("edgescreen: ..."), but its warning of a clock not set
    by network time (``records_cli.warn_of_the_clock``): that one follows the kernel clock of the machine
    the tests run on, synchronised or not, and is tested on its own (test_cli_damaged_records)."""
    clock = tuple(message("records.clock_untrusted", language).partition("{")[0] for language in LANGUAGES)
    warnings = tuple(f"edgescreen: {start}" for start in clock)
    return [line for line in stderr.splitlines() if line.startswith("edgescreen: ") and not line.startswith(warnings)]


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_screen_json_reports_the_triage_fields(retina_jpeg):
    run = edgescreen("screen", "--modality", "fundus", "--json", str(retina_jpeg))
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert result["image"] == str(retina_jpeg)
    assert result["modality"] == "fundus"
    assert result["triage"] in ("refer", "no_refer")
    assert 0.0 <= result["score"] <= 1.0
    assert result["operating_point"]["name"] == "screening"
    assert result["threshold"] > 0
    assert result["model"]["id"] == "dr-referable" and len(result["model"]["sha256"]) == 64
    assert "clinician" in result["disclaimer"]


def test_an_unreadable_image_gets_an_error_and_the_run_goes_on(tmp_path, retina_jpeg):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 definitely not a jpeg")
    run = edgescreen("screen", "--json", str(broken), str(retina_jpeg))
    assert run.returncode == 1
    first, second = json_lines(run.stdout)
    assert first["image"] == str(broken) and "not an image" in first["error"] and first["code"] == "unreadable"
    assert second["triage"] in ("refer", "no_refer")


def _unreadable_photos(folder: Path) -> list[Path]:
    """A JPEG whose picture data is damaged (a zeroed block), one cut in half, and a text file named
    as a photo: the unreadable photos a nurse meets most."""
    data = (SAMPLES_DIR / "fundus-retina.jpg").read_bytes()
    corrupt, truncated, text = folder / "corrupt.jpg", folder / "truncated.jpg", folder / "notes.jpg"
    corrupt.write_bytes(zeroed_block(data, np.random.default_rng(0)))
    truncated.write_bytes(data[: len(data) // 2])
    text.write_text("patient seen on Monday\n")
    return [corrupt, truncated, text]


@pytest.mark.parametrize("command", ["screen", "quality"])
def test_an_unreadable_photo_is_said_in_the_devices_language(tmp_path, command):
    """On a French device the reason was English ("the JPEG is truncated (no end-of-image marker): copy
    it again") after the photo's name; it is the catalogue's, in the device's language, in the line
    and in ``--json``'s ``error``, the code staying ``unreadable``; the log keeps the English."""
    photos = _unreadable_photos(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "fr"\n{records_table(tmp_path)}')
    errors = []
    for photo in photos:
        with pytest.raises(ImageError) as raised:
            read_frame(photo)
        errors.append(raised.value)
    run = edgescreen(command, "--modality", "fundus", *map(str, photos), config=config)
    as_json = edgescreen(command, "--modality", "fundus", "--json", *map(str, photos), config=config)
    assert run.returncode == as_json.returncode == 1
    lines = [line for line in run.stdout.splitlines() if "  ERROR  " in line]
    for photo, error, line, said in zip(photos, errors, lines, json_lines(as_json.stdout), strict=True):
        assert error.reason not in line  # the English
        assert line == f"{photo}  ERROR  {error.sentence('fr')}"
        assert said == {"image": str(photo), "modality": "fundus", "error": error.sentence("fr"), "code": "unreadable"}
        assert error.reason in run.stderr
    assert [error.key for error in errors] == [
        "image.jpeg_picture_damaged",
        "image.jpeg_truncated",
        "image.not_an_image",
    ]


def test_models_lists_both_verified():
    run = edgescreen("models", "--json")
    assert run.returncode == 0, run.stderr
    summaries = {s["id"]: s for s in json_lines(run.stdout)}
    assert set(summaries) == {"dr-referable", "melanoma"}
    for summary in summaries.values():
        assert summary["verified"] is True
        assert 0.5 < summary["test_auc"]["value"] <= 1.0
    assert summaries["melanoma"]["external_auc"]


def test_models_reports_a_tampered_model_as_not_verified(tmp_path):
    import shutil

    models = Path(shutil.copytree(PROJECT_ROOT / "models", tmp_path / "models"))
    with (models / "melanoma" / "model.tflite").open("r+b") as model_file:
        model_file.seek(1000)
        model_file.write(b"\0\0\0\0")
    config = tmp_path / "config.toml"
    config.write_text(f'[models]\ndirectory = "{models}"\n')
    run = edgescreen("models", config=config)
    assert run.returncode == 1
    assert "melanoma  NOT VERIFIED" in run.stdout and "model.tflite does not match its sha256" in run.stdout
    version = json.loads((PROJECT_ROOT / "models" / "dr-referable" / "card.json").read_text())["version"]
    assert f"dr-referable {version}  verified" in run.stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_models_lists_each_model_in_the_devices_language(tmp_path, language):
    """On main English whatever the language ("verified, signed", "test AUC 0.964", "sensitivity 91%");
    the figures are ``--json``'s, decimals as the language writes them."""
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n')
    listed = edgescreen("models", config=config).stdout.splitlines()
    for line, model in zip(listed, json_lines(edgescreen("models", "--json", config=config).stdout), strict=True):
        point, auc = model["default_operating_point"], model["test_auc"]
        comma = (lambda value: f"{value:.3f}".replace(".", ",")) if language == "fr" else (lambda value: f"{value:.3f}")
        assert line == sentence(
            "models.listed",
            language,
            model=model["id"],
            version=model["version"],
            signed=message("models.signed", language),
            runtime=model["runtime"],
            modality=model["modality"],
            auc=sentence(
                "models.test_auc",
                language,
                auc=comma(auc["value"]),
                low=comma(auc["ci95"][0]),
                high=comma(auc["ci95"][1]),
            ),
            point=point["name"],
            sensitivity=round(point["sensitivity"] * 100),
            specificity=round(point["specificity"] * 100),
        )
    assert ("sensibilité" in listed[0]) == (language == "fr")
    empty = tmp_path / "no-models"
    empty.mkdir()
    config.write_text(f'[device]\nlanguage = "{language}"\n[models]\ndirectory = "{empty}"\n')
    none = edgescreen("models", config=config)
    assert (
        none.returncode == 1
        and none.stderr == f"{sentence('models.none', language, card='card.json', folder=str(empty))}\n"
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_models_names_a_configured_modality_whose_model_is_not_installed(tmp_path, language):
    """The installed models were listed, exit status 0, while every dermoscopy screening was refused: the
    modality is named, its screenings refused, with doctor's sentence for the cause (install it)."""
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n[models]\ndermoscopy = "absent"\n')
    run = edgescreen("models", config=config)
    remedy = message("health.models.missing", language)
    folder = PROJECT_ROOT / "models" / "absent"
    name = message("modality.dermoscopy", language)
    said = sentence("models.missing", language, modality="dermoscopy", name=name, folder=str(folder), remedy=remedy)
    listed = run.stdout.splitlines()
    assert run.returncode == 1 and listed[2:] == [said]
    assert listed[0].startswith("dr-referable ") and listed[1].startswith("melanoma ")  # installed, not configured
    assert "edgescreen models install" in said
    refused = {
        "en": "NOT INSTALLED  screening refused (Skin lesion)",
        "fr": "NON INSTALLÉ  dépistage refusé (Lésion cutanée)",
    }
    assert refused[language] in said  # the modality in the device's words, not its code inside a French sentence


def test_models_json_says_on_stderr_which_configured_modality_has_no_model(tmp_path):
    """With ``--json`` the exit status was 1 while every object said verified, and nothing said why: the
    missing modality was told only to a reader of the lines. It is said on stderr, stdout keeping one
    JSON object per installed model."""
    config = tmp_path / "config.toml"
    config.write_text('[device]\nlanguage = "fr"\n[models]\ndermoscopy = "absent"\n')
    run = edgescreen("models", "--json", config=config)
    assert run.returncode == 1
    assert [summary["verified"] for summary in json_lines(run.stdout)] == [True, True]
    remedy = message("health.models.missing", "fr")
    name = message("modality.dermoscopy", "fr")
    folder = str(PROJECT_ROOT / "models" / "absent")
    said = sentence("models.missing", "fr", modality="dermoscopy", name=name, folder=folder, remedy=remedy)
    assert run.stderr.endswith(f"{said}\n")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_without_any_tflite_runtime_screening_stops_with_one_sentence(tmp_path, retina_jpeg, language):
    """Neither runtime installed (both shadowed by packages that say so): exit status 3, not a traceback
    and 1 ("an image failed"); one sentence in the device's language that no model can run (it was
    English whatever the language), and the log line naming both runtimes."""
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n{records_table(tmp_path)}')
    env = {**os.environ, "PYTHONPATH": shadow_runtimes(tmp_path)}
    run = edgescreen("screen", "--modality", "fundus", str(retina_jpeg), config=config, env=env)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    (said,) = said_lines(run.stderr)
    assert said == f"edgescreen: {message('health.models.runtime', language)}"
    (logged,) = [line for line in run.stderr.splitlines() if " model.refused " in line]
    assert " ERROR " in logged and "no TFLite runtime is installed" in logged
    assert "ai-edge-litert" in logged and "tflite-runtime" in logged


def test_french_operator_messages(tmp_path, retina_jpeg):
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "fr"\n{records_table(tmp_path)}')
    (result,) = json_lines(edgescreen("screen", "--json", str(retina_jpeg), config=config).stdout)
    assert "clinicien" in result["disclaimer"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_result_line_gives_its_figures_in_the_devices_language(tmp_path, retina_jpeg, language):
    """The score, threshold, operating point's figures, model and calibration were English ("vs threshold",
    "sensitivity 91%", "calibration uncalibrated") beside French sentences; now they are the catalogue's,
    decimals as the language writes them; the codes (NO_REFER, the point's and model's names) stay."""
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n{records_table(tmp_path)}')
    (result,) = json_lines(edgescreen("screen", "--json", str(retina_jpeg), config=config).stdout)
    (again,) = other_copies(retina_jpeg, tmp_path, 1)  # the same photo is not screened twice
    line = edgescreen("screen", str(again), config=config).stdout.splitlines()[0]
    point, comma = result["operating_point"], (lambda text: text.replace(".", ",") if language == "fr" else text)
    figures = sentence(
        "result_line.score",
        language,
        score=comma(f"{result['score']:.3f}"),
        threshold=comma(f"{result['threshold']:.3f}"),
        point=point["name"],
        sensitivity=round(point["sensitivity"]["value"] * 100),
        specificity=round(point["specificity"]["value"] * 100),
    )
    model = sentence("result_line.model", language, model=result["model"]["id"], version=result["model"]["version"])
    assert f"  {figures}  {model}  {message('records.uncalibrated', language)}  " in line
    assert ("sensibilité" in line) == (language == "fr")


def test_a_bad_config_stops_with_one_clear_message(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[models]\nthreads = -1\n")
    run = edgescreen("models", config=config)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"edgescreen: configuration error: {config}: [models].threads: expected a value from 1 to 64, got -1"
    ]


def _device_config(tmp_path: Path, broker_port: int, language: str = "en") -> Path:
    config = tmp_path / "device.toml"
    config.write_text(
        f'[device]\nlanguage = "{language}"\n[sync]\nbroker_port = {broker_port}\n{records_table(tmp_path)}'
    )
    return config


def status_line(output: str) -> str:
    """``run``'s last line, where its results stand after the sync."""
    (line,) = [line for line in output.splitlines() if line.startswith("sync: ")]
    return line


@pytest.mark.parametrize("language", ["en", "fr"])
def test_run_screens_the_bundled_samples_records_them_and_syncs_them(tmp_path, language):
    """The results delivered are said in the device's language, as the triage lines before it (the
    status line was English whatever the language)."""
    broker = Broker(tmp_path / "broker").start()
    tap = Tap(broker.port)
    try:
        run = edgescreen("run", "--json", config=_device_config(tmp_path, broker.port, language))
        assert run.returncode == 0, run.stderr
        results = json_lines(run.stdout)
        assert {r["modality"] for r in results} == {"fundus", "dermoscopy"}
        assert all(r["triage"] in ("refer", "no_refer", "ungradable") for r in results)
        said = sentence("run.sync.delivered", language, count=2, broker=f"localhost:{broker.port}")
        assert status_line(run.stderr) == f"sync: {said}"
        wait_until(lambda: len(tap.on("/result")) == len(results), 10, "the results on the broker")
        delivered = {json.loads(payload)["result_id"] for payload in tap.on("/result")}
        assert delivered == {r["result_id"] for r in results}
    finally:
        tap.close()
        broker.stop()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_run_does_not_say_every_result_delivered_when_the_full_outbox_deleted_one(tmp_path, language):
    """Two samples screened into an outbox of one under ``drop_oldest``: one result never left."""
    broker = Broker(tmp_path / "broker").start()
    try:
        config = _device_config(tmp_path, broker.port, language)
        config.write_text(
            config.read_text().replace("[sync]\n", '[sync]\noutbox_max_rows = 1\noverflow_policy = "drop_oldest"\n')
        )
        run = edgescreen("run", config=config)
    finally:
        broker.stop()
    assert run.returncode == 0, run.stderr
    never = {
        "dropped": sentence("run.sync.dropped", language, count=1),
        "withheld": sentence("run.sync.withheld", language, count=0),
    }
    said = sentence("run.sync.delivered_not_all", language, count=1, broker=f"localhost:{broker.port}", **never)
    assert status_line(run.stdout) == f"sync: {said}"
    if language == "en":
        assert "1 sent in all); never sent: 1 deleted unsent from the full outbox" in run.stdout


@pytest.mark.parametrize("language", ["en", "fr"])
def test_screen_says_on_stderr_when_the_full_outbox_deleted_results_unsent(tmp_path, retina_jpeg, language):
    """Three photos screened into an outbox of one under ``drop_oldest``: two results no specialist will
    see. The command printed only their triage; a log line alone said they were deleted."""
    config = _device_config(tmp_path, free_port(), language)
    config.write_text(
        config.read_text().replace("[sync]\n", '[sync]\noutbox_max_rows = 1\noverflow_policy = "drop_oldest"\n')
    )
    run = edgescreen("screen", "--modality", "fundus", *map(str, other_copies(retina_jpeg, tmp_path, 3)), config=config)
    assert run.returncode == 0, run.stderr
    said = said_lines(run.stderr)
    assert said == [f"edgescreen: {sentence('screen.dropped', language, count=2)}"]
    assert ("2 results were deleted unsent" in said[0]) == (language == "en")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_run_without_a_broker_keeps_the_results_in_the_outbox(tmp_path, language):
    port = free_port()
    config = _device_config(tmp_path, port, language)
    run = edgescreen("run", "--sync-wait", "1", config=config)
    assert run.returncode == 0, run.stderr
    said = sentence("run.sync.not_taken", language, count=2, broker=f"localhost:{port}", wait="1")
    assert status_line(run.stdout) == f"sync: {said}"
    assert ("2 results kept safely in the outbox" in run.stdout) == (language == "en")
    status = json.loads(edgescreen("sync", "status", "--json", config=config).stdout)
    assert status["backlog"] == 2


@pytest.mark.parametrize(
    ("modality", "relative"),
    [("fundus", "fundus/dr-600/images"), ("dermoscopy", "dermoscopy/isic-uda1-cc0/images")],
)
def test_screen_real_shared_images(modality, relative):
    images = sorted(shared_data(relative).glob("*.jpg"))[:3]
    run = edgescreen("screen", "--modality", modality, "--json", *map(str, images))
    assert run.returncode == 0, run.stderr
    results = json_lines(run.stdout)
    assert len(results) == 3 and all(r["model"]["id"] for r in results)


def test_the_logs_never_name_an_image_file(tmp_path, retina_rgb):
    """Clinic file names carry patients' names; a newline in one must not forge a log line."""
    good = write_rgb(tmp_path / "Marianne_Dupont_1957-03-14_AB123456C.jpg", retina_rgb)
    dark = write_rgb(tmp_path / "Paul_Dupont_1961-01-02.png", retina_rgb // 40)
    broken = tmp_path / "Jean\n2026-01-01 00:00:00,000 INFO screen.done Dupont.jpg"
    broken.write_bytes(b"\xff\xd8 not a photo")
    config = _device_config(tmp_path, free_port())
    screened = edgescreen("screen", "--json", str(good), str(dark), str(broken), config=config)
    checked = edgescreen("quality", "--json", str(good), str(dark), str(broken), config=config)
    assert screened.returncode == checked.returncode == 1
    ok, ungradable, failed = json_lines(screened.stdout)
    assert ungradable["triage"] == "ungradable" and "not an image" in failed["error"]  # the nurse sees the name
    for log in (screened.stderr, checked.stderr):
        assert "Dupont" not in log and "\n2026-01-01" not in log
    assert f"screen.done result_id={ok['result_id']} " in screened.stderr
    assert f"screen.ungradable result_id={ungradable['result_id']} " in screened.stderr
    assert "WARNING screen.image_failed image=img-" in screened.stderr
    assert "WARNING quality.image_failed image=img-" in checked.stderr
    assert checked.stderr.count("quality.checked image=img-") == 2


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sigterm_stops_screen_after_the_photo_in_hand_and_closes_the_records(tmp_path, retina_jpeg, language):
    """``edgescreen screen`` kept Python's default SIGTERM: a batch stopped by systemd or ``kill`` died
    where it stood, its records never closed and their last witness never written. It now stops as
    ``sync run`` does: the photo in hand is screened and recorded, the rest are counted as not
    screened, and the records are closed."""
    config = _device_config(tmp_path, free_port(), language)
    screen = edgescreen_process(config, "screen", "--json", *map(str, other_copies(retina_jpeg, tmp_path, 100)))
    first = screen.stdout.readline()  # one photo screened and recorded
    screen.send_signal(signal.SIGTERM)
    output, errors = screen.communicate(timeout=60)
    assert screen.returncode == 1, errors
    results = json_lines(first + output)
    left = 100 - len(results)
    assert 0 < left < 100 and f"WARNING screen.stopped not_screened={left}" in errors
    assert f"edgescreen: {sentence('screen.stopped', language, count=left)}\n" in errors
    with closing(sqlite3.connect(tmp_path / "records.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == len(results)
    witness = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert witness is not None and witness.screenings == len(results)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_batch_the_records_refuse_names_the_photo_it_stopped_at_and_how_many_were_not_screened(
    tmp_path, retina_jpeg, language
):
    """Five photos onto an outbox that refuses its third result: the run stopped saying only that the
    screening was not recorded, not which photo, not that three were not screened (as a stopped run
    says), and without the disclaimer under the two results printed. How many wait and the cap were
    the English log line's alone: said in the device's language after the refusal now."""
    config = _device_config(tmp_path, free_port(), language)
    config.write_text(
        config.read_text().replace("[sync]\n", '[sync]\noutbox_max_rows = 2\noverflow_policy = "refuse"\n')
    )
    photos = other_copies(retina_jpeg, tmp_path, 5)
    run = edgescreen("screen", *map(str, photos), config=config)
    assert run.returncode == 5, run.stderr
    *results, disclaimer = run.stdout.splitlines()
    assert disclaimer == message("disclaimer", language), run.stdout
    assert [line.split()[0] for line in results] == [str(photos[0]), str(photos[1])]
    full = sentence("records.outbox_full.too_many", language, count=2, cap=2)
    refused = f"edgescreen: {photos[2]}: {message('records.outbox_full', language)} ({full})"
    stopped = f"edgescreen: {sentence('screen.stopped', language, count=3)}"
    said = said_lines(run.stderr)
    assert said == [refused, stopped], run.stderr
    assert "ERROR screen.refused image=img-" in run.stderr and "WARNING screen.stopped not_screened=3" in run.stderr


def _recorded(database: Path) -> dict[str, str]:
    """Each screening the records hold, its result id and when it was recorded: read beside a process
    killed with them open, as the next command finds them (its write-ahead log included)."""
    with closing(sqlite3.connect(database)) as db:
        return dict(db.execute("SELECT result_id, recorded_at FROM screening"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_batch_run_again_after_a_power_cut_screens_only_the_photos_it_had_not_recorded(
    tmp_path, retina_jpeg, language
):
    """A batch killed mid-way (the power cut), then the very same command again: the photos screened
    before the cut were screened again under new result ids, the specialists sent each twice, and the
    nurse told nothing. Each is now named as screened already, with its result and when, in
    ``--json`` and in text, counted once after the batch, and only the others are screened."""
    config = _device_config(tmp_path, free_port(), language)
    photos = other_copies(retina_jpeg, tmp_path, 12)
    batch = ("--patient", "CAMP-0042", "--eye", "L", *map(str, photos))
    cut = edgescreen_process(config, "screen", "--json", *batch)
    cut.stdout.readline()  # one photo screened and recorded
    cut.send_signal(signal.SIGKILL)
    cut.communicate(timeout=60)
    before = _recorded(tmp_path / "records.sqlite3")
    assert 0 < len(before) < len(photos)

    again = edgescreen("screen", "--json", *batch, config=config)
    assert again.returncode == 0, again.stderr
    lines = json_lines(again.stdout)
    assert [line["image"] for line in lines] == list(map(str, photos))
    skipped = [line for line in lines if line.get("code") == "already_screened"]
    assert {line["result_id"]: line["recorded_at"] for line in skipped} == before
    assert all(line["triage"] in ("refer", "no_refer") for line in lines if line not in skipped)
    recorded = _recorded(tmp_path / "records.sqlite3")
    assert len(recorded) == len(photos)  # on main: one more for each photo screened before the cut
    for line in skipped:
        at = readable_date(line["recorded_at"], language)
        assert line["skipped"] == sentence("screen.screened_before", language, result_id=line["result_id"], at=at)
    said = said_lines(again.stderr)
    assert said == [f"edgescreen: {sentence('screen.not_again', language, count=len(before))}"]

    text = edgescreen("screen", *batch, config=config)  # every one of them now, said in text
    assert text.returncode == 0, text.stderr
    assert _recorded(tmp_path / "records.sqlite3") == recorded
    *said, disclaimer = text.stdout.splitlines()
    assert disclaimer == message("disclaimer", language)
    result_of = {line["image"]: line["result_id"] for line in lines}
    assert said == [
        message("photo.screened_before", language).format(
            path=photo,
            why=sentence(
                "screen.screened_before",
                language,
                result_id=result_of[str(photo)],
                at=readable_date(recorded[result_of[str(photo)]], language),
            ),
        )
        for photo in photos
    ]
    assert f"edgescreen: {sentence('screen.not_again', language, count=len(photos))}" in text.stderr.splitlines()
    assert "screen.already_screened image=img-" in text.stderr and str(photos[0]) not in text.stderr


def _audited_since(database: Path, seq: int) -> list[tuple[str, dict]]:
    """The kind and details of each audit event after event ``seq``."""
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT kind, details FROM audit WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
    return [(kind, json.loads(details)) for kind, details in rows]


def test_a_photo_skipped_as_screened_before_is_audited_by_the_result_it_matched_alone(tmp_path, retina_jpeg):
    """A photo a batch skipped as screened before was logged only: a reviewer reading the audit could
    not tell that it was presented again and not screened. Each skip is now an audit event naming the
    result it matched and nothing else (the file's name, which may be the patient's, is never in it),
    and the audit still verifies."""
    config = _device_config(tmp_path, free_port(), "en")
    photo = tmp_path / "Ferrand Odile left eye.jpg"
    photo.write_bytes(retina_jpeg.read_bytes())
    batch = ("screen", "--json", "--patient", "CAMP-0042", "--eye", "L")
    first = edgescreen(*batch, str(photo), config=config)
    assert first.returncode == 0, first.stderr
    (screened,) = json_lines(first.stdout)
    database = tmp_path / "records.sqlite3"
    events = len(_audited_since(database, 0))

    again = edgescreen(*batch, str(photo), str(photo), config=config)
    assert [line.get("code") for line in json_lines(again.stdout)] == ["already_screened"] * 2, again.stdout
    skipped = ("already_screened", {"result_id": screened["result_id"]})
    assert _audited_since(database, events) == [skipped, skipped]  # before: nothing
    verify = edgescreen("audit", "verify", config=config)
    assert verify.returncode == 0, verify.stdout
    listed = edgescreen("audit", "list", "--kind", "already_screened", config=config)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2, listed.stderr
    assert "Ferrand" not in listed.stdout and "CAMP" not in listed.stdout


def test_a_photo_whose_result_was_deleted_unsent_is_screened_again_and_run_screens_its_samples_each_time(
    tmp_path, retina_jpeg
):
    """Skipped as screened, a photo whose result ``drop_oldest`` deleted unsent would never reach a
    specialist however often the batch ran: it is screened again. And ``run``'s samples are its check
    of the device: its second run screened nothing and said ALREADY SCREENED for both."""
    config = _device_config(tmp_path, free_port(), "en")
    config.write_text(
        config.read_text().replace("[sync]\n", '[sync]\noutbox_max_rows = 1\noverflow_policy = "drop_oldest"\n')
    )
    first, second = other_copies(retina_jpeg, tmp_path, 2)
    assert edgescreen("screen", "--json", str(first), config=config).returncode == 0
    kept = edgescreen("screen", "--json", str(second), str(second), config=config)  # the first's result dropped
    assert [line.get("code") for line in json_lines(kept.stdout)] == [None, "already_screened"], kept.stdout
    again = edgescreen("screen", "--json", str(first), config=config)
    assert [line.get("code") for line in json_lines(again.stdout)] == [None], again.stdout  # on skip: never sent
    assert len(_recorded(tmp_path / "records.sqlite3")) == 3

    for _ in range(2):
        run = edgescreen("run", "--json", "--sync-wait", "0", config=config)
        assert run.returncode == 0, run.stderr
        assert all("triage" in line for line in json_lines(run.stdout)), run.stdout
    assert len(_recorded(tmp_path / "records.sqlite3")) == 3 + 2 * len(json_lines(run.stdout))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_json_batch_the_records_refuse_names_the_photo_it_stopped_at_in_its_json(tmp_path, retina_jpeg, language):
    """With ``--json`` the photo the records refused, and the photos left with it, were named on stderr
    alone: a script reading the JSON saw two results for five photos and no reason. The photo now has
    its line as an unreadable one does, with how many were not screened from it on."""
    config = _device_config(tmp_path, free_port(), language)
    config.write_text(
        config.read_text().replace("[sync]\n", '[sync]\noutbox_max_rows = 2\noverflow_policy = "refuse"\n')
    )
    photos = other_copies(retina_jpeg, tmp_path, 5)
    run = edgescreen("screen", "--json", *map(str, photos), config=config)
    assert run.returncode == 5, run.stderr
    *results, stopped = json_lines(run.stdout)
    assert [result["image"] for result in results] == [str(photos[0]), str(photos[1])]
    said = message("records.outbox_full", language)
    assert stopped == {
        "image": str(photos[2]),
        "modality": "fundus",
        "error": said,
        "code": "not_recorded",
        "not_screened": 3,
    }
    full = sentence("records.outbox_full.too_many", language, count=2, cap=2)
    assert f"edgescreen: {photos[2]}: {said} ({full})\n" in run.stderr  # the nurse at a terminal reads it there still


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sigterm_ends_the_sync_of_run_and_closes_the_records(tmp_path, language):
    """``edgescreen run`` kept Python's default SIGTERM: stopped by ``kill`` or systemd while it waited
    for a broker, it died with its sync worker's records open. It now stops as ``screen`` does: the
    worker ends at once, the records are closed (the WAL folded into the file by the last connection),
    the results not sent are said in the device's language, and the run's status is its screening's."""
    config = _device_config(tmp_path, free_port(), language)  # no broker: the sync waits and retries
    run = edgescreen_process(config, "run", "--json", "--sync-wait", "120")
    log = ProcessLog(run)
    log.wait_for("sync.disconnected")  # both samples screened, the sync under way
    run.send_signal(signal.SIGTERM)
    output, errors = log.communicate(timeout=30)
    assert run.returncode == 0, errors
    assert len(json_lines(output)) == 2 and "WARNING sync.stopped not_sent=2" in errors
    assert f"sync: {sentence('sync.stopped', language, count=2)}\n" in errors
    assert not (tmp_path / "records.sqlite3-wal").exists()
    witness = read_witness(witness_path(tmp_path / "records.sqlite3"))
    assert witness is not None and witness.screenings == 2


def _on_the_fake_camera(
    config: Path, *args: str, sensor: str = "", frame_timeout: float = 3.0
) -> tuple[subprocess.Popen[str], Path]:
    """``edgescreen *args`` in a process of its own, as from a terminal, with ``config``'s camera the
    fake picamera2 (``sensor``: what its sensor does, as code run once the fake is in); and the file
    where the fake records each camera closed."""
    folder = config.parent
    config.write_text(f'{config.read_text()}[camera]\nbackend = "picamera2"\nframe_timeout = {frame_timeout}\n')
    closes = folder / "closes.log"
    fake = fake_picamera2.write_package(folder / "fake", sensor)
    env = os.environ | {
        "PYTHONPATH": f"{fake}{os.pathsep}{PROJECT_ROOT}",
        fake_picamera2.FAKE_CLOSE_LOG_ENV: str(closes),
    }
    command = [sys.executable, "-m", "firmware_app", "--config", str(config), *args]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_from_a_terminal,
    )
    return process, closes


# A sensor that sends no frame: each read waits for the camera's frame timeout (3 s).
SILENT_SENSOR = "Picamera2.fake_stall_after = 0\n"


@pytest.mark.parametrize(("language", "signum"), [("en", signal.SIGTERM), ("fr", signal.SIGINT)])
def test_a_stop_ends_doctor_with_the_camera_closed_and_says_no_report_was_made(tmp_path, language, signum):
    """``edgescreen doctor`` kept Python's default SIGTERM: stopped while it probed the camera, it died
    there, nothing said, the camera left to the kernel. It now stops at the probe's end
    (``stop_on_termination``): the camera closed, no report (some checks were not run), said in the
    device's language; exit status 1."""
    config = _device_config(tmp_path, free_port(), language)
    doctor, closes = _on_the_fake_camera(config, "doctor", sensor=SILENT_SENSOR)
    log = ProcessLog(doctor)
    log.wait_for("camera.opened")
    doctor.send_signal(signum)
    output, errors = log.communicate(timeout=60)
    assert doctor.returncode == 1, errors
    assert output == "" and "WARNING doctor.stopped" in errors
    assert f"edgescreen: {message('doctor.stopped', language)}\n" in errors
    assert closes.read_text() == "closed 0\n"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sigterm_stops_calibrate_still_with_the_camera_closed_and_nothing_written(tmp_path, language):
    """``edgescreen calibrate still`` kept Python's default SIGTERM: it died with the camera open,
    nothing said. It now stops once the camera's read ends (``stop_on_termination``): the camera
    closed, no still written, said in the device's language; exit status 1."""
    config = _device_config(tmp_path, free_port(), language)
    out = tmp_path / "target.png"
    still, closes = _on_the_fake_camera(config, "calibrate", "still", "--out", str(out), sensor=SILENT_SENSOR)
    log = ProcessLog(still)
    log.wait_for("camera.opened")
    still.send_signal(signal.SIGTERM)
    output, errors = log.communicate(timeout=60)
    assert still.returncode == 1, errors
    assert output == "" and "WARNING calibrate.still_stopped" in errors
    assert f"edgescreen: {message('calibrate.still.stopped', language)}\n" in errors
    assert closes.read_text() == "closed 0\n" and not out.exists()


@pytest.mark.parametrize(("language", "second"), [("en", signal.SIGTERM), ("fr", signal.SIGINT)])
def test_a_second_signal_ends_a_command_stuck_on_the_camera_at_once(tmp_path, language, second):
    """A command asked to stop finishes the piece of work in hand: stuck in it (a camera read that
    hangs), a second SIGTERM or Ctrl-C did nothing, until the read's timeout or for ever. It now ends
    the process at once as that signal would by default, after one line in the device's language:
    what was recorded is kept, what was under way was not, the next start finishes tidying."""
    config = _device_config(tmp_path, free_port(), language)
    out = tmp_path / "target.png"
    still, _ = _on_the_fake_camera(
        config, "calibrate", "still", "--out", str(out), sensor=SILENT_SENSOR, frame_timeout=60
    )
    log = ProcessLog(still)
    log.wait_for("camera.opened")
    still.send_signal(signal.SIGTERM)  # heard, and set aside: the still's read waits 60 s for its frame
    log.wait_for("service.stop_requested")  # sent before the first was handled, the two would be one
    still.send_signal(second)
    try:
        output, errors = log.communicate(timeout=10)  # on main: only once the read times out
    finally:
        still.kill()
    assert still.returncode == -second, errors
    assert errors.count(" service.stop_requested ") == 1 and "INFO service.stop_requested signal=SIGTERM\n" in errors
    assert errors.endswith(f"edgescreen: {message('stop.at_once', language)}\n")
    assert output == "" and not out.exists()


@pytest.mark.parametrize("first", [signal.SIGHUP, signal.SIGTERM])
def test_a_sighup_after_the_stop_was_requested_is_not_logged_as_another_request(tmp_path, first):
    """A closed terminal sends the command a SIGHUP and its shell another: stuck in its camera's read,
    the command logged ``service.stop_requested`` a second time, as if asked to stop twice (and again
    after a SIGTERM). The stop it was asked for is logged once; it still ends as it would have."""
    config = _device_config(tmp_path, free_port(), "en")
    out = tmp_path / "target.png"
    still, closes = _on_the_fake_camera(config, "calibrate", "still", "--out", str(out), sensor=SILENT_SENSOR)
    log = ProcessLog(still)
    log.wait_for("camera.opened")
    still.send_signal(first)
    log.wait_for("service.stop_requested")  # the still's read still waits its 3 s for a frame
    still.send_signal(signal.SIGHUP)
    output, errors = log.communicate(timeout=60)
    assert still.returncode == 1, errors
    assert errors.count(" service.stop_requested ") == 1, errors
    assert f"INFO service.stop_requested signal={signal.Signals(first).name}\n" in errors
    assert output == "" and closes.read_text() == "closed 0\n" and not out.exists()


@pytest.mark.parametrize(("language", "signum"), [("en", signal.SIGTERM), ("fr", signal.SIGHUP)])
def test_sigterm_stops_capture_while_aiming_and_closes_the_camera_and_the_records(tmp_path, language, signum):
    """``edgescreen capture`` had the camera's own handler turn SIGTERM or SIGHUP (a closed terminal)
    into an exit on the spot (status 143 or 129), nothing said. It now stops as ``screen`` does
    (``stop_on_termination``): at the next preview frame, the camera closed, nothing taken and so
    nothing recorded, the records closed, said in the device's language; exit status 1."""
    config = _device_config(tmp_path, free_port(), language)
    aiming = ["--preview-frames", "1000000", "--timeout", "600"]  # the fake's black scene never passes
    capture, closes = _on_the_fake_camera(config, "capture", "--auto", *aiming)
    log = ProcessLog(capture)
    log.wait_for("capture.preview")
    capture.send_signal(signum)
    output, errors = log.communicate(timeout=30)
    assert capture.returncode == 1, errors
    assert output == "" and "WARNING capture.stopped" in errors
    assert f"edgescreen: {message('capture.stopped', language)}\n" in errors
    assert closes.read_text() == "closed 0\n"
    with closing(sqlite3.connect(tmp_path / "records.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM screening").fetchone()[0] == 0
    assert not (tmp_path / "records.sqlite3-wal").exists()


def test_a_photo_taken_turned_is_screened_and_archived_upright(tmp_path, retina_rgb):
    """The EXIF orientation is applied once, at decoding: the gate, the model and the archive see it upright."""
    upright = write_rgb(tmp_path / "upright.jpg", retina_rgb, [cv2.IMWRITE_JPEG_QUALITY, 95])
    turned = write_oriented(tmp_path / "turned.jpg", retina_rgb, 6, quality=95)
    config = _device_config(tmp_path, free_port())
    run = edgescreen("screen", "--modality", "fundus", "--json", str(upright), str(turned), config=config)
    assert run.returncode == 0, run.stderr
    as_taken, as_turned = json_lines(run.stdout)
    assert as_turned["quality"]["verdict"] == as_taken["quality"]["verdict"]
    assert as_turned["score"] == pytest.approx(as_taken["score"], abs=0.02)
    exported = edgescreen("records", "export", as_turned["result_id"], "--out", str(tmp_path / "out"), config=config)
    archived = cv2.cvtColor(cv2.imread(exported.stdout.split()[0]), cv2.COLOR_BGR2RGB)
    assert np.abs(archived.astype(int) - retina_rgb).mean() < 3


@pytest.mark.parametrize(
    ("text", "said_in"),
    [
        ('[device]\nlanguage = "fr"\n[models]\nthreads = -1\n', ["fr"]),  # the language read alone
        ('[device]\nlanguage = "fr"\n[models\n', ["en", "fr"]),  # not TOML: no language to read
        ('[device]\nlanguage = "de"\n', ["en", "fr"]),  # a language the device does not speak
    ],
)
def test_a_config_error_is_said_in_the_language_the_file_still_says_else_in_both(tmp_path, text, said_in):
    """The device's language is in the file that failed to load: the error was English whatever it
    said. It is said in that language when the file still says it, and otherwise in English then
    French, the technician's own words (the problem) in each."""
    config = tmp_path / "config.toml"
    config.write_text(text)
    run = edgescreen("models", config=config)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == len(said_in) and all(str(config) in line for line in lines)
    problem = lines[0].split(": ", 2)[2]  # after "edgescreen: configuration error: " (or its French)
    assert lines == [f"edgescreen: {message('config.error', language).format(problem=problem)}" for language in said_in]


def test_a_device_id_the_wire_refuses_stops_the_program_before_any_screening(tmp_path, retina_jpeg):
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nid = "fundus cam 7"\n[records]\ndatabase = "{tmp_path}/records.sqlite3"\n')
    run = edgescreen("screen", "--json", str(retina_jpeg), config=config)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"edgescreen: configuration error: {config}: [device].id: expected an id the wire")
    assert not (tmp_path / "records.sqlite3").exists()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_real_camera_captures_its_own_modality_only(tmp_path, language):
    """A fundus camera asked for a skin photo says so before opening the camera, in the device's language
    (on main English whatever it was): its photos would go to the melanoma model, whose score means
    nothing for a retina."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nlanguage = "{language}"\nmodality = "fundus"\n'
        f'[camera]\nbackend = "opencv"\nsource = "{tmp_path}/none.avi"\n'
    )
    done = edgescreen("capture", "--modality", "dermoscopy", "--body-site", "trunk", "--auto", config=config)
    assert done.returncode == 2, done.stderr
    values = {"modality": "dermoscopy", "backend": "opencv", "screened": "fundus", "config": str(config)}
    assert done.stderr == f"edgescreen: {sentence('capture.other_modality', language, **values)}\n"
    assert ("ne dépiste que" in done.stderr) == (language == "fr")
