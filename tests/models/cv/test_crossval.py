"""Cross-validation: out-of-fold rows never influence anything fitted, and a run is repeatable."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata

from models.boosters import BOOSTERS, Matrix
from models.cv import cross_validate, fit_one, fit_settings, patient_folds
from tests.conftest import fast_config

CONFIG = fast_config()


@pytest.fixture(scope="module")
def data(small_matrix):
    return small_matrix


# Each library with the default sampling, plus both sampling strategies with their options on
# (over-sampling, per-patient cap, bag 1 of 3 disjoint subsets).
SAMPLED = {
    "oversample": {
        "sampling": {
            "positives_oversample_ratio": 0.01,
            "negatives_per_positive": 50,
            "max_negatives_per_patient": 40,
        }
    },
    "disjoint": {
        "sampling": {"strategy": "disjoint", "max_negatives_per_patient": 30},
        "training": {"bags": 3},
    },
}
CASES = [(name, None) for name in sorted(BOOSTERS)] + [("lgbm", "disjoint"), ("xgb", "oversample")]


@pytest.mark.parametrize(("name", "sampling"), CASES)
def test_out_of_fold_rows_never_influence_the_fit(name, sampling, data):
    x, patients = data
    config = CONFIG if sampling is None else fast_config(**SAMPLED[sampling])
    bag = 1 if sampling == "disjoint" else 0
    folds = patient_folds(patients, x.y, 5, seed=0)
    train_rows = np.flatnonzero(folds != 0)
    held_out = folds == 0
    settings = fit_settings(config)
    honest = fit_one(x, patients, train_rows, name, 11, config, settings, bag=bag, partition_seed=3)
    # Scramble the held-out fold completely: labels flipped, every numeric feature noise.
    rng = np.random.default_rng(5)
    numeric = x.numeric
    noise = pl.DataFrame({c: rng.normal(size=x.frame.height).astype(np.float32) for c in numeric})
    frame = x.frame.with_columns(
        pl.when(pl.Series(held_out)).then(noise[c]).otherwise(pl.col(c)).alias(c) for c in numeric
    )
    y = np.where(held_out, 1 - x.y, x.y)
    tampered = fit_one(
        Matrix(frame, x.names, x.categorical, y),
        patients,
        train_rows,
        name,
        11,
        config,
        settings,
        bag=bag,
        partition_seed=3,
    )
    assert tampered.rounds == honest.rounds
    valid = x.take(np.flatnonzero(held_out))
    np.testing.assert_array_equal(tampered.predict(valid), honest.predict(valid))


def test_cross_validation_is_repeatable_and_covers_every_row(data):
    x, patients = data
    config = fast_config(models={"names": ["lgbm"]}, cv={"folds": 3, "repeats": 2})
    first = cross_validate(x, patients, config)
    second = cross_validate(x, patients, config)
    assert first.folds.shape == (2, x.frame.height)
    assert not np.array_equal(first.folds[0], first.folds[1])
    assert np.isfinite(first.oof["lgbm"]).all()
    np.testing.assert_array_equal(first.oof["lgbm"], second.oof["lgbm"])
    # With several repeats a row's score is the mean of its percentile ranks across repeats.
    by_repeat = first.oof_by_repeat["lgbm"]
    ranks = [rankdata(by_repeat[r], method="max") / by_repeat.shape[1] for r in range(2)]
    np.testing.assert_allclose(first.oof["lgbm"], np.mean(ranks, axis=0))
    np.testing.assert_allclose(first.oof_probability["lgbm"], by_repeat.mean(axis=0))
    assert len(first.models) == 6


def test_imposed_folds_are_used_as_given(data):
    x, patients = data
    config = fast_config(models={"names": ["lgbm"]}, cv={"folds": 3})
    folds = patient_folds(patients, x.y, 3, seed=123)[None, :]
    result = cross_validate(x, patients, config, folds=folds)
    np.testing.assert_array_equal(result.folds, folds)
