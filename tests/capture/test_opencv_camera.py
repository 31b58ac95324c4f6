"""The OpenCV backend without a USB camera: a missing device, and a real video file standing in for one."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from firmware_app.capture.camera import CameraSettings, CameraStalled, CameraUnavailable, Controls, Size
from firmware_app.capture.opencv_camera import OpenCVCamera


def camera(device: int = 0, source: str = "", timeout: float = 0.5) -> OpenCVCamera:
    return OpenCVCamera(device, source, CameraSettings(Size(640, 480), Size(0, 0), timeout))


@pytest.fixture()
def fundus_video(tmp_path, retina_rgb):
    """Six frames of the real fundus as an MJPEG AVI, the format many UVC cameras stream, each with
    its own sensor noise as a live camera's (a camera repeating a picture byte for byte has stopped)."""
    path = tmp_path / "camera.avi"
    frame = cv2.cvtColor(cv2.resize(retina_rgb, (320, 320)), cv2.COLOR_RGB2BGR).astype(np.int16)
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 320))
    assert writer.isOpened()
    for _ in range(6):
        writer.write(np.clip(frame + rng.integers(-2, 3, frame.shape), 0, 255).astype(np.uint8))
    writer.release()
    return path


def test_a_missing_video_device_is_a_clear_error_at_once(monkeypatch):
    """At once: refused before any capture is made, so no open is tried, timed out or retried (the real
    VideoCapture counted, not its time)."""
    made: list[object] = []
    real = cv2.VideoCapture

    def counted(*arguments: object) -> cv2.VideoCapture:
        made.append(arguments)
        return real(*arguments)

    monkeypatch.setattr(cv2, "VideoCapture", counted)
    with pytest.raises(CameraUnavailable, match=r"no camera at /dev/video63 \(is it plugged in"):
        camera(device=63).open()
    assert made == []


def test_a_missing_video_file_is_a_clear_error():
    with pytest.raises(CameraUnavailable, match=r"no such video file /nowhere/camera\.avi"):
        camera(source="/nowhere/camera.avi").open()


def test_a_stream_address_nothing_answers_is_not_said_to_exist():
    """It read "http://127.0.0.1:9/stream.mjpg exists but cannot be opened (in use, ...)"."""
    with pytest.raises(CameraUnavailable, match=r"no stream OpenCV can read at http://127\.0\.0\.1:9/s\.mjpg \(check"):
        camera(source="http://127.0.0.1:9/s.mjpg").open()


def test_frames_arrive_in_rgb_and_a_stream_that_ends_stalls_with_a_timeout(fundus_video):
    with camera(source=str(fundus_video), timeout=0.3) as cam:
        frames = cam.preview_frames()
        first = next(frames)
        burst = cam.capture_burst(2)  # two stale frames are dropped first
        assert len(burst) == 2
        next(frames)  # the sixth and last frame
        started = time.monotonic()
        with pytest.raises(CameraStalled, match=r"^opencv: preview: no frame from .*camera.avi within 0.3 s$"):
            next(frames)
        assert time.monotonic() - started < 2
    assert first.pixels.shape == (320, 320, 3)
    assert first.pixels[..., 0].mean() > first.pixels[..., 2].mean() + 30  # red fundus: BGR was converted
    assert not cam.is_open


def test_unsupported_controls_are_reported_not_applied(fundus_video):
    with camera(source=str(fundus_video)) as cam:
        assert cam.set_controls(Controls(exposure_us=8000, lens_position=3.0)) == Controls()


def test_video_frames_match_the_photo(fundus_video, retina_rgb):
    with camera(source=str(fundus_video)) as cam:
        frame = next(cam.preview_frames())
    expected = cv2.resize(retina_rgb, (320, 320)).astype(np.int16)
    assert np.abs(frame.pixels.astype(np.int16) - expected).mean() < 4
