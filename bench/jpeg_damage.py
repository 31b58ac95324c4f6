"""How much damage to a JPEG's picture data the image reader refuses, on real photos, in one run.

Per source (the first N photos of ``../shared/data``'s dr-600 and ISIC UDA-1, or the bundled samples
when ``../shared`` is absent, which the output says), each photo gets damaged copies of each kind
(``tests/capture/jpeg_damage.py``: a block of zeroed bytes, random bytes, one bit flipped, at random
places of the entropy-coded data, fixed seed). Per kind it prints: the copies; those visibly damaged
(more than 1% of the pixels off by more than 30 levels in a channel, decoded as OpenCV did before the
reader decoded strictly, against the photo's own decode; one OpenCV could not decode counts too);
those the reader (``read_frame``) refused, and of them those refused only by decoding strictly (the
rest break the file's structure, which the reader checked before); and the visibly damaged among
the refused. JPEG has no checksum: damage that still decodes without a libjpeg warning cannot be
told from a photo. OpenCV's libjpeg prints its warnings on the damaged copies to stderr.

    .venv/bin/python bench/jpeg_damage.py [--photos 20] [--copies 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.inference import REAL_IMAGES, _images  # noqa: E402
from firmware_app.capture.image_file import DAMAGED_PICTURE_DATA, ImageError, read_frame  # noqa: E402
from tests.capture.jpeg_damage import DAMAGES  # noqa: E402

# Visibly damaged: more than this share of the pixels off by more than this many levels.
VISIBLE_SHARE, VISIBLE_LEVELS = 0.01, 30
_WIDTHS = (6, 16, 8, 12, 19)  # of the count columns


def _opencv_rgb(data: bytes) -> np.ndarray | None:
    """The picture as the reader decoded it before it decoded strictly (OpenCV, warnings swallowed)."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _visibly_damaged(good: np.ndarray, data: bytes) -> bool:
    """Whether the damaged copy, decoded leniently, differs visibly from the photo."""
    damaged = _opencv_rgb(data)
    if damaged is None or damaged.shape != good.shape:
        return True
    off = np.abs(damaged.astype(np.int16) - good).max(axis=2) > VISIBLE_LEVELS
    return bool(off.mean() > VISIBLE_SHARE)


def _refusal(data: bytes, folder: Path) -> ImageError | None:
    """Why the device's reader refuses the copy, read from a file as a photo is (``None``: accepted)."""
    path = folder / "copy.jpg"
    path.write_bytes(data)
    try:
        read_frame(path)
    except ImageError as error:
        return error
    return None


def _sources(photos: int) -> dict[str, list[Path]]:
    """The photos per modality; says when the bundled samples stand in for the shared data."""
    for modality, folder in REAL_IMAGES.items():
        if not folder.is_dir():
            print(f"{folder} is absent: the bundled {modality} sample stands in for it")
    return {modality: _images(modality, photos) for modality in REAL_IMAGES}


def jpeg_damage(photos: int, copies: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = {kind: [0, 0, 0, 0, 0] for kind in DAMAGES}  # copies, visibly damaged, refused, by decoding, both
    sources = _sources(photos)
    with tempfile.TemporaryDirectory() as temp:
        for paths in sources.values():
            for path in paths:
                data = path.read_bytes()
                good = _opencv_rgb(data)
                for kind, damage in DAMAGES.items():
                    for _ in range(copies):
                        copy = damage(data, rng)
                        visible, refusal = _visibly_damaged(good, copy), _refusal(copy, Path(temp))
                        decoding = bool(refusal and refusal.key == DAMAGED_PICTURE_DATA)
                        for index, counted in enumerate((True, visible, bool(refusal), decoding, visible and refusal)):
                            counts[kind][index] += bool(counted)
    described = ", ".join(f"{len(paths)} {modality} ({paths[0].parent})" for modality, paths in sources.items())
    print(f"damaged copies of {described}, {copies} of each kind per photo, seed {seed}:")
    print(_row(("damage", "copies", "visibly damaged", "refused", "by decoding", "refused of damaged")))
    for kind, (total, visible, refused, decoding, both) in counts.items():
        share = f"{both} ({both / visible:.1%})" if visible else "-"
        print(_row((kind, total, visible, refused, decoding, share)))


def _row(cells: tuple) -> str:
    """One line of the table: the damage's name left-aligned, the counts right-aligned under their headings."""
    name, *counts = cells
    return f"  {name:<18}" + "".join(f" {count:>{width}}" for count, width in zip(counts, _WIDTHS, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20, help="photos per source")
    parser.add_argument("--copies", type=int, default=10, help="damaged copies of each kind per photo")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jpeg_damage(args.photos, args.copies, args.seed)


if __name__ == "__main__":
    main()
