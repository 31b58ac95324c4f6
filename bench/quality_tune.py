"""Where the quality gate's default limits come from: the measures of real photos of the *tune* half.

For every rule of a gate it prints the untouched photos' percentiles and, for each controlled
degradation that should trip that rule, the degraded photos' median, then suggests a limit: the
originals' 0.5th percentile (for a ``min_*`` setting) or 99.5th percentile (for a ``max_*`` one), so
each rule alone wrongly rejects about 0.5% of good photos and a gate of some fifteen rules stays under
the 5% it aims at. The dermoscopy defaults in ``firmware_app/config.py`` are these suggestions,
rounded, except where the printout shows a reason to move one (said there); the fundus defaults are
the output of one rule on both fundus sources (``bench/generalisation.py --derive``, which says
how). The ``p50`` column is each rule's ``typical`` value in the gates' rule tables.
Figures to report come from ``bench/quality_eval.py`` on the other half, never from this script.

    python bench/quality_tune.py [--preview] [--modality fundus|dermoscopy] [--limit 300] [--degraded 60]
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from quality_data import DEFECTS, STRENGTHS, arguments, modalities, photos

from firmware_app.config import QualityConfig
from firmware_app.quality.gate import MEASURES, RULES, QualityGate, Speed
from firmware_app.quality.verdict import is_lower_limit


def _percentiles(values: list[float]) -> str:
    points = np.percentile(values, (0.5, 1, 5, 50, 95, 99, 99.5))
    return " ".join(f"{p:8.3f}" for p in points)


def tune(modality: str, limit: int, degraded_count: int, size: int, detail_size: int) -> None:
    def measure(rgb: np.ndarray) -> dict[str, float]:
        return MEASURES[modality](rgb, size, detail_size)

    originals: dict[str, list[float]] = defaultdict(list)
    degraded: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures = 0
    for index, (_, rgb) in enumerate(photos(modality, "tune", limit)):
        try:
            for name, value in measure(rgb).items():
                originals[name].append(value)
        except ValueError:
            failures += 1
        if index >= degraded_count:
            continue
        for defect, (degrade, _) in DEFECTS[modality].items():
            for strength in STRENGTHS:
                try:
                    values = measure(degrade(rgb, strength))
                except ValueError:
                    continue
                for name, value in values.items():
                    degraded[(defect, strength)][name].append(value)
    count = len(originals[next(iter(originals))])
    print(f"\n== {modality} at {size} pixels: {count} tune-half originals ({failures} unmeasurable)")
    print(f"{'rule':<44} {'p0.5':>8} {'p1':>8} {'p5':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'p99.5':>8}  suggested")
    for rule in RULES[modality]:
        values = originals[rule.measure]
        if not values:  # dermoscopy's two kinds of focus (``dermoscopy._focus``): none of this kind
            print(f"{rule.setting + ' (' + rule.reason + ')':<44} no photo carries {rule.measure}")
            continue
        upper = not is_lower_limit(rule.setting)
        suggested = float(np.percentile(values, 99.5 if upper else 0.5))
        print(f"{rule.setting + ' (' + rule.reason + ')':<44} {_percentiles(values)}  {suggested:.4g}")
        for (defect, strength), measured in degraded.items():
            if rule.reason not in DEFECTS[modality][defect][1] or not measured[rule.measure]:
                continue
            beyond = np.mean([(v > suggested) if upper else (v < suggested) for v in measured[rule.measure]])
            print(
                f"    {defect} {strength}: median {np.median(measured[rule.measure]):.4g}, "
                f"{beyond:.0%} beyond the suggested limit"
            )


def main() -> None:
    parser = arguments(__doc__, degraded=60)
    parser.add_argument("--preview", action="store_true", help="the preview check's measures, not the full check's")
    args = parser.parse_args()
    defaults = QualityConfig()
    gate = QualityGate(defaults)
    for modality in modalities(args):
        size = gate.working_size(modality, Speed.PREVIEW if args.preview else Speed.FULL)
        tune(modality, args.limit, args.degraded, size, defaults.full_size)


if __name__ == "__main__":
    main()
