"""A photo ``records export`` wrote, its pixels calibrated already, is refused by every way a photo
file enters screening: ``screen`` and ``run`` (tested in tests/calibration/test_calibrate_command.py),
and the files camera that ``capture``, the app and ``calibrate`` read folders through; and by
``calibrate`` given photo files, while ``quality`` and ``quality fit`` take it as the frame the
device's gate judged."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from firmware_app.capture.camera import CameraError, CameraSettings, Size
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture.photo_to_screen import AlreadyCalibrated, read_photo_to_screen
from firmware_app.cli import main
from firmware_app.messages import message
from tests.calibration.render import uniform_target_frames
from tests.conftest import write_rgb
from tests.records.kit import open_store, record_one, sample_record, small_photo, write_config

PROFILE = "SN-42-20261203"


def export(directory: Path, photo: np.ndarray) -> tuple[Path, str]:
    """``photo`` recorded as a screening on a device calibrated with ``PROFILE`` (records in
    ``directory``) and exported by ``records export`` into ``directory``/import; the export's path and
    its result id."""
    config = write_config(directory, 1)
    store = open_store(directory)
    record = record_one(store, photo, dataclasses.replace(sample_record(), calibration_id=PROFILE))
    store.records.close()
    folder = directory / "import"
    assert main(["--config", str(config), "records", "export", record.result_id, "--out", str(folder)]) == 0
    return folder / f"{record.result_id}-0.jpg", record.result_id


@pytest.fixture()
def exported(tmp_path, retina_rgb) -> tuple[Path, str]:
    """A retina's export in an import folder beside an ordinary photo."""
    path, result_id = export(tmp_path, small_photo(retina_rgb, 600))
    write_rgb(path.parent / "0-taken.jpg", retina_rgb)
    return path, result_id


def sentence(result_id: str, language: str = "en") -> str:
    return message("screen.already_calibrated", language).format(result_id=result_id, calibration=PROFILE)


def test_the_shared_read_refuses_the_export_in_either_language(exported):
    path, result_id = exported
    with pytest.raises(AlreadyCalibrated) as refused:
        read_photo_to_screen(path)
    assert refused.value.reason == sentence(result_id) and "edgescreen records show" in refused.value.reason
    assert refused.value.sentence("fr").startswith(f"exportée des dossiers (résultat {result_id})")
    assert read_photo_to_screen(path.parent / "0-taken.jpg").pixels.shape == (1411, 1411, 3)


def test_the_files_camera_skips_an_export_saying_why_and_refuses_a_folder_of_exports(exported, caplog):
    """The files camera replayed an exported photo as a new one: ``capture`` and the app screened its
    calibrated pixels, corrected a second time."""
    path, result_id = exported
    logger = logging.getLogger("edgescreen")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="edgescreen")
    try:
        with FilesCamera([path.parent], CameraSettings(Size(64, 48), Size(0, 0))) as camera:
            frames = camera.preview_frames()
            shown = [next(frames).source for _ in range(3)]
            burst = [frame.source for frame in camera.capture_burst(2)]
    finally:
        logger.removeHandler(caplog.handler)
    taken = str(path.parent / "0-taken.jpg")
    assert shown == [*burst, taken] == [taken] * 3
    skipped = [r.getMessage() for r in caplog.records if "camera.file_skipped" in r.getMessage()]
    assert skipped and all(sentence(result_id) in line and path.name not in line for line in skipped)
    with (
        FilesCamera([path], CameraSettings(Size(64, 48), Size(0, 0))) as camera,
        pytest.raises(CameraError, match="none of the 1 images") as error,
    ):
        camera.capture_burst(1)
    assert sentence(result_id) in str(error.value)


def screenings(directory: Path) -> int:
    connection = sqlite3.connect(directory / "records.sqlite3")
    try:
        return connection.execute("SELECT count(*) FROM screening").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize(("only_exports", "status"), [(True, 6), (False, 0)])
def test_capture_never_screens_an_export(tmp_path, exported, capsys, only_exports, status):
    """``capture`` on a files camera: a folder of exports only is a camera with nothing to give (exit
    6, naming why), and a folder that also holds a photo screens that photo alone, the export's skip
    logged."""
    path, result_id = exported
    if only_exports:
        (path.parent / "0-taken.jpg").unlink()
    config = write_config(tmp_path, 1, f'[camera]\nbackend = "files"\nfiles = ["{path.parent}"]\nburst = 2\n')
    done = main(["--config", str(config), "capture", "--modality", "fundus", "--eye", "L", "--auto", "--json"])
    captured = capsys.readouterr()
    assert done == status, captured
    assert sentence(result_id) in captured.err  # the refusal, or the skip logged
    assert screenings(tmp_path) == 2 - only_exports
    if not only_exports:
        store = open_store(tmp_path)
        try:
            ids = store.records.connection.execute("SELECT result_id FROM screening ORDER BY recorded_at").fetchall()
            sources = [store.view(result_id)["source"] for (result_id,) in ids]
        finally:
            store.records.close()
        assert sources == [sample_record().source, str(path.parent / "0-taken.jpg")]


def test_calibrate_refuses_an_export_among_the_photos_of_a_target(tmp_path, capsys):
    """A flat card's photo exported from the records holds pixels the device's flat field corrected
    already: taken for a photo of the card, the new flat field measured the card as evened out, and
    the profile corrected every frame as if the lens cast no shadow. Refused with screening's sentence,
    and the step is not measured (every flat card must be usable)."""
    first, *cards = uniform_target_frames(480, 640, 3)
    path, result_id = export(tmp_path, first)
    photos = [str(write_rgb(tmp_path / f"card{index}.png", card)) for index, card in enumerate(cards)]
    profile = tmp_path / "device.json"
    capsys.readouterr()
    assert main(["calibrate", "flat", "--profile", str(profile), str(path), *photos]) == 1
    assert f"{path}  REFUSED  " in (refused := capsys.readouterr().err) and sentence(result_id) in refused
    assert not profile.exists()
    assert main(["calibrate", "flat", "--profile", str(profile), *photos]) == 0
