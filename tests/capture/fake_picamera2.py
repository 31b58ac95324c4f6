"""A stand-in for the ``picamera2`` package, the one fake the test suite allows.

It mirrors the parts of picamera2's API that EdgeScreen may touch, with picamera2's own signatures,
defaults and failure modes: ``Picamera2(camera_num)`` raising ``RuntimeError`` for a missing or
already-acquired camera, configurations as dicts, ``capture_array``/``switch_mode`` returning jobs
when ``wait=False`` (``job.get_result(timeout)`` raising ``TimeoutError``), pixel formats with
libcamera's byte order (XRGB8888 -> B,G,R,X; RGB888 -> B,G,R), ``camera_controls`` as
``name: (min, max, default)`` and ``set_controls`` refusing controls the sensor does not advertise.

What a real sensor would see is set through the ``fake_*`` class attributes (never part of
picamera2): the scene, how many frames it delivers before it stops, and a file where ``close``
is recorded so a test in another process can see it.
"""

# picamera2's own signatures have mutable defaults (main={}); mirrored as they are.
# ruff: noqa: B006

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

FAKE_CLOSE_LOG_ENV = "FAKE_PICAMERA2_CLOSE_LOG"
_FORMAT_ORDER = {"XRGB8888": (2, 1, 0), "XBGR8888": (0, 1, 2), "RGB888": (2, 1, 0), "BGR888": (0, 1, 2)}
CAMERA_MODULE_3 = {
    "ExposureTime": (26, 220417486, 20000),
    "AnalogueGain": (1.0, 16.0, 1.0),
    "AeEnable": (False, True, True),
    "AfMode": (0, 2, 0),
    "LensPosition": (0.0, 15.0, 1.0),
}
HQ_CAMERA = {k: v for k, v in CAMERA_MODULE_3.items() if k not in ("AfMode", "LensPosition")}


class Job:
    """picamera2.job.Job: the result of an operation handed to the camera's event loop."""

    def __init__(self) -> None:
        self._future: Future[Any] = Future()
        self._future.set_running_or_notify_cancel()

    def get_result(self, timeout: float | None = None) -> Any:
        return self._future.result(timeout=timeout)


class Picamera2:
    fake_cameras: ClassVar[list[dict[str, Any]]] = [{"Model": "imx708", "Location": 2, "Rotation": 180, "Id": "i2c@1a"}]
    fake_controls: ClassVar[dict[str, tuple[Any, Any, Any]]] = CAMERA_MODULE_3
    fake_scene: ClassVar[np.ndarray] = np.zeros((480, 640, 3), np.uint8)
    fake_sensor_resolution: ClassVar[tuple[int, int]] = (4608, 2592)
    # Frames delivered (over the camera's life) before the sensor goes silent; None: never.
    fake_stall_after: ClassVar[int | None] = None
    # A live sensor's noise: no two frames are byte-identical. False: a bridge repeating its last buffer.
    fake_noise: ClassVar[bool] = True
    _acquired: ClassVar[set[int]] = set()
    _lock = threading.Lock()

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        return [dict(info) for info in Picamera2.fake_cameras]

    def __init__(self, camera_num: int = 0, verbose_console: Any = None, tuning: Any = None) -> None:
        with Picamera2._lock:
            if camera_num >= len(Picamera2.fake_cameras) or camera_num in Picamera2._acquired:
                # picamera2 logs the cause (not found / "Device or resource busy") and raises this.
                raise RuntimeError("Camera __init__ sequence did not complete.")
            Picamera2._acquired.add(camera_num)
        self.camera_idx = camera_num
        self.is_open = True
        self.started = False
        self.camera_config: dict[str, Any] | None = None
        self.sensor_resolution = Picamera2.fake_sensor_resolution
        self.controls_set: dict[str, Any] = {}
        self._frames = 0
        model = Picamera2.fake_cameras[camera_num]["Model"]
        self._properties = {"Model": model, "PixelArraySize": self.sensor_resolution}

    @property
    def camera_properties(self) -> dict[str, Any]:
        return dict(self._properties) if self.is_open else {}

    @property
    def camera_controls(self) -> dict[str, tuple[Any, Any, Any]]:
        return dict(Picamera2.fake_controls)

    def __enter__(self) -> Picamera2:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _stream(defaults: dict[str, Any], updates: dict[str, Any] | None) -> dict[str, Any] | None:
        if updates is None:
            return None
        for key in updates:
            if key not in ("format", "size"):
                raise ValueError(f"Bad key {key!r}: valid stream configuration keys are ('format', 'size')")
        return defaults | updates

    def _configuration(self, use_case: str, main: dict[str, Any], default_main: dict[str, Any], **rest: Any) -> dict:
        if not self.is_open:
            raise RuntimeError("Camera not opened")
        return {"use_case": use_case, "main": self._stream(default_main, main), **rest}

    # fmt: off
    def create_preview_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                 buffer_count=4, controls={}, display="main", encode="main", queue=True) -> dict:
    # fmt: on
        default = {"format": "XBGR8888", "size": (640, 480)}
        return self._configuration("preview", main, default, lores=lores, buffer_count=buffer_count, controls=controls)

    # fmt: off
    def create_still_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                 buffer_count=1, controls={}, display=None, encode=None, queue=True) -> dict:
    # fmt: on
        default = {"format": "BGR888", "size": self.sensor_resolution}
        return self._configuration("still", main, default, lores=lores, buffer_count=buffer_count, controls=controls)

    def configure(self, camera_config: dict | None = None) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        main = camera_config["main"] if camera_config else {"format": "XBGR8888", "size": (640, 480)}
        if main["format"] not in _FORMAT_ORDER:
            raise RuntimeError(f"Bad format {main['format']} in stream main")
        size = main["size"]
        if type(size) is not tuple or len(size) != 2:
            raise RuntimeError("size in main stream should be (width, height)")
        if size[0] % 2 or size[1] % 2:
            raise RuntimeError("width and height should be even")
        self.camera_config = camera_config

    def start(self, config: dict | None = None, show_preview: bool = False) -> None:
        if config is not None:
            self.configure(config)
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        if not self.is_open:
            return
        self.stop()
        with Picamera2._lock:
            Picamera2._acquired.discard(self.camera_idx)
        self.is_open = False
        log = os.environ.get(FAKE_CLOSE_LOG_ENV)
        if log:
            with Path(log).open("a") as handle:
                handle.write(f"closed {self.camera_idx}\n")

    def set_controls(self, controls: dict[str, Any]) -> None:
        for name in controls:
            if name not in Picamera2.fake_controls:
                raise RuntimeError(f"Control {name} is not advertised by libcamera")
        self.controls_set.update(controls)

    def _sensor_delivers(self) -> bool:
        stall = Picamera2.fake_stall_after
        return self.started and (stall is None or self._frames < stall)

    def _dispatch(self, operation: Any, wait: bool | None, signal_function: Any) -> Any:
        """Like picamera2's dispatch_functions: the job completes only when a frame arrives."""
        if wait is None:
            wait = signal_function is None
        job = Job()
        if self._sensor_delivers():
            self._frames += 1
            job._future.set_result(operation())
        return job.get_result() if wait else job

    def _array(self, name: str) -> np.ndarray:
        if name != "main":
            raise KeyError(name)
        main = self.camera_config["main"]  # type: ignore[index]
        width, height = main["size"]
        rgb = cv2.resize(Picamera2.fake_scene, (width, height), interpolation=cv2.INTER_AREA)
        ordered = rgb[..., list(_FORMAT_ORDER[main["format"]])]
        if main["format"].startswith("X"):
            ordered = np.dstack([ordered, np.full((height, width), 255, np.uint8)])
        ordered = np.ascontiguousarray(ordered)
        if Picamera2.fake_noise:
            ordered[0, 0, 0] ^= self._frames & 1  # the least noise there is: one bit of one pixel
        return ordered

    def capture_array(self, name: str = "main", wait: bool | None = None, signal_function: Any = None) -> Any:
        return self._dispatch(lambda: self._array(name), wait, signal_function)

    def switch_mode(self, camera_config: dict, wait: bool | None = None, signal_function: Any = None) -> Any:
        def switch() -> dict:
            self.stop()
            self.configure(camera_config)
            self.start()
            return camera_config

        return self._dispatch(switch, wait, signal_function)

    def switch_mode_and_capture_array(
        self, camera_config: dict, name: str = "main", wait: bool | None = None, signal_function: Any = None
    ) -> Any:
        previous = self.camera_config

        def switch_capture_and_back() -> np.ndarray:
            self.stop()
            self.configure(camera_config)
            self.start()
            array = self._array(name)
            self.stop()
            self.configure(previous)
            self.start()
            return array

        return self._dispatch(switch_capture_and_back, wait, signal_function)

    def wait(self, job: Job, timeout: float | None = None) -> Any:
        return job.get_result(timeout)
