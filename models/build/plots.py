"""The card's two pictures: ROC curves and a reliability diagram, one line per test set.

Drawn from the int8 scores the card's figures come from, so a reader sees at a glance how far the
model holds on each source, and that its scores are not probabilities to read literally.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from models.build.metrics import auc

ScoredSets = dict[str, tuple[np.ndarray, np.ndarray]]  # set name -> (labels, scores)
FIGURE_SIZE = (4.2, 3.6)
DPI = 100


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    labels = np.asarray(labels).astype(bool)
    cuts = np.unique(scores)[::-1]
    tpr = np.array([0.0] + [(scores[labels] >= c).mean() for c in cuts])
    fpr = np.array([0.0] + [(scores[~labels] >= c).mean() for c in cuts])
    return fpr, tpr


def reliability(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Mean score and observed positive rate in each non-empty equal-width score bin."""
    which = np.minimum((np.asarray(scores) * bins).astype(int), bins - 1)
    filled = [b for b in range(bins) if (which == b).any()]
    return (
        np.array([scores[which == b].mean() for b in filled]),
        np.array([labels[which == b].mean() for b in filled]),
    )


def _save(figure: plt.Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def draw_roc(sets: ScoredSets, screening_threshold: float, path: Path, title: str) -> None:
    """ROC per set, with the screening operating point marked on each curve."""
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    for name, (labels, scores) in sets.items():
        fpr, tpr = roc_points(labels, scores)
        (line,) = axes.plot(fpr, tpr, lw=1.2, label=f"{name} (AUC {auc(labels, scores):.2f})")
        positive = labels.astype(bool)
        point = ((scores[~positive] >= screening_threshold).mean(), (scores[positive] >= screening_threshold).mean())
        axes.plot(*point, "o", color=line.get_color(), ms=4)
    axes.plot([0, 1], [0, 1], ":", color="grey", lw=0.8)
    axes.set(xlabel="1 - specificity", ylabel="sensitivity", title=f"{title}: ROC, int8 (dot: screening point)")
    axes.title.set_fontsize(8)
    axes.legend(fontsize=6, loc="lower right")
    _save(figure, path)


def draw_calibration(sets: ScoredSets, path: Path, title: str) -> None:
    """Reliability diagram per set: observed positive rate against mean score, ten score bins."""
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    for name, (labels, scores) in sets.items():
        mean_score, observed = reliability(labels, scores)
        axes.plot(mean_score, observed, "o-", lw=1.0, ms=3, label=name)
    axes.plot([0, 1], [0, 1], ":", color="grey", lw=0.8)
    axes.set(xlabel="mean score (sigmoid of the int8 logit)", ylabel="observed share positive")
    axes.set_title(f"{title}: reliability, int8", fontsize=8)
    axes.legend(fontsize=6, loc="upper left")
    _save(figure, path)
