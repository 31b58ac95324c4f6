"""The ``Camera`` contract every backend keeps, and the lifecycle they share.

A camera left open by a crashed run is "in use" for the next one, and a nurse cannot fix that: so a
camera is only ever used as a context manager, is closed on the way out whatever happened, and a
SIGTERM or SIGHUP (systemd stopping the service, a closed terminal) becomes an ordinary exit that
runs the same ``close``. Every wait for a frame has a deadline: a camera that stops delivering
raises ``CameraStalled`` instead of freezing the device.
"""

from __future__ import annotations

import atexit
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Self, TypeVar

from firmware_app.capture.frame import Frame
from firmware_app.events import log_event

T = TypeVar("T")


class CameraError(RuntimeError):
    """The camera cannot deliver; the message says what a technician should check."""


class CameraUnavailable(CameraError):
    """No such camera, its package is not installed, or it stayed busy after every retry."""


class CameraMisconfigured(CameraUnavailable):
    """The camera as configured cannot be opened whatever its cable: a folder or file that is not
    there, a package not installed. The fix is in the configuration or the install."""


class CameraBusy(CameraUnavailable):
    """The camera exists but could not be acquired now (another process, a driver still settling)."""


class CameraStalled(CameraError):
    """The camera was open but delivered no frame before the deadline."""


@dataclass(frozen=True)
class Size:
    width: int
    height: int

    @property
    def is_full_resolution(self) -> bool:
        """0x0 asks for the sensor's full resolution (the files backend: each file's own size)."""
        return self.width == 0 or self.height == 0


@dataclass(frozen=True)
class CameraSettings:
    """What every backend is configured with: frame sizes, and how long to wait and retry."""

    preview: Size = Size(640, 480)
    still: Size = Size(0, 0)
    frame_timeout_s: float = 3.0
    open_attempts: int = 1
    open_backoff_s: float = 0.5


@dataclass(frozen=True)
class Controls:
    """Manual exposure, gain and focus; ``None`` leaves that one automatic."""

    exposure_us: int | None = None
    analogue_gain: float | None = None
    lens_position: float | None = None  # dioptres

    def requested(self) -> dict[str, float]:
        return {name: value for name, value in vars(self).items() if value is not None}


def retry_with_backoff(action: Callable[[], T], attempts: int, first_delay: float, what: str) -> T:
    """Run ``action`` until it stops raising ``CameraBusy``, waiting twice as long before each retry.

    A camera is commonly busy for a moment after boot or after another process let it go; a
    missing camera stays missing and is not retried. After ``attempts`` tries the last error stands.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except CameraBusy as error:
            if attempt == attempts:
                raise
            log_event("camera.retry", what=what, attempt=attempt, wait_s=f"{delay:.2f}", error=error)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _make_termination_an_exit() -> None:
    """Turn SIGTERM/SIGHUP into ``SystemExit`` so ``with`` blocks and ``finally`` clauses run.

    Only where the default (kill without cleanup) is in force and only from the main thread, the one
    place Python allows it; a program that installed its own handler keeps it.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, _exit_on_signal)


class Camera(ABC):
    """A source of RGB ``Frame`` values: a live preview stream, and still bursts at full resolution.

    Use it as ``with camera: ...``: entering opens and configures it (with retries), leaving closes
    it, also after an exception, a Ctrl-C, a SIGTERM or at interpreter exit.
    """

    name: str = "camera"

    def __init__(self, settings: CameraSettings) -> None:
        self._open = False
        self.settings = settings
        self.model = "unknown"

    @abstractmethod
    def _open_device(self) -> None:
        """Acquire and configure the device for preview; raise ``CameraUnavailable`` if impossible."""

    @abstractmethod
    def _release_device(self) -> None:
        """Let the device go; must work on a half-opened device and never raise."""

    @abstractmethod
    def preview_frames(self) -> Iterator[Frame]:
        """Preview frames for as long as the caller iterates; ``CameraStalled`` after a timeout."""

    @abstractmethod
    def capture_burst(self, count: int) -> list[Frame]:
        """``count`` stills at full (or configured still) resolution, then back to preview."""

    @abstractmethod
    def set_controls(self, controls: Controls) -> Controls:
        """Apply what the camera supports; return what was applied (the rest is logged)."""

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        if self._open:
            return
        _make_termination_an_exit()
        atexit.register(self.close)
        try:
            attempts, backoff = self.settings.open_attempts, self.settings.open_backoff_s
            retry_with_backoff(self._open_once, attempts, backoff, self.name)
        except BaseException:
            self.close()
            raise
        self._open = True
        log_event("camera.opened", backend=self.name)

    def _open_once(self) -> None:
        try:
            self._open_device()
        except CameraBusy:
            self._release_device()
            raise

    def close(self) -> None:
        """Idempotent; safe after any failure, including one inside ``open``."""
        atexit.unregister(self.close)
        was_open, self._open = self._open, False
        self._release_device()
        if was_open:
            log_event("camera.closed", backend=self.name)

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def call_with_timeout(function: Callable[[], T], timeout_s: float, what: str) -> T:
    """Run a blocking device call with a deadline; ``CameraStalled`` if it does not return in time.

    The call runs on a daemon thread: a driver stuck in a read cannot be interrupted, but neither
    the device nor the interpreter's exit waits for it, and the caller closes the camera.
    """
    outcome: list[tuple[bool, object]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as error:
            outcome.append((False, error))
        finally:
            done.set()

    threading.Thread(target=run, name="camera-call", daemon=True).start()
    if not done.wait(timeout_s):
        raise CameraStalled(f"{what}: no answer from the camera within {timeout_s:g} s")
    succeeded, value = outcome[0]
    if not succeeded:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]
