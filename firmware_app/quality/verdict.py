"""From measures to a verdict: ``good``, ``usable`` or ``reject`` (the EyeQ grading scheme), with
one reason per defect found.

A gate is a table of ``Rule`` values (a reason, a measure, the setting that limits it) and
``judge`` does the rest, the same way for both modalities: a measure past its limit rejects the
frame; one that has gone more than ``usable_from`` of the way from a typical good photo to its
limit makes it only ``usable``, and its reason is still given so the nurse may retake a better one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    GOOD = "good"
    USABLE = "usable"
    REJECT = "reject"


def is_lower_limit(setting: str) -> bool:
    """Whether a setting is a lower limit (``min_*``, ``preview_min_*``) rather than an upper one."""
    return setting.removeprefix("preview_").startswith("min_")


@dataclass(frozen=True)
class Check:
    """One measure against its limit; ``reason`` is the defect's stable key (see ``messages``)."""

    reason: str
    value: float
    limit: float
    typical: float  # the measure on a typical good photo (the tuning photos' median)
    lower: bool = False  # a lower limit (``min_*``): values under it are past it

    @property
    def severity(self) -> float:
        """How far the measure has gone from a typical good photo towards its limit: 0 typical (or
        better), 1 at the limit, above 1 past it. Works for upper and lower limits alike. A measure
        that could not be taken (NaN) is past its limit: it compares false with any limit, and
        would otherwise pass every rule."""
        if math.isnan(self.value):
            return float("inf")
        span = self.limit - self.typical
        if span == 0 or (span > 0) == self.lower:
            # A limit at the typical value (a share typical photos have none of, fitted where every
            # good photo read it), or set tighter than it (a camera's own quieter sensor, by hand):
            # a photo reading it, or better, is not past it; nothing lies between.
            past = self.value < self.limit if self.lower else self.value > self.limit
            return float("inf") if past else 0.0
        return max(0.0, (self.value - self.typical) / span)

    @property
    def past(self) -> bool:
        """Whether the measure is past its limit: the frame fails this rule."""
        return self.severity > 1.0


@dataclass(frozen=True)
class QualityReport:
    """The gate's answer for one frame; ``measures`` are the raw numbers, for audit and tuning."""

    modality: str
    verdict: Verdict
    reasons: tuple[str, ...]
    measures: Mapping[str, float] = field(default_factory=dict)
    # The worst measure as a fraction of the way to its limit (see ``Check.severity``): it ranks
    # frames of the same verdict, lower is better.
    severity: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict is not Verdict.REJECT


@dataclass(frozen=True)
class Rule:
    """A measure judged against a config setting (``max_*`` an upper limit, ``min_*`` a lower one),
    with the measure's value on a typical good photo (the tuning half's median, printed by
    ``bench/quality_tune.py``). Gates are tables of rules, which the tuning script reads too."""

    reason: str
    measure: str
    setting: str
    typical: float
    # A group of alternatives (dermoscopy's two kinds of focus, ``dermoscopy._focus``): a photo
    # carries the measures of some of the group's rules, never none, and is judged by those. Any
    # other rule's measure must be there.
    one_of: str = ""

    def check(self, measures: Mapping[str, float], limits: object) -> Check:
        limit = getattr(limits, self.setting)
        return Check(self.reason, measures[self.measure], limit, self.typical, is_lower_limit(self.setting))


def _recorded(measures: Mapping[str, float]) -> dict[str, float]:
    """The measures as a report keeps them: rounded, and without any that could not be taken (NaN;
    its rule's reason says so), as the record and the results synced to the specialists hold only
    finite numbers."""
    return {name: round(float(value), 4) for name, value in measures.items() if math.isfinite(value)}


def rejected(modality: str, reason: str, measures: Mapping[str, float] | None = None) -> QualityReport:
    """A frame refused before it could be judged rule by rule (no field of view, greyscale, tiny,
    nothing lit...)."""
    return QualityReport(modality, Verdict.REJECT, (reason,), _recorded(measures or {}), severity=float("inf"))


def judge(
    modality: str, rules: Iterable[Rule], measures: Mapping[str, float], limits: object, usable_from: float
) -> QualityReport:
    """``reject`` if any rule's measure is past its limit, else ``usable`` if any has a severity of
    ``usable_from`` or more, else ``good``; the reasons are those rules' keys, worst first, each once.
    A rule of a ``one_of`` group whose measure the photo does not carry is not applied; a group none
    of whose measures it carries, or a missing measure of any other rule, is a programming error
    (``KeyError``), never a pass. A measure that could not be taken is NaN and fails its rule."""
    rules = tuple(rules)
    groups = {rule.one_of for rule in rules if rule.one_of}
    unmeasured = groups - {rule.one_of for rule in rules if rule.one_of and rule.measure in measures}
    if unmeasured:
        raise KeyError(f"no measure of the rule group {sorted(unmeasured)}")
    applied = (rule.check(measures, limits) for rule in rules if not rule.one_of or rule.measure in measures)
    checks = sorted(applied, key=lambda c: c.severity, reverse=True)
    failing = [c.reason for c in checks if c.past]
    marginal = [c.reason for c in checks if usable_from <= c.severity <= 1.0]
    rounded = _recorded(measures)
    severity = checks[0].severity if checks else 0.0
    if failing:
        return QualityReport(modality, Verdict.REJECT, tuple(dict.fromkeys(failing)), rounded, severity)
    if marginal:
        return QualityReport(modality, Verdict.USABLE, tuple(dict.fromkeys(marginal)), rounded, severity)
    return QualityReport(modality, Verdict.GOOD, (), rounded, severity)
