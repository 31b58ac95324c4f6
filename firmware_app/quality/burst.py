"""Choose the frame to triage from a burst: the best one that passes, or, when none does, the
defect that spoiled most of them, so the nurse knows the one thing to fix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from firmware_app.quality.verdict import QualityReport, Verdict

_RANK = {Verdict.GOOD: 0, Verdict.USABLE: 1, Verdict.REJECT: 2}


@dataclass(frozen=True)
class BurstChoice:
    """``index`` of the chosen frame in the burst, or ``None`` when no frame passed; then
    ``common_defect`` is the reason that the most frames were rejected for."""

    index: int | None
    common_defect: str | None = None

    @property
    def passed(self) -> bool:
        return self.index is not None

    @property
    def kept(self) -> int:
        """The frame the screening keeps: the chosen one, or (none passed) the first."""
        return self.index if self.index is not None else 0


def best_frame(reports: Sequence[QualityReport]) -> BurstChoice:
    """Good frames before usable ones, then the one furthest from every limit; earliest on a tie."""
    passing = [i for i, report in enumerate(reports) if report.passed]
    if passing:
        return BurstChoice(min(passing, key=lambda i: (_RANK[reports[i].verdict], reports[i].severity, i)))
    counts = Counter(reason for report in reports for reason in report.reasons)
    return BurstChoice(None, counts.most_common(1)[0][0] if counts else None)
