"""Calibration: strictly increasing (the ranking and the score never change), close to
scikit-learn's own isotonic fit, JSON round trip, and the reported Brier score."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression

from models.blend import Calibrator, calibration_report, cross_fitted, fit_calibrator
from models.evaluation import isic_pauc


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(0)
    s = rng.random(20_000)
    y = (rng.random(20_000) < 0.02 * s**4 * 5).astype(np.int8)
    return s, y


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_keeps_the_ranking_and_the_score(method, scored):
    s, y = scored
    calibrator = fit_calibrator(s, y, method)
    p = calibrator(s)
    assert ((p >= 0) & (p <= 1)).all()
    order = np.argsort(s)
    assert (np.diff(p[order]) > 0).all()  # every distinct score stays distinct and in order
    assert isic_pauc(y, p) == isic_pauc(y, s)


def test_isotonic_matches_sklearn_and_survives_json(scored):
    s, y = scored
    calibrator = fit_calibrator(s, y, "isotonic")
    expected = IsotonicRegression(out_of_bounds="clip").fit(s, y).predict(s)
    np.testing.assert_allclose(calibrator(s), expected, atol=2e-6)
    again = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    np.testing.assert_array_equal(again(s), calibrator(s))


def test_platt_is_a_logistic_curve_on_the_logit(scored):
    s, y = scored
    calibrator = fit_calibrator(s, y, "platt")
    slope, intercept = calibrator.x
    assert slope > 0
    z = slope * np.log(0.3 / 0.7) + intercept
    assert calibrator(np.array([0.3]))[0] == pytest.approx(1 / (1 + np.exp(-z)))


def test_report_brier_and_reliability_by_hand(scored):
    s, y = scored
    p = cross_fitted(s, y, np.arange(s.size) % 5, "isotonic")
    report = calibration_report(p, y)
    assert report["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert report["brier"] < report["brier_base_rate"]
    fraction, mean_predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    assert report["reliability"]["fraction_positive"] == pytest.approx(fraction.tolist())
    assert report["reliability"]["mean_predicted"] == pytest.approx(mean_predicted.tolist())
