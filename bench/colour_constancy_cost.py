"""What each colour constancy a card may declare costs per 224-px fundus view, on this machine.

    .venv/bin/python bench/colour_constancy_cost.py [--images 20] [--repeats 5]

The device runs ``colour_constant`` on every photo it triages, so a recipe choosing one pays its
cost on every screening (issue 10 counts every millisecond). Each is timed on the same framed
views of real fundus photos (DR-600 from ``--data-dir``, or scikit-image's CC0 retina when the
shared data is absent), in one run, so their ratio holds on a busy machine: the median over the
views of the best of ``--repeats`` passes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from firmware_app.inference.card import COLOUR_CONSTANCY, InputSpec
from firmware_app.inference.preprocess import colour_constant, framed
from models.build import data

FUNDUS = InputSpec(224, 224, "int8", "RGB", "fundus_fov", (0.0,) * 3, (1.0,) * 3)


def fundus_photos(data_dir: Path, count: int) -> list[np.ndarray]:
    images = sorted((data_dir / "fundus" / "dr-600" / "images").glob("*.jpg"))[:count]
    if images:
        return [data.read_rgb(path) for path in images]
    from skimage import data as skimage_data

    return [skimage_data.retina()]


def best_ms(action: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    views = [framed(photo, FUNDUS) for photo in fundus_photos(args.data_dir, args.images)]
    print(f"{len(views)} framed 224-px fundus views, median of each view's best of {args.repeats}:")
    medians = {}
    for name in COLOUR_CONSTANCY:
        spec = replace(FUNDUS, colour_constancy=name)
        timings = [best_ms(lambda v=v, s=spec: colour_constant(v, s), args.repeats) for v in views]
        medians[name] = statistics.median(timings)
    for name, ms in medians.items():
        print(f"  {name:<24} {ms:6.2f} ms  ({ms / medians['shades_of_gray_p6']:.1f}x Shades of Gray)")


if __name__ == "__main__":
    main()
