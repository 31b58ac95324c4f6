"""Cost of the quality gate per frame, as a ratio to decoding that frame's JPEG, in one run.

At the Raspberry Pi HQ camera's sizes (640x480 preview, 2028x1520 binned, 4056x3040 full), for a
fundus frame (a real retina, scikit-image's, on the black surround a fundus camera gives) and a
dermoscopy frame (a rendered lesion, ``tests/lesion_renderer.py``), it times decoding the frame's
JPEG (quality 90), the preview check and the full check (medians), and prints check / decode.
Aim: the full check costs less than decoding the frame it checks.

    python bench/quality_speed.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inference import _median_ms
from firmware_app.capture.frame import Frame
from firmware_app.config import QualityConfig
from firmware_app.quality.gate import QualityGate, Speed
from tests.lesion_renderer import render_lesion

SIZES = ((640, 480), (2028, 1520), (4056, 3040))


def _fundus_frame(width: int, height: int) -> np.ndarray:
    from skimage import data

    retina = data.retina()
    side = height
    frame = np.zeros((height, width, 3), np.uint8)
    left = (width - side) // 2
    frame[:, left : left + side] = cv2.resize(retina, (side, side), interpolation=cv2.INTER_AREA)
    return frame


def _dermoscopy_frame(width: int, height: int) -> np.ndarray:
    return cv2.resize(render_lesion(1014, 760, seed=5, hairs=4).rgb, (width, height), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    gate = QualityGate(QualityConfig())
    cv2.setNumThreads(1)
    print("one thread; medians of", args.repeats, "runs")
    header = ("modality", "size", "decode ms", "preview ms", "full ms", "preview/dec", "full/dec")
    print("{:<11} {:>10} {:>10} {:>11} {:>8} {:>12} {:>9}".format(*header))
    for modality, make in (("fundus", _fundus_frame), ("dermoscopy", _dermoscopy_frame)):
        for width, height in SIZES:
            rgb = make(width, height)
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            assert ok
            frame = Frame(cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB), "bench")
            decode = _median_ms(lambda jpeg=jpeg: cv2.imdecode(jpeg, cv2.IMREAD_COLOR), args.repeats)
            preview = _median_ms(lambda f=frame, m=modality: gate.check(f, m, Speed.PREVIEW), args.repeats)
            full = _median_ms(lambda f=frame, m=modality: gate.check(f, m, Speed.FULL), args.repeats)
            print(
                f"{modality:<11} {f'{width}x{height}':>10} {decode:>10.1f} {preview:>11.1f} {full:>8.1f} "
                f"{preview / decode:>12.2f} {full / decode:>9.2f}"
            )


if __name__ == "__main__":
    main()
