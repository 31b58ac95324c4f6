"""Real underexposures: graded photos darkened by whole stops of light, and what the gate says.

``bench/generalisation.py``'s underexposure (``tests/degradations.py``) multiplies the photo's 8-bit
levels, which are sRGB-encoded: times 0.45, 0.25 and 0.12 there are about 2.5, 4.4 and 6.7 stops of
light. A camera that gets less light loses it in linear light, before its tone curve. Here each
graded photo (``--images`` spread over each source of ``../shared/data``) is taken to linear light
(``firmware_app.colour``), divided by 2 per stop, and encoded back; the gate's full check judges it
with the default limits. Printed per source and stops (0: the photos as they are): the share
refused for too little light (``too_dark`` among the reasons), refused for something else only,
passed with the nurse told it is too dark (``usable``, ``too_dark`` named), and passed without a
word on the light. How dim a gradable capture gets: APTOS's dimmest graded photo has the
brightest thousandth of its field at 0.32, where a burnt-out disc lands with about three and a half
stops less light.

    .venv/bin/python bench/exposure_stops.py [--images 20] [--source NAME]... [--stops 1 2 3 4]
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
from quality_data import SOURCES, Source

from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import read_frame
from firmware_app.colour import linear_to_srgb8, srgb8_to_linear
from firmware_app.config import Config
from firmware_app.events import setup_logging
from firmware_app.quality.gate import QualityGate

OUTCOMES = ("refused, too dark", "refused, other", "told too dark", "passed")


def darkened(rgb: np.ndarray, stops: int) -> np.ndarray:
    """``rgb`` as the camera would have recorded it with ``stops`` fewer stops of light."""
    return rgb if stops == 0 else linear_to_srgb8(srgb8_to_linear(rgb) * 2.0**-stops)


def outcome(gate: QualityGate, rgb: np.ndarray, modality: str) -> str:
    report = gate.check(Frame(rgb, "darkened"), modality)
    too_dark = "too_dark" in report.reasons
    if not report.passed:
        return OUTCOMES[0] if too_dark else OUTCOMES[1]
    return OUTCOMES[2] if too_dark else OUTCOMES[3]


def measure(gate: QualityGate, source: Source, images: int, stops: list[int]) -> None:
    counts = {stop: Counter() for stop in stops}
    photos = source.photos(images)
    for path, _, _ in photos:
        rgb = read_frame(path).pixels
        for stop in stops:
            counts[stop][outcome(gate, darkened(rgb, stop), source.modality)] += 1
    for stop in stops:
        shares = "  ".join(f"{100 * counts[stop][name] / len(photos):5.1f}%" for name in OUTCOMES)
        print(f"{source.name:15s} {len(photos):6d} {stop:5d}  {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20, help="graded photos per source, spread evenly")
    parser.add_argument("--source", action="append", choices=[s.name for s in SOURCES], help="repeatable")
    parser.add_argument("--stops", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    setup_logging("warning")
    gate = QualityGate(Config().quality)
    print(f"{'source':15s} {'photos':>6s} {'stops':>5s}  " + "  ".join(f"{name:>6s}" for name in OUTCOMES))
    for source in SOURCES:
        if (args.source and source.name not in args.source) or not source.available():
            continue
        measure(gate, source, args.images, args.stops)


if __name__ == "__main__":
    main()
