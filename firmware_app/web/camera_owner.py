"""The one thread that owns the camera, and the lease that decides which screen may use it.

A camera has one user at a time and a driver that blocks: so a single thread opens it, reads every
preview frame, judges it with the preview quality check, encodes it as JPEG and publishes frame and
verdict together (the page's live picture and its guidance are about the same frame). Bursts are
taken by the same thread, between two preview frames.

A capture screen claims a lease; a second screen asking while the lease is alive is told the camera
is in use, and nothing else happens. A lease lives while its screen keeps reading the stream, so a
closed tab frees the camera a few seconds later; with no lease the camera is closed. A lease is its
session's: the same session claiming again (the page reloaded, its language switched, back to it)
takes it over at once, before the old page's hand-back has arrived; the old page's token stops holding.
The stream of the lease taken over publishes no more frames and takes no burst the new screen asks
for (its camera was opened with the old screen's modality and controls): that burst waits for the
camera opened afresh for the new lease.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import queue
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import cv2

from firmware_app.app import profile_misfit
from firmware_app.calibration.profile import ProfileError
from firmware_app.capture.camera import Camera, CameraError, Controls
from firmware_app.capture.frame import Frame
from firmware_app.config import CameraConfig
from firmware_app.events import log_event
from firmware_app.health.heartbeat import Heartbeat
from firmware_app.quality.verdict import QualityReport
from firmware_app.web.answer_time import camera_step_s

PREVIEW_JPEG_QUALITY = 80
# The default camera's longest step (every wait for a frame has its own timeout, so a step always ends).
DEFAULT_STEP_S = camera_step_s(CameraConfig())
MAX_PREVIEW_FPS = 30.0


@dataclass(frozen=True)
class PreviewFrame:
    """One published frame and what was judged on it: its preview quality report while capturing,
    or the code read from it while scanning a patient's reference."""

    seq: int
    jpeg: bytes
    report: QualityReport | None = None
    code: str | None = None


@dataclass
class _Lease:
    token: str
    modality: str
    seen: float
    scanning: bool = False
    # The session whose screen holds the camera: its own next screen takes the lease over.
    owner: str | None = None


class CameraOwner:
    def __init__(
        self,
        open_camera: Callable[[str], tuple[Camera, Controls]],
        preview_check: Callable[[str], Callable[[Frame], QualityReport]],
        read_code: Callable[[Frame], str | None],
        lease_timeout_s: float = 4.0,
        step_s: float = DEFAULT_STEP_S,
    ) -> None:
        """``step_s``: the longest one step of this thread may take with the configured camera
        (``camera_step_s``), promised to its heartbeat at every step."""
        self._open_camera = open_camera
        self._preview_check = preview_check
        self._read_code = read_code
        self._lease_timeout = lease_timeout_s
        self._step_s = step_s
        self._lock = threading.Lock()
        self._lease: _Lease | None = None
        self._bursts: queue.Queue[tuple[str, int, Future[list[Frame]]]] = queue.Queue()
        self._wake = threading.Event()
        # Cuts short the pause between preview frames: a burst is taken as soon as it is asked for.
        self._burst_asked = threading.Event()
        self._stopping = threading.Event()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._streaming = False
        # Frame numbers run on across leases and reopenings, so a page never mistakes a new frame for one seen.
        self._sequence = itertools.count(1)
        self.latest: PreviewFrame | None = None
        # The last failure, kept whole: a camera set up wrong is told apart from one that stopped answering.
        self.error: CameraError | None = None
        self._thread = threading.Thread(target=self._run, name="camera-owner", daemon=True)
        self.heartbeat = Heartbeat("camera loop")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the camera and end the thread (the app's shutdown)."""
        self._stopping.set()
        self._wake.set()
        self._burst_asked.set()
        self._thread.join(15)

    # The lease -------------------------------------------------------------------------------
    def _live(self) -> _Lease | None:
        lease = self._lease
        if lease and time.monotonic() - lease.seen > self._lease_timeout:
            log_event("camera.lease_expired")
            self._lease = lease = None
        return lease

    def claim(self, modality: str, scanning: bool = False, owner: str | None = None) -> str | None:
        """A lease token for a capture (or, ``scanning``, a code-reading) screen of session ``owner``;
        ``None`` while another session's screen holds the camera. The owner's own lease is replaced
        at once: its old screen is gone (reloaded, left) or, in a second tab, loses the camera."""
        with self._lock:
            held = self._live()
            if held is not None and (owner is None or held.owner != owner):
                return None
            if held is not None:
                log_event("camera.lease_taken_over")
            lease = _Lease(secrets.token_urlsafe(16), modality, time.monotonic(), scanning, owner)
            self._lease = lease
            self.latest = None
        self._wake.set()
        return lease.token

    def holds(self, token: str) -> bool:
        with self._lock:
            lease = self._live()
            return lease is not None and secrets.compare_digest(lease.token, token)

    def touch(self, token: str) -> None:
        with self._lock:
            if self._lease and secrets.compare_digest(self._lease.token, token):
                self._lease.seen = time.monotonic()

    def release(self, token: str) -> None:
        with self._lock:
            if self._lease and secrets.compare_digest(self._lease.token, token):
                self._lease = None
        self._wake.set()

    def release_owned(self, owner: str) -> None:
        """Free the camera if ``owner``'s screen holds it: the session is locked or signed out, and
        its page's own hand-back would be refused (it is no longer a signed-in session's)."""
        with self._lock:
            if self._lease and self._lease.owner == owner:
                self._lease = None
        self._wake.set()

    @property
    def in_use(self) -> bool:
        with self._lock:
            return self._live() is not None

    def retry(self) -> None:
        """Forget the last camera failure: the next lease opens the camera again."""
        self.error = None
        self._wake.set()

    # What a page waits on ----------------------------------------------------------------------
    def subscribe(self) -> asyncio.Event:
        """An event set (on the caller's loop) whenever a frame or an error is published."""
        event = asyncio.Event()
        with self._lock:
            self._subscribers.add((asyncio.get_running_loop(), event))
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._lock:
            self._subscribers = {entry for entry in self._subscribers if entry[1] is not event}

    def _publish(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, event in subscribers:
            loop.call_soon_threadsafe(event.set)

    # Work done by the owner thread -------------------------------------------------------------
    def take_burst(self, token: str, count: int, timeout_s: float) -> list[Frame]:
        """A burst from the streaming camera (blocking: call it from a worker thread)."""
        if not self.holds(token):
            raise _screen_lost()
        done: Future[list[Frame]] = Future()
        self._bursts.put((token, count, done))
        self._wake.set()
        self._burst_asked.set()
        return done.result(timeout_s)

    def probe(self, modality: str) -> bool:
        """Open the camera and read one frame; ``False`` (nothing touched) when a screen holds it.

        A camera lost by the screen holding it is a failure, not "in use": the readiness list and the
        banner must say the same. Once a probe reads a frame again, the camera is back and the banner goes.
        """
        if self.error is not None and self.in_use:
            raise self._failure()
        if self.in_use or self._streaming:
            return False
        camera, _ = self._open_camera(modality)
        with camera:
            frame = next(iter(camera.preview_frames()))
        try:  # the frame as the capture screen will judge it: a profile that does not fit it is red now
            self._preview_check(modality)(frame)
        except ProfileError as error:
            raise profile_misfit(error) from None
        self.error = None
        return True

    def _failure(self) -> CameraError:
        """A fresh copy of the last failure, of its kind: one exception raised from several threads
        would have its traceback and context rewritten by each."""
        assert self.error is not None
        return copy.copy(self.error)  # its kind, message, key and values; no traceback

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.heartbeat.beat(self._step_s)
            with self._lock:
                lease = self._live()
            if lease is None or self.error is not None:
                self._fail_waiting_bursts("the camera is not streaming")
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            try:
                self._stream(lease)
            except Exception as error:  # whatever it is, this thread must live on to recover at retry()
                self.error = as_camera_error(error)
                if self.error is error:
                    log_event("camera.lost", error=error)
                else:  # a fault in a driver or in this code, not a camera that stopped: where it happened
                    log_event("camera.owner_failed", level=logging.ERROR, error=self.error, at=_raised_at(error))
                self._publish()
            finally:
                self._streaming = False

    def _stream(self, lease: _Lease) -> None:
        camera, controls = self._open_camera(lease.modality)
        check = None if lease.scanning else self._preview_check(lease.modality)
        with camera:
            camera.set_controls(controls)
            self._streaming = True
            next_due = time.monotonic()
            for frame in camera.preview_frames():
                self.heartbeat.beat(self._step_s)
                if self._stopping.is_set() or not self.holds(lease.token):
                    return  # a lease taken over opens the camera afresh for its screen, as any new one
                if not self._take_bursts(camera, lease):
                    return
                bgr = cv2.cvtColor(frame.pixels, cv2.COLOR_RGB2BGR)
                _, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_JPEG_QUALITY])
                seq = next(self._sequence)
                if check is None:
                    shown = PreviewFrame(seq, jpeg.tobytes(), code=self._read_code(frame))
                else:
                    shown = PreviewFrame(seq, jpeg.tobytes(), report=check(frame))
                with self._lock:  # taken over meanwhile: the new screen starts from no frame, not this one
                    if not self._streams(lease):
                        return
                    self.latest = shown
                self._publish()
                next_due = max(next_due + 1 / MAX_PREVIEW_FPS, time.monotonic())
                self._burst_asked.wait(max(0.0, next_due - time.monotonic()))
                self._burst_asked.clear()

    def _streams(self, lease: _Lease) -> bool:
        """Whether ``lease`` is still the live one (call with the lock held): a claim may take it over
        between any two steps of the stream."""
        current = self._live()
        return current is not None and current.token == lease.token

    def _take_bursts(self, camera: Camera, lease: _Lease) -> bool:
        """Take the bursts asked for by the screen of ``lease``, the one this camera was opened for
        (its modality, its controls); ``False`` once another lease has taken it over, whose own burst
        is left waiting for the camera opened afresh for it."""
        while True:
            try:
                asked = self._bursts.get_nowait()
            except queue.Empty:
                return True
            token, count, done = asked
            with self._lock:
                ours = self._streams(lease)
                current = self._lease
                live = current is not None and secrets.compare_digest(current.token, token)
            if ours and live:
                self._burst(camera, count, done)
            elif live:  # the screen that took the lease over: its burst on its own camera, never this one
                self._bursts.put(asked)
                return False
            else:  # asked by a screen whose lease was taken over: never another screen's photo
                done.set_exception(_screen_lost())

    @staticmethod
    def _burst(camera: Camera, count: int, done: Future[list[Frame]]) -> None:
        """Take the burst; a failure is the waiting page's (as a camera error) and then the stream's."""
        try:
            done.set_result(camera.capture_burst(count))
        except Exception as error:
            done.set_exception(as_camera_error(error))
            raise

    def _fail_waiting_bursts(self, why: str) -> None:
        while not self._bursts.empty():
            _, _, done = self._bursts.get_nowait()
            done.set_exception(self._failure() if self.error else CameraError(why))


def _screen_lost() -> CameraError:
    """A burst asked for by a screen that no longer holds the camera: another screen took it over."""
    return CameraError("the capture screen lost the camera; open it again", "camera.taken_over")


def _raised_at(error: BaseException) -> str:
    """``file:line`` where ``error`` was raised (the log's events are one line each, no traceback)."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"


def as_camera_error(error: Exception) -> CameraError:
    """``error`` as the nurse's camera failure: any fault of a driver or a backend is one (the page
    says the camera failed and offers a retry), and the log keeps the original."""
    if isinstance(error, ProfileError):
        return profile_misfit(error)
    return CameraError.of(error)
