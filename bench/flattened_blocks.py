"""Whether the gate reads a photo's flat blocks as JPEG compression only when compression made them.

Per source of ``../shared/data`` (``--images`` graded photos each, spread evenly), the photos as
they are, their copies at JPEG quality 15, 8 and 4 (``tests/degradations.jpeg``), and copies made
flat another way: defocused or smeared (strength 2) and darkened (``underexpose``, strengths 1 and 2),
and darkened alone; and darkened (strength 1), then saved at JPEG quality 8 and 4, whose block borders
fade with the light. For each: the range of ``blockiness`` (how much the 8x8 block borders show) and
the share of the copies the gate refuses, and the share it gives the reason ``compressed``.
``measures.FLATTENED_BLOCKS_FROM`` is set between the borders of the copies made flat another way
and the JPEG copies': beside ``blurred`` or ``too_dark``, blocks flat without borders are the
focus's or the light's, and the nurse is told to focus or add light, not to change the camera's JPEG
quality (``gate``).

    .venv/bin/python bench/flattened_blocks.py [--images 60] [--source NAME]...
"""

from __future__ import annotations

import argparse

import numpy as np
from quality_data import SOURCES

from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import read_frame
from firmware_app.config import Config
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.measures import FLATTENED_BLOCKS_FROM
from tests.degradations import defocus, jpeg, motion, underexpose

VARIANTS = {
    "as graded": lambda rgb: rgb,
    "JPEG quality 15": lambda rgb: jpeg(rgb, 1),
    "JPEG quality 8": lambda rgb: jpeg(rgb, 2),
    "JPEG quality 4": lambda rgb: jpeg(rgb, 3),
    "defocused, darkened 1": lambda rgb: underexpose(defocus(rgb, 2), 1),
    "defocused, darkened 2": lambda rgb: underexpose(defocus(rgb, 2), 2),
    "smeared, darkened 2": lambda rgb: underexpose(motion(rgb, 2), 2),
    "darkened 2": lambda rgb: underexpose(rgb, 2),
    "darkened 1, JPEG 8": lambda rgb: jpeg(underexpose(rgb, 1), 2),
    "darkened 1, JPEG 4": lambda rgb: jpeg(underexpose(rgb, 1), 3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=60, help="graded photos per source")
    parser.add_argument("--source", action="append", help="only these sources (default: every one present)")
    args = parser.parse_args()
    gate = QualityGate(Config().quality)
    print(f"flat blocks count as compression from blockiness {FLATTENED_BLOCKS_FROM}")
    print(f"{'source':<15} {'copies':<22} {'photos':>6} {'blockiness min-max':>19} {'refused':>8} {'compressed':>11}")
    for source in SOURCES:
        if (args.source and source.name not in args.source) or not source.available():
            continue
        readings: dict[str, list[tuple[float, bool, bool]]] = {name: [] for name in VARIANTS}
        for path, _, _ in source.photos(args.images):
            rgb = read_frame(path).pixels
            for name, make in VARIANTS.items():
                report = gate.check(Frame(make(rgb), source=name), source.modality)
                # A frame refused before its measures (no field of view) has no blockiness.
                said = "compressed" in report.reasons
                readings[name].append((report.measures.get("blockiness", np.nan), not report.passed, said))
        for name, values in readings.items():
            borders = np.array([value for value, _, _ in values])
            refused, compressed = (np.mean([reading[column] for reading in values]) for column in (1, 2))
            print(
                f"{source.name:<15} {name:<22} {len(values):>6} {np.nanmin(borders):>9.2f}-{np.nanmax(borders):<9.2f} "
                f"{refused:>7.0%} {compressed:>10.0%}"
            )


if __name__ == "__main__":
    main()
