"""Scores per group of rows: per fold, and per level of a categorical column (hospital, site),
so a user sees where the models work less well. A group with fewer than
`MIN_MALIGNANT_FOR_SCORE` malignant lesions, or without a benign one, has no score: a score (and
an interval) on so few malignant lesions is meaningless. A fold is scored whenever it holds both
classes: folds are drawn to share the malignant lesions out evenly."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from models.evaluation.metric import isic_pauc

MISSING_GROUP = "<missing>"
# A group with fewer malignant lesions than this gets its counts and a null score.
MIN_MALIGNANT_FOR_SCORE = 5


def enough_to_score(y: np.ndarray) -> bool:
    """Whether a group with labels `y` is scored: at least `MIN_MALIGNANT_FOR_SCORE` malignant
    lesions and at least one benign lesion."""
    malignant = int(np.count_nonzero(np.asarray(y) == 1))
    return malignant >= MIN_MALIGNANT_FOR_SCORE and malignant < np.size(y)


AGE_BAND = "age band"  # the grouping of `age_band(age_approx)`


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
    group's rows (None for a group that `enough_to_score` turns down)."""
    out = {}
    for level in sorted(set(groups.tolist())):
        rows = groups == level
        scored = enough_to_score(y[rows])
        out[level] = {
            "n_rows": int(rows.sum()),
            "n_positive": int(y[rows].sum()),
            "pauc": {
                name: isic_pauc(y[rows], values[rows]) if scored else None
                for name, values in scores.items()
            },
        }
    return out


def age_band(age: pl.Expr) -> pl.Expr:
    """Ten-year bands ("40-49"), with "0-29" and "80+" pooled at the ends (so that the bands
    sort in age order); null stays null."""
    decade = (age // 10 * 10).cast(pl.Int32)
    return (
        pl.when(age < 30)
        .then(pl.lit("0-29"))
        .when(age >= 80)
        .then(pl.lit("80+"))
        .otherwise(decade.cast(pl.String) + "-" + (decade + 9).cast(pl.String))
    )
