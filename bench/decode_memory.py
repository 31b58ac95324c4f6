"""Peak memory of reading one photo file (``read_frame``), in one run, each file in a fresh process.

The files: the hostile test's 16-bit RGBA PNG of 6300x6300 (about 300 KB on disk), a JPEG of the
same size, and a Raspberry Pi HQ camera still (4056x3040 JPEG). For each, a child process imports
the reader, notes its peak resident memory (Linux's VmHWM), reads the file, and reports how much the
peak grew, the frame it got (or the refusal), and the growth as a ratio to the frame's own bytes.

    python bench/decode_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.capture.large_images import write_blank_rgba16_png  # noqa: E402

_CHILD = """
import json, sys
from pathlib import Path
from firmware_app.capture.image_file import ImageError, read_frame

def peak_mb():  # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024

before = peak_mb()
try:
    frame = read_frame(Path(sys.argv[1]))
    outcome, frame_mb = f"{frame.width}x{frame.height} frame", frame.pixels.nbytes / 2**20
except ImageError as error:
    outcome, frame_mb = f"refused: {error.reason[:60]}...", 0.0
print(json.dumps({"growth_mb": peak_mb() - before, "outcome": outcome, "frame_mb": frame_mb}))
"""


def _jpeg(path: Path, width: int, height: int) -> Path:
    """A photo-like JPEG (a real retina, scaled) of the given size."""
    from skimage import data

    pixels = cv2.resize(data.retina(), (width, height), interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(0).integers(0, 8, pixels.shape, np.uint8)
    assert cv2.imwrite(str(path), cv2.cvtColor(pixels + noise, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def _measure(path: Path) -> dict[str, float | str]:
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(run.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = {
            "16-bit RGBA PNG 6300x6300": write_blank_rgba16_png(Path(folder) / "bomb.png", 6300),
            "JPEG 6300x6300": _jpeg(Path(folder) / "large.jpg", 6300, 6300),
            "JPEG 4056x3040 (HQ camera)": _jpeg(Path(folder) / "hq.jpg", 4056, 3040),
        }
        print(f"{'file':28} {'on disk':>9} {'peak growth':>12} {'/ frame':>8}  outcome")
        for name, path in files.items():
            result = _measure(path)
            growth, frame_mb = float(result["growth_mb"]), float(result["frame_mb"])
            ratio = f"{growth / frame_mb:7.2f}x" if frame_mb else "      -"
            disk_mb = path.stat().st_size / 2**20
            print(f"{name:28} {disk_mb:7.1f}MB {growth:10.1f}MB {ratio}  {result['outcome']}")


if __name__ == "__main__":
    main()
