"""The out-of-fold numbers a run reports (`metrics.json`): each score column's pooled ISIC
score with its patient-bootstrap interval, top-15 retrieval, and its per-fold and per-repeat
scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from models.evaluation.groups import fold_scores
from models.evaluation.metric import isic_pauc, patient_bootstrap_ci, top15_retrieval


def oof_metrics(
    y: np.ndarray,
    patient_ids: np.ndarray,
    columns: dict[str, np.ndarray],
    by_repeat: list[dict[str, np.ndarray]],
    folds: np.ndarray,
    *,
    bootstrap_samples: int,
    seed: int,
) -> dict[str, Any]:
    """`columns` are the pooled out-of-fold scores by name; `by_repeat[r]` holds the same
    names' scores of CV repeat r alone, whose folds are `folds[r]`."""
    metrics: dict[str, Any] = {
        key: {} for key in ("oof_pauc", "oof_pauc_ci", "oof_top15", "fold_pauc", "repeat_pauc")
    }
    for name, scores in columns.items():
        metrics["oof_pauc"][name] = isic_pauc(y, scores)
        metrics["oof_pauc_ci"][name] = list(
            patient_bootstrap_ci(y, scores, patient_ids, bootstrap_samples, seed)
        )
        metrics["oof_top15"][name] = top15_retrieval(y, scores, patient_ids)
        metrics["fold_pauc"][name] = [
            value
            for r, repeat_scores in enumerate(by_repeat)
            for value in fold_scores(y, repeat_scores[name], folds[r])
        ]
        metrics["repeat_pauc"][name] = [isic_pauc(y, s[name]) for s in by_repeat]
    metrics.update(
        n_rows=int(y.size),
        n_positive=int(y.sum()),
        n_patients=int(np.unique(patient_ids).size),
    )
    return metrics
