"""Whether the image reader's strict JPEG decoding gives the pixels OpenCV gave, on every JPEG at hand.

The reader decoded JPEGs with OpenCV until it decoded them strictly with simplejpeg; the models, the
gate's thresholds and ``tests/expected/decisions.json`` were all made on OpenCV's pixels. For every
JPEG under ``../shared/data`` (or the bundled samples when it is absent, which the output says), and
at each size the reader decodes at (whole, 1/2, 1/4, 1/8: forced by its decoded-bytes bound), it
compares ``decode_frame`` with OpenCV's decoding (its EXIF orientation applied by OpenCV), and counts
the JPEGs the reader refuses: each a good photo refused. Run it in each environment (``.venv``,
``.venv-tflite``: their OpenCV builds differ) after upgrading OpenCV or simplejpeg.

    .venv/bin/python bench/jpeg_identity.py [--workers 2]
"""

from __future__ import annotations

import argparse
import collections
import sys
from multiprocessing import Pool
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import simplejpeg  # noqa: E402

from bench.inference import SHARED  # noqa: E402
from firmware_app.capture.image_file import ImageError, decode_frame  # noqa: E402
from firmware_app.config import SAMPLES_DIR  # noqa: E402

# Reduction -> OpenCV's flag for decoding at it.
OPENCV_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _jpegs() -> list[Path]:
    """Every JPEG of the shared data, or the bundled samples when it is absent."""
    if not SHARED.is_dir():
        print(f"{SHARED} is absent: the bundled samples stand in for it")
        return sorted(SAMPLES_DIR.glob("*.jpg"))
    return sorted(path for path in SHARED.rglob("*") if path.suffix.lower() in (".jpg", ".jpeg"))


def _compare(path: Path) -> list[str]:
    """One verdict per reduction: ``identical``, ``refused: why``, or how the pixels differ."""
    data = path.read_bytes()
    verdicts = []
    for flag in OPENCV_FLAGS.values():
        before = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), flag), cv2.COLOR_BGR2RGB)
        height, width = before.shape[:2]
        try:
            after = decode_frame(data, path, max_decoded_bytes=width * height * 3).pixels
        except ImageError as error:
            verdicts.append(f"refused: {error.reason}")
            continue
        if after.shape != before.shape:
            verdicts.append(f"size {after.shape[1]}x{after.shape[0]}, OpenCV's {width}x{height}")
        else:
            differs = np.abs(after.astype(np.int16) - before)
            verdicts.append(
                f"max difference {differs.max()}, mean {differs.mean():.4f}" if differs.any() else "identical"
            )
    return verdicts


def jpeg_identity(workers: int) -> None:
    paths = _jpegs()
    print(f"OpenCV {cv2.__version__}, simplejpeg {simplejpeg.__version__}, numpy {np.__version__}")
    counts: dict[int, collections.Counter] = {reduction: collections.Counter() for reduction in OPENCV_FLAGS}
    with Pool(workers) as pool:
        for path, verdicts in zip(paths, pool.imap(_compare, paths, chunksize=50), strict=True):
            for reduction, verdict in zip(OPENCV_FLAGS, verdicts, strict=True):
                counts[reduction][verdict.split(":")[0].split(" ")[0]] += 1
                if verdict != "identical":
                    print(f"  1/{reduction} {path}: {verdict}")
    print(f"{len(paths)} JPEGs, per size: the reader's pixels against OpenCV's")
    for reduction, counted in counts.items():
        print(f"  1/{reduction}: " + ", ".join(f"{count} {verdict}" for verdict, count in sorted(counted.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="processes comparing in parallel")
    jpeg_identity(parser.parse_args().workers)


if __name__ == "__main__":
    main()
