"""Stacking against scikit-learn's LogisticRegression fitted by hand."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.blend import apply_stack, fit_stack, fold_honest_stack
from models.blend.stack import STACK_C


def _ranks(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(2000) < 0.05).astype(np.int8)
    ranks = {"a": rng.random(2000) * 0.5 + y * 0.4, "b": rng.random(2000), "c": rng.random(2000)}
    folds = rng.integers(0, 4, 2000)
    return ranks, y, folds


def test_the_stored_fit_gives_scikit_learns_probabilities():
    ranks, y, _ = _ranks()
    x = np.column_stack([ranks["a"], ranks["b"], ranks["c"]])
    model = LogisticRegression(C=STACK_C, max_iter=1000).fit(x, y)
    fit = fit_stack(ranks, y)
    assert list(fit["coefficients"]) == ["a", "b", "c"]
    np.testing.assert_allclose(list(fit["coefficients"].values()), model.coef_[0])
    np.testing.assert_allclose(apply_stack(fit, ranks), model.predict_proba(x)[:, 1], rtol=1e-12)
    assert fit["coefficients"]["a"] > 1 > abs(fit["coefficients"]["b"])


def test_each_fold_is_scored_by_a_fit_on_the_other_folds_only():
    ranks, y, folds = _ranks(1)
    column, fits = fold_honest_stack(ranks, y, folds)
    x = np.column_stack([ranks["a"], ranks["b"], ranks["c"]])
    expected = np.empty(y.size)
    for fold in range(4):
        held = folds == fold
        model = LogisticRegression(C=STACK_C, max_iter=1000).fit(x[~held], y[~held])
        expected[held] = model.predict_proba(x[held])[:, 1]
    np.testing.assert_allclose(column, expected, rtol=1e-12)
    assert len(fits) == 4
