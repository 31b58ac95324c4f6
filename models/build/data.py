"""The labelled image sets, their patient/lesion-grouped splits, and the device's view of each image.

Every pixel a model is trained, calibrated or evaluated on comes from the functions the device runs
(``firmware_app.inference.preprocess``: ``framed``, then ``colour_constant``, which together are
``model_view``), so the models never see an image the device would not produce. Framed views are
cached as uint8 arrays outside the repository, keyed by the source of every project module that
frames them (``source_key``), so a change to ``preprocess.py`` or to anything it imports invalidates
the cache.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from firmware_app.inference.card import InputSpec
from firmware_app.inference.preprocess import colour_constant, framed
from firmware_app.quality.gate import device_lesion
from models.build.source_key import source_digest

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_CACHE_DIR = REPO_ROOT.parent / "cache" / "edgescreen-models"


# Decodes one photo file to an 8-bit RGB array, as the camera delivered it.
Reader = Callable[[Path], np.ndarray]
# Alters a decoded photo as another camera would have delivered it (``tests.camera_variations``).
Variation = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Sample:
    """One labelled image; ``group`` is the patient or lesion that must not straddle a split."""

    path: Path
    label: int
    group: str


def _rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_dr600(data_dir: Path) -> list[Sample]:
    """DR-600 fundus photos; label = ``referable``, group = patient (both eyes stay together)."""
    root = data_dir / "fundus" / "dr-600"
    return [
        Sample(root / row["file"], int(row["referable"]), f"patient-{row['patient']}")
        for row in _rows(root / "labels.csv")
    ]


def dr600_by_grade(samples: Sequence[Sample], data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """For DR-600 ``samples``: whether each is referable by APTOS's definition (ICDR grade 2 or
    more; an ADED eye, which carries no ICDR grade, is), and whether maculopathy alone makes it
    referable by DR-600's own (a mild or no-DR eye with maculopathy): ``label_shift`` compares the
    two sources' meanings of "referable"."""
    rows = {Path(row["file"]).name: row for row in _rows(data_dir / "fundus" / "dr-600" / "labels.csv")}
    by_icdr, maculopathy_only = [], []
    for sample in samples:
        row = rows[sample.path.name]
        grade = int(row["icdr_grade"]) if row["icdr_grade"] else None
        by_icdr.append(grade is None or grade >= 2)
        maculopathy_only.append(grade is not None and grade < 2 and row["maculopathy"] == "1")
    return np.array(by_icdr), np.array(maculopathy_only)


def load_ham10000(data_dir: Path) -> list[Sample]:
    """HAM10000 dermoscopy; label = dx is melanoma, group = lesion_id. ``dx_type`` is never read."""
    root = data_dir / "dermoscopy" / "ham10000-200x150"
    return [
        Sample(root / "images" / f"{row['image_id']}.jpg", int(row["dx"] == "mel"), row["lesion_id"])
        for row in _rows(root / "metadata.csv")
    ]


def load_aptos2019(data_dir: Path) -> list[Sample]:
    """APTOS 2019 fundus photos (several cameras, India); label = grade >= 2.

    The set has no patient ids, so each image is its own group: both eyes of a patient may straddle
    a split, which makes APTOS's internal test somewhat optimistic (the card says so).
    """
    root = data_dir / "fundus" / "aptos2019-224"
    return [
        Sample(root / row["file"], int(row["referable"]), f"image-{row['image_id']}")
        for row in _rows(root / "labels.csv")
    ]


def _isic2017(data_dir: Path, parts: tuple[str, ...]) -> list[Sample]:
    """ISIC 2017 challenge images of the given challenge parts; no lesion ids, so one group per image."""
    root = data_dir / "dermoscopy" / "isic2017-cc0"
    return [
        Sample(root / row["file"], int(row["melanoma"]), f"image-{row['image_id']}")
        for row in _rows(root / "labels.csv")
        if row["challenge_split"] in parts
    ]


def load_isic2017_development(data_dir: Path) -> list[Sample]:
    """ISIC 2017's training and validation parts: trained, validated and tested on (split by image)."""
    return _isic2017(data_dir, ("train", "validation"))


def load_isic2017_test(data_dir: Path) -> list[Sample]:
    """ISIC 2017's own test part: never trained or tuned on, an external test."""
    return _isic2017(data_dir, ("test",))


def isic_uda1_labelled(row: dict[str, str]) -> bool:
    """Whether a row of ISIC UDA-1's labels says what its lesion is. A row without a ``diagnosis``
    still says 0 in its ``melanoma`` column, but nothing says what the lesion is, so counting it as a
    negative would be a guess (the benches read the set through this too)."""
    return bool(row["diagnosis"].strip()) and row["melanoma"].strip() in ("0", "1")


def load_isic_uda1(data_dir: Path) -> list[Sample]:
    """ISIC UDA-1 (external test), one image per lesion as far as known, its labelled rows only."""
    root = data_dir / "dermoscopy" / "isic-uda1-cc0"
    return [
        Sample(root / row["file"], int(row["melanoma"]), row["image_id"])
        for row in _rows(root / "labels.csv")
        if isic_uda1_labelled(row)
    ]


@dataclass(frozen=True)
class Split:
    train: list[Sample]
    validation: list[Sample]
    test: list[Sample]


def split_by_group(samples: Sequence[Sample], fractions: tuple[float, float, float], seed: int) -> Split:
    """Train/validation/test split of whole groups, stratified on whether a group has any positive.

    Stratifying on groups (not images) keeps both eyes of a patient, or every photo of a lesion, on one
    side, while each side still gets its share of positive groups, which matters with small sets.
    """
    groups: dict[str, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(sample.group, []).append(sample)
    rng = np.random.default_rng(seed)
    parts: tuple[list[Sample], list[Sample], list[Sample]] = ([], [], [])
    for positive in (False, True):
        names = sorted(g for g, members in groups.items() if any(s.label for s in members) == positive)
        order = rng.permutation(len(names))
        cut1 = round(fractions[0] * len(names))
        cut2 = cut1 + round(fractions[1] * len(names))
        for rank, index in enumerate(order):
            part = 0 if rank < cut1 else 1 if rank < cut2 else 2
            parts[part].extend(groups[names[index]])
    return Split(*(sorted(part, key=lambda s: str(s.path)) for part in parts))


def read_rgb(path: Path) -> np.ndarray:
    """Decode as the device's file backend does: cv2.imread, then BGR -> RGB."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot decode image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _cache_key(samples: Sequence[Sample], spec: InputSpec, read: Reader, vary: Variation | None) -> str:
    """What a framed view depends on: the source of the functions that make it (``framed``, the
    reader, which may restore a photo from how it was stored (``field_aspect``), the device's
    segmentation when the card crops to it, the variation that alters a photo as another camera
    would deliver it), each with every project module it imports, however indirectly; the view's
    size, crop and colour order; the photos."""
    functions = [framed, read, *([device_lesion] if spec.reads_segmentation else []), *([vary] if vary else [])]
    digest = hashlib.sha256(source_digest(*(function.__module__ for function in functions)))
    for function in functions:
        digest.update(f"{function.__module__}.{function.__qualname__}".encode())
    digest.update(repr((spec.height, spec.width, spec.crop, spec.colour_order)).encode())
    for sample in samples:
        digest.update(str(sample.path).encode())
    return digest.hexdigest()[:16]


def framed_views(
    samples: Sequence[Sample],
    spec: InputSpec,
    cache_dir: Path,
    name: str,
    read: Reader = read_rgb,
    vary: Variation | None = None,
) -> np.ndarray:
    """The uint8 ``framed`` view of each sample, (N, H, W, 3), computed once and cached on disk.
    ``read`` decodes a photo as the camera would have delivered it (``DataSet.read``); ``vary``, if
    given, alters each decoded photo as another camera would deliver it (a round field), before the
    device segments and frames it, as the device would meet that camera's photo.

    Colour constancy is left out on purpose: it is applied after augmentation (``colour_constant``),
    as the device applies it after whatever light the camera saw.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"{name}-{spec.height}x{spec.width}-{_cache_key(samples, spec, read, vary)}.npy"
    if cached.exists():
        return np.load(cached)
    views = np.empty((len(samples), spec.height, spec.width, 3), np.uint8)
    for index, sample in enumerate(tqdm(samples, desc=f"framed {name}", unit="img")):
        rgb = read(sample.path) if vary is None else vary(read(sample.path))
        views[index] = framed(rgb, spec, lesion=device_lesion(rgb) if spec.reads_segmentation else None)
    np.save(cached, views)
    return views


def device_views(framed_rgb: np.ndarray, spec: InputSpec) -> np.ndarray:
    """``model_view`` of each photo from its framed view: the same composition the device runs."""
    if spec.colour_order != "RGB":
        raise ValueError("the build trains RGB models only")
    return np.stack([colour_constant(view, spec) for view in framed_rgb])


def labels_of(samples: Sequence[Sample]) -> np.ndarray:
    return np.array([s.label for s in samples], np.int64)


def groups_of(samples: Sequence[Sample]) -> np.ndarray:
    return np.array([s.group for s in samples])
