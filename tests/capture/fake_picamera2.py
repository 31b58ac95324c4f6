"""A stand-in for the ``picamera2`` package (0.3.38), the one fake the test suite allows.

It mirrors the parts of picamera2's API that EdgeScreen touches, with picamera2's own signatures,
defaults and failure modes:

- ``Picamera2(camera_num, verbose_console, tuning, allocator)`` raising ``RuntimeError`` for a
  missing or already-acquired camera;
- configurations as dicts whose sizes are rounded down to even numbers (``align_stream(main,
  optimal=False)``), stream keys checked, and ``controls`` that picamera2 applies at every start;
- every capture and mode switch is a ``Job`` in one queue run in order, each waiting for a frame
  when it needs one: a job the sensor never completes stays queued ahead of every later job until
  ``cancel_all_and_flush``, and ``stop``/``close`` behind it would wait for ever;
- an error inside a job (a failed configure, buffers that cannot be allocated) is kept on the job
  and raised by ``job.get_result``, never by the call that queued it;
- ``set_controls`` only queues values: they reach the sensor with the next request recycled after a
  frame, and a configure replaces what is queued by the configuration's own ``controls``;
- ``camera_controls`` as ``name: (min, max, default)`` (libcamera 0.5's table by default, with
  ``ExposureTimeMode``/``AnalogueGainMode``), controls it does not advertise refused;
- pixel formats with libcamera's byte order (XRGB8888 -> B,G,R,X; RGB888 -> B,G,R).

What a real sensor would do is set through the ``fake_*`` attributes (never part of picamera2): the
scene, how many frames it delivers before it stops, use cases whose buffers the CMA cannot hold, a
file where ``close`` is recorded so a test in another process can see it; and read back through
``fake_frames`` (the use case and the controls in force for each frame delivered) and
``fake_sensor_controls`` (in force now) of ``fake_last_opened``.
"""

# picamera2's own signatures have mutable defaults (main={}); mirrored as they are.
# ruff: noqa: B006

from __future__ import annotations

import os
import sys
import threading
import types
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

if TYPE_CHECKING:
    import pytest

FAKE_CLOSE_LOG_ENV = "FAKE_PICAMERA2_CLOSE_LOG"
_FORMAT_ORDER = {"XRGB8888": (2, 1, 0), "XBGR8888": (0, 1, 2), "RGB888": (2, 1, 0), "BGR888": (0, 1, 2)}
_STREAM_KEYS = ("format", "size", "stride", "preserve_ar")
# libcamera 0.5 (picamera2 >= 0.3.27): exposure and gain each have their own auto/manual mode.
CAMERA_MODULE_3 = {
    "ExposureTime": (26, 220417486, 20000),
    "ExposureTimeMode": (0, 1, 0),
    "AnalogueGain": (1.0, 16.0, 1.0),
    "AnalogueGainMode": (0, 1, 0),
    "AeEnable": (False, True, True),
    "AfMode": (0, 2, 0),
    "LensPosition": (0.0, 15.0, 1.0),
}
# Before libcamera 0.5: AeEnable alone switches the automatic exposure (time and gain together).
CAMERA_MODULE_3_LIBCAMERA_0_4 = {k: v for k, v in CAMERA_MODULE_3.items() if not k.endswith("Mode") or k == "AfMode"}
HQ_CAMERA = {k: v for k, v in CAMERA_MODULE_3.items() if k not in ("AfMode", "LensPosition")}

Step = Callable[[], tuple[bool, Any]]


class Job:
    """picamera2.job.Job: steps run by the camera's event loop, each retried until it is done."""

    def __init__(self, functions: list[Step], signal_function: Any = None) -> None:
        self._functions = functions
        self._future: Future[Any] = Future()
        self._future.set_running_or_notify_cancel()
        self._signal_function = signal_function
        self._result: Any = None

    def execute(self) -> bool:
        try:
            while self._functions:
                done, result = self._functions[0]()
                if not done:
                    break
                self._functions.pop(0)
            if not self._functions:
                self._result = result
        except Exception as error:
            self._future.set_exception(error)
            self._functions = []
        return not self._functions

    def signal(self) -> None:
        if not self._future.done():
            self._future.set_result(self._result)
        if self._signal_function:
            self._signal_function(self)

    def get_result(self, timeout: float | None = None) -> Any:
        return self._future.result(timeout=timeout)

    def cancel(self) -> None:
        self._future.set_exception(CancelledError())


class Picamera2:
    fake_cameras: ClassVar[list[dict[str, Any]]] = [
        {"Model": "imx708", "Location": 2, "Rotation": 180, "Id": "i2c@1a", "Num": 0}
    ]
    fake_controls: ClassVar[dict[str, tuple[Any, Any, Any]]] = CAMERA_MODULE_3
    fake_scene: ClassVar[np.ndarray] = np.zeros((480, 640, 3), np.uint8)
    fake_sensor_resolution: ClassVar[tuple[int, int]] = (4608, 2592)
    # Frames delivered (over the camera's life) before the sensor goes silent; None: never.
    fake_stall_after: ClassVar[int | None] = None
    # Use cases ("still", ...) whose buffers the CMA cannot hold: configuring one fails as DmaAllocator does.
    fake_unallocatable: ClassVar[frozenset[str]] = frozenset()
    # The camera opened last, for a test to read what its sensor did.
    fake_last_opened: ClassVar[Picamera2 | None] = None
    # A live sensor's noise: no two frames are byte-identical. False: a bridge repeating its last buffer.
    fake_noise: ClassVar[bool] = True
    _acquired: ClassVar[set[int]] = set()
    _lock = threading.Lock()

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        return [dict(info) for info in Picamera2.fake_cameras]

    def __init__(self, camera_num: int = 0, verbose_console: Any = None, tuning: Any = None, allocator: Any = None):
        self.is_open = False
        if camera_num >= len(Picamera2.fake_cameras):
            raise RuntimeError(f'No camera number {camera_num} found - use "rpicam-hello --list-cameras" to check')
        with Picamera2._lock:
            if camera_num in Picamera2._acquired:
                # picamera2 logs the cause ("Device or resource busy") and raises this.
                raise RuntimeError("Camera __init__ sequence did not complete.")
            Picamera2._acquired.add(camera_num)
        self.camera_idx = camera_num
        self.is_open = True
        self.started = False
        self.camera_config: dict[str, Any] = {}
        self.sensor_resolution = Picamera2.fake_sensor_resolution
        self.controls: dict[str, Any] = {}  # queued for the next request (picamera2's Controls)
        self.fake_sensor_controls: dict[str, Any] = {}
        self.fake_frames: list[tuple[str, dict[str, Any]]] = []
        self._job_list: list[Job] = []
        model = Picamera2.fake_cameras[camera_num]["Model"]
        self._properties = {"Model": model, "PixelArraySize": self.sensor_resolution}
        Picamera2.fake_last_opened = self

    @property
    def camera_properties(self) -> dict[str, Any]:
        return dict(self._properties) if self.is_open else {}

    @property
    def camera_controls(self) -> dict[str, tuple[Any, Any, Any]]:
        return dict(Picamera2.fake_controls) if self.is_open else {}

    def __enter__(self) -> Picamera2:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Configurations ------------------------------------------------------------------------------
    @staticmethod
    def _make_initial_stream_config(stream_config: dict, updates: dict | None) -> dict | None:
        if updates is None:
            return None
        for key, value in updates.items():
            if key not in _STREAM_KEYS:
                raise ValueError(f"Bad key {key!r}: valid stream configuration keys are {_STREAM_KEYS}")
            stream_config[key] = value
        return stream_config

    @staticmethod
    def align_stream(stream_config: dict, optimal: bool = True) -> None:
        align = 32 if optimal else 2  # the fake is a Pi 5 or later only when asked to be optimal
        size = stream_config["size"]
        stream_config["size"] = (size[0] - size[0] % align, size[1] - size[1] % 2)

    def _configuration(self, main: dict, default_main: dict, lores: dict | None, **rest: Any) -> dict:
        if not self.is_open:
            raise RuntimeError("Camera not opened")
        main = self._make_initial_stream_config(default_main | {"preserve_ar": True}, main)
        self.align_stream(main, optimal=False)
        lores = self._make_initial_stream_config({"format": "YUV420", "size": main["size"]}, lores)
        if lores is not None:
            self.align_stream(lores, optimal=False)
        display, encode = rest.pop("display"), rest.pop("encode")
        config = {"main": main, "lores": lores, **rest}
        for role, stream in (("Display", display), ("Encode", encode)):
            if stream is not None and config.get(stream) is None:
                raise RuntimeError(f"{role} stream {stream} was not defined")
        return config | {"display": display, "encode": encode}

    # fmt: off
    def create_preview_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                                     buffer_count=4, controls={}, display="main", encode="main", queue=True,
                                     sensor={}, use_case="preview") -> dict:
        return self._configuration(main, {"format": "XBGR8888", "size": (640, 480)}, lores, raw=raw,
                                   transform=transform, colour_space=colour_space, buffer_count=buffer_count,
                                   controls=controls, display=display, encode=encode, queue=queue,
                                   sensor=sensor, use_case=use_case)

    def create_still_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                                   buffer_count=1, controls={}, display=None, encode=None, queue=True,
                                   sensor={}, use_case="still") -> dict:
        return self._configuration(main, {"format": "BGR888", "size": self.sensor_resolution}, lores, raw=raw,
                                   transform=transform, colour_space=colour_space, buffer_count=buffer_count,
                                   controls=controls, display=display, encode=encode, queue=queue,
                                   sensor=sensor, use_case=use_case)
    # fmt: on

    @staticmethod
    def _check_main(main: dict) -> None:
        if main["format"] not in _FORMAT_ORDER:
            raise RuntimeError(f"Bad format {main['format']} in stream main")
        size = main["size"]
        if type(size) is not tuple or len(size) != 2:
            raise RuntimeError("size in main stream should be (width, height)")
        if size[0] % 2 or size[1] % 2:
            raise RuntimeError("width and height should be even")

    def _check_controls(self, controls: dict[str, Any]) -> None:
        for name in controls:
            if name not in Picamera2.fake_controls:
                raise RuntimeError(f"Control {name} is not advertised by libcamera")

    def configure_(self, camera_config: dict) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        camera_config = dict(camera_config)
        self.camera_config = {}
        self._check_main(camera_config["main"])
        if camera_config.get("use_case") in Picamera2.fake_unallocatable:
            raise RuntimeError("failed to allocate capture buffers for stream 0")
        self._check_controls(camera_config["controls"])
        self.camera_config = camera_config
        self.controls = dict(camera_config["controls"])  # what was queued is replaced

    def configure(self, camera_config: dict | None = None) -> None:
        self.configure_(camera_config if camera_config is not None else self.create_preview_configuration())

    def start_(self) -> None:
        if not self.camera_config:
            raise RuntimeError("Camera has not been configured")
        if self.started:
            return
        self.fake_sensor_controls, self.controls = self.controls, {}
        self.started = True

    def start(self, config: dict | None = None, show_preview: bool = False) -> None:
        if not self.camera_config and config is None:
            config = self.create_preview_configuration()
        if config is not None:
            self.configure(config)
        self.start_()

    def stop_(self) -> tuple[bool, None]:
        self.started = False
        return (True, None)

    def stop(self) -> None:
        """With its event loop running, picamera2 queues the stop behind every job and waits for ever."""
        if not self.started:
            return
        if self._job_list:
            raise AssertionError(f"fake picamera2: stop() would wait for ever behind {len(self._job_list)} job(s)")
        self.stop_()

    def close(self) -> None:
        """As picamera2's: the preview's event loop is stopped first, so the stop does not wait behind
        queued jobs (they are left undone)."""
        if not self.is_open:
            return
        self._job_list.clear()
        self.stop_()
        with Picamera2._lock:
            Picamera2._acquired.discard(self.camera_idx)
        self.is_open = False
        self.camera_config = {}
        log = os.environ.get(FAKE_CLOSE_LOG_ENV)
        if log:
            with Path(log).open("a") as handle:
                handle.write(f"closed {self.camera_idx}\n")

    def set_controls(self, controls: dict[str, Any]) -> None:
        """Queued: sent with the next request recycled, so in force from the frame after the next."""
        self._check_controls(controls)
        self.controls.update(controls)

    # The event loop ------------------------------------------------------------------------------
    def _frame_arrives(self) -> bool:
        stall = Picamera2.fake_stall_after
        return self.started and (stall is None or len(self.fake_frames) < stall)

    def _run_jobs(self) -> None:
        """What picamera2's event loop does on each frame: run the queued jobs in order."""
        finished = []
        while self._job_list and self._job_list[0].execute():
            finished.append(self._job_list.pop(0))
        for job in finished:
            job.signal()

    def dispatch_functions(
        self, functions: list[Step], wait: Any, signal_function: Any = None, immediate: bool = False
    ) -> Any:
        if wait is None:
            wait = signal_function is None
        timeout = None if wait is True else wait
        job = Job(functions, signal_function)
        self._job_list.append(job)
        self._run_jobs()
        return job.get_result(timeout=timeout) if wait else job

    def cancel_all_and_flush(self) -> None:
        for job in self._job_list:
            job.cancel()
        self._job_list = []

    def _array(self, name: str) -> np.ndarray:
        if name != "main":
            raise RuntimeError(f"Stream {name!r} is not defined")
        main = self.camera_config["main"]
        width, height = main["size"]
        rgb = cv2.resize(Picamera2.fake_scene, (width, height), interpolation=cv2.INTER_AREA)
        ordered = rgb[..., list(_FORMAT_ORDER[main["format"]])]
        if main["format"].startswith("X"):
            ordered = np.dstack([ordered, np.full((height, width), 255, np.uint8)])
        ordered = np.ascontiguousarray(ordered)
        if Picamera2.fake_noise:
            ordered[0, 0, 0] ^= len(self.fake_frames) & 1  # the least noise there is: one bit of one pixel
        return ordered

    def capture_array_(self, name: str) -> tuple[bool, Any]:
        """One frame's array; the request is then recycled with the controls queued meanwhile."""
        if not self._frame_arrives():
            return (False, None)
        self.fake_frames.append((self.camera_config["use_case"], dict(self.fake_sensor_controls)))
        array = self._array(name)
        self.fake_sensor_controls |= self.controls
        self.controls = {}
        return (True, array)

    def capture_array(self, name: str = "main", wait: Any = None, signal_function: Any = None) -> Any:
        return self.dispatch_functions([lambda: self.capture_array_(name)], wait, signal_function)

    def switch_mode_(self, camera_config: dict) -> tuple[bool, dict]:
        self.stop_()
        self.configure_(camera_config)
        self.start_()
        return (True, self.camera_config)

    def switch_mode(self, camera_config: dict, wait: Any = None, signal_function: Any = None) -> Any:
        return self.dispatch_functions([lambda: self.switch_mode_(camera_config)], wait, signal_function, True)

    def switch_mode_and_capture_array(
        self, camera_config: dict, name: str = "main", wait: Any = None, signal_function: Any = None, delay: int = 0
    ) -> Any:
        preview_config = self.camera_config
        dropped: list[Any] = []

        def drop_frames_() -> tuple[bool, None]:
            while len(dropped) < delay:
                done, array = self.capture_array_(name)
                if not done:
                    return (False, None)
                dropped.append(array)
            return (True, None)

        def capture_array_and_switch_back_() -> tuple[bool, Any]:
            done, result = self.capture_array_(name)
            if not done:
                return (False, None)
            self.switch_mode_(preview_config)
            return (True, result)

        functions = [lambda: self.switch_mode_(camera_config), drop_frames_, capture_array_and_switch_back_]
        return self.dispatch_functions(functions, wait, signal_function, True)

    def wait(self, job: Job, timeout: float | None = None) -> Any:
        return job.get_result(timeout)


def install(monkeypatch: pytest.MonkeyPatch, scene: np.ndarray) -> type[Picamera2]:
    """The fake as the ``picamera2`` package for one test, showing ``scene``, every camera free."""
    module = types.ModuleType("picamera2")
    module.Picamera2 = Picamera2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    monkeypatch.setattr(Picamera2, "fake_scene", scene)
    monkeypatch.setattr(Picamera2, "fake_stall_after", None)
    monkeypatch.setattr(Picamera2, "fake_unallocatable", frozenset())
    monkeypatch.setattr(Picamera2, "fake_controls", CAMERA_MODULE_3)
    monkeypatch.setattr(Picamera2, "fake_last_opened", None)
    monkeypatch.setattr(Picamera2, "_acquired", set())
    return Picamera2


def write_package(folder: Path, then: str = "") -> Path:
    """``folder`` holding a ``picamera2`` package that is the fake, then runs ``then``: put ``folder``
    first on ``PYTHONPATH`` (with the project) and a real ``edgescreen`` process uses the fake camera."""
    package = folder / "picamera2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"from tests.capture.fake_picamera2 import Picamera2\n{then}")
    return folder


def install_unloadable(monkeypatch: pytest.MonkeyPatch, folder: Path, failure: str) -> None:
    """A ``picamera2`` package in ``folder``, imported for real, that fails as it loads with ``failure`` (a
    raise statement's expression) after the fake is in: as apt's picamera2 fails at its import of a compiled
    module (apt's simplejpeg, built for numpy 1) in a venv whose numpy is 2."""
    write_package(folder, f"raise {failure}\n")
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    monkeypatch.syspath_prepend(str(folder))
