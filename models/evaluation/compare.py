"""Is B better than A? Two sets of out-of-fold scores on the same lesions and folds, their
ISIC scores, and the paired patient-bootstrap difference B - A with one verdict: better or
worse when the interval excludes zero, within noise otherwise.

The two sides must be scored on the same rows and the same patient folds: otherwise the
difference would mix a change of model with a change of data or split. `aligned` checks that
and puts B's rows into A's order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from models.evaluation.metric import isic_pauc, paired_bootstrap_diff, patient_bootstrap_ci

BETTER, WORSE, WITHIN_NOISE = "better", "worse", "within noise"
# The columns that say which lesion a score belongs to and which fold scored it.
KEY_COLUMNS = ("isic_id", "patient_id", "target", "fold")


@dataclass(frozen=True)
class Comparison:
    """B against A on the same rows: both scores with their intervals and B - A."""

    score_a: float
    score_b: float
    interval_a: tuple[float, float]
    interval_b: tuple[float, float]
    difference: float  # pauc(B) - pauc(A)
    low: float
    high: float
    verdict: str  # BETTER, WORSE or WITHIN_NOISE: B compared with A
    level: float
    resamples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(low: float, high: float) -> str:
    """Better or worse when the interval of B - A excludes zero, within noise otherwise."""
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return WITHIN_NOISE


def compare_scores(
    y: np.ndarray,
    score_a: np.ndarray | list[np.ndarray],
    score_b: np.ndarray | list[np.ndarray],
    patient_ids: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Comparison:
    """B against A on labels `y`. Either side may be a list of score arrays (training runs
    with other model seeds): its score is then the mean over them, as in
    `paired_bootstrap_diff`, and each side's own interval is that of its first run."""
    difference, low, high = paired_bootstrap_diff(
        y, score_b, score_a, patient_ids, n_boot, seed, level
    )
    runs_a, runs_b = _runs(score_a), _runs(score_b)
    return Comparison(
        score_a=float(np.mean([isic_pauc(y, s) for s in runs_a])),
        score_b=float(np.mean([isic_pauc(y, s) for s in runs_b])),
        interval_a=patient_bootstrap_ci(y, runs_a[0], patient_ids, n_boot, seed, level),
        interval_b=patient_bootstrap_ci(y, runs_b[0], patient_ids, n_boot, seed, level),
        difference=difference,
        low=low,
        high=high,
        verdict=verdict(low, high),
        level=level,
        resamples=n_boot,
    )


def aligned(a: pl.DataFrame, b: pl.DataFrame, name_a: str, name_b: str) -> pl.DataFrame:
    """`b`'s rows in `a`'s order, after checking that both hold the same lesions (`isic_id`,
    each with the same `patient_id` and `target`) and put every patient in the same `fold`.
    A mismatch is a UserError naming the first lesion or patient that differs."""
    for frame, name in ((a, name_a), (b, name_b)):
        missing = [c for c in KEY_COLUMNS if c not in frame.columns]
        if missing:
            raise UserError(f"{name}: column '{missing[0]}' is missing; expected {KEY_COLUMNS}")
        duplicated = frame.filter(pl.col("isic_id").is_duplicated())
        if duplicated.height:
            raise UserError(f"{name}: isic_id {duplicated['isic_id'][0]} occurs more than once")
    _same_ids(a, b, name_a, name_b)
    joined = a.select(KEY_COLUMNS).join(
        b, on="isic_id", how="left", suffix="__b", maintain_order="left"
    )
    for column in ("patient_id", "target"):
        differs = joined.filter(pl.col(column) != pl.col(f"{column}__b"))
        if differs.height:
            row = differs.row(0, named=True)
            raise UserError(
                f"{name_b}: isic_id {row['isic_id']} has {column} {row[f'{column}__b']} there "
                f"but {row[column]} in {name_a}; compare scores of the same rows"
            )
    moved = joined.filter(pl.col("fold") != pl.col("fold__b"))
    if moved.height:
        row = moved.row(0, named=True)
        raise UserError(
            f"{name_b}: patient {row['patient_id']} is in fold {row['fold__b']} there but in "
            f"fold {row['fold']} in {name_a}; train both on the same folds (--folds-file)"
        )
    return joined.drop([f"{c}__b" for c in ("patient_id", "target", "fold")])


def _same_ids(a: pl.DataFrame, b: pl.DataFrame, name_a: str, name_b: str) -> None:
    only_a = a.join(b, on="isic_id", how="anti")
    if only_a.height:
        raise UserError(f"{name_b}: isic_id {only_a['isic_id'][0]} of {name_a} is missing there")
    only_b = b.join(a, on="isic_id", how="anti")
    if only_b.height:
        raise UserError(f"{name_b}: isic_id {only_b['isic_id'][0]} is not a row of {name_a}")


def _runs(scores) -> list:
    return list(scores) if isinstance(scores, list | tuple) else [scores]
