"""AUC, operating points chosen on validation, and cluster-bootstrap 95% confidence intervals.

Images of one patient (both eyes) or one lesion (several photos) are not independent, so the
bootstrap resamples whole patients/lesions; otherwise the intervals would be too narrow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Statistic = Callable[[np.ndarray, np.ndarray], float]


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); no scikit-learn needed."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def sens_spec(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """Sensitivity and specificity of the rule 'refer when score >= threshold'."""
    labels = np.asarray(labels).astype(bool)
    refer = np.asarray(scores) >= threshold
    return float(refer[labels].mean()), float((~refer[~labels]).mean())


def _between(scores: np.ndarray, cut: float) -> float:
    """A threshold just below ``cut`` and above the next lower score, so float rounding cannot flip it."""
    lower = scores[scores < cut]
    return float((cut + lower.max()) / 2) if lower.size else float(cut / 2)


def screening_threshold(labels: np.ndarray, scores: np.ndarray, target_sensitivity: float) -> float:
    """The highest threshold whose sensitivity reaches ``target_sensitivity`` on these (validation) data."""
    labels = np.asarray(labels).astype(bool)
    positives = np.sort(np.asarray(scores)[labels])[::-1]
    needed = int(np.ceil(target_sensitivity * len(positives)))
    return _between(np.asarray(scores), positives[needed - 1])


def youden_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold maximising sensitivity + specificity - 1 (balanced operating point)."""
    scores = np.asarray(scores)
    best, best_j = 0.5, -1.0
    for cut in np.unique(scores):
        sens, spec = sens_spec(labels, scores, cut)
        if sens + spec - 1 > best_j:
            best, best_j = cut, sens + spec - 1
    return _between(scores, best)


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def as_card(self) -> dict[str, object]:
        return {"value": round(self.value, 4), "ci95": [round(self.low, 4), round(self.high, 4)]}


class ClusterBootstrap:
    """Resample whole groups (patients or lesions) with replacement; fixed seed, fixed resamples."""

    def __init__(self, groups: np.ndarray, resamples: int = 2000, seed: int = 0) -> None:
        names, inverse = np.unique(np.asarray(groups), return_inverse=True)
        self.members = [np.flatnonzero(inverse == g) for g in range(len(names))]
        rng = np.random.default_rng(seed)
        self.draws = rng.integers(0, len(names), size=(resamples, len(names)))

    def _indices(self, draw: np.ndarray) -> np.ndarray:
        return np.concatenate([self.members[g] for g in draw])

    def interval(self, statistic: Statistic, labels: np.ndarray, scores: np.ndarray) -> Interval:
        """Point estimate on all data and the 2.5-97.5 percentile interval over the resamples."""
        values = []
        for draw in self.draws:
            index = self._indices(draw)
            value = statistic(labels[index], scores[index])
            if not np.isnan(value):
                values.append(value)
        point = float(statistic(labels, scores))
        low, high = np.percentile(values, [2.5, 97.5])
        return Interval(point, float(min(low, point)), float(max(high, point)))


def sensitivity_at(threshold: float) -> Statistic:
    def statistic(labels: np.ndarray, scores: np.ndarray) -> float:
        labels = labels.astype(bool)
        return float((scores[labels] >= threshold).mean()) if labels.any() else float("nan")

    return statistic


def specificity_at(threshold: float) -> Statistic:
    def statistic(labels: np.ndarray, scores: np.ndarray) -> float:
        negatives = ~labels.astype(bool)
        return float((scores[negatives] < threshold).mean()) if negatives.any() else float("nan")

    return statistic
