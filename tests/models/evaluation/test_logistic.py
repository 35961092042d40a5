"""Tests for models/evaluation/logistic.py: the pooled (binned Taylor series) fits of every
resample against scikit-learn and a hand Newton solve on the resample's own rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from models.evaluation import PatientResamples, logistic
from models.evaluation.logistic import BootstrapFits, logit, offset_fit, slope_fit


def _rows(seed: int, slope: float, n_patients: int = 60):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_patients, 1500)
    x = logit(expit(rng.normal(-2.5, 2.0, codes.size)))
    y = (rng.random(codes.size) < expit(slope * x + 1.0)).astype(np.int64)
    return x, y, codes


def _by_hand(x, y, weight):
    """Slope by scikit-learn, offset intercept by Newton, on rows weighted by `weight`."""
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)
    fit.fit(x[:, None], y, sample_weight=weight)
    a = 0.0
    for _ in range(60):
        fitted = expit(a + x)
        a += (weight * (y - fitted)).sum() / (weight * fitted * (1 - fitted)).sum()
    return fit.coef_[0, 0], a


@pytest.mark.parametrize(
    ("slope", "dense", "by_rows"),
    # 3.5: narrower bins for a steep cohort; by_rows: every resample past the series' range
    [(0.6, True, False), (1.4, False, False), (3.5, True, False), (1.0, True, True)],
)
def test_every_resample_equals_its_own_fit(slope, dense, by_rows, monkeypatch):
    if not dense:
        monkeypatch.setattr(logistic, "_DENSE_CELLS", 0)
    x, y, codes = _rows(int(slope * 10), slope)
    fits = BootstrapFits(x, y, codes, 60)
    if by_rows:
        fits.max_slope = 0.01
    for weights in PatientResamples.of(y, codes, 60, 12, 1).batches():
        slopes, intercepts = fits(weights)
        for row, weight in enumerate(weights):
            expected_slope, expected_intercept = _by_hand(x, y, weight[codes])
            assert slopes[row] == pytest.approx(expected_slope, abs=1e-6)
            assert intercepts[row] == pytest.approx(expected_intercept, abs=1e-10)


def test_point_fits_against_sklearn():
    x, y, _ = _rows(3, 0.9)
    intercept, slope = slope_fit(x, y)
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    assert slope == pytest.approx(fit.coef_[0, 0], abs=1e-6)
    assert intercept == pytest.approx(fit.intercept_[0], abs=1e-6)
    assert offset_fit(x, y) == pytest.approx(_by_hand(x, y, np.ones(y.size))[1], abs=1e-12)


def test_no_finite_fit_is_none():
    x = np.array([-3.0, -2.0, 2.0, 3.0])
    assert slope_fit(x, np.array([0, 0, 1, 1])) is None  # x separates the classes
    assert offset_fit(x, np.zeros(4)) is None


def test_logit_clips():
    assert logit(np.array([0.0, 1.0])) == pytest.approx(
        [np.log(1e-6 / (1 - 1e-6)), np.log((1 - 1e-6) / 1e-6)]
    )
