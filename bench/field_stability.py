"""Is a fundus photo's field of view found where it is, whatever camera rendered the photo?

Every measure of the fundus gate is read in the field of view (``inference.preprocess``), and the
model is shown the square around it: a field found elsewhere under another camera's tone curve,
white balance or JPEG moves every measure at once, the geometry's (``field_cut``,
``edge_artefact``) above all. For each graded photo of each fundus source the field is found as
the photo is and under each of ``tests/camera_variations.py``'s variations (upside down turns the
field, not its size; a mask at top and bottom is left out: it cuts the field), and the copies whose
field's radius is off the photo's own by ``MOVED`` or more are counted. Printed too, per source:
the photo's black (the level of its darkest percent, brightest channel, 0 to 255) as a share of
its bright level (the 99th percentile), at the median, the 95th percentile and the largest.

    .venv/bin/python bench/field_stability.py [--limit 0] [--source NAME]...
"""

from __future__ import annotations

import argparse
from collections import Counter

import cv2
import numpy as np
from quality_data import SOURCES

from firmware_app.capture.image_file import read_frame
from firmware_app.inference.preprocess import find_field_of_view, locating_factor
from firmware_app.quality.measures import brightest_channel, level_percentile
from firmware_app.quality.resample import halved_by
from tests.camera_variations import VARIATIONS

# A field 2% larger or smaller is about a pixel of a model's 224-pixel crop per side, and more than
# the locating copy's own rounding (0.4% at most on dr-600).
MOVED = 0.02
LEFT_OUT = {"masked top and bottom"}


def black_share(rgb: np.ndarray) -> float:
    """The photo's darkest percent over its 99th percentile, on the copy its field is located on."""
    brightest = cv2.GaussianBlur(brightest_channel(halved_by(rgb, locating_factor(rgb.shape))), (5, 5), 0)
    bright = level_percentile(brightest, 99)
    return level_percentile(brightest, 1) / bright if bright > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="photos per source, spread evenly (0: all)")
    parser.add_argument("--source", action="append", help="repeatable; default: every fundus source")
    args = parser.parse_args()
    variations = {name: vary for name, vary in VARIATIONS["fundus"].items() if name not in LEFT_OUT}
    for source in SOURCES:
        if source.modality != "fundus" or (args.source and source.name not in args.source) or not source.available():
            continue
        moved: Counter = Counter()
        shares = []
        photos = source.listing(args.limit)
        for path, _ in photos:
            rgb = read_frame(path).pixels
            radius = find_field_of_view(rgb).radius
            shares.append(black_share(rgb))
            for name, vary in variations.items():
                moved[name] += abs(find_field_of_view(vary(rgb)).radius / radius - 1) >= MOVED
        median, high, top = np.percentile(shares, [50, 95, 100])
        print(f"{source.name}: {len(photos)} photos, black / bright level {median:.3f} / {high:.3f} / {top:.3f}")
        print(f"  field moved {MOVED:.0%} or more: {sum(moved.values())} of {len(photos) * len(variations)} copies")
        for name in variations:
            print(f"  {name:<22} {moved[name]}")


if __name__ == "__main__":
    main()
