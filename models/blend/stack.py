"""Stacking: a logistic regression (scikit-learn) on the components' percentile ranks, so its
inputs share one scale whatever each component's own (probabilities, logits, ranks). Unlike the
weighted rank mean its weights may be negative and are not limited to a grid.

The out-of-fold column is honest: each fold's rows are scored by a regression fitted on the
other folds' rows only. The stored fit (coefficients and intercept, JSON numbers) is applied
again without scikit-learn's objects, so nothing is pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

# Inverse L2 strength. Ranks lie in [0, 1] and there are hundreds of positives, so the default
# strength barely shrinks the coefficients; it keeps the fit defined when components coincide.
STACK_C = 1.0
_MAX_ITER = 1000


def fit_stack(ranks: dict[str, np.ndarray], y: np.ndarray) -> dict[str, Any]:
    """A logistic regression of `y` on the ranks: `{"coefficients": {name: c}, "intercept": b}`."""
    names = list(ranks)
    model = LogisticRegression(C=STACK_C, max_iter=_MAX_ITER)
    model.fit(_matrix(ranks, names), np.asarray(y))
    return {
        "coefficients": {n: float(c) for n, c in zip(names, model.coef_[0], strict=True)},
        "intercept": float(model.intercept_[0]),
    }


def apply_stack(fit: dict[str, Any], ranks: dict[str, np.ndarray]) -> np.ndarray:
    """The stacked probability of malignancy for rows with these ranks."""
    coefficients = fit["coefficients"]
    names = list(coefficients)
    weights = np.array([coefficients[n] for n in names])
    return expit(_matrix(ranks, names) @ weights + fit["intercept"])


def fold_honest_stack(
    ranks: dict[str, np.ndarray], y: np.ndarray, fold_of_row: np.ndarray
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Out-of-fold stacked scores: each fold's rows from a fit on the other folds' rows.
    Returns the scores and each fold's fit."""
    out = np.empty(np.asarray(y).size)
    fits = []
    for fold in np.unique(fold_of_row):
        scored = fold_of_row == fold
        fit = fit_stack({n: r[~scored] for n, r in ranks.items()}, y[~scored])
        fits.append(fit)
        out[scored] = apply_stack(fit, {n: r[scored] for n, r in ranks.items()})
    return out, fits


def _matrix(ranks: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.column_stack([np.asarray(ranks[n], dtype=np.float64) for n in names])
