"""A camera that repeats its last picture byte for byte has stopped: its stills are refused.

A live sensor's noise changes every frame; a capture bridge that repeats its last buffer when the
sensor drops would otherwise file the previous patient's eye under the current one. The real camera
backends refuse such a still; the files camera, which replays files by design, does not.
"""

from __future__ import annotations

import sys
import time
import types

import cv2
import numpy as np
import pytest

from firmware_app.capture.camera import CameraFrozen, CameraSettings, Controls, Size
from firmware_app.capture.files_camera import FilesCamera
from firmware_app.capture.opencv_camera import OpenCVCamera
from firmware_app.capture.picamera2_camera import Picamera2Camera
from firmware_app.web.camera_owner import CameraOwner
from firmware_app.web.pages_session import camera_banner_key
from tests.capture.fake_picamera2 import Picamera2
from tests.conftest import write_rgb

FRAME_TIMEOUT_S = 0.3


@pytest.fixture()
def frozen_video(tmp_path, retina_rgb):
    """A capture bridge stuck on its last buffer: the very same picture, frame after frame."""
    path = tmp_path / "frozen.avi"
    frame = cv2.cvtColor(cv2.resize(retina_rgb, (320, 320)), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 320))
    assert writer.isOpened()
    for _ in range(12):
        writer.write(frame)
    writer.release()
    return path


def frozen_camera(path) -> OpenCVCamera:
    return OpenCVCamera(0, str(path), CameraSettings(Size(320, 320), Size(0, 0), FRAME_TIMEOUT_S))


def test_a_burst_repeating_the_picture_before_it_is_refused(frozen_video):
    with frozen_camera(frozen_video) as camera:
        next(camera.preview_frames())  # a preview is only shown: a dark scene may repeat its bytes
        with pytest.raises(CameraFrozen, match=r"^opencv: still 1 of 3: the camera sent the same picture again"):
            camera.capture_burst(3)


def test_the_nurse_is_told_the_camera_stopped_and_may_retry(frozen_video):
    owner = CameraOwner(lambda _: (frozen_camera(frozen_video), Controls()), lambda _: lambda _: None, lambda _: None)
    owner.start()
    try:
        token = owner.claim("fundus")
        assert token is not None
        with pytest.raises(CameraFrozen, match="the same picture again"):
            owner.take_burst(token, 2, 10)
        deadline = time.monotonic() + 5
        while owner.error is None and time.monotonic() < deadline:  # the owner thread records it just after
            time.sleep(0.01)
        assert isinstance(owner.error, CameraFrozen)
        assert camera_banner_key(owner.error) == "banner.camera_lost"  # "stopped answering ... tap Retry"
    finally:
        owner.stop()


def test_the_files_camera_may_repeat_a_photo(tmp_path, retina_rgb):
    """Replaying one file is what the files camera is for: its bursts are never refused as frozen."""
    photo = write_rgb(tmp_path / "eye.png", retina_rgb[:200, :200])
    with FilesCamera([photo], CameraSettings(Size(64, 48), Size(0, 0))) as camera:
        burst = camera.capture_burst(3)
    assert all(np.array_equal(frame.pixels, burst[0].pixels) for frame in burst)


@pytest.fixture()
def picamera2(monkeypatch, retina_rgb):
    """The picamera2 fake installed as the package, showing the real fundus photo."""
    module = types.ModuleType("picamera2")
    module.Picamera2 = Picamera2
    monkeypatch.setitem(sys.modules, "picamera2", module)
    monkeypatch.setattr(Picamera2, "fake_scene", retina_rgb)
    monkeypatch.setattr(Picamera2, "_acquired", set())
    return Picamera2


def test_a_pi_camera_repeating_its_buffer_is_refused_and_a_live_one_is_not(picamera2, monkeypatch):
    settings = CameraSettings(Size(640, 480), Size(1014, 760), FRAME_TIMEOUT_S)
    with Picamera2Camera(0, settings) as camera:
        assert len(camera.capture_burst(3)) == 3  # the fake's sensor noise: no two frames alike
        monkeypatch.setattr(Picamera2, "fake_noise", False)  # the last still comes again
        with pytest.raises(CameraFrozen, match=r"^picamera2: still \d of 3: the camera sent the same picture again"):
            camera.capture_burst(3)


@pytest.mark.parametrize("level", [0, 255])
def test_a_flat_frame_repeated_is_left_to_the_quality_gate(tmp_path, level):
    """A cap left on (black) or the light burnt out (white) gives the same flat frame again and
    again: no picture is repeated, and the gate tells the nurse its light, not that the camera
    stopped."""
    path = tmp_path / "flat.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 320))
    for _ in range(12):
        writer.write(np.full((320, 320, 3), level, np.uint8))
    writer.release()
    with frozen_camera(path) as camera:
        next(camera.preview_frames())
        assert len(camera.capture_burst(3)) == 3
