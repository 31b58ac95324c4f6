"""Turn scores into the card's figures: operating points from validation, test metrics with CIs."""

from __future__ import annotations

import numpy as np

from models.build.metrics import (
    ClusterBootstrap,
    auc,
    screening_threshold,
    sensitivity_at,
    specificity_at,
    youden_threshold,
)

BOOTSTRAP_RESAMPLES = 2000


def choose_operating_points(labels: np.ndarray, scores: np.ndarray, screening_sensitivity: float) -> dict[str, float]:
    """Thresholds on the final [0, 1] score, chosen on validation data only."""
    return {
        "screening": screening_threshold(labels, scores, screening_sensitivity),
        "balanced": youden_threshold(labels, scores),
    }


def measure(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, thresholds: dict[str, float], seed: int
) -> dict[str, object]:
    """AUC and each operating point's sensitivity/specificity, with cluster-bootstrap 95% CIs."""
    boot = ClusterBootstrap(groups, BOOTSTRAP_RESAMPLES, seed)
    points = {
        name: {
            "threshold": round(threshold, 6),
            "sensitivity": boot.interval(sensitivity_at(threshold), labels, scores).as_card(),
            "specificity": boot.interval(specificity_at(threshold), labels, scores).as_card(),
        }
        for name, threshold in thresholds.items()
    }
    return {
        "n": len(labels),
        "groups": len(np.unique(groups)),
        "positives": int(labels.sum()),
        "auc": boot.interval(auc, labels, scores).as_card(),
        "operating_points": points,
    }


def agreement(float_scores: np.ndarray, int8_scores: np.ndarray, threshold: float) -> dict[str, float]:
    """How often the float and int8 models give the same triage, and how far their scores differ."""
    diff = np.abs(float_scores - int8_scores)
    same = (float_scores >= threshold) == (int8_scores >= threshold)
    return {
        "n": len(diff),
        "triage_agreement": round(float(same.mean()), 4),
        "score_mean_abs_diff": round(float(diff.mean()), 5),
        "score_max_abs_diff": round(float(diff.max()), 5),
    }
