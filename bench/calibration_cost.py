"""What calibrating one frame costs, at a preview's sizes and a full-resolution still's, in one run.

Each size in a fresh process: a child imports the calibration, makes a frame, notes its peak resident
memory (Linux's VmHWM) and its resident memory (VmRSS), applies ``bench/capture.py``'s representative
full profile (flat field, colour matrix, lens undistortion) once, drops the result, and reports how
much the peak grew over the frame (the work's transient copies) and how much stays resident (what is
kept for the next frame of that size: the gain map, the undistortion maps); then the median time of
five more calibrations of that frame (OpenCV's default threads). A still is what a burst's frames are
calibrated at before the full check, so its peak is what a device must have free.

``--tree`` measures another checkout's code (for instance a clone of an earlier commit).

    .venv/bin/python bench/calibration_cost.py [--tree PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SIZES = ((640, 480), (1280, 960), (2028, 1520), (4056, 3040))

_CHILD = """
import json, statistics, sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import numpy as np
from capture import PROFILE
from firmware_app.calibration.apply import correct_pixels

def status_mb(key):
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith(key + ":")).split()[1]) / 1024

width, height = int(sys.argv[2]), int(sys.argv[3])
frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
peak, resident = status_mb("VmHWM"), status_mb("VmRSS")
correct_pixels(PROFILE, frame)
grown, kept = status_mb("VmHWM") - max(peak, resident), status_mb("VmRSS") - resident
times = []
for _ in range(5):
    started = time.perf_counter()
    correct_pixels(PROFILE, frame)
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps({"frame_mb": frame.nbytes / 2**20, "peak_mb": grown, "kept_mb": kept, "ms": statistics.median(times)}))
"""


def _measure(tree: Path, width: int, height: int) -> dict[str, float]:
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), str(width), str(height)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    return json.loads(run.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=PROJECT_ROOT, help="the checkout whose code is measured")
    tree = parser.parse_args().tree.resolve()
    print(f"calibration with a full profile, one frame each in a fresh process; code: {tree}")
    print(f"{'frame':>10} {'frame MB':>9} {'peak growth MB':>15} {'kept MB':>8} {'ms':>7}")
    for width, height in SIZES:
        result = _measure(tree, width, height)
        print(
            f"{width:>5}x{height:<4} {result['frame_mb']:9.1f} {result['peak_mb']:15.1f} {result['kept_mb']:8.1f}"
            f" {result['ms']:7.1f}"
        )


if __name__ == "__main__":
    main()
