"""Where the quality gate's default limits come from: the measures of real photos of the *tune* half.

For every rule of a gate it prints the untouched photos' percentiles and, for each controlled
degradation that should trip that rule, the degraded photos' median, then suggests a limit: the
originals' 1st percentile (for a ``min_*`` setting) or 99th percentile (for a ``max_*`` one), so each
rule alone wrongly rejects about 1% of good photos. The defaults in ``firmware_app/config.py`` are
these suggestions, rounded, except where the printout shows a reason to move one (said there); the
``p50`` column is each rule's ``typical`` value in the gates' rule tables.
Figures to report come from ``bench/quality_eval.py`` on the other half, never from this script.

    python bench/quality_tune.py [--modality fundus|dermoscopy] [--limit 300] [--degraded 60]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
from quality_data import DEFECTS, STRENGTHS, available, photos

from firmware_app.quality.gate import MEASURES, RULES


def _percentiles(values: list[float]) -> str:
    points = np.percentile(values, (0.5, 1, 5, 50, 95, 99, 99.5))
    return " ".join(f"{p:8.3f}" for p in points)


def tune(modality: str, limit: int, degraded_count: int, size: int) -> None:
    measure = MEASURES[modality]
    originals: dict[str, list[float]] = defaultdict(list)
    degraded: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures = 0
    for index, (_, rgb) in enumerate(photos(modality, "tune", limit)):
        try:
            for name, value in measure(rgb, size).items():
                originals[name].append(value)
        except ValueError:
            failures += 1
        if index >= degraded_count:
            continue
        for defect, (degrade, _) in DEFECTS[modality].items():
            for strength in STRENGTHS:
                try:
                    values = measure(degrade(rgb, strength), size)
                except ValueError:
                    continue
                for name, value in values.items():
                    degraded[(defect, strength)][name].append(value)
    print(f"\n== {modality}: {len(originals[next(iter(originals))])} tune-half originals ({failures} unmeasurable)")
    print(f"{'rule':<44} {'p0.5':>8} {'p1':>8} {'p5':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'p99.5':>8}  suggested")
    for rule in RULES[modality]:
        values = originals[rule.measure]
        upper = rule.setting.startswith("max_")
        suggested = float(np.percentile(values, 99 if upper else 1))
        print(f"{rule.setting + ' (' + rule.reason + ')':<44} {_percentiles(values)}  {suggested:.4g}")
        for (defect, strength), measured in degraded.items():
            if rule.reason not in DEFECTS[modality][defect][1]:
                continue
            beyond = np.mean([(v > suggested) if upper else (v < suggested) for v in measured[rule.measure]])
            print(
                f"    {defect} {strength}: median {np.median(measured[rule.measure]):.4g}, "
                f"{beyond:.0%} beyond the suggested limit"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modality", choices=tuple(DEFECTS), action="append")
    parser.add_argument("--limit", type=int, default=300, help="originals per modality")
    parser.add_argument("--degraded", type=int, default=60, help="originals that are also degraded")
    parser.add_argument("--size", type=int, default=512, help="working size (the full check's default)")
    args = parser.parse_args()
    if not available():
        raise SystemExit("needs ../shared/data (fundus/dr-600 and dermoscopy)")
    for modality in args.modality or DEFECTS:
        tune(modality, args.limit, args.degraded, args.size)


if __name__ == "__main__":
    main()
