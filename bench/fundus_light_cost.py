"""What the fundus gate's two light measures cost, alone, beside the whole full check, in one run.

``highlights`` (underexposure) and ``light_gradient`` (uneven light), ``firmware_app.quality.fundus``,
on the field as the gate measures it (a real retina, scikit-image's, 256 pixels across, its circle
as the lit field; the brightest channel is the gate's already), against the full fundus check of
the same retina at its own 1411 pixels: medians in milliseconds, one thread, and the measures'
share of the check.

    .venv/bin/python bench/fundus_light_cost.py [--repeats 2000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inference import _median_ms
from firmware_app.capture.frame import Frame
from firmware_app.config import QualityConfig
from firmware_app.quality import fundus, measures
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.resample import SLACK, shrink


def main() -> None:
    from skimage import data

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    retina = data.retina()
    gate = QualityGate(QualityConfig())
    square = shrink(retina, gate.config.fundus.field_size, SLACK)
    field = fundus._radius_map(square.shape[0]) < fundus._FIELD_RADIUS  # the circle the gate measures
    brightest = measures.brightest_channel(square)
    timings = {
        "highlights": _median_ms(lambda: fundus.highlights(brightest, field), args.repeats),
        "light_gradient": _median_ms(
            lambda: fundus.light_gradient(fundus.light_bands(cv2.extractChannel(square, 0), field)), args.repeats
        ),
        "full check": _median_ms(lambda: gate.check(Frame(retina, "bench"), "fundus"), max(1, args.repeats // 50)),
    }
    print(f"one thread; medians of {args.repeats} runs (the full check: {max(1, args.repeats // 50)})")
    for name, ms in timings.items():
        print(f"{name:<15} {ms:7.3f} ms  {ms / timings['full check']:6.1%} of the full check")


if __name__ == "__main__":
    main()
