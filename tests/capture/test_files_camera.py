"""The files camera replays real photos as a preview stream and as bursts."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from firmware_app.app import build_camera
from firmware_app.capture.camera import (
    CameraError,
    CameraMisconfigured,
    CameraSettings,
    CameraUnavailable,
    Controls,
    Size,
)
from firmware_app.capture.files_camera import FilesCamera, fit_within
from firmware_app.config import SAMPLES_DIR, Config
from tests.conftest import write_rgb


@pytest.fixture()
def folder(tmp_path, retina_rgb):
    """Three real photos: the fundus, the same mirrored, and a half-size crop, as a device would import."""
    photos = tmp_path / "import"
    photos.mkdir()
    write_rgb(photos / "a.jpg", retina_rgb)
    write_rgb(photos / "b.png", np.ascontiguousarray(retina_rgb[:, ::-1]))
    write_rgb(photos / "c.jpg", retina_rgb[200:900, 100:1100])
    (photos / "notes.txt").write_text("not a photo")
    return photos


def test_preview_is_fitted_to_the_preview_size_and_cycles(folder, retina_rgb):
    with FilesCamera([folder], CameraSettings(Size(640, 480), Size(0, 0))) as camera:
        frames = camera.preview_frames()
        shown = [next(frames) for _ in range(4)]
    assert [f.source.rsplit("/", 1)[1] for f in shown] == ["a.jpg", "b.png", "c.jpg", "a.jpg"]
    # Each keeps its proportions, with no bars a fundus gate would read as the camera's mask.
    assert [f.pixels.shape for f in shown] == [(480, 480, 3), (480, 480, 3), (448, 640, 3), (480, 480, 3)]
    assert shown[0].pixels[240, 240, 0] > 60
    assert shown[0].pixels[..., 0].mean() > shown[0].pixels[..., 2].mean() + 20


def test_a_burst_starts_at_the_photo_on_preview_at_full_resolution(folder, retina_rgb):
    with FilesCamera([folder], CameraSettings(Size(640, 480), Size(0, 0))) as camera:
        frames = camera.preview_frames()
        next(frames), next(frames)  # b.png is on screen
        burst = camera.capture_burst(3)
    assert [f.source.rsplit("/", 1)[1] for f in burst] == ["b.png", "c.jpg", "a.jpg"]
    assert burst[0].pixels.shape == retina_rgb.shape
    assert np.array_equal(burst[0].pixels, retina_rgb[:, ::-1])  # PNG: lossless, RGB order intact


def test_a_still_size_fits_the_burst(folder):
    with FilesCamera([folder / "c.jpg"], CameraSettings(Size(64, 48), Size(2028, 1520))) as camera:
        assert camera.capture_burst(1)[0].pixels.shape == (1420, 2028, 3)  # 700x1000, proportions kept


def test_an_unreadable_photo_is_skipped_and_no_readable_photo_is_an_error(folder, tmp_path, caplog):
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    logger = logging.getLogger("edgescreen")
    logger.addHandler(caplog.handler)  # whatever an earlier in-process command set up
    caplog.set_level(logging.INFO, logger="edgescreen")
    try:
        with FilesCamera([folder], CameraSettings(Size(64, 48), Size(0, 0))) as camera:
            assert [f.source.rsplit("/", 1)[1] for f in camera.capture_burst(2)] == ["a.jpg", "c.jpg"]
    finally:
        logger.removeHandler(caplog.handler)
    assert "camera.file_skipped image=img-" in caplog.text and "b.png" not in caplog.text  # never the file's name
    skipped = [r for r in caplog.records if "camera.file_skipped" in r.getMessage()]
    assert skipped and all(r.levelno == logging.WARNING for r in skipped)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    with (
        FilesCamera([broken], CameraSettings(Size(64, 48), Size(0, 0))) as camera,
        pytest.raises(CameraError, match=r"none of the 1 images .* can be used \(img-[0-9a-f]+\.jpg: ") as error,
    ):
        next(camera.preview_frames())
    assert not isinstance(error.value, CameraMisconfigured)  # it opened: a camera that stopped answering


def test_files_that_are_not_photos_are_said_to_be_skipped(folder, caplog):
    (folder / "scan.gif").write_bytes(b"GIF89a")
    logger = logging.getLogger("edgescreen")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="edgescreen")
    try:
        with FilesCamera([folder], CameraSettings(Size(64, 48), Size(0, 0))):
            pass
    finally:
        logger.removeHandler(caplog.handler)
    ignored = next(r for r in caplog.records if "camera.files_ignored" in r.getMessage())
    assert ignored.levelno == logging.INFO and re.search(r"img-[0-9a-f]+\.gif", ignored.getMessage())
    assert "scan" not in ignored.getMessage() and "not .jpg" in ignored.getMessage()
    only_gif = folder.parent / "only-gif"
    only_gif.mkdir()
    (only_gif / "scan.gif").write_bytes(b"GIF89a")
    with pytest.raises(CameraMisconfigured, match=r"no images .* \(1 other files skipped: not \.jpg"):
        FilesCamera([only_gif], CameraSettings(Size(64, 48), Size(0, 0))).open()


def test_no_images_or_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CameraUnavailable, match="no images"):
        FilesCamera([tmp_path], CameraSettings(Size(64, 48), Size(0, 0))).open()
    with pytest.raises(CameraUnavailable, match=r"absent\.jpg: no such image file"):
        FilesCamera([tmp_path / "absent.jpg"], CameraSettings(Size(64, 48), Size(0, 0))).open()


def test_not_open_is_an_error_and_controls_are_not_supported(folder):
    camera = FilesCamera([folder], CameraSettings(Size(64, 48), Size(0, 0)))
    with pytest.raises(CameraError, match="not open"):
        next(camera.preview_frames())
    with camera:
        assert camera.set_controls(Controls(exposure_us=1000)) == Controls()


def test_the_default_config_replays_the_bundled_samples():
    camera, controls = build_camera(Config())
    assert isinstance(camera, FilesCamera) and controls == Controls()
    with camera:
        frame = next(camera.preview_frames())
    assert frame.pixels.shape == (480, 640, 3) and frame.source.startswith(str(SAMPLES_DIR))


def test_fit_within_keeps_proportions_and_adds_no_bars():
    fitted = fit_within(np.full((100, 300, 3), 200, np.uint8), Size(200, 200))
    assert fitted.shape == (67, 200, 3) and fitted.min() == 200
