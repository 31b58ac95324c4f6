"""How far a stored fundus photo was squashed sideways, read off its field of view, and the photo
stretched back so that its field is round again.

A fundus camera's field is a circle, which the sensor's rectangle may cut at the top and bottom. The
APTOS 2019 photos were resized to 224x224 without keeping their aspect ratio by the repository they
come from; most originals were wider than tall, so their fields are ellipses taller than wide, and
the device's circular crop (``framed``) shows a model a retina squashed sideways (an oval disc,
narrowed lesions) that no camera delivers. Stretching such a photo back before the device's view
gives the model the photo as the camera took it, as far as its field can tell; it was tried and
did not lift the leave-one-source-out transfer, so no recipe reads a set through it (``aspect_transfer``,
models/README.md).

    PYTHONPATH=. python -m models.build.field_aspect    # the stretch over each fundus source
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from firmware_app.inference.preprocess import fundus_field_mask, locating_factor
from firmware_app.quality.resample import halved_by
from models.build import data
from models.build.data import read_rgb

# Rows of the field neither side of the photo cuts, fewest to fit a conic to, and their least share
# of the field's rows: on fewer (a field the sides cut nearly all the way) the fit extrapolates.
_MIN_ROWS = 12
_MIN_UNCUT_SHARE = 0.3
# A row is an outlier (the camera's notch, a dark rim patch) beyond this many robust deviations.
_OUTLIER_DEVIATIONS = 3.0
_FIT_ROUNDS = 4
# Round fields read within about a percent of 1 (DR-600: ``main`` below): a stretch closer to 1
# than this is the estimate's noise, and resampling for it would only blur the photo.
ROUND_ENOUGH = 0.02


class FieldAspectUnknown(ValueError):
    """The photo's field has too few rows uncut by the photo's sides, or no curvature, to read its
    aspect from."""


@dataclass(frozen=True)
class FieldEllipse:
    """The field's outline, an axis-aligned ellipse, in the photo's pixels."""

    half_width: float
    half_height: float  # may reach beyond the photo, where the sensor cut the field

    @property
    def width_stretch(self) -> float:
        """The factor that makes the field round when the photo's width is multiplied by it."""
        return self.half_height / self.half_width


def _largest_region(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        raise FieldAspectUnknown("no lit field in the photo")
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def row_half_widths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's centre (in pixel units from the top) and half-width of the field, on the rows
    where neither side of the photo cuts the field: only there is the width the field's own."""
    field = _largest_region(mask)
    rows = np.flatnonzero(field.any(axis=1))
    left = field[rows].argmax(axis=1)
    right = field.shape[1] - 1 - field[rows, ::-1].argmax(axis=1)
    uncut = (left > 0) & (right < field.shape[1] - 1)
    if uncut.sum() < _MIN_UNCUT_SHARE * len(rows):
        raise FieldAspectUnknown(f"the photo's sides cut {int((~uncut).sum())} of the field's {len(rows)} rows")
    return rows[uncut] + 0.5, (right - left + 1)[uncut] / 2.0


def fit_ellipse(y: np.ndarray, half_width: np.ndarray) -> FieldEllipse:
    """The ellipse whose half-width is ``half_width`` at height ``y``: w(y)^2 = a^2 - (a/b)^2 (y - y0)^2,
    a quadratic in y fitted by least squares, rows far off it dropped and the rest fitted again.

    The fit needs no row through the centre or the field's top, so a field cut at the top and bottom
    yields its full height; the camera's notch or a dark patch at the rim shortens a few rows, which
    the robust rounds discard."""
    keep = np.ones(len(y), bool)
    scale = max(float(np.ptp(y)), 1.0) if len(y) else 1.0
    t = (y - y.mean()) / scale if len(y) else y
    for _ in range(_FIT_ROUNDS):
        if keep.sum() < _MIN_ROWS:
            raise FieldAspectUnknown(f"only {int(keep.sum())} rows of the field are uncut by the photo's sides")
        c2, c1, c0 = np.polyfit(t[keep], half_width[keep] ** 2, 2)
        residual = half_width**2 - np.polyval((c2, c1, c0), t)
        spread = 1.4826 * np.median(np.abs(residual[keep])) + 1e-6 * float(np.max(half_width**2))
        keep = np.abs(residual) <= _OUTLIER_DEVIATIONS * spread
    if c2 >= 0:
        raise FieldAspectUnknown("the field's width does not narrow towards its top and bottom")
    a_squared = c0 - c1 * c1 / (4 * c2)
    if a_squared <= 0:
        raise FieldAspectUnknown("the fitted field has no width")
    half_width_px = float(np.sqrt(a_squared))
    half_height_px = float(np.sqrt(a_squared / -c2)) * scale
    return FieldEllipse(half_width_px, half_height_px)


def field_ellipse(rgb: np.ndarray) -> FieldEllipse:
    """The field's ellipse in ``rgb``'s pixels, read on the copy the device locates its field on."""
    factor = locating_factor(rgb.shape)
    y, half_width = row_half_widths(fundus_field_mask(halved_by(rgb, factor)))
    small = fit_ellipse(y, half_width)
    return FieldEllipse(small.half_width * factor, small.half_height * factor)


def round_field(rgb: np.ndarray) -> np.ndarray:
    """The photo with its width stretched so its field is round, as the camera delivered it; the
    photo itself when its field is round already (within ``ROUND_ENOUGH``) or its aspect cannot be
    read (a field the photo's sides cut nearly all the way, a lit background): as stored is what
    the device would frame, a guessed stretch would be a new distortion. Stretching, not squeezing:
    the photo keeps every pixel it has."""
    try:
        stretch = field_ellipse(rgb).width_stretch
    except FieldAspectUnknown:
        return rgb
    return rgb if abs(stretch - 1.0) < ROUND_ENOUGH else width_scaled(rgb, stretch)


def width_scaled(rgb: np.ndarray, factor: float) -> np.ndarray:
    """The photo with its width multiplied by ``factor`` and its height kept: below 1, what a resize
    that ignores the aspect ratio did to APTOS's wide photos; above 1, its undoing."""
    height, width = rgb.shape[:2]
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, (max(1, round(width * factor)), height), interpolation=interpolation)


def read_round_field(path: Path) -> np.ndarray:
    """Decode a photo stored squashed (``data.read_rgb``) and give it back its field's aspect."""
    return round_field(read_rgb(path))


def stretches(paths: list[Path], read: Callable[[Path], np.ndarray]) -> tuple[np.ndarray, int]:
    """Each readable photo's width stretch, and how many photos' aspect could not be read."""
    values, unknown = [], 0
    for path in paths:
        try:
            values.append(field_ellipse(read(path)).width_stretch)
        except FieldAspectUnknown:
            unknown += 1
    return np.array(values), unknown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR, help="the shared data folder")
    args = parser.parse_args(argv)
    quantiles = (5, 10, 25, 50, 75, 90, 95)
    columns = " | ".join(f"p{q}" for q in quantiles)
    print(f"| source | photos | aspect unknown | {columns} | >= {1 + ROUND_ENOUGH:.2f} |")
    print("|---|---|---|" + "---|" * len(quantiles) + "---|")
    for name, load in (("dr-600", data.load_dr600), ("aptos2019", data.load_aptos2019)):
        samples = load(args.data_dir)
        values, unknown = stretches([s.path for s in samples], read_rgb)
        cells = " | ".join(f"{v:.3f}" for v in np.percentile(values, quantiles))
        print(f"| {name} | {len(samples)} | {unknown} | {cells} | {np.mean(values >= 1 + ROUND_ENOUGH):.0%} |")


if __name__ == "__main__":
    main()
