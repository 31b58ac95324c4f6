"""A USB (UVC) camera through OpenCV's V4L2 backend, or a video file or stream for replays.

Many handheld fundus cameras and dermatoscopes are plain UVC devices. V4L2 drivers accept or
silently ignore a requested resolution or exposure, so each setting is read back and what the device
really does is logged. ``VideoCapture.read`` can block on a wedged driver or a silent stream (for
10 s or more), and releasing a ``VideoCapture`` during a read crashes the process: so each capture
lives on its own ``DeviceThread`` (opened, read, set and released there) and every call on it has a
deadline. A camera that keeps failing to deliver until the deadline raises ``CameraStalled``, the
same message whether its reads blocked or failed; a stalled capture is left to its thread, which
releases it when its read returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from firmware_app.capture.camera import (
    UNSUPPORTED_FORMAT,
    Camera,
    CameraBusy,
    CameraError,
    CameraMisconfigured,
    CameraSettings,
    CameraStalled,
    CameraUnavailable,
    Controls,
    DeviceThread,
    Size,
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
# How much longer than the frame timeout FFmpeg itself waits on a stream before it gives up a read.
_FFMPEG_GRACE_S = 1.0

T = TypeVar("T")


def _to_rgb8(decoded: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Bring a camera frame to 8-bit RGB; return it with the source channel count and bit depth."""
    bit_depth = 16 if decoded.dtype == np.uint16 else 8
    if decoded.dtype == np.uint16:
        decoded = (decoded >> 8).astype(np.uint8)
    elif decoded.dtype != np.uint8:
        raise CameraError(f"opencv: unsupported pixel type {decoded.dtype}", UNSUPPORTED_FORMAT)
    channels = 1 if decoded.ndim == 2 else decoded.shape[2]
    if channels == 1:
        rgb = cv2.cvtColor(decoded.reshape(decoded.shape[:2]), cv2.COLOR_GRAY2RGB)
    elif channels == 3:
        rgb = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    elif channels == 4:
        rgb = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGB)
    else:
        raise CameraError(f"opencv: unsupported number of colour channels ({channels})", UNSUPPORTED_FORMAT)
    return rgb, channels, bit_depth


def _release(capture: cv2.VideoCapture) -> None:
    capture.release()


class OpenCVCamera(Camera):
    name = "opencv"

    def __init__(self, device: int, source: str, settings: CameraSettings) -> None:
        super().__init__(settings)
        self._device, self._source = device, source
        self._preview_size, self._still_size = settings.preview, settings.still
        self._timeout = settings.frame_timeout_s
        self._thread: DeviceThread[cv2.VideoCapture] | None = None
        self.model = source or f"/dev/video{device}"

    def _stalled(self, what: str, waited_for: str = "answer") -> str:
        """The one wording of a stall, with the configured timeout (not what was left of it)."""
        return f"opencv: {what}: no {waited_for} from {self.model} within {self._timeout:g} s"

    def _open_device(self) -> None:
        opener = self._capture_opener()
        self._thread = DeviceThread(_release, f"opencv {self.model}")
        self._thread.open(opener, self._timeout, self._stalled("opening"))
        if not self._on_device(lambda capture: capture.isOpened(), "opening"):
            if "://" in self._source:  # a stream's address may be wrong or its server down: it need not exist
                raise CameraBusy(
                    f"opencv: no stream OpenCV can read at {self.model} (check the address, and its server)",
                    "camera.stream",
                )
            raise CameraBusy(f"opencv: {self.model} exists but cannot be opened (in use, or not a capture device)")
        self._apply_size(self._preview_size)

    def _capture_opener(self) -> Callable[[], cv2.VideoCapture]:
        """What creates the capture (on its thread); a missing file or device is refused here, at once."""
        if self._source:
            if "://" not in self._source and not Path(self._source).is_file():
                raise CameraMisconfigured(f"opencv: no such video file {self._source}")
            return lambda: cv2.VideoCapture(self._source, cv2.CAP_ANY, self._ffmpeg_timeouts())
        node = Path(f"/dev/video{self._device}")
        if sys.platform.startswith("linux") and not node.exists():
            raise CameraUnavailable(f"opencv: no camera at {node} (is it plugged in? `ls /dev/video*`)")
        return lambda: cv2.VideoCapture(self._device, cv2.CAP_V4L2)

    def _ffmpeg_timeouts(self) -> list[int]:
        """FFmpeg's own open and read timeouts for a file or stream, a little longer than the frame
        timeout: the caller's deadline still decides, and a read left blocked on a silent stream
        returns soon after, so its thread releases the capture and ends instead of waiting 30 s."""
        milliseconds = round((self._timeout + _FFMPEG_GRACE_S) * 1000)
        return [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, milliseconds, cv2.CAP_PROP_READ_TIMEOUT_MSEC, milliseconds]

    def _release_device(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.close(self._timeout)

    def _on_device(
        self,
        function: Callable[[cv2.VideoCapture], T],
        what: str,
        timeout_s: float | None = None,
        waited_for: str = "answer",
    ) -> T:
        """``function(capture)`` on the capture's thread, within ``timeout_s`` (default: the frame timeout)."""
        if self._thread is None:
            raise CameraError("opencv: not open (use it as `with camera:`)")
        timeout = self._timeout if timeout_s is None else timeout_s
        return self._thread.call(function, timeout, self._stalled(what, waited_for))

    def _apply_size(self, size: Size) -> None:
        if size.is_full_resolution:
            size = Size(100_000, 100_000)  # V4L2 picks the largest mode it has

        def apply(capture: cv2.VideoCapture) -> tuple[int, int]:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, size.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size.height)
            return int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))

        actual = self._on_device(apply, "setting the frame size")
        if actual != (size.width, size.height):
            log_event("camera.size", backend=self.name, requested=f"{size.width}x{size.height}", actual=actual)

    def _read(self, what: str, still: bool = False) -> Frame:
        """One frame, retrying failed reads until the deadline (a UVC device drops frames now and then)."""
        deadline = time.monotonic() + self._timeout
        while (remaining := deadline - time.monotonic()) > 0:
            ok, bgr = self._on_device(lambda capture: capture.read(), what, remaining, "frame")
            if ok and bgr is not None and bgr.size:
                rgb, channels, bit_depth = _to_rgb8(bgr)
                frame = Frame(rgb, f"opencv:{self.model}", source_channels=channels, source_bit_depth=bit_depth)
                return self._delivered(frame, what, still)
            time.sleep(min(_RETRY_PAUSE_S, max(deadline - time.monotonic(), 0)))
        raise CameraStalled(self._stalled(what, "frame"))

    def preview_frames(self) -> Iterator[Frame]:
        while True:
            yield self._read("preview")

    def capture_burst(self, count: int) -> list[Frame]:
        self._apply_size(self._still_size)
        try:
            for _ in range(_STALE_FRAMES):
                self._read("flush")
            return [self._read(f"still {i + 1} of {count}", still=True) for i in range(count)]
        finally:
            self._apply_size(self._preview_size)

    def set_controls(self, controls: Controls) -> Controls:
        """Set what the driver accepts; ``VideoCapture.set`` returns False for what it does not."""
        settings = {
            "exposure_us": [
                (cv2.CAP_PROP_AUTO_EXPOSURE, _V4L2_EXPOSURE_MANUAL),
                (cv2.CAP_PROP_EXPOSURE, (controls.exposure_us or 0) / _V4L2_EXPOSURE_UNIT_US),
            ],
            "analogue_gain": [(cv2.CAP_PROP_GAIN, controls.analogue_gain or 0)],
            "lens_position": [(cv2.CAP_PROP_AUTOFOCUS, 0), (cv2.CAP_PROP_FOCUS, controls.lens_position or 0)],
        }
        requested = controls.requested()

        def apply(capture: cv2.VideoCapture) -> list[str]:
            return [field for field in requested if all(capture.set(*setting) for setting in settings[field])]

        accepted = self._on_device(apply, "setting the controls")
        for field in [field for field in requested if field not in accepted]:
            log_event("camera.control_unsupported", backend=self.name, control=field, model=self.model)
        return Controls(**{field: requested[field] for field in accepted})  # type: ignore[arg-type]
