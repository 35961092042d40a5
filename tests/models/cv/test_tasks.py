"""How a fold model's rounds are chosen (`[training] stopping`): how many fits, on which rows,
with how many rounds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from features.errors import UserError
from models.boosters import booster
from models.cv import fit_one, fit_settings, inner_split
from models.cv import tasks as tasks_module
from tests.conftest import fast_config


class CountingBooster:
    """The real adapter, recording every fit's row count, validation rows and rounds."""

    def __init__(self, name: str, calls: list):
        self.inner, self.calls = booster(name), calls
        self.name, self.suffix = self.inner.name, self.inner.suffix

    def fit(self, train, valid, params, seed, settings):
        fitted = self.inner.fit(train, valid, params, seed, settings)
        self.calls.append((train.y.size, valid is not None, settings.max_rounds))
        return fitted


@pytest.fixture
def calls(monkeypatch):
    recorded: list = []
    monkeypatch.setattr(tasks_module, "booster", lambda name: CountingBooster(name, recorded))
    return recorded


def _fit(small_matrix, name, **training):
    x, patients = small_matrix
    config = fast_config(training=training, sampling={"negatives_per_positive": 0})
    rows = np.arange(x.y.size)
    settings = fit_settings(config)
    return fit_one(x, patients, rows, name, 11, config, settings), config, x, patients


@pytest.mark.parametrize("name", ["lgbm", "xgb", "cat"])
def test_fixed_rounds_fit_once_on_every_row(small_matrix, calls, name):
    fitted, _, x, _ = _fit(small_matrix, name, stopping="fixed", fixed_rounds={name: 17})
    assert calls == [(x.y.size, False, 17)]
    assert fitted.rounds == 17


def test_a_library_without_fixed_rounds_boosts_max_rounds(small_matrix):
    x, patients = small_matrix
    config = fast_config(training={"stopping": "fixed"})
    config = dataclasses.replace(
        config, training=dataclasses.replace(config.training, fixed_rounds={"xgb": 5})
    )
    rows = np.arange(x.y.size)
    fitted = fit_one(x, patients, rows, "lgbm", 11, config, fit_settings(config))
    assert fitted.rounds == fitted.booster.num_trees() == config.training.max_rounds


def test_inner_keeps_the_early_stopped_fit_on_the_inner_rows(small_matrix, calls):
    fitted, config, x, patients = _fit(small_matrix, "xgb", stopping="inner")
    inner_train, _ = inner_split(patients, x.y, config.cv.inner_splits, 11)
    assert calls == [(inner_train.size, True, config.training.max_rounds)]
    t = config.training
    assert t.min_rounds <= fitted.rounds <= t.max_rounds


def test_refit_fits_twice_with_the_chosen_rounds(small_matrix, calls):
    fitted, config, x, patients = _fit(small_matrix, "lgbm", stopping="refit")
    inner_train, _ = inner_split(patients, x.y, config.cv.inner_splits, 11)
    (chooser, refit) = calls
    assert chooser == (inner_train.size, True, config.training.max_rounds)
    assert refit == (x.y.size, False, fitted.rounds)


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"stopping": "never"}, "training.stopping"),
        ({"fixed_rounds": {"rf": 10}}, "training.fixed_rounds"),
        ({"fixed_rounds": {"lgbm": 0}}, "training.fixed_rounds"),
    ],
)
def test_bad_stopping_settings_are_user_errors(training, message):
    with pytest.raises(UserError, match=message):
        fast_config(training=training)


@pytest.mark.parametrize("name", ["lgbm", "cat"])
def test_fixed_rounds_are_the_refit_that_rounds_pinned_by_bounds_would_give(small_matrix, name):
    """A refit whose bounds pin the rounds (min = max = R) trains the same model as one
    fixed-round fit: same rows, same sample, same seed, without the inner fit."""
    x, patients = small_matrix
    rows = np.arange(0, x.y.size, 2)
    fixed = fast_config(training={"stopping": "fixed", "fixed_rounds": {name: 25}})
    pinned = fast_config(training={"stopping": "refit", "min_rounds": 25, "max_rounds": 25})
    a = fit_one(x, patients, rows, name, 5, fixed, fit_settings(fixed))
    b = fit_one(x, patients, rows, name, 5, pinned, fit_settings(pinned))
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
