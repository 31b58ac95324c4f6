"""A USB (UVC) camera through OpenCV's V4L2 backend, or a video file or stream for replays.

Many handheld fundus cameras and dermatoscopes are plain UVC devices. V4L2 drivers accept or
silently ignore a requested resolution or exposure, so each setting is read back and what the device
really does is logged. ``VideoCapture.read`` can block on a wedged driver, so every read runs with a
deadline (``call_with_timeout``); a camera that keeps failing to deliver until the deadline raises
``CameraStalled``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from firmware_app.capture.camera import (
    Camera,
    CameraBusy,
    CameraError,
    CameraMisconfigured,
    CameraSettings,
    CameraStalled,
    CameraUnavailable,
    Controls,
    Size,
    call_with_timeout,
)
from firmware_app.capture.frame import Frame
from firmware_app.events import log_event

# V4L2's auto-exposure menu as OpenCV passes it through: 1 manual, 3 aperture priority (automatic).
_V4L2_EXPOSURE_MANUAL = 1
# V4L2 expresses exposure_absolute in units of 100 microseconds.
_V4L2_EXPOSURE_UNIT_US = 100
# Frames a UVC camera may still hold from before a resolution change; dropped before a burst.
_STALE_FRAMES = 2
_RETRY_PAUSE_S = 0.02


def _to_rgb8(decoded: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Bring a camera frame to 8-bit RGB; return it with the source channel count and bit depth."""
    bit_depth = 16 if decoded.dtype == np.uint16 else 8
    if decoded.dtype == np.uint16:
        decoded = (decoded >> 8).astype(np.uint8)
    elif decoded.dtype != np.uint8:
        raise CameraError(f"opencv: unsupported pixel type {decoded.dtype}")
    channels = 1 if decoded.ndim == 2 else decoded.shape[2]
    if channels == 1:
        rgb = cv2.cvtColor(decoded.reshape(decoded.shape[:2]), cv2.COLOR_GRAY2RGB)
    elif channels == 3:
        rgb = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    elif channels == 4:
        rgb = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGB)
    else:
        raise CameraError(f"opencv: unsupported number of colour channels ({channels})")
    return rgb, channels, bit_depth


class OpenCVCamera(Camera):
    name = "opencv"

    def __init__(self, device: int, source: str, settings: CameraSettings) -> None:
        super().__init__(settings)
        self._device, self._source = device, source
        self._preview_size, self._still_size = settings.preview, settings.still
        self._timeout = settings.frame_timeout_s
        self._capture: cv2.VideoCapture | None = None
        self.model = source or f"/dev/video{device}"

    def _open_device(self) -> None:
        if self._source:
            if "://" not in self._source and not Path(self._source).is_file():
                raise CameraMisconfigured(f"opencv: no such video file {self._source}")
            opened = call_with_timeout(lambda: cv2.VideoCapture(self._source), self._timeout, f"opening {self.model}")
        else:
            node = Path(f"/dev/video{self._device}")
            if sys.platform.startswith("linux") and not node.exists():
                raise CameraUnavailable(f"opencv: no camera at {node} (is it plugged in? `ls /dev/video*`)")
            opened = call_with_timeout(
                lambda: cv2.VideoCapture(self._device, cv2.CAP_V4L2), self._timeout, f"opening {node}"
            )
        self._capture = opened
        if not opened.isOpened():
            raise CameraBusy(f"opencv: {self.model} exists but cannot be opened (in use, or not a capture device)")
        self._apply_size(self._preview_size)

    def _release_device(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()

    def _device_capture(self) -> cv2.VideoCapture:
        if self._capture is None:
            raise CameraError("opencv: not open (use it as `with camera:`)")
        return self._capture

    def _apply_size(self, size: Size) -> None:
        capture = self._device_capture()
        if size.is_full_resolution:
            size = Size(100_000, 100_000)  # V4L2 picks the largest mode it has
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, size.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size.height)
        actual = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if actual != (size.width, size.height):
            log_event("camera.size", backend=self.name, requested=f"{size.width}x{size.height}", actual=actual)

    def _read(self, what: str) -> Frame:
        """One frame, retrying failed reads until the deadline (a UVC device drops frames now and then)."""
        capture = self._device_capture()
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CameraStalled(f"opencv: {what}: no frame from {self.model} within {self._timeout:g} s")
            ok, bgr = call_with_timeout(capture.read, remaining, f"{what} from {self.model}")
            if ok and bgr is not None and bgr.size:
                rgb, channels, bit_depth = _to_rgb8(bgr)
                return Frame(rgb, f"opencv:{self.model}", source_channels=channels, source_bit_depth=bit_depth)
            time.sleep(min(_RETRY_PAUSE_S, max(remaining, 0)))

    def preview_frames(self) -> Iterator[Frame]:
        while True:
            yield self._read("preview")

    def capture_burst(self, count: int) -> list[Frame]:
        self._apply_size(self._still_size)
        try:
            for _ in range(_STALE_FRAMES):
                self._read("flush")
            return [self._read(f"still {i + 1} of {count}") for i in range(count)]
        finally:
            self._apply_size(self._preview_size)

    def set_controls(self, controls: Controls) -> Controls:
        """Set what the driver accepts; ``VideoCapture.set`` returns False for what it does not."""
        capture = self._device_capture()
        applied: dict[str, float] = {}
        settings = {
            "exposure_us": [
                (cv2.CAP_PROP_AUTO_EXPOSURE, _V4L2_EXPOSURE_MANUAL),
                (cv2.CAP_PROP_EXPOSURE, (controls.exposure_us or 0) / _V4L2_EXPOSURE_UNIT_US),
            ],
            "analogue_gain": [(cv2.CAP_PROP_GAIN, controls.analogue_gain or 0)],
            "lens_position": [(cv2.CAP_PROP_AUTOFOCUS, 0), (cv2.CAP_PROP_FOCUS, controls.lens_position or 0)],
        }
        for field, value in controls.requested().items():
            if all(capture.set(prop, prop_value) for prop, prop_value in settings[field]):
                applied[field] = value
            else:
                log_event("camera.control_unsupported", backend=self.name, control=field, model=self.model)
        return Controls(**applied)  # type: ignore[arg-type]
