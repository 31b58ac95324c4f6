"""The Raspberry Pi camera through picamera2 (libcamera).

picamera2 names pixel formats after libcamera's little-endian words, so the bytes arrive in the
opposite order to the name: "XRGB8888" arrays are B,G,R,X and "RGB888" arrays are B,G,R (while
"XBGR8888" is R,G,B,X and "BGR888" is R,G,B). ``PIXEL_ORDER`` is the one place that knows it.

Every capture is asked for asynchronously (``wait=False``) and its job waited on with a deadline,
because picamera2's blocking calls wait forever for a sensor that has stopped streaming.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

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
)
from firmware_app.capture.frame import Frame
from firmware_app.events import log_event

PREVIEW_FORMAT = "XRGB8888"
STILL_FORMAT = "RGB888"
# Index of R, G and B in each pixel of the array picamera2 returns for a format.
PIXEL_ORDER = {"XRGB8888": (2, 1, 0), "XBGR8888": (0, 1, 2), "RGB888": (2, 1, 0), "BGR888": (0, 1, 2)}
# libcamera's AfMode enumeration: 0 is Manual (LensPosition is then obeyed).
_AF_MODE_MANUAL = 0

INSTALL_HINT = (
    "picamera2 is not installed: on Raspberry Pi OS install it with `sudo apt install python3-picamera2` "
    "and create the virtual environment with --system-site-packages (see README, 'Cameras')"
)


def to_rgb(array: np.ndarray, pixel_format: str) -> np.ndarray:
    """A contiguous R,G,B uint8 copy of a picamera2 array in ``pixel_format``."""
    if pixel_format not in PIXEL_ORDER:
        raise CameraError(f"picamera2: unsupported pixel format {pixel_format!r} (known: {sorted(PIXEL_ORDER)})")
    channels = 4 if pixel_format.startswith("X") else 3
    if array.ndim != 3 or array.shape[2] != channels or array.dtype != np.uint8:
        raise CameraError(f"picamera2: a {pixel_format} frame should be HxWx{channels} uint8, got {array.shape}")
    return np.ascontiguousarray(array[..., list(PIXEL_ORDER[pixel_format])])


class Picamera2Camera(Camera):
    name = "picamera2"

    def __init__(self, camera_num: int, settings: CameraSettings) -> None:
        super().__init__(settings)
        self._camera_num = camera_num
        self._preview_size, self._still_size = settings.preview, settings.still
        self._timeout = settings.frame_timeout_s
        self._picam: Any = None
        self._preview_config: Any = None
        self._still_config: Any = None

    def _open_device(self) -> None:
        try:
            module = importlib.import_module("picamera2")
        except ImportError:
            raise CameraMisconfigured(INSTALL_HINT) from None
        cameras = module.Picamera2.global_camera_info()
        if self._camera_num >= len(cameras):
            raise CameraUnavailable(
                f"picamera2: no camera number {self._camera_num} ({len(cameras)} found; check the ribbon cable "
                "and that the legacy camera stack is off)"
            )
        try:
            self._picam = module.Picamera2(camera_num=self._camera_num)
        except RuntimeError as error:
            raise CameraBusy(
                f"picamera2: camera {self._camera_num} could not be opened ({error}); another program may hold it"
            ) from None
        self.model = str(self._picam.camera_properties.get("Model", "unknown"))
        self._preview_config = self._picam.create_preview_configuration(
            main={"size": (self._preview_size.width, self._preview_size.height), "format": PREVIEW_FORMAT}
        )
        still_main: dict[str, Any] = {"format": STILL_FORMAT}
        if not self._still_size.is_full_resolution:
            still_main["size"] = (self._still_size.width, self._still_size.height)
        self._still_config = self._picam.create_still_configuration(main=still_main, buffer_count=2)
        self._picam.configure(self._preview_config)
        self._picam.start()

    def _release_device(self) -> None:
        picam, self._picam = self._picam, None
        if picam is None:
            return
        try:
            picam.close()  # stops the camera first if it is running
        except Exception as error:
            log_event("camera.close_failed", backend=self.name, error=error)

    def _wait(self, job: Any, what: str) -> Any:
        try:
            return job.get_result(timeout=self._timeout)
        except TimeoutError:
            raise CameraStalled(
                f"picamera2: {what}: no frame from camera {self._camera_num} within {self._timeout:g} s"
            ) from None

    def _frame(self, pixel_format: str, what: str) -> Frame:
        if self._picam is None:
            raise CameraError("picamera2: not open (use it as `with camera:`)")
        array = self._wait(self._picam.capture_array("main", wait=False), what)
        frame = Frame(pixels=to_rgb(array, pixel_format), source=f"picamera2:{self._camera_num}:{self.model}")
        return self._delivered(frame, what, still=pixel_format == STILL_FORMAT)

    def preview_frames(self) -> Iterator[Frame]:
        while True:
            yield self._frame(PREVIEW_FORMAT, "preview")

    def capture_burst(self, count: int) -> list[Frame]:
        if self._picam is None:
            raise CameraError("picamera2: not open (use it as `with camera:`)")
        self._wait(self._picam.switch_mode(self._still_config, wait=False), "switch to still mode")
        try:
            return [self._frame(STILL_FORMAT, f"still {i + 1} of {count}") for i in range(count)]
        finally:
            self._wait(self._picam.switch_mode(self._preview_config, wait=False), "switch back to preview")

    def set_controls(self, controls: Controls) -> Controls:
        """Set what the sensor advertises, within its limits; a value out of range is refused."""
        if self._picam is None:
            raise CameraError("picamera2: not open (use it as `with camera:`)")
        available = self._picam.camera_controls
        wanted: dict[str, Any] = {}
        applied: dict[str, float] = {}
        for field, control, value in (
            ("exposure_us", "ExposureTime", controls.exposure_us),
            ("analogue_gain", "AnalogueGain", controls.analogue_gain),
            ("lens_position", "LensPosition", controls.lens_position),
        ):
            if value is None:
                continue
            if control not in available:
                log_event("camera.control_unsupported", backend=self.name, control=control, model=self.model)
                continue
            low, high, _default = available[control]
            if (low is not None and value < low) or (high is not None and value > high):
                raise CameraError(f"picamera2: {control} {value} is outside this camera's range [{low}, {high}]")
            wanted[control] = value
            applied[field] = value
        if ("ExposureTime" in wanted or "AnalogueGain" in wanted) and "AeEnable" in available:
            wanted["AeEnable"] = False
        if "LensPosition" in wanted and "AfMode" in available:
            wanted["AfMode"] = _AF_MODE_MANUAL
        if wanted:
            self._picam.set_controls(wanted)
            log_event("camera.controls", backend=self.name, **{k: v for k, v in wanted.items()})
        return Controls(**applied)  # type: ignore[arg-type]
