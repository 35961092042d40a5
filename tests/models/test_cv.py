"""Cross-validation: out-of-fold rows never influence anything fitted, and a run is repeatable."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.build import build_features, fit_spec
from models.cv import cross_validate, fit_one, fit_settings
from models.folds import patient_folds
from models.gbdt import Matrix
from models.registry import BOOSTERS
from tests.conftest import fast_config

CONFIG = fast_config()


@pytest.fixture(scope="module")
def data(small_data):
    train = small_data[0]
    spec = fit_spec(train, CONFIG.features.families, CONFIG.features.categoricals)
    built = build_features(train, spec)
    y = built.frame["target"].to_numpy()
    return Matrix(built.frame, built.names, built.categorical, y), built.frame[
        "patient_id"
    ].to_numpy()


@pytest.mark.parametrize("name", sorted(BOOSTERS))
def test_out_of_fold_rows_never_influence_the_fit(name, data):
    x, patients = data
    folds = patient_folds(patients, x.y, 5, seed=0)
    train_rows = np.flatnonzero(folds != 0)
    held_out = folds == 0
    settings = fit_settings(CONFIG)
    honest = fit_one(x, patients, train_rows, name, 11, CONFIG, settings)
    # Scramble the held-out fold completely: labels flipped, every numeric feature noise.
    rng = np.random.default_rng(5)
    numeric = x.numeric
    noise = pl.DataFrame({c: rng.normal(size=x.frame.height).astype(np.float32) for c in numeric})
    frame = x.frame.with_columns(
        pl.when(pl.Series(held_out)).then(noise[c]).otherwise(pl.col(c)).alias(c) for c in numeric
    )
    y = np.where(held_out, 1 - x.y, x.y)
    tampered = fit_one(
        Matrix(frame, x.names, x.categorical, y), patients, train_rows, name, 11, CONFIG, settings
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
    np.testing.assert_allclose(first.oof["lgbm"], first.oof_by_repeat["lgbm"].mean(axis=0))
    assert len(first.models) == 6
