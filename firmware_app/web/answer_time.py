"""How long the nurse's screen waits for the app's answer, and the camera loop for the camera, worked out
once from the configuration.

The longest answer the app gives in its own time is the shutter's: the camera's allowance for the
burst (``burst_allowance_s``), then the burst's full quality check. The page (htmx's timeout, set in
base.html) waits that and a margin before it tells the nurse the device did not answer: a fixed
minute cut a long camera allowance short (``frame_timeout`` up to 60 s, ``burst`` up to 30 frames:
31 minutes) and told her "no answer" while the camera was still taking the burst.

The camera loop promises its watchdog a next beat within ``camera_step_s``: the burst's allowance or
the camera's opening with its retries. A fixed minute took a long but working burst for a hang, and
systemd restarted the app in the middle of it.
"""

from __future__ import annotations

from firmware_app.config import CameraConfig

# How long a screen waits for the camera to hand over a burst beyond its frames' own timeouts,
# before it says the camera failed.
BURST_MARGIN_S = 10.0
# The page's wait beyond the burst: the burst's full quality check, or "Use this photo" (the model's
# inference and the recording: 46 ms on the development machine, bench/app.py, median of 5; in run 7
# of README's table the shutter's and Use's work took 148 and 37 ms in the app), some times that on a
# Pi, either behind the records thread's full readiness scans (270 ms at 5,000 screenings, README).
# Thirty seconds never cuts one short (she would be told a photo being recorded may not be), and with
# the default camera (28 s for the burst) she is still told within a minute.
ANSWER_MARGIN_S = 30.0


def burst_allowance_s(camera: CameraConfig) -> float:
    """The longest the shutter waits for its burst: a frame timeout for each frame and one for the
    preview frame being read when it is asked for, and the margin."""
    return camera.frame_timeout * (camera.burst + 1) + BURST_MARGIN_S


def answer_timeout_ms(camera: CameraConfig) -> int:
    """How long the page waits for an answer to one of its requests before it says none came."""
    return round((burst_allowance_s(camera) + ANSWER_MARGIN_S) * 1000)


def opening_s(camera: CameraConfig) -> float:
    """The longest the camera may take to open: each attempt and the first preview frame wait up to a
    frame timeout, and the pauses between attempts double from ``open_backoff``."""
    pauses = camera.open_backoff * (2 ** (camera.open_attempts - 1) - 1)
    return camera.frame_timeout * (camera.open_attempts + 1) + pauses


def camera_step_s(camera: CameraConfig) -> float:
    """The longest one step of the camera loop may take (its watchdog's promise): a burst and the
    preview frame after it, or opening the camera."""
    return max(burst_allowance_s(camera), opening_s(camera))
