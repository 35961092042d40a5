"""Each feature alone as a ranking of lesions: its ISIC score and AUC, in the better direction.

A column of 400,000 lesions with a few hundred malignant ones is summarised losslessly before
it is scored: every malignant value is kept, and the benign rows between two neighbouring
malignant values (or tied with one) become one row weighted by their count. Every rank
metric, the ISIC partial AUC and the AUC included, is the same on the summary, which has at
most three rows per malignant value, so about 150 features score in a second or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from features.registry import CATEGORICAL, Feature
from models.evaluation import isic_pauc

HIGHER = "higher"  # a higher value ranks as more suspicious
LOWER = "lower"
BY_LEVEL = "level"  # a categorical column, ranked by each level's malignant rate


@dataclass(frozen=True)
class Univariate:
    name: str
    family: str
    kind: str
    doc: str
    pauc: float | None  # the ISIC score of the better direction; None without spread
    auc: float | None  # the AUC in that same direction
    direction: str | None  # HIGHER, LOWER or BY_LEVEL
    missing: float  # share of rows without a value


def univariate_scores(
    frame: pl.DataFrame, features: list[Feature], y: np.ndarray
) -> list[Univariate]:
    """Every feature of `frame` (built columns named as `features`) scored alone against `y`.
    A missing value counts as the column's median; a categorical column ranks lesions by their
    level's malignant rate in these rows (a null is a level of its own)."""
    y = np.asarray(y)
    missing = frame.select(pl.col(f.name).null_count() / pl.len() for f in features).row(0)
    numeric = [f.name for f in features if f.kind != CATEGORICAL]
    with_nulls = {f.name for f, share in zip(features, missing, strict=True) if share > 0}
    # One select fills every column that needs it: Polars runs it in parallel, and a query
    # per column cost more than the scores themselves.
    filled = frame.select(
        pl.col(n).fill_null(pl.col(n).median()) if n in with_nulls else pl.col(n) for n in numeric
    )
    out = []
    for feature, share in zip(features, missing, strict=True):
        if feature.kind == CATEGORICAL:
            values, directions = level_rates(frame[feature.name], y), (BY_LEVEL,)
        else:
            # The column's own dtype (Float32 for built features): it sorts twice as fast.
            values, directions = filled[feature.name].to_numpy(), (HIGHER, LOWER)
        scores = _best_direction(y, values, directions)
        pauc, auc, direction = scores if scores is not None else (None, None, None)
        out.append(
            Univariate(
                feature.name, feature.family, feature.kind, feature.doc, pauc, auc, direction, share
            )
        )
    return out


def lossless_summary(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, scores, weights) with the same ROC curve as (`y`, `s`): each distinct malignant
    value once, weighted by its count; the benign rows tied with it as one row at that value;
    the benign rows strictly between two neighbouring malignant values (or beyond the ends)
    as one row in between."""
    malignant, malignant_weight = np.unique(s[y == 1], return_counts=True)
    benign = np.sort(s[y == 0])
    at_or_below = np.searchsorted(benign, malignant, side="right")
    below = np.searchsorted(benign, malignant, side="left")
    # Slot 2i + 1 holds the benign rows tied with malignant value i, slot 2i those between
    # values i - 1 and i (slot 0 those below every malignant value, the last those above).
    slot_weight = np.empty(2 * malignant.size + 1, dtype=np.int64)
    slot_weight[1::2] = at_or_below - below
    slot_weight[0:-1:2] = below - np.concatenate(([0], at_or_below[:-1]))
    slot_weight[-1] = benign.size - at_or_below[-1]
    values = malignant.astype(np.float64)
    edges = np.concatenate(([values[0] - 1.0], values, [values[-1] + 1.0]))
    between = (edges[:-1] + edges[1:]) / 2
    if np.any(between <= edges[:-1]) or np.any(between >= edges[1:]):
        return y, s, np.ones(y.size)  # neighbours too close to put a value between: no summary
    slot_value = np.empty(slot_weight.size)
    slot_value[0::2], slot_value[1::2] = between, values
    kept = slot_weight > 0
    labels = np.concatenate((np.ones(values.size, np.int64), np.zeros(int(kept.sum()), np.int64)))
    scores = np.concatenate((values, slot_value[kept]))
    weights = np.concatenate((malignant_weight, slot_weight[kept])).astype(np.float64)
    return labels, scores, weights


def level_rates(column: pl.Series, y: np.ndarray) -> np.ndarray:
    """Each row's level's malignant rate among these rows (a null is its own level)."""
    levels = column.cast(pl.String).fill_null("\x00missing").to_frame("level")
    rates = levels.with_columns(pl.Series("y", y, dtype=pl.Float64)).select(
        pl.col("y").mean().over("level")
    )
    return rates["y"].to_numpy()


def _best_direction(y: np.ndarray, values: np.ndarray, directions) -> tuple | None:
    finite = values[~np.isnan(values)]  # NaN only where every value is missing
    if y.min() == y.max() or finite.size < values.size or np.all(values == values[0]):
        return None
    labels, scores, weights = lossless_summary(y, values)
    best = None
    for direction in directions:
        signed = -scores if direction == LOWER else scores
        pauc = isic_pauc(labels, signed, sample_weight=weights)
        if best is None or pauc > best[0]:
            best = (pauc, roc_auc_score(labels, signed, sample_weight=weights), direction)
    return best
