"""The real photos the quality benchmarks run on, split in two halves that never share a patient or
a lesion: ``tune`` (thresholds are chosen on it, ``bench/quality_tune.py``) and ``test`` (the
figures are reported on it, ``bench/quality_eval.py``).

Fundus: ``../shared/data/fundus/dr-600`` (split by patient). Dermoscopy: ISIC UDA-1 (one lesion per
image) and HAM10000 (split by ``lesion_id``, one photo per lesion, a fixed sample).

``SOURCES`` lists every source of ``../shared/data`` as a whole, with its label, for the benchmarks
that measure one source at a time (``bench/generalisation.py``, leave one source out); ``chosen``
gives those a benchmark is asked for, or the bundled samples in their place (``source_arguments``'
``--samples``), so that a test can run it whatever ``../shared`` holds.
"""

from __future__ import annotations

import argparse
import csv
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from models.build.data import isic_uda1_labelled  # noqa: E402
from tests.degradations import DERMOSCOPY_DEFECTS, FUNDUS_DEFECTS, STRENGTHS  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared" / "data"
SAMPLES = PROJECT_ROOT / "firmware_app" / "samples"
SPLITS = ("tune", "test")
DEFECTS = {"fundus": FUNDUS_DEFECTS, "dermoscopy": DERMOSCOPY_DEFECTS}
__all__ = [
    "DEFECTS",
    "SOURCES",
    "SPLITS",
    "STRENGTHS",
    "Photos",
    "Source",
    "arguments",
    "chosen",
    "modalities",
    "photos",
    "read_rgb",
    "source_arguments",
]


def _split_of(group: str) -> str:
    """A stable half for a patient or lesion id: the same on every machine and every run."""
    return SPLITS[zlib.crc32(group.encode()) % 2]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _listing(modality: str, ham_sample: int) -> list[tuple[str, Path]]:
    """(group id, image path) for every photo of the modality."""
    if modality == "fundus":
        root = SHARED / "fundus" / "dr-600"
        return [(row["patient"], root / row["file"]) for row in _rows(root / "labels.csv")]
    isic = SHARED / "dermoscopy" / "isic-uda1-cc0"
    listing = [(row["image_id"], isic / row["file"]) for row in _rows(isic / "labels.csv")]
    ham = SHARED / "dermoscopy" / "ham10000-200x150"
    first_photo: dict[str, str] = {}
    for row in _rows(ham / "metadata.csv"):
        first_photo.setdefault(row["lesion_id"], row["image_id"])
    lesions = sorted(first_photo, key=lambda lesion: zlib.crc32(lesion.encode()))[:ham_sample]
    return listing + [(lesion, ham / "images" / f"{first_photo[lesion]}.jpg") for lesion in sorted(lesions)]


def read_rgb(path: Path) -> np.ndarray | None:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class Source:
    """One collection of ``../shared/data``: its folder, label table, and which rows count."""

    name: str
    modality: str
    folder: str
    table: str
    # The row's label: 1 referable / melanoma, 0 not.
    positive: Callable[[dict[str, str]], bool]
    # The name the model cards give these rows (``data.training[].name``, ``data.external[].name``).
    card_name: str
    # Rows to keep (ISIC 2017 is two sources: the challenge's training and validation parts, which
    # models and the dermoscopy limits may be fitted on, and its test part, which no model trains on).
    keep: Callable[[dict[str, str]], bool] = lambda row: True
    # The column naming the patient or lesion a photo belongs to: photos of one resample together.
    group_column: str = "image_id"

    @property
    def root(self) -> Path:
        return SHARED / self.modality / self.folder

    def available(self) -> bool:
        return (self.root / self.table).is_file()

    def photos(self, limit: int | None = None) -> list[tuple[Path, bool, str]]:
        """(image path, positive, patient or lesion) of the source's rows, at most ``limit`` of
        them, spread evenly."""
        rows = [row for row in _rows(self.root / self.table) if self.keep(row)]
        if limit and len(rows) > limit:
            rows = [rows[i] for i in np.linspace(0, len(rows) - 1, limit).round().astype(int)]
        paths = [self.root / row.get("file", f"images/{row.get('image_id')}.jpg") for row in rows]
        return [(path, self.positive(row), row[self.group_column]) for path, row in zip(paths, rows, strict=True)]

    def listing(self, limit: int | None = None) -> list[tuple[Path, bool]]:
        """(image path, positive) of the source's rows, at most ``limit`` of them, spread evenly."""
        return [(path, positive) for path, positive, _ in self.photos(limit)]


SOURCES = (
    Source(
        "dr-600",
        "fundus",
        "dr-600",
        "labels.csv",
        lambda row: row["referable"] == "1",
        "dr-600",
        group_column="patient",
    ),
    Source("aptos2019-224", "fundus", "aptos2019-224", "labels.csv", lambda row: row["referable"] == "1", "aptos2019"),
    Source(
        "ham10000",
        "dermoscopy",
        "ham10000-200x150",
        "metadata.csv",
        lambda row: row["dx"] == "mel",
        "ham10000",
        group_column="lesion_id",
    ),
    Source(
        "isic-uda1",
        "dermoscopy",
        "isic-uda1-cc0",
        "labels.csv",
        lambda row: row["melanoma"] == "1",
        "isic_uda1",
        isic_uda1_labelled,
    ),
    Source(
        "isic2017-train",
        "dermoscopy",
        "isic2017-cc0",
        "labels.csv",
        lambda row: row["melanoma"] == "1",
        "isic2017",
        lambda row: row["challenge_split"] != "test",
    ),
    Source(
        "isic2017-test",
        "dermoscopy",
        "isic2017-cc0",
        "labels.csv",
        lambda row: row["melanoma"] == "1",
        "isic2017_test",
        lambda row: row["challenge_split"] == "test",
    ),
)


@dataclass(frozen=True)
class Photos:
    """One source's photos, by modality, as a benchmark reads them."""

    name: str
    modality: str
    paths: Sequence[Path]


def source_arguments(parser: argparse.ArgumentParser, limit: int) -> None:
    """The options ``chosen`` reads: photos per source (``limit`` by default), which sources, or the
    bundled samples."""
    parser.add_argument("--limit", type=int, default=limit, help="photos per source, spread evenly (0: all)")
    parser.add_argument("--source", action="append", choices=[s.name for s in SOURCES], help="repeatable")
    parser.add_argument("--samples", action="store_true", help="the bundled samples, whatever ../shared holds")


def chosen(args: argparse.Namespace) -> list[Photos]:
    """The sources of ``../shared/data`` asked for that are present, or with ``--samples`` the
    bundled samples in their place (one retina, one rendered naevus)."""
    if args.samples:
        return [
            Photos("sample retina", "fundus", [SAMPLES / "fundus-retina.jpg"]),
            Photos("sample naevus", "dermoscopy", [SAMPLES / "dermoscopy-synthetic-naevus.jpg"]),
        ]
    sources = [s for s in SOURCES if (not args.source or s.name in args.source) and s.available()]
    return [Photos(s.name, s.modality, [path for path, _ in s.listing(args.limit or None)]) for s in sources]


def photos(
    modality: str, split: str, limit: int | None = None, ham_sample: int = 600
) -> Iterator[tuple[str, np.ndarray]]:
    """(file name, RGB pixels) of the split's photos, at most ``limit`` of them, spread evenly."""
    chosen = [path for group, path in _listing(modality, ham_sample) if _split_of(group) == split]
    if limit and len(chosen) > limit:
        chosen = [chosen[i] for i in np.linspace(0, len(chosen) - 1, limit).round().astype(int)]
    for path in chosen:
        rgb = read_rgb(path)
        if rgb is not None:
            yield path.name, rgb


def arguments(description: str, degraded: int) -> argparse.ArgumentParser:
    """The options both quality benchmarks take."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modality", choices=tuple(DEFECTS), action="append")
    parser.add_argument("--limit", type=int, default=300, help="untouched originals per modality")
    parser.add_argument("--degraded", type=int, default=degraded, help="originals that are also degraded")
    return parser


def modalities(args: argparse.Namespace) -> list[str]:
    """The modalities asked for; stops with a message when the shared data is absent."""
    if not ((SHARED / "fundus" / "dr-600").is_dir() and (SHARED / "dermoscopy").is_dir()):
        raise SystemExit(f"needs the real photos under {SHARED} (fundus/dr-600 and dermoscopy)")
    return args.modality or list(DEFECTS)
