"""``edgescreen capture``: aim with a live preview, take a burst, screen its best frame.

While the nurse aims, every preview frame is calibrated and judged by the quality gate's cheap
preview check, and what to do about it is shown each time it changes (not on every frame, which
would scroll faster than anyone reads). Enter takes the burst; without a terminal (a script, a
test, a kiosk feeding the command) ``auto`` takes it as soon as a preview frame passes, or after a
set number of preview frames. The burst then goes through the ordinary recording pipeline
(``ScreeningPipeline.screen_burst``): the full quality check picks the best frame, which is triaged
and recorded exactly like ``edgescreen screen`` would.

Nothing here waits forever: each camera frame has the camera's own deadline (``CameraStalled``), and
the whole aiming phase has ``timeout_s``. A ``stop`` set while aiming (SIGTERM, Ctrl-C:
``service/termination``) ends it at the next preview frame, the camera closed and nothing taken; once
the burst is taken it is the photo in hand, screened and recorded.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from firmware_app.capture.camera import Camera, Controls
from firmware_app.capture.frame import Frame
from firmware_app.events import log_event
from firmware_app.messages import message
from firmware_app.pipeline import ScreeningPipeline, ScreeningResult
from firmware_app.quality.gate import QualityGate, Speed
from firmware_app.quality.verdict import QualityReport
from firmware_app.records.screening import ScreeningContext
from firmware_app.report import quality_line
from firmware_app.wording import seconds


class CaptureTimedOut(RuntimeError):
    """No burst was taken before the aiming phase's deadline."""


class CaptureStopped(RuntimeError):
    """The command was asked to stop (SIGTERM, Ctrl-C) while aiming: no burst was taken."""


@dataclass(frozen=True)
class CaptureOptions:
    modality: str
    language: str
    burst: int
    # Take the burst without Enter: at the first passing preview frame, or after ``max_preview_frames``.
    auto: bool
    max_preview_frames: int = 30
    timeout_s: float = 120.0


class EnterKey:
    """Whether Enter was pressed, read on a daemon thread so that the preview keeps running.

    The thread blocks in ``readline``; it is a daemon, so an unanswered prompt never holds up exit.
    """

    def __init__(self, stream: TextIO) -> None:
        self._pressed = threading.Event()
        threading.Thread(target=self._read, args=(stream,), name="enter-key", daemon=True).start()

    def _read(self, stream: TextIO) -> None:
        if stream.readline():  # "" is end of input: never a press
            self._pressed.set()

    def __call__(self) -> bool:
        return self._pressed.is_set()


def preview_check(pipeline: ScreeningPipeline, gate: QualityGate, modality: str) -> Callable[[Frame], QualityReport]:
    """The preview check on the frame as the calibrated camera sees it, as the full check will."""
    return lambda frame: gate.check(pipeline.calibrate(frame), modality, Speed.PREVIEW)


def aim(
    camera: Camera,
    check: Callable[[Frame], QualityReport],
    options: CaptureOptions,
    pressed: Callable[[], bool],
    show: Callable[[str], None],
    stop: threading.Event | None = None,
) -> QualityReport:
    """Stream preview frames until the burst should be taken; the last preview report is returned.
    ``CaptureStopped`` once ``stop`` is set, before the next frame is judged."""
    deadline = time.monotonic() + options.timeout_s
    shown = None
    for count, frame in enumerate(camera.preview_frames(), start=1):
        if stop is not None and stop.is_set():
            raise CaptureStopped(f"stopped while aiming, after {count - 1} preview frame(s)")
        report = check(frame)
        line = quality_line(report, options.language)
        if line != shown:
            log_event("capture.preview", frame=count, verdict=report.verdict.value, reasons=",".join(report.reasons))
            show(line)
            shown = line
        if pressed() or (options.auto and (report.passed or count >= options.max_preview_frames)):
            log_event("capture.triggered", frame=count, auto=options.auto, preview_passed=report.passed)
            return report
        if time.monotonic() > deadline:
            text = message("capture.timed_out", options.language)
            raise CaptureTimedOut(text.format(seconds=seconds(options.timeout_s, options.language)))
    raise AssertionError("a camera's preview stream does not end")


def capture_and_screen(
    camera: Camera,
    controls: Controls,
    pipeline: ScreeningPipeline,
    gate: QualityGate,
    options: CaptureOptions,
    context: ScreeningContext | None = None,
    stdin: TextIO = sys.stdin,
    show: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    stop: threading.Event | None = None,
) -> ScreeningResult:
    """Aim, take the burst and screen it; the camera is closed before the (slower) screening.

    Raises ``CameraError`` when the camera cannot deliver, ``CaptureTimedOut`` when nobody took
    the photos in time and ``CaptureStopped`` when ``stop`` was set while aiming; all three leave
    nothing recorded.
    """
    pressed = (lambda: False) if options.auto else EnterKey(stdin)
    with camera:
        camera.set_controls(controls)
        if not options.auto:
            show(message("capture.aim", options.language))
        aim(camera, preview_check(pipeline, gate, options.modality), options, pressed, show, stop)
        show(message("capture.taking", options.language))
        burst = camera.capture_burst(options.burst)
    log_event("capture.burst", frames=len(burst), modality=options.modality)
    return pipeline.screen_burst(burst, options.modality, context)
