"""Is a fundus photo's field of view found where it is, whatever camera rendered the photo?

Every measure of the fundus gate is read in the field of view (``inference.preprocess``), and the
model is shown the square around it: a field found elsewhere under another camera's tone curve,
white balance or JPEG moves every measure at once, the geometry's (``field_cut``,
``edge_artefact``) above all. For each graded photo of each fundus source the field is found as
the photo is and under each of ``tests/camera_variations.py``'s variations (upside down turns the
field, not its size; a mask at top and bottom is left out: it cuts the field), and the copies whose
field's radius is off the photo's own by ``MOVED`` or more are counted, and those whose field is
not found at all (a photo with none is left out).

    .venv/bin/python bench/field_stability.py [--limit 0] [--source NAME]...
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
from quality_data import SOURCES

from firmware_app.capture.image_file import read_frame
from firmware_app.inference.preprocess import FieldOfViewNotFound, find_field_of_view
from tests.camera_variations import VARIATIONS

# A field 2% larger or smaller is about a pixel of a model's 224-pixel crop per side, and more than
# the locating copy's own rounding (0.4% at most on dr-600).
MOVED = 0.02
LEFT_OUT = {"masked top and bottom"}


def _radius(rgb: np.ndarray) -> float | None:
    """The radius of the photo's field of view, or None when none is found."""
    try:
        return find_field_of_view(rgb).radius
    except FieldOfViewNotFound:
        return None


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
        lost: Counter = Counter()
        measured = 0
        for path, _ in source.listing(args.limit):
            rgb = read_frame(path).pixels
            radius = _radius(rgb)
            if radius is None:
                continue
            measured += 1
            for name, vary in variations.items():
                varied = _radius(vary(rgb))
                lost[name] += varied is None
                moved[name] += varied is not None and abs(varied / radius - 1) >= MOVED
        copies = measured * len(variations)
        print(f"{source.name}: {measured} photos with a field of view")
        print(f"  field moved {MOVED:.0%} or more: {sum(moved.values())} of {copies} copies")
        print(f"  no field found: {sum(lost.values())}")
        for name in variations:
            print(f"  {name:<22} {moved[name]}" + (f" (not found {lost[name]})" if lost[name] else ""))


if __name__ == "__main__":
    main()
