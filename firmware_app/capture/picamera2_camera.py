"""The Raspberry Pi camera through picamera2 (libcamera).

picamera2 names pixel formats after libcamera's little-endian words, so the bytes arrive in the
opposite order to the name: "XRGB8888" arrays are B,G,R,X and "RGB888" arrays are B,G,R (while
"XBGR8888" is R,G,B,X and "BGR888" is R,G,B). ``PIXEL_ORDER`` is the one place that knows it.

Every capture is asked for asynchronously (``wait=False``) and its job waited on with a deadline,
because picamera2's blocking calls wait forever for a sensor that has stopped streaming. picamera2
runs its jobs one after another: a job that timed out stays queued ahead of every later one (a switch
back to preview, a ``stop`` while its event loop runs), so the queue is flushed whenever a wait gives
up. ``close`` stops the event loop first and so never waits behind a job, but the flush before it
leaves no job to run on a camera being let go.

Manual controls go into both configurations: picamera2 applies a configuration's ``controls`` at
every start, while ``set_controls`` only queues values for the next request and a mode switch
replaces what is queued, so a still taken just after ``set_controls`` would be automatic.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from concurrent.futures import CancelledError
from typing import Any

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
)
from firmware_app.capture.frame import Frame
from firmware_app.events import log_event

PREVIEW_FORMAT = "XRGB8888"
STILL_FORMAT = "RGB888"
# Index of R, G and B in each pixel of the array picamera2 returns for a format.
PIXEL_ORDER = {"XRGB8888": (2, 1, 0), "XBGR8888": (0, 1, 2), "RGB888": (2, 1, 0), "BGR888": (0, 1, 2)}
# What picamera2 raises from a job or from configure/start: libcamera's and the allocator's
# RuntimeError (buffers the CMA cannot hold), an mmap's OSError, a job cancelled by a flush.
PICAMERA2_ERRORS = (RuntimeError, OSError, CancelledError)
# (field of Controls, libcamera control, the mode control that makes it obeyed and its Manual value):
# ExposureTimeMode and AnalogueGainMode exist from libcamera 0.5; AfMode's Manual is 0.
_MANUAL_CONTROLS = (
    ("exposure_us", "ExposureTime", "ExposureTimeMode", 1),
    ("analogue_gain", "AnalogueGain", "AnalogueGainMode", 1),
    ("lens_position", "LensPosition", "AfMode", 0),
)

INSTALL_HINT = (
    "picamera2 is not installed: on Raspberry Pi OS install it with `sudo apt install python3-picamera2` "
    "and create the virtual environment with --system-site-packages (see README, 'Cameras')"
)
# picamera2 present but failing as it loads: apt's modules built for bookworm's numpy 1 beside the venv's
# numpy 2 ("numpy.dtype size changed", a ValueError; or an AttributeError, an ImportError from a compiled
# module), a damaged install. The cause, in front of this, is for the log.
UNLOADABLE_HINT = (
    "a module it imports does not fit this virtual environment or is damaged: install the project's "
    "requirements into the venv (`.venv/bin/pip install -e '.[pi]'`; scripts/install-device on an appliance), "
    "whose numpy and simplejpeg come before apt's, and reinstall picamera2 with "
    "`sudo apt install --reinstall python3-picamera2` (see README, 'Cameras')"
)


def _picamera2() -> Any:
    """The ``picamera2`` module. Not installed, or installed but failing as it loads (any exception:
    a compiled module's ValueError or AttributeError was the nurse's "the camera reported a fault,
    check its cable"), it is a camera not set up right on this device, its remedy in the message."""
    try:
        return importlib.import_module("picamera2")
    except Exception as error:
        if isinstance(error, ModuleNotFoundError) and error.name == "picamera2":
            raise CameraMisconfigured(INSTALL_HINT) from None
        cause = f"{type(error).__name__}: {error}"
        raise CameraMisconfigured(f"picamera2 is installed but does not load ({cause}): {UNLOADABLE_HINT}") from error


def to_rgb(array: np.ndarray, pixel_format: str) -> np.ndarray:
    """A contiguous R,G,B uint8 copy of a picamera2 array in ``pixel_format``."""
    if pixel_format not in PIXEL_ORDER:
        known = sorted(PIXEL_ORDER)
        raise CameraError(f"picamera2: unsupported pixel format {pixel_format!r} (known: {known})", UNSUPPORTED_FORMAT)
    channels = 4 if pixel_format.startswith("X") else 3
    if array.ndim != 3 or array.shape[2] != channels or array.dtype != np.uint8:
        raise CameraError(
            f"picamera2: a {pixel_format} frame should be HxWx{channels} uint8, got {array.shape}", UNSUPPORTED_FORMAT
        )
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
        module = _picamera2()
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
        self._make_configurations({})
        try:
            self._picam.configure(self._preview_config)
            self._picam.start()
        except PICAMERA2_ERRORS as error:
            raise CameraError(f"picamera2: camera {self._camera_num} could not start its preview: {error}") from error

    def _make_configurations(self, controls: dict[str, Any]) -> None:
        """Both modes, each starting with ``controls`` (the manual ones, or none: automatic)."""
        self._preview_config = self._picam.create_preview_configuration(
            main={"size": (self._preview_size.width, self._preview_size.height), "format": PREVIEW_FORMAT},
            controls=controls,
        )
        still_main: dict[str, Any] = {"format": STILL_FORMAT}
        if not self._still_size.is_full_resolution:
            still_main["size"] = (self._still_size.width, self._still_size.height)
        self._still_config = self._picam.create_still_configuration(main=still_main, buffer_count=2, controls=controls)

    def _release_device(self) -> None:
        picam, self._picam = self._picam, None
        if picam is None:
            return
        try:
            picam.cancel_all_and_flush()  # no queued job left to run on a camera being let go
            picam.close()  # stops the camera first if it is running
        except Exception as error:
            log_event("camera.close_failed", backend=self.name, error=error)

    def _opened(self) -> Any:
        if self._picam is None:
            raise CameraError("picamera2: not open (use it as `with camera:`)")
        return self._picam

    def _wait(self, job: Any, what: str) -> Any:
        """The job's result; its failure as a ``CameraError`` saying what was being done."""
        try:
            return job.get_result(timeout=self._timeout)
        except TimeoutError:
            self._picam.cancel_all_and_flush()  # else every later job would queue behind this one
            raise CameraStalled(
                f"picamera2: {what}: no frame from camera {self._camera_num} within {self._timeout:g} s"
            ) from None
        except PICAMERA2_ERRORS as error:
            raise CameraError(f"picamera2: {what}: {type(error).__name__}: {error}") from error

    def _frame(self, pixel_format: str, what: str) -> Frame:
        array = self._wait(self._opened().capture_array("main", wait=False), what)
        frame = Frame(pixels=to_rgb(array, pixel_format), source=f"picamera2:{self._camera_num}:{self.model}")
        return self._delivered(frame, what, still=pixel_format == STILL_FORMAT)

    def preview_frames(self) -> Iterator[Frame]:
        while True:
            yield self._frame(PREVIEW_FORMAT, "preview")

    def capture_burst(self, count: int) -> list[Frame]:
        picam = self._opened()
        try:
            self._wait(picam.switch_mode(self._still_config, wait=False), "switch to still mode")
            stills = [self._frame(STILL_FORMAT, f"still {i + 1} of {count}") for i in range(count)]
        except CameraError:
            self._try_back_to_preview()
            raise
        self._wait(picam.switch_mode(self._preview_config, wait=False), "switch back to preview")
        return stills

    def _try_back_to_preview(self) -> None:
        """After a failed burst: back to preview if the camera can; the burst's failure is the one
        reported (it names the step that failed), this one is only logged."""
        try:
            self._wait(self._opened().switch_mode(self._preview_config, wait=False), "switch back to preview")
        except CameraError as error:
            log_event("camera.switch_back_failed", backend=self.name, error=error)

    def set_controls(self, controls: Controls) -> Controls:
        """Set what the sensor advertises, within its limits; a value out of range is refused.

        The controls are sent to the running preview and written into both configurations, so every
        later start (a still burst, the switch back) begins with them.
        """
        picam = self._opened()
        wanted, applied = manual_controls(controls, picam.camera_controls, self.model)
        self._make_configurations(wanted)
        if wanted:
            picam.set_controls(wanted)
            log_event("camera.controls", backend=self.name, **wanted)
        return applied


def manual_controls(
    controls: Controls, available: dict[str, tuple[Any, Any, Any]], model: str
) -> tuple[dict[str, Any], Controls]:
    """The libcamera controls for ``controls`` on a camera advertising ``available``, and what of
    ``controls`` they apply (a control the camera lacks is logged and left out)."""
    wanted: dict[str, Any] = {}
    applied: dict[str, float] = {}
    for field, control, _mode, _manual in _MANUAL_CONTROLS:
        value = getattr(controls, field)
        if value is None:
            continue
        if control not in available:
            log_event("camera.control_unsupported", backend="picamera2", control=control, model=model)
            continue
        low, high, _default = available[control]
        if (low is not None and value < low) or (high is not None and value > high):
            raise CameraError(
                f"picamera2: {control} {value} is outside this camera's range [{low}, {high}]",
                "camera.control_out_of_range",
            )
        wanted[control] = value
        applied[field] = value
    return wanted | _manual_modes(wanted, available), Controls(**applied)  # type: ignore[arg-type]


def _manual_modes(wanted: dict[str, Any], available: dict[str, tuple[Any, Any, Any]]) -> dict[str, Any]:
    """The switches that make the sensor obey the values in ``wanted``, and leave the rest automatic.

    libcamera 0.5 has a mode per control (ExposureTimeMode, AnalogueGainMode) and ignores AeEnable.
    Before it, AeEnable=False froze exposure time and gain together, whereas a fixed ExposureTime (or
    AnalogueGain) alone is kept while the other stays automatic: so AeEnable only when both are set.
    """
    modes: dict[str, Any] = {}
    for _field, control, mode, manual in _MANUAL_CONTROLS:
        if control in wanted and mode in available:
            modes[mode] = manual
    per_control = "ExposureTimeMode" in available or "AnalogueGainMode" in available
    if not per_control and {"ExposureTime", "AnalogueGain"} <= wanted.keys() and "AeEnable" in available:
        modes["AeEnable"] = False
    return modes
