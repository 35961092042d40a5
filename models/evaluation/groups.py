"""Scores per group of rows: per fold, and per level of a categorical column (hospital, site),
so a user sees where the models work less well. A group without both classes has no score."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from models.evaluation.metric import isic_pauc

MISSING_GROUP = "<missing>"


def pauc_or_none(y: np.ndarray, scores: np.ndarray) -> float | None:
    """The ISIC score of these rows, or None when they lack a malignant or a benign row."""
    y = np.asarray(y)
    if y.size == 0 or y.min() == y.max():
        return None
    return isic_pauc(y, scores)


def fold_scores(y: np.ndarray, scores: np.ndarray, fold_of_row: np.ndarray) -> list[float]:
    """Each fold's ISIC score, in fold order; NaN for a fold with one class (reported, never
    raised)."""
    values = [
        pauc_or_none(y[fold_of_row == fold], scores[fold_of_row == fold])
        for fold in np.unique(fold_of_row)
    ]
    return [float("nan") if v is None else v for v in values]


def group_labels(frame: pl.DataFrame, column: str, source: str) -> np.ndarray:
    """`column` of `frame` as strings, a null as its own group; a user error when it is absent
    or not categorical (a string, Enum, Categorical or Boolean column)."""
    if column not in frame.columns:
        raise UserError(f"{source}: column '{column}' is not in the training data")
    series = frame[column]
    if not (
        series.dtype in (pl.String, pl.Boolean)
        or isinstance(series.dtype, pl.Enum | pl.Categorical)
    ):
        raise UserError(
            f"{source}: column '{column}' is {series.dtype}; expected a categorical column "
            "(string or category)"
        )
    return series.cast(pl.String).fill_null(MISSING_GROUP).to_numpy()


def scores_by_group(
    y: np.ndarray, scores: dict[str, np.ndarray], groups: np.ndarray
) -> dict[str, dict[str, Any]]:
    """For every group (sorted): rows, malignant rows, and each score's ISIC pAUC on the
    group's rows (None for a group without both classes)."""
    out = {}
    for level in sorted(set(groups.tolist())):
        rows = groups == level
        out[level] = {
            "n_rows": int(rows.sum()),
            "n_positive": int(y[rows].sum()),
            "pauc": {name: pauc_or_none(y[rows], values[rows]) for name, values in scores.items()},
        }
    return out
