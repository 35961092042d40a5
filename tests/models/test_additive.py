"""The curves of boosted stumps (models/additive.py), each checked against LightGBM itself:
raw scores of rows that differ in one feature only, the mean raw score of the fold models,
and the mean over each fold model's training rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pytest

from models import additive
from models.boosters import FitSettings, Matrix, booster

LEVELS = ["w", "x", "y", "z"]
PARAMS = {
    "max_depth": 1,
    "num_leaves": 2,
    "learning_rate": 0.1,
    "min_data_in_leaf": 20,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "max_cat_to_onehot": 64,
}
SETTINGS = FitSettings(
    max_rounds=40, early_stopping_rounds=10, min_rounds=1, eval_every=1, smoothing_rounds=1,
    threads=1,
)  # fmt: skip


@dataclass
class Stumps:
    repeat: int
    fold: int
    bag: int
    fitted: Any


@pytest.fixture(scope="module")
def fitted():
    """2,000 rows: `neg` always below zero and never missing, `b` missing in a fifth of the
    rows, a categorical `c` with nulls, `empty` never observed; two repeats of two folds with
    two bags each (eight fold models of 40 stumps)."""
    rng = np.random.default_rng(0)
    n = 2_000
    neg = rng.uniform(-10, -1, n)
    b = np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))
    c = np.array(LEVELS, dtype=object)[rng.integers(0, 4, n)]
    c[rng.random(n) < 0.1] = None
    logit = 0.6 * (neg + 5) + np.nan_to_num(b, nan=1.5) + 2.0 * (c == "y") - 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pl.DataFrame(
        {
            "neg": neg.astype(np.float32),
            "b": b.astype(np.float32),
            "empty": np.full(n, np.nan, dtype=np.float32),
            "c": pl.Series(c.tolist(), dtype=pl.String).cast(pl.Enum(LEVELS)),
        }
    )
    x = Matrix(frame, ["neg", "b", "empty", "c"], ["c"], y)
    folds = rng.integers(0, 2, (2, n))
    models = [
        Stumps(r, f, bag, booster("lgbm").fit(x.take(np.flatnonzero(folds[r] != f)), None,
                                              PARAMS, 100 * r + 10 * f + bag, SETTINGS))
        for r in range(2) for f in range(2) for bag in range(2)
    ]  # fmt: skip
    by_fold = additive.fold_curves(models, x, folds)
    return x, folds, models, by_fold, additive.run_curves(by_fold)


def raw(model: Stumps, rows: np.ndarray) -> np.ndarray:
    return model.fitted.booster.predict(rows, raw_score=True)


def curve_of(by_fold: pl.DataFrame, model: Stumps) -> pl.DataFrame:
    keys = {"repeat": model.repeat, "fold": model.fold, "bag": model.bag}
    return additive.run_curves(by_fold.filter(**keys))


def level_names(codes: np.ndarray) -> list[str | None]:
    return [None if np.isnan(v) else LEVELS[int(v)] for v in codes]


def test_the_explanation_sums_to_the_mean_raw_score_of_the_fold_models(fitted):
    x, folds, models, by_fold, shape = fitted
    # A test lesion: every fold model.
    explained = additive.explain(shape, x.frame).sum_horizontal().to_numpy()
    expected = np.mean([raw(m, x.codes) for m in models], axis=0)
    np.testing.assert_allclose(explained, expected, rtol=0, atol=1e-6)
    # Out of fold: per repeat the mean over the bags of the lesion's own fold, then over repeats.
    held_out = additive.explain_out_of_fold(by_fold, x.frame, folds).sum_horizontal().to_numpy()
    expected = np.zeros(x.frame.height)
    for m in models:
        rows = folds[m.repeat] == m.fold
        expected[rows] += raw(m, x.codes[rows]) / 4  # 2 repeats x 2 bags see no such row
    np.testing.assert_allclose(held_out, expected, rtol=0, atol=1e-6)
    assert additive.explain(shape, x.frame).columns == ["(bias)", "neg", "b", "empty", "c"]


@pytest.mark.parametrize("feature", ["neg", "b", "empty", "c"])
def test_a_change_in_one_feature_changes_the_raw_score_by_the_curve(fitted, feature):
    x, _, models, by_fold, _ = fitted
    column = x.names.index(feature)
    rng = np.random.default_rng(1)
    if feature == "c":
        probes = np.array([0.0, 1.0, 2.0, 3.0, np.nan])
    else:
        # Training values, every threshold and the next number above it, zero and missing.
        cuts = [
            t["tree_structure"]["threshold"]
            for m in models
            for t in m.fitted.booster.dump_model()["tree_info"]
            if t["tree_structure"].get("split_feature") == column
        ]
        sample = rng.choice(x.codes[:, column], 40).astype(np.float64)
        above = np.nextafter(np.array(cuts, dtype=np.float64), np.inf)
        probes = np.concatenate([sample, cuts, above, [0.0, np.nan]])
    for model in models:
        curve = curve_of(by_fold, model)
        for base in x.codes[rng.choice(x.frame.height, 5)].astype(np.float64):
            rows = np.repeat(base[np.newaxis, :], probes.size, axis=0)
            rows[:, column] = probes
            change = raw(model, rows) - raw(model, base[np.newaxis, :])
            values, start = probes, base[column : column + 1]
            if feature == "c":
                values, start = level_names(probes), level_names(start)
            expected = additive.curve_at(curve, feature, values)
            expected -= additive.curve_at(curve, feature, start)
            np.testing.assert_allclose(change, expected, rtol=0, atol=1e-9)


def test_a_feature_never_missing_in_training_takes_zeros_step_when_missing(fitted):
    x, _, models, by_fold, shape = fitted
    splits = [
        t["tree_structure"]
        for m in models
        for t in m.fitted.booster.dump_model()["tree_info"]
        if t["tree_structure"].get("split_feature") == 0
    ]
    # The dump says a missing `neg` goes left (to the lowest step); 0.0 lies above every step.
    assert splits and all(s["missing_type"] == "None" and s["default_left"] for s in splits)
    assert max(s["threshold"] for s in splits) < 0
    for curve in [shape, *(curve_of(by_fold, m) for m in models)]:
        rows = curve.filter(pl.col("feature") == "neg")
        missing = rows.filter("missing")["contribution"].item()
        assert missing == pytest.approx(additive.curve_at(curve, "neg", [0.0])[0], abs=1e-12)
        assert missing == rows.filter(~pl.col("missing"))["contribution"][-1]
        assert missing != pytest.approx(rows["contribution"][0])
    # And LightGBM itself scores a missing `neg` as 0.0.
    rows = np.repeat(x.codes[:3].astype(np.float64), 2, axis=0)
    rows[::2, 0], rows[1::2, 0] = np.nan, 0.0
    scores = raw(models[0], rows)
    np.testing.assert_array_equal(scores[::2], scores[1::2])


def test_each_fold_models_curves_have_mean_zero_over_its_training_rows(fitted):
    x, folds, models, by_fold, _ = fitted
    for model in models:
        curve = curve_of(by_fold, model)
        train = folds[model.repeat] != model.fold
        for feature in x.names:
            values = x.frame[feature].filter(pl.Series(train))
            assert abs(additive.curve_at(curve, feature, values).mean()) < 1e-9, feature
        # So the bias is the model's mean raw score over those rows.
        bias = curve.filter(pl.col("feature") == "(bias)")["contribution"].item()
        assert bias == pytest.approx(raw(model, x.codes[train]).mean(), abs=1e-9)


def test_the_curve_frame_has_the_contracts_rows_and_columns(fitted):
    x, _, models, by_fold, shape = fitted
    assert shape.schema == pl.Schema(additive.SCHEMA)
    assert by_fold.columns == [*additive.COLUMNS, "repeat", "fold", "bag"]
    assert by_fold.height == len(models) * shape.height
    assert shape["feature"].unique(maintain_order=True).to_list() == ["(bias)", *x.names]
    for feature in x.names:
        rows = shape.filter(pl.col("feature") == feature)
        assert rows["missing"].to_list() == [False] * (rows.height - 1) + [True]
        steps = rows.filter(~pl.col("missing"))
        if feature == "c":
            assert steps["level"].to_list() == LEVELS and steps["value"].null_count() == 4
        elif feature == "empty":
            assert steps.is_empty()  # never observed: only the missing row
        else:
            assert steps["value"][0] == pytest.approx(x.frame[feature].min())
            assert steps["value"].is_sorted() and steps["value"].n_unique() == steps.height
    # The run's curve is the mean of the fold models' curves, low and high their extremes.
    table = by_fold["contribution"].to_numpy().reshape(len(models), -1)
    np.testing.assert_allclose(shape["contribution"], table.mean(axis=0), atol=1e-12)
    np.testing.assert_array_equal(shape["low"], table.min(axis=0))
    np.testing.assert_array_equal(shape["high"], table.max(axis=0))


def test_curve_at_reads_steps_levels_and_missing_values():
    shape = pl.DataFrame(
        {
            "feature": ["(bias)", "v", "v", "v", "v", "k", "k", "k"],
            "value": [None, 1.0, 2.0, 5.0, None, None, None, None],
            "level": [None, None, None, None, None, "p", "q", None],
            "missing": [False, False, False, False, True, False, False, True],
            "contribution": [0.5, -1.0, 0.0, 2.0, 0.25, 0.3, -0.3, 0.1],
        },
        schema_overrides={"value": pl.Float64, "level": pl.String},
    ).with_columns(low=pl.col("contribution"), high=pl.col("contribution"))
    # A threshold belongs to the step below it (x <= t goes left).
    got = additive.curve_at(shape, "v", [-3.0, 1.0, 2.0, 2.5, 5.0, 9.0, None, np.nan])
    np.testing.assert_array_equal(got, [-1.0, -1.0, -1.0, 0.0, 0.0, 2.0, 0.25, 0.25])
    enum = pl.Series(["q", None, "p"], dtype=pl.Enum(["p", "q"]))
    np.testing.assert_array_equal(additive.curve_at(shape, "k", enum), [-0.3, 0.1, 0.3])
    # A level the run never saw reaches the model as missing.
    np.testing.assert_array_equal(additive.curve_at(shape, "k", ["unseen"]), [0.1])
    frame = pl.DataFrame({"k": ["p", "q"], "v": [1.5, 7.0], "other": [0, 0]})
    explained = additive.explain(shape, frame)
    assert explained.columns == ["(bias)", "v", "k"]
    np.testing.assert_allclose(explained.sum_horizontal(), [0.5 - 1.0 + 0.3, 0.5 + 2.0 - 0.3])
    with pytest.raises(ValueError, match="no feature 'nope'"):
        additive.curve_at(shape, "nope", [1.0])


def test_top_features_are_the_widest_curves(fitted):
    _, _, _, _, shape = fitted
    spread = {}
    for feature, contribution in shape.select("feature", "contribution").iter_rows():
        if feature != "(bias)":
            low, high = spread.get(feature, (contribution, contribution))
            spread[feature] = (min(low, contribution), max(high, contribution))
    widest = sorted(spread, key=lambda f: -(spread[f][1] - spread[f][0]))
    assert additive.top_features(shape, k=3) == widest[:3]
    assert additive.top_features(shape)[-1] == "empty"  # a flat curve moves nothing
