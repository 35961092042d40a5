"""The three adapters behind one protocol: fit, early stopping, native save and load."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from models.boosters import BOOSTERS, FitSettings, Matrix, booster
from models.cv import fit_settings
from models.evaluation import isic_pauc
from tests.conftest import fast_config

CONFIG = fast_config()


@pytest.fixture(scope="module")
def matrices(small_matrix):
    """Half the patients to train on, the other half to validate on."""
    x, patients = small_matrix
    first = np.isin(patients, np.unique(patients)[::2])
    return x.take(np.flatnonzero(first)), x.take(np.flatnonzero(~first))


@pytest.mark.parametrize("name", sorted(BOOSTERS))
def test_fit_predict_save_load_round_trip(name, matrices, tmp_path):
    train, valid = matrices
    settings = fit_settings(CONFIG)
    model = booster(name)
    fitted = model.fit(train, valid, CONFIG.models.params(name), 3, settings)
    assert settings.min_rounds <= fitted.rounds <= settings.max_rounds
    scores = fitted.predict(valid)
    assert scores.shape == (valid.frame.height,)
    assert np.all((scores >= 0) & (scores <= 1))
    # Better than chance on the half it never saw (chance is 0.02).
    assert isic_pauc(valid.y, scores) > 0.05
    path = fitted.save(tmp_path / f"model{model.suffix}")
    assert path.read_bytes()[:2] not in (b"\x80\x04", b"\x80\x05")  # not a pickle
    loaded = model.load(path)
    assert loaded.rounds == fitted.rounds
    np.testing.assert_array_equal(loaded.predict(valid), scores)


@pytest.mark.parametrize("name", sorted(BOOSTERS))
def test_without_validation_boosts_exactly_max_rounds(name, matrices):
    train, _ = matrices
    settings = FitSettings(
        max_rounds=7,
        early_stopping_rounds=5,
        min_rounds=1,
        eval_every=1,
        smoothing_rounds=1,
        threads=1,
    )
    fitted = booster(name).fit(train, None, CONFIG.models.params(name), 3, settings)
    assert fitted.rounds == 7


@pytest.mark.parametrize("name", sorted(BOOSTERS))
def test_early_stopping_keeps_the_best_round_on_the_validation_score(name, matrices):
    train, valid = matrices
    settings = FitSettings(
        max_rounds=200,
        early_stopping_rounds=30,
        min_rounds=1,
        eval_every=1,
        smoothing_rounds=1,
        threads=1,
    )
    fitted = booster(name).fit(train, valid, CONFIG.models.params(name), 3, settings)
    # Refit exactly that many rounds; the chosen round scores at least as well on the
    # validation rows as every round checked after it (that is what "best" means).
    best = isic_pauc(valid.y, fitted.predict(valid))
    later = FitSettings(
        max_rounds=min(200, fitted.rounds + 30),
        early_stopping_rounds=1,
        min_rounds=1,
        eval_every=1,
        smoothing_rounds=1,
        threads=1,
    )
    longer = booster(name).fit(train, None, CONFIG.models.params(name), 3, later)
    assert best >= isic_pauc(valid.y, longer.predict(valid)) - 1e-12


def test_categorical_nulls_and_unseen_levels_are_scored(matrices):
    import polars as pl

    train, valid = matrices
    settings = fit_settings(CONFIG)
    nulls = Matrix(
        valid.frame.with_columns(
            pl.lit(None).cast(valid.frame.schema[c]).alias(c) for c in valid.categorical
        ),
        valid.names,
        valid.categorical,
        valid.y,
    )
    for name in BOOSTERS:
        fitted = booster(name).fit(train, None, CONFIG.models.params(name), 3, settings)
        assert np.isfinite(fitted.predict(nulls)).all()


def test_kept_round_is_the_peak_of_the_smoothed_curve():
    from models.boosters import EveryKScore

    settings = FitSettings(
        max_rounds=100,
        early_stopping_rounds=10,
        min_rounds=1,
        eval_every=1,
        smoothing_rounds=3,
        threads=1,
    )
    score = EveryKScore(np.array([0, 1]), k=1)
    # A lone spike at round 2 loses to the broad plateau around round 6.
    score.rounds = [1, 2, 3, 4, 5, 6, 7, 8]
    score.values = [0.10, 0.19, 0.10, 0.15, 0.16, 0.17, 0.16, 0.15]
    assert score.best_rounds(settings) == 6
    # Fewer points than the window, and the bounds.
    score.rounds, score.values = [1, 2], [0.1, 0.2]
    assert score.best_rounds(settings) in (1, 2)
    bounded = FitSettings(
        max_rounds=100,
        early_stopping_rounds=10,
        min_rounds=50,
        eval_every=1,
        smoothing_rounds=3,
        threads=1,
    )
    assert score.best_rounds(bounded) == 50


def test_xgboost_stops_where_patience_runs_out_on_the_k_round_scores(matrices):
    # The same trees grown without validation give the inner score of every prefix; the
    # early-stopped fit must end exactly `patience` rounds after the best of the scores
    # computed every k rounds (a round in between never counts as an improvement).
    train, valid = matrices
    k, patience = 3, 12
    settings = FitSettings(
        max_rounds=150,
        early_stopping_rounds=patience,
        min_rounds=1,
        eval_every=k,
        smoothing_rounds=1,
        threads=1,
    )
    params = CONFIG.models.params("xgb")
    stopped = booster("xgb").fit(train, valid, params, 3, settings).booster
    full = booster("xgb").fit(train, None, params, 3, settings).booster
    inner = xgb.DMatrix(valid.frame.select(valid.names), enable_categorical=True)
    best, best_epoch, expected = -1.0, 0, settings.max_rounds
    for epoch in range(0, settings.max_rounds, k):
        value = isic_pauc(valid.y, full.predict(inner, iteration_range=(0, epoch + 1)))
        if value > best:
            best, best_epoch = value, epoch
        if epoch + k - best_epoch > patience:  # patience runs out before the next score
            expected = best_epoch + patience + 1
            break
    assert expected < settings.max_rounds  # the check must see early stopping happen
    assert stopped.num_boosted_rounds() == expected
