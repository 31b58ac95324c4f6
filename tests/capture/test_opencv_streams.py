"""The OpenCV backend on a live MJPEG stream that goes silent.

The stream is a real HTTP server in this process (``multipart/x-mixed-replace`` JPEG frames, as an
IP camera or a capture bridge sends them), read by the real OpenCV/FFmpeg. Releasing a capture while
a read on it is blocked crashed the whole process, so the reopening is done in a child process and
its exit status asserted: a crash there fails the test instead of taking pytest down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from tests.conftest import PROJECT_ROOT

FRAME_TIMEOUT_S = 0.3


def noisy_jpegs(rgb: np.ndarray, count: int, size: tuple[int, int] = (160, 120)) -> list[bytes]:
    """``count`` JPEGs of the photo, each with its own sensor noise (no two alike, as a live camera)."""
    rng = np.random.default_rng(0)
    base = cv2.cvtColor(cv2.resize(rgb, size), cv2.COLOR_RGB2BGR).astype(np.int16)
    frames = [np.clip(base + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(count)]
    return [cv2.imencode(".jpg", frame)[1].tobytes() for frame in frames]


def stream_server(jpegs: list[bytes], stop: threading.Event) -> ThreadingHTTPServer:
    """Each connection gets ``jpegs`` as an MJPEG stream, then silence (the socket held open) until ``stop``."""

    class Stream(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for jpeg in jpegs:
                header = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                self.wfile.write(header + jpeg + b"\r\n")
                self.wfile.flush()
                if stop.wait(0.02):
                    return
            stop.wait()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture()
def streams(retina_rgb) -> Iterator[tuple[str, str]]:
    """Two loopback cameras: one that streams a few frames per connection then stalls, one that never sends."""
    stop = threading.Event()
    stalling, silent = stream_server(noisy_jpegs(retina_rgb, 8), stop), stream_server([], stop)
    yield tuple(f"http://127.0.0.1:{server.server_address[1]}/" for server in (stalling, silent))
    stop.set()
    for server in (stalling, silent):
        server.shutdown()
        server.server_close()


# Opens each camera a few times as the nurse's Retry does, reading until it stalls; then waits for the
# threads left on stalled reads to end. Prints what it saw as JSON.
CHILD = """
import json, os, sys, threading, time
from firmware_app.capture.camera import CameraError, CameraSettings, Size
from firmware_app.capture.opencv_camera import OpenCVCamera

def fds():
    return len(os.listdir("/proc/self/fd"))

stalling, silent, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
before, seen = fds(), []
for url in [stalling] * 3 + [silent] * 2:
    frames = 0
    try:
        with OpenCVCamera(0, url, CameraSettings(Size(160, 120), Size(0, 0), timeout)) as camera:
            for _ in camera.preview_frames():
                frames += 1
    except CameraError as error:
        seen.append({"frames": frames, "error": str(error), "threads": threading.active_count()})
deadline = time.monotonic() + 8
while threading.active_count() > 1 and time.monotonic() < deadline:
    time.sleep(0.1)
print(json.dumps({"seen": seen, "threads_after": threading.active_count(), "fds": [before, fds()]}))
"""


def test_a_stream_that_stalls_is_an_error_to_retry_never_a_crash_and_leaves_nothing_behind(streams):
    stalling, silent = streams
    child = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", CHILD, stalling, silent, str(FRAME_TIMEOUT_S)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert child.returncode == 0, child.stderr[-2000:]
    result = json.loads(child.stdout)
    seen = result["seen"]
    assert [entry["frames"] for entry in seen[:3]] == [8, 8, 8]  # each reopening streams again
    # One wording, with the configured timeout, whether the reads blocked or the open did.
    assert {entry["error"] for entry in seen} == {
        f"opencv: preview: no frame from {stalling} within 0.3 s",
        f"opencv: opening: no answer from {silent} within 0.3 s",
    }
    # At most one thread per capture given up on, and each ends (its capture released) soon after.
    assert all(entry["threads"] <= 1 + number for number, entry in enumerate(seen, start=1))
    assert result["threads_after"] == 1
    before, after = result["fds"]
    assert after == before
