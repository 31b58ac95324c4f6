"""The wrong-modality limit (``quality.modality``) on every photo: what the dermoscopy gate reads,
and why its blue-to-red limit is declared rather than fitted.

Every photo of every source of ``../shared/data`` (fundus and dermoscopy alike) is read as the
device reads it (``read_frame``) and judged by the dermoscopy gate alone (``QualityGate``, the
default limits, no model): a retina there is a visit left on "skin" with a fundus camera. Off the
gate's own analysis come the check's two readings, the lit part's mean blue over its mean red
(``modality.blue_over_red``) and the corners its lit field lights (``lit_corners``), and from its
verdict whether it refused the photo as ``wrong_modality`` and whether it passed it. Per source:
the photos, those refused as the wrong modality, those passed, and for dermoscopy the lowest
blue-to-red read: of every photo as it is; of those seen through a round field of their own (their
lit field lights too few corners for skin, as UDA-1's dermatoscopes leave them: the photos the
colour alone decides on), with their count; and with a dermatoscope's round field drawn on every
photo (``tests.camera_variations.round_field``), as if every camera had one.

Then leave one source out: the limit fitted on one dermoscopy source's blue-to-red by
``quality.fit``'s rule for a lower limit (the photos' 0.5th percentile widened by a quarter of its
distance from their median, ``fit_limits``), and, by the gate's own rule at that limit
(``modality.reads_as_retina``), the retinas of each fundus source caught and the photos of each
other dermoscopy source refused. The last row is the declared limit, counted from the gate's
verdicts. ``--samples`` runs on the bundled samples instead (one retina, one rendered naevus).

    .venv/bin/python bench/modality_limit.py [--limit 0] [--source NAME]... [--samples]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from quality_data import PROJECT_ROOT, SOURCES

from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.config import QualityConfig
from firmware_app.events import setup_logging
from firmware_app.frame_analysis import FrameAnalysis
from firmware_app.inference.preprocess import lit_corners
from firmware_app.quality.colour import colour_measures
from firmware_app.quality.fit import fit_limits
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.modality import BLUE_OVER_RED_BELOW, REASON, blue_over_red, reads_as_retina
from firmware_app.quality.verdict import Rule
from tests.camera_variations import round_field

SAMPLES = PROJECT_ROOT / "firmware_app" / "samples"
# The check's limit as a rule ``quality.fit`` can fit: a lower limit on ``blue_over_red``.
_RULE = Rule(REASON, "blue_over_red", "min_blue_over_red", BLUE_OVER_RED_BELOW)


@dataclass(frozen=True)
class Photos:
    """One source's photos, by modality, as the bench reads them."""

    name: str
    modality: str
    paths: Sequence[Path]


@dataclass(frozen=True)
class Reading:
    """What the dermoscopy gate reads on one photo for the wrong-modality check, and its verdict."""

    # ``inf`` when the gate has nothing to read it on (too little of the frame a picture, too small).
    blue_over_red: float
    corners: int
    wrong_modality: bool
    passed: bool
    # ``blue_over_red`` with a dermatoscope's round field drawn on the photo (skin only; ``nan`` for
    # a retina): ``round_field`` darkens the corners whatever the photo's own field.
    in_round_field: float = math.nan


# Each source's modality and readings, by name, in ``SOURCES``' order.
Readings = dict[str, tuple[str, list[Reading]]]


def measured(analysis: FrameAnalysis) -> tuple[float, int]:
    """The check's two readings off the gate's analysis: blue over red and the lit corners."""
    colour = colour_measures(analysis.thumbnail)
    if colour is None or analysis.lesion is None:
        return math.inf, 0
    return blue_over_red(colour), lit_corners(analysis.lesion.segmentation.field)


def reading(gate: QualityGate, frame: Frame, skin: bool) -> Reading:
    """The gate's readings and verdict on one frame screened as dermoscopy."""
    analysis = gate.analyse(frame, "dermoscopy")
    report = gate.assess(analysis)
    in_round = math.nan
    if skin:
        rounded = dataclasses.replace(frame, pixels=round_field(frame.pixels))
        in_round = measured(gate.analyse(rounded, "dermoscopy"))[0]
    return Reading(*measured(analysis), REASON in report.reasons, report.passed, in_round)


def read_all(gate: QualityGate, photos: Photos) -> list[Reading]:
    """Every photo the device can read, as ``reading``; one it cannot (``ImageError``) is left out."""
    readings = []
    for path in photos.paths:
        try:
            frame = read_frame(path)
        except ImageError:
            continue
        readings.append(reading(gate, frame, photos.modality == "dermoscopy"))
    return readings


def fitted(readings: Sequence[Reading]) -> float:
    """``quality.fit``'s lower limit on these photos' blue-to-red (those the gate could read)."""
    values = [{_RULE.measure: r.blue_over_red} for r in readings if math.isfinite(r.blue_over_red)]
    defaults = SimpleNamespace(**{_RULE.setting: BLUE_OVER_RED_BELOW})
    return fit_limits(values, [_RULE], defaults, within_defaults=False)[0].value


def _refused(readings: Sequence[Reading]) -> int:
    """How many of these photos the gate refused as the wrong modality."""
    return sum(r.wrong_modality for r in readings)


def _caught(readings: Sequence[Reading], limit: float) -> int:
    """How many of these photos the gate's rule takes for a retina at ``limit``."""
    return sum(reads_as_retina(r.blue_over_red, r.corners, limit) for r in readings)


def _share(count: int, total: int) -> str:
    return f"{count:,}/{total:,} {count / total:.1%}" if total else "-"


def _lowest(values: Sequence[float]) -> str:
    finite = [value for value in values if math.isfinite(value)]
    return f"{min(finite):.3f}" if finite else "-"


def _lowest_cells(readings: Sequence[Reading]) -> str:
    """The lowest blue-to-red of skin photos: as they are, of those seen through a round field of
    their own (whose lit field lights fewer corners than the check's limit: a retina's at any
    blue-to-red, ``reads_as_retina`` with no limit) with their count, and with a round field drawn."""
    own = [r.blue_over_red for r in readings if reads_as_retina(r.blue_over_red, r.corners, below=math.inf)]
    return (
        f"  {_lowest([r.blue_over_red for r in readings]):>10}  {f'{_lowest(own)} ({len(own):,})':>15}"
        f"  {_lowest([r.in_round_field for r in readings]):>11}"
    )


def summary(read: Readings) -> None:
    """Per source: the gate's verdicts, and for skin the lowest blue-to-red read."""
    print("the dermoscopy gate alone; lowest blue-to-red of skin: as taken, own round field (photos), one drawn")
    print(
        f"{'source':<15} {'modality':<10} {'photos':>7}  {'wrong_modality':>19}  {'passed':>19}"
        f"  {'lowest b/r':>10}  {'own round field':>15}  {'drawn round':>11}"
    )
    skin: list[Reading] = []
    for name, (modality, readings) in read.items():
        total = len(readings)
        wrong, passed = _share(_refused(readings), total), _share(sum(r.passed for r in readings), total)
        lowest = _lowest_cells(readings) if modality == "dermoscopy" else ""
        print(f"{name:<15} {modality:<10} {total:>7,}  {wrong:>19}  {passed:>19}{lowest}")
        skin += readings if modality == "dermoscopy" else []
    wrong = _share(_refused(skin), len(skin))
    print(f"{'all dermoscopy':<26} {len(skin):>7,}  {wrong:>19}  {'':>19}{_lowest_cells(skin)}")


def leave_one_out(read: Readings) -> None:
    """A limit fitted on each dermoscopy source: the retinas it catches, the other skin it refuses;
    then the declared limit's, from the gate's verdicts."""
    print("\nleave one source out: retinas caught (fundus), photos refused (dermoscopy), by the gate's rule")
    print(f"{'fitted on':<15} {'limit':>6}  " + "  ".join(f"{name:>19}" for name in read))
    for fit_on, (modality, fitting) in read.items():
        if modality != "dermoscopy":
            continue
        limit = fitted(fitting)
        cells = ["(fit)" if name == fit_on else _share(_caught(rs, limit), len(rs)) for name, (_, rs) in read.items()]
        print(f"{fit_on:<15} {limit:>6.3f}  " + "  ".join(f"{cell:>19}" for cell in cells))
    cells = [_share(_refused(rs), len(rs)) for _, rs in read.values()]
    print(f"{'declared':<15} {BLUE_OVER_RED_BELOW:>6.3f}  " + "  ".join(f"{cell:>19}" for cell in cells))


def chosen(args: argparse.Namespace) -> list[Photos]:
    """The sources asked for, or the bundled samples."""
    if args.samples:
        return [
            Photos("sample retina", "fundus", [SAMPLES / "fundus-retina.jpg"]),
            Photos("sample naevus", "dermoscopy", [SAMPLES / "dermoscopy-synthetic-naevus.jpg"]),
        ]
    sources = [s for s in SOURCES if (not args.source or s.name in args.source) and s.available()]
    return [Photos(s.name, s.modality, [path for path, _ in s.listing(args.limit or None)]) for s in sources]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="photos per source, spread evenly (0: all)")
    parser.add_argument("--source", action="append", choices=[s.name for s in SOURCES], help="repeatable")
    parser.add_argument("--samples", action="store_true", help="the bundled samples, whatever ../shared holds")
    args = parser.parse_args()
    setup_logging("warning")
    gate = QualityGate(QualityConfig())
    read = {photos.name: (photos.modality, read_all(gate, photos)) for photos in chosen(args)}
    summary(read)
    leave_one_out(read)


if __name__ == "__main__":
    main()
