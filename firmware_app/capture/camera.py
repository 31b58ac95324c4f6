"""The ``Camera`` contract every backend keeps, and the lifecycle they share.

A camera left open by a crashed run is "in use" for the next one, and a nurse cannot fix that: so a
camera is only ever used as a context manager and is closed on the way out whatever happened.
``edgescreen capture``, the command that holds one for as long as the nurse aims, has SIGTERM,
SIGHUP and Ctrl-C stop it between two frames (``service/termination``, ``capture_flow.aim``), which
leaves through that ``with``; the camera installs no signal handler of its own. Every wait for a
frame has a deadline: a camera that stops delivering raises ``CameraStalled`` instead of freezing the
device, and one that repeats its last picture raises ``CameraFrozen`` instead of passing it off as a
new photo.
"""

from __future__ import annotations

import atexit
import hashlib
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, NoReturn, Self, TypeVar

import numpy as np

from firmware_app.capture.frame import Frame
from firmware_app.events import log_event
from firmware_app.messages import sentence

T = TypeVar("T")
D = TypeVar("D")


# A frame the backend cannot turn into RGB (a pixel type or layout it does not know): the same
# failure whichever backend meets it.
UNSUPPORTED_FORMAT = "camera.unsupported_format"

# The spread of levels a flat frame keeps through a camera's JPEG (a white frame decodes to 253-255):
# a frame within it holds no picture, so its repeating is no sign of a frozen camera.
_FLAT_SPREAD = 8


class CameraError(RuntimeError):
    """The camera cannot deliver. Its message says what a technician should check (a device path, a
    driver's words: English, for the log); ``sentence`` says what happened in the nurse's language,
    the catalogue's ``key`` filled with ``values``. A kind of failure has its key (``camera.failed``
    and the subclasses'), and a raise that knows more names a closer one."""

    key = "camera.failed"

    def __init__(self, detail: str, key: str | None = None, **values: int | str) -> None:
        super().__init__(detail)
        self.key = key or type(self).key
        self.values = values

    def sentence(self, language: str) -> str:
        """What happened, in ``language``; with a ``count``, in its singular or plural form."""
        return sentence(self.key, language, **self.values)

    @classmethod
    def of(cls, error: Exception) -> CameraError:
        """``error`` as a camera failure: itself, or any other fault of a driver or a backend as
        ``camera.failed``, its type and words kept in the message for the log."""
        if isinstance(error, CameraError):
            return error
        return CameraError(f"the camera failed unexpectedly: {type(error).__name__}: {error}")


class CameraUnavailable(CameraError):
    """No such camera, its package is not installed or does not load, or it stayed busy after every retry."""

    key = "camera.unavailable"


class CameraMisconfigured(CameraUnavailable):
    """The camera as configured cannot be opened whatever its cable: a folder or file that is not
    there, a package not installed or that fails as it loads. The fix is in the configuration or the install."""

    key = "camera.misconfigured"


class CameraBusy(CameraUnavailable):
    """The camera exists but could not be acquired now (another process, a driver still settling)."""

    key = "camera.busy"


class CameraStalled(CameraError):
    """The camera was open but delivered no frame before the deadline."""

    key = "camera.stalled"


class CameraFrozen(CameraStalled):
    """The camera delivered the very picture it delivered before, byte for byte: its sensor has
    stopped and something on the way (a capture bridge, a driver) repeats its last buffer."""

    key = "camera.frozen"


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


class Camera(ABC):
    """A source of RGB ``Frame`` values: a live preview stream, and still bursts at full resolution.

    Use it as ``with camera: ...``: entering opens and configures it (with retries), leaving closes
    it, also after an exception, a Ctrl-C or at interpreter exit.
    """

    name: str = "camera"

    def __init__(self, settings: CameraSettings) -> None:
        self._open = False
        self.settings = settings
        self.model = "unknown"
        self._last_digest: bytes | None = None

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
        self._last_digest = None
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

    def _delivered(self, frame: Frame, what: str, still: bool) -> Frame:
        """``frame``, remembered; a still byte-identical to the frame before it is refused.

        A live sensor never gives the same bytes twice (its noise changes every frame), while a bridge
        that repeats its last buffer when the sensor drops would file the previous patient's eye under
        this one. Only stills are refused: a dark preview can legitimately compress to the same bytes.
        A frame of one flat level (a cap left on, the light burnt out; ``_FLAT_SPREAD``) holds no
        picture to repeat: the quality gate tells the nurse its light. Backends replaying files (which repeat by design)
        do not call this.
        """
        pixels = np.ascontiguousarray(frame.pixels)
        hashed = hashlib.blake2b(str(pixels.shape).encode(), digest_size=16)
        hashed.update(memoryview(pixels))
        repeated, self._last_digest = hashed.digest() == self._last_digest, hashed.digest()
        if still and repeated and int(pixels.max()) - int(pixels.min()) > _FLAT_SPREAD:
            raise CameraFrozen(
                f"{self.name}: {what}: the camera sent the same picture again: it has stopped; check it and retry"
            )
        return frame

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


class DeviceThread(Generic[D]):
    """The one thread that opens a device, makes every call on it and releases it.

    A driver stuck in a read cannot be interrupted, and OpenCV's ``VideoCapture`` crashes the whole
    process (the nurse's app with it) when it is released while a read on it is in progress. So the
    device never leaves this thread: callers hand it calls and wait for each with a deadline. A call
    that misses its deadline abandons the device to the thread, which releases it when (if ever) that
    call returns, and later calls fail at once with the same ``CameraStalled``: one stuck thread per
    abandoned device at most, never a second thread on it, never a release during a read.
    """

    def __init__(self, release: Callable[[D], None], name: str) -> None:
        self._release = release
        self._device: D | None = None  # only ever touched on the thread
        self._jobs: queue.SimpleQueue[tuple[Future[object], Callable[[], object]] | None] = queue.SimpleQueue()
        self._stalled: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def open(self, open_device: Callable[[], D], timeout_s: float, stalled_message: str) -> None:
        """Create the device on the thread: one created after its deadline is released there too."""

        def keep() -> None:
            self._device = open_device()

        self._submit(keep, timeout_s, stalled_message)

    def call(self, function: Callable[[D], T], timeout_s: float, stalled_message: str) -> T:
        """``function(device)`` on the thread; ``CameraStalled(stalled_message)`` if it misses the deadline."""

        def on_device() -> T:
            if self._device is None:
                raise CameraError("the camera is not open")
            return function(self._device)

        return self._submit(on_device, timeout_s, stalled_message)

    def close(self, timeout_s: float) -> None:
        """Release the device on its thread; wait for that, unless the thread is stuck in a call."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        if self._stalled is None:
            self._thread.join(timeout_s)

    def _submit(self, function: Callable[[], T], timeout_s: float, stalled_message: str) -> T:
        if self._stalled is not None:
            raise CameraStalled(self._stalled)
        if self._closed:
            raise CameraError("the camera is closed")
        job: Future[object] = Future()
        self._jobs.put((job, function))
        if not wait([job], timeout_s).done:
            self._abandon(job, stalled_message)
        return job.result()  # type: ignore[return-value]

    def _abandon(self, job: Future[object], stalled_message: str) -> NoReturn:
        """Give the device up: the thread releases it once the stuck call returns."""
        job.cancel()  # not started yet: it never will be
        self._stalled = stalled_message
        self._closed = True
        self._jobs.put(None)
        raise CameraStalled(stalled_message)

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, function = item
            if not job.set_running_or_notify_cancel():
                continue
            try:
                job.set_result(function())
            except BaseException as error:
                job.set_exception(error)
        self._let_go()

    def _let_go(self) -> None:
        device, self._device = self._device, None
        if device is None:
            return
        try:
            self._release(device)
        except Exception as error:
            log_event("camera.close_failed", thread=self._thread.name, error=error)
