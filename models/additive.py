"""Shape functions of an additive run (LightGBM stumps, `[models] form = "additive"`): each
feature's exact contribution to the log-odds as a step curve read from the saved fold models,
and lesions explained by those curves.

A tree of depth 1 uses one feature, so a stump model's log-odds are a constant plus one
function per feature. Each function is found by evaluating the model: raw scores of rows that
differ in that feature only, the split thresholds of `dump_model()` saying only where the
steps are. Never from the dump's missing directions: for a feature with no missing value in
training LightGBM sends a missing value where 0.0 goes, whatever the dump says.

A curve frame (`shape_functions.parquet` in the run folder) has the columns `COLUMNS`:
- feature: the feature's name, `BIAS` on the one bias row;
- value: the left edge of a step of a numeric feature. The curve is constant from a row's
  value to the next row's: LightGBM sends x <= t left, so a step that starts at threshold t
  holds for x > t, and the first step starts at the feature's smallest training value. Null on
  a level, on the missing row and on the bias;
- level: a categorical feature's level (the run's stored levels, in their stored order);
- missing: true on the row that gives a missing value's contribution (last of its feature);
- contribution, low, high: the run's curve, the mean over fold models (repeats and bags), and
  the smallest and largest of the fold models' curves.

Each fold model's curve is centred to mean zero over its training lesions (every row of its
training fold, before sampling; a missing value counts at its missing contribution) and the
bias takes the rest, so the bias plus the curves at a lesion's values is the model's log-odds.
Every fold model is evaluated at every step of the run (the union of their thresholds), so
their curves share their rows and average exactly: the run's curve explains the mean log-odds,
which is what an additive run scores (`models.cv.task_scores`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import polars as pl

from models.boosters import Matrix
from models.cv import log_odds

BIAS = "(bias)"
COLUMNS = ("feature", "value", "level", "missing", "contribution", "low", "high")
FOLD_KEYS = ("repeat", "fold", "bag")  # the extra columns of the per-fold-model curves
SCHEMA = {
    "feature": pl.String,
    "value": pl.Float64,
    "level": pl.String,
    "missing": pl.Boolean,
    "contribution": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
}


class StumpModel(Protocol):
    """A fold model of an additive run (`models.artifacts.LoadedModel`, `models.cv.FoldModel`)."""

    repeat: int
    fold: int
    bag: int
    fitted: Any  # LightGBM's fold model (`models.boosters`): `booster` and `rounds`


def shape_functions(models: Sequence[StumpModel], x: Matrix, folds: np.ndarray) -> pl.DataFrame:
    """The run's curves (`COLUMNS`) from its fold `models`; `x` holds every training row and
    `folds` (repeats, rows) their folds, so a model of (repeat r, fold f) trained on the rows
    where `folds[r] != f`."""
    return run_curves(fold_curves(models, x, folds))


def fold_curves(models: Sequence[StumpModel], x: Matrix, folds: np.ndarray) -> pl.DataFrame:
    """Each fold model's own centred curve (`COLUMNS` plus `FOLD_KEYS`, `low` and `high` equal
    to `contribution`), models in (repeat, fold, bag) order, each on the run's steps."""
    models = sorted(models, key=lambda m: (m.repeat, m.fold, m.bag))
    steps = _steps(models, x)
    probe = _probe_rows(steps, len(x.names))
    template = _template(steps)
    frames = []
    for model in models:
        train = folds[model.repeat] != model.fold
        contribution = _centred(log_odds(model.fitted, probe), steps, train)
        frames.append(
            template.with_columns(
                pl.Series("contribution", contribution),
                pl.Series("low", contribution),
                pl.Series("high", contribution),
                *(pl.lit(getattr(model, key), pl.Int64).alias(key) for key in FOLD_KEYS),
            )
        )
    return pl.concat(frames)


def run_curves(by_fold: pl.DataFrame) -> pl.DataFrame:
    """The mean curve (`COLUMNS`) of the fold models in `by_fold` (`fold_curves`' frame, or
    some of its models: one fold's, to explain the lesions it held out), `low` and `high` the
    smallest and largest of their curves."""
    ordered = by_fold.sort(FOLD_KEYS, maintain_order=True)
    n_models = ordered.select(FOLD_KEYS).n_unique()
    size = ordered.height // max(n_models, 1)
    features = ordered["feature"].to_numpy().reshape(n_models, size)
    if n_models == 0 or ordered.height != n_models * size or (features != features[0]).any():
        raise ValueError("fold curves: expected the same rows for every fold model")
    values = ordered["contribution"].to_numpy().reshape(n_models, size)
    return ordered.head(size).select(
        *COLUMNS[:4],
        pl.Series("contribution", values.mean(axis=0)),
        pl.Series("low", values.min(axis=0)),
        pl.Series("high", values.max(axis=0)),
    )


def curve_at(shape: pl.DataFrame, feature: str, values: Iterable[Any]) -> np.ndarray:
    """`feature`'s contribution at `values`: numbers for a numeric feature, level names for a
    categorical one; a null, a NaN or a level the run never saw gets the missing contribution
    (an unseen level reaches the model as a missing value)."""
    rows = shape.filter(pl.col("feature") == feature)
    if rows.is_empty():
        raise ValueError(f"the curves have no feature '{feature}'")
    return _curve_at(rows, values)


def explain(shape: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Each row of `frame` (the features with the run's names: numbers, and levels as pl.Enum
    or strings) explained: `BIAS`, then one column per feature with its contribution. A row's
    sum is the lesion's log-odds under the curves in `shape`."""
    columns = {BIAS: np.full(frame.height, _bias(shape))}
    curves = shape.partition_by("feature", as_dict=True, maintain_order=True)
    for (feature,), rows in curves.items():
        if feature == BIAS:
            continue
        if feature not in frame.columns:
            raise ValueError(f"frame to explain: feature column '{feature}' is missing")
        columns[feature] = _curve_at(rows, frame[feature])
    return pl.DataFrame(columns)


def explain_out_of_fold(
    by_fold: pl.DataFrame, frame: pl.DataFrame, folds: np.ndarray
) -> pl.DataFrame:
    """Each training lesion (a row of `frame`) explained by the fold models that did not see
    it, as `explain` does: in each repeat the curves of the lesion's fold (mean over bags),
    then the mean over repeats. `folds` holds each row's fold in every repeat (repeats, rows),
    as the run's `folds.csv` gives them; a row sums to the lesion's out-of-fold log-odds (the
    run's `lgbm` column)."""
    folds = np.atleast_2d(np.asarray(folds))
    repeats = by_fold["repeat"].n_unique()
    if folds.shape[0] != repeats:
        raise ValueError(f"folds of {folds.shape[0]} repeats for curves of {repeats} repeats")
    total = None
    for r, fold_of_row in enumerate(folds):
        for fold in np.unique(fold_of_row):
            rows = np.flatnonzero(fold_of_row == fold)
            models = by_fold.filter((pl.col("repeat") == r) & (pl.col("fold") == int(fold)))
            part = explain(run_curves(models), frame[rows])
            if total is None:
                total = np.zeros((frame.height, part.width))
            total[rows] += part.to_numpy()
    if total is None:
        raise ValueError("frame to explain has no rows")
    return pl.DataFrame(total / folds.shape[0], schema=part.columns, orient="row")


def top_features(shape: pl.DataFrame, k: int = 12) -> list[str]:
    """The `k` features that move the score most: the largest range (max - min) of the run's
    curve over its steps, levels and missing row; ties in the run's feature order."""
    spread = (
        shape.filter(pl.col("feature") != BIAS)
        .group_by("feature", maintain_order=True)
        .agg((pl.col("contribution").max() - pl.col("contribution").min()).alias("spread"))
    )
    return spread.sort("spread", descending=True, maintain_order=True)["feature"][:k].to_list()


@dataclass
class _Steps:
    """Where one feature's curve has its rows, and on which row each training lesion falls."""

    feature: str
    column: int  # in the model's inputs
    points: np.ndarray  # the value each row is evaluated at: inside its step (missing: NaN)
    values: list[float | None]  # the `value` column
    levels: list[str | None]  # the `level` column
    of_lesion: np.ndarray  # each training lesion's row


def _steps(models: Sequence[StumpModel], x: Matrix) -> list[_Steps]:
    thresholds: dict[int, set[float]] = {}
    for model in models:
        dump = model.fitted.booster.dump_model(num_iteration=model.fitted.rounds)
        if dump["feature_names"] != list(x.names):
            raise ValueError("fold model: its features are not the run's")
        for tree in dump["tree_info"]:
            node = tree["tree_structure"]
            if "split_index" not in node:
                continue  # a tree without a split: a constant, which the bias takes
            if any("split_index" in node[side] for side in ("left_child", "right_child")):
                raise ValueError("fold model: a tree deeper than one split is not additive")
            if node["decision_type"] == "<=":
                thresholds.setdefault(node["split_feature"], set()).add(float(node["threshold"]))
    codes = x.codes
    steps = []
    for column, feature in enumerate(x.names):
        observed = codes[:, column].astype(np.float64)
        if feature in x.categorical:
            steps.append(_level_steps(feature, column, observed, x.frame.schema[feature]))
        else:
            cuts = np.array(sorted(thresholds.get(column, ())), dtype=np.float64)
            steps.append(_numeric_steps(feature, column, observed, cuts))
    return steps


def _numeric_steps(feature: str, column: int, observed: np.ndarray, cuts: np.ndarray) -> _Steps:
    known = observed[~np.isnan(observed)]
    if known.size == 0:  # never observed: no step, only the missing row
        every = np.zeros(observed.size, dtype=int)
        return _Steps(feature, column, np.array([np.nan]), [None], [None], every)
    # Inside each step, away from its ends: below the first threshold, between two, above
    # the last (x <= t goes left, so a threshold itself belongs to the step below it).
    if cuts.size:
        reach = np.maximum(1.0, np.abs(cuts[[0, -1]]))
        inside = [cuts[0] - reach[0], *((cuts[:-1] + cuts[1:]) / 2), cuts[-1] + reach[1]]
    else:
        inside = [float(known.min())]
    of_lesion = np.searchsorted(cuts, observed, side="left")
    of_lesion[np.isnan(observed)] = cuts.size + 1
    return _Steps(
        feature,
        column,
        np.array([*inside, np.nan]),
        [float(known.min()), *cuts.tolist(), None],
        [None] * (cuts.size + 2),
        of_lesion,
    )


def _level_steps(feature: str, column: int, observed: np.ndarray, dtype: Any) -> _Steps:
    levels = list(dtype.categories)
    of_lesion = np.where(np.isnan(observed), len(levels), np.nan_to_num(observed)).astype(int)
    return _Steps(
        feature,
        column,
        np.array([*range(len(levels)), np.nan], dtype=np.float64),
        [None] * (len(levels) + 1),
        [*levels, None],
        of_lesion,
    )


def _probe_rows(steps: list[_Steps], n_columns: int) -> np.ndarray:
    """A row with every feature missing, then for each feature one row per step of its curve
    that differs from it in that feature only."""
    rows = np.full((1 + sum(s.points.size for s in steps), n_columns), np.nan)
    start = 1
    for s in steps:
        rows[start : start + s.points.size, s.column] = s.points
        start += s.points.size
    return rows


def _centred(raw: np.ndarray, steps: list[_Steps], train: np.ndarray) -> np.ndarray:
    """The bias, then each feature's curve centred on the training lesions, from the raw
    scores of `_probe_rows`. Against the all-missing row, a feature's rows give its curve up
    to a constant; the model is additive, so the constants all go to the bias."""
    base, start = raw[0], 1
    bias, curves = base, []
    n_train = int(train.sum())
    for s in steps:
        curve = raw[start : start + s.points.size] - base
        start += s.points.size
        counts = np.bincount(s.of_lesion[train], minlength=s.points.size)
        mean = float(counts @ curve) / n_train
        curves.append(curve - mean)
        bias += mean
    return np.concatenate([[bias], *curves])


def _template(steps: list[_Steps]) -> pl.DataFrame:
    """The key columns of a curve frame: the bias row, then each feature's steps or levels and
    its missing row."""
    features, values, levels, missing = [BIAS], [None], [None], [False]
    for s in steps:
        features += [s.feature] * s.points.size
        values += s.values
        levels += s.levels
        missing += [False] * (s.points.size - 1) + [True]
    return pl.DataFrame(
        {"feature": features, "value": values, "level": levels, "missing": missing},
        schema={k: SCHEMA[k] for k in COLUMNS[:4]},
    )


def _bias(shape: pl.DataFrame) -> float:
    rows = shape.filter(pl.col("feature") == BIAS)["contribution"]
    if rows.len() != 1:
        raise ValueError(f"the curves have {rows.len()} '{BIAS}' rows; expected one")
    return float(rows[0])


def _curve_at(rows: pl.DataFrame, values: Iterable[Any]) -> np.ndarray:
    missing = rows.filter(pl.col("missing"))["contribution"]
    missing_value = float(missing[0]) if missing.len() else 0.0
    steps = rows.filter(~pl.col("missing"))
    series = _series(values)
    if steps["level"].is_not_null().any():
        names = series.cast(pl.String)
        known = dict(zip(steps["level"], steps["contribution"], strict=True))
        return (
            names.replace_strict(known, default=None, return_dtype=pl.Float64)
            .fill_null(missing_value)
            .to_numpy(writable=True)
        )
    numbers = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
    out = np.full(numbers.size, missing_value)
    if steps.height:
        edges = steps["value"].to_numpy()
        at = np.searchsorted(edges[1:], numbers, side="left").clip(max=edges.size - 1)
        known = ~np.isnan(numbers)
        out[known] = steps["contribution"].to_numpy()[at[known]]
    return out


def _series(values: Iterable[Any]) -> pl.Series:
    if isinstance(values, pl.Series):
        return values
    if isinstance(values, np.ndarray):
        return pl.Series(values)
    return pl.Series(list(values), strict=False)
