"""How well the quality gate separates good photos from degraded ones, on the *test* half of the
real photos (thresholds were tuned on the other half, ``bench/quality_tune.py``).

For each modality it prints the share of untouched originals the gate rejects (false rejects), then
for each controlled degradation and strength (``tests/degradations.py``) the share rejected and the
share rejected with the right reason, for the full check and for the live-preview check.

    python bench/quality_eval.py [--modality fundus|dermoscopy] [--limit 300] [--degraded 80]
"""

from __future__ import annotations

import time
from collections import defaultdict

from quality_data import DEFECTS, STRENGTHS, arguments, modalities, photos

from firmware_app.capture.frame import Frame
from firmware_app.config import QualityConfig
from firmware_app.quality.gate import QualityGate, Speed

CLEAR = (2, 3)  # the strengths counted as "clearly degraded" in the summary


def _rate(hits: list[bool]) -> str:
    return f"{sum(hits) / len(hits):6.1%}" if hits else "     -"


def evaluate(modality: str, limit: int, degraded_count: int) -> None:
    gate = QualityGate(QualityConfig())
    rejected: dict[tuple[str, int, Speed], list[bool]] = defaultdict(list)
    right: dict[tuple[str, int, Speed], list[bool]] = defaultdict(list)
    false_reasons: dict[str, int] = defaultdict(int)
    started = time.perf_counter()
    for index, (_, rgb) in enumerate(photos(modality, "test", limit)):
        variants = [("original", 0, rgb)]
        if index < degraded_count:
            variants += [(d, s, degrade(rgb, s)) for d, (degrade, _) in DEFECTS[modality].items() for s in STRENGTHS]
        for defect, strength, pixels in variants:
            for speed in Speed:
                report = gate.check(Frame(pixels, source=defect), modality, speed)
                rejected[(defect, strength, speed)].append(not report.passed)
                expected = DEFECTS[modality][defect][1] if defect != "original" else ()
                right[(defect, strength, speed)].append(not report.passed and bool(set(report.reasons) & set(expected)))
                if defect == "original" and speed is Speed.FULL:
                    for reason in report.reasons if not report.passed else ():
                        false_reasons[reason] += 1
    full, preview = Speed.FULL, Speed.PREVIEW
    count = len(rejected[("original", 0, full)])
    print(
        f"\n== {modality}: test half, {count} originals, {min(count, degraded_count)} of them degraded "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(f"{'':<22}{'full check':>24}{'preview check':>26}")
    print(f"{'defect':<16}{'str':>4}  {'rejected':>10} {'right reason':>13}  {'rejected':>10} {'right reason':>13}")
    print(
        f"{'original':<16}{'-':>4}  {_rate(rejected[('original', 0, full)]):>10} {'':>13}  "
        f"{_rate(rejected[('original', 0, preview)]):>10}"
    )
    print(
        "    false-reject reasons (full): " + (", ".join(f"{r} {n}" for r, n in sorted(false_reasons.items())) or "-")
    )
    clear_rejected, clear_right = [], []
    for defect in DEFECTS[modality]:
        for strength in STRENGTHS:
            row = [rejected[(defect, strength, s)] for s in (full, preview)]
            good = [right[(defect, strength, s)] for s in (full, preview)]
            print(
                f"{defect:<16}{strength:>4}  {_rate(row[0]):>10} {_rate(good[0]):>13}  "
                f"{_rate(row[1]):>10} {_rate(good[1]):>13}"
            )
            if strength in CLEAR:
                clear_rejected += row[0]
                clear_right += good[0]
    print(
        f"summary (full check): originals rejected {_rate(rejected[('original', 0, full)]).strip()}; "
        f"clearly degraded (strengths {', '.join(map(str, CLEAR))}) rejected {_rate(clear_rejected).strip()}, "
        f"with the right reason {_rate(clear_right).strip()}"
    )


def main() -> None:
    args = arguments(__doc__, degraded=80).parse_args()
    for modality in modalities(args):
        evaluate(modality, args.limit, args.degraded)


if __name__ == "__main__":
    main()
