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
verdicts. The same table follows for the alternative not taken, blue over green (the lit part's
mean blue over its mean green), its last row at a declared 0.5. ``--samples`` runs on the bundled
samples instead (one retina, one rendered naevus).

    .venv/bin/python bench/modality_limit.py [--limit 0] [--source NAME]... [--samples]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from quality_data import Photos, chosen, source_arguments

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

# The check's limit as a rule ``quality.fit`` can fit: a lower limit on ``blue_over_red``.
_RULE = Rule(REASON, "blue_over_red", "min_blue_over_red", BLUE_OVER_RED_BELOW)
# The alternative not taken, blue over green, at the limit it was declared at when it was tried.
BLUE_OVER_GREEN_BELOW = 0.5
# The thumbnail's channels with red and green swapped: ``colour_measures`` picks its lit pixels by
# their brightest channel and reads its levels over it, which no order of the channels changes, so
# its ``red_share`` of the swapped thumbnail is green's of the same pixels, and ``blue_over_red``
# of those measures is blue over green. The gate's own colour reading, not a copy of it.
_RED_AS_GREEN = [1, 0, 2]


@dataclass(frozen=True)
class Reading:
    """What the dermoscopy gate reads on one photo for the wrong-modality check, and its verdict."""

    # ``inf`` when the gate has nothing to read it on (too little of the frame a picture, too small).
    blue_over_red: float
    blue_over_green: float
    corners: int
    wrong_modality: bool
    passed: bool
    # ``blue_over_red`` with a dermatoscope's round field drawn on the photo (skin only; ``nan`` for
    # a retina): ``round_field`` darkens the corners whatever the photo's own field.
    in_round_field: float = math.nan


# Each source's modality and readings, by name, in ``SOURCES``' order.
Readings = dict[str, tuple[str, list[Reading]]]


def measured(analysis: FrameAnalysis) -> tuple[float, float, int]:
    """The check's readings off the gate's analysis: blue over red, blue over green (the rule not
    taken, ``_RED_AS_GREEN``) and the lit corners."""
    colour = colour_measures(analysis.thumbnail)
    swapped = colour_measures(analysis.thumbnail[:, :, _RED_AS_GREEN])
    if colour is None or swapped is None or analysis.lesion is None:
        return math.inf, math.inf, 0
    return blue_over_red(colour), blue_over_red(swapped), lit_corners(analysis.lesion.segmentation.field)


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


def fitted(readings: Sequence[Reading], measure: str) -> float:
    """``quality.fit``'s lower limit on these photos' ``measure`` (those the gate could read): the
    blue-to-red's rule, whichever ratio it is given."""
    values = [{_RULE.measure: getattr(r, measure)} for r in readings if math.isfinite(getattr(r, measure))]
    defaults = SimpleNamespace(**{_RULE.setting: BLUE_OVER_RED_BELOW})
    return fit_limits(values, [_RULE], defaults, within_defaults=False)[0].value


def _refused(readings: Sequence[Reading]) -> int:
    """How many of these photos the gate refused as the wrong modality."""
    return sum(r.wrong_modality for r in readings)


def _caught(readings: Sequence[Reading], measure: str, limit: float) -> int:
    """How many of these photos the gate's rule takes for a retina with ``measure`` under ``limit``."""
    return sum(reads_as_retina(getattr(r, measure), r.corners, limit) for r in readings)


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


def leave_one_out(read: Readings, measure: str, declared: float) -> None:
    """A limit on ``measure`` fitted on each dermoscopy source: the retinas it catches, the other
    skin it refuses; then the ``declared`` limit's: for blue-to-red the gate's verdicts, for another
    measure the gate's rule at that limit."""
    print(f"\nleave one source out, {measure}: retinas caught (fundus), photos refused (skin), by the gate's rule")
    print(f"{'fitted on':<15} {'limit':>6}  " + "  ".join(f"{name:>19}" for name in read))
    for fit_on, (modality, fitting) in read.items():
        if modality != "dermoscopy":
            continue
        limit = fitted(fitting, measure)
        caught = {name: _share(_caught(rs, measure, limit), len(rs)) for name, (_, rs) in read.items()}
        cells = ["(fit)" if name == fit_on else cell for name, cell in caught.items()]
        print(f"{fit_on:<15} {limit:>6.3f}  " + "  ".join(f"{cell:>19}" for cell in cells))
    gate = measure == _RULE.measure
    cells = [_share(_refused(rs) if gate else _caught(rs, measure, declared), len(rs)) for _, rs in read.values()]
    print(f"{'declared':<15} {declared:>6.3f}  " + "  ".join(f"{cell:>19}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source_arguments(parser, limit=0)
    args = parser.parse_args()
    setup_logging("warning")
    gate = QualityGate(QualityConfig())
    read = {photos.name: (photos.modality, read_all(gate, photos)) for photos in chosen(args)}
    summary(read)
    leave_one_out(read, "blue_over_red", BLUE_OVER_RED_BELOW)
    leave_one_out(read, "blue_over_green", BLUE_OVER_GREEN_BELOW)


if __name__ == "__main__":
    main()
