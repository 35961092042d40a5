"""Tests for models/evaluation/clinical.py, each figure against an independent computation:
scikit-learn, a hand count on a small frame, a plain loop, or the bootstrap materialised as
repeated rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from models.evaluation import (
    LOGIT_CLIP,
    MIN_MALIGNANT_FOR_SCORE,
    MISSING_GROUP,
    PatientResamples,
    calibration,
    decision_curve,
    discrimination,
    group_summary,
    isic_pauc,
    operating_point,
    patient_bootstrap_ci,
    reliability_table,
    threshold_for_sensitivity,
    top15_retrieval,
)

# Ten lesions of four patients, by hand: flagged at 0.5 are rows 0, 1, 3, 6, 8.
Y10 = np.array([1, 0, 1, 0, 0, 1, 0, 0, 1, 0])
S10 = np.array([0.9, 0.6, 0.2, 0.5, 0.1, 0.4, 0.8, 0.3, 0.7, 0.05])
P10 = np.array(["a", "a", "a", "b", "b", "c", "c", "c", "d", "d"])


def _cohort(seed: int = 0, n_patients: int = 300, slope: float = 0.8):
    """Lesions of many patients with probabilities that are miscalibrated by `slope`."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(n_patients), rng.integers(5, 40, n_patients))
    x = rng.normal(-3, 1.2, codes.size) + rng.normal(0, 0.5, n_patients)[codes]
    p = expit(x)
    y = (rng.random(codes.size) < expit(slope * x - 0.2)).astype(np.int64)
    ids = np.array([f"IP_{c:05d}" for c in codes])
    return y, p, ids, codes


def _materialised(y, codes, n_patients, n_boot, seed):
    """Each resample's rows, repeated by their patient's draw count."""
    for weights in PatientResamples.of(y, codes, n_patients, n_boot, seed).batches():
        for weight in weights.astype(np.int64):
            yield np.repeat(np.arange(y.size), weight[codes])


def _interval(values):
    values = np.asarray(values, dtype=np.float64)
    return list(np.quantile(values[np.isfinite(values)], [0.025, 0.975]))


def test_discrimination_against_sklearn_and_a_plain_loop():
    y, p, ids, codes = _cohort()
    rng = np.random.default_rng(1)
    scores = {"p": p, "noisy": p + rng.normal(0, 0.05, p.size)}
    out = discrimination(y, scores, ids, n_boot=60, seed=3)
    for name, s in scores.items():
        assert out["auc"][name] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert out["pauc"][name] == pytest.approx(isic_pauc(y, s), abs=1e-15)
        assert out["top15"][name] == pytest.approx(top15_retrieval(y, s, ids), abs=1e-15)
        # The same resamples as the pAUC's own bootstrap with this seed.
        assert out["pauc_ci"][name] == pytest.approx(
            list(patient_bootstrap_ci(y, s, ids, 60, 3)), abs=1e-12
        )
    aucs, top = [], []
    for rows in _materialised(y, codes, codes.max() + 1, 60, 3):
        aucs.append(roc_auc_score(y[rows], p[rows]))
        # Each draw of a patient counts as one patient: the share found in its own top 15.
        shares = []
        for c in np.unique(codes[rows]):
            mine = np.flatnonzero(codes == c)
            if y[mine].sum():
                top15 = mine[np.argsort(-p[mine], kind="stable")[:15]]
                share = y[top15].sum() / y[mine].sum()
                shares += [share] * int(np.count_nonzero(codes[rows] == c) // mine.size)
        top.append(np.mean(shares))
    assert out["auc_ci"]["p"] == pytest.approx(_interval(aucs), abs=1e-12)
    assert out["top15_ci"]["p"] == pytest.approx(_interval(top), abs=1e-12)


def test_threshold_for_sensitivity_is_the_highest_that_reaches_it():
    rng = np.random.default_rng(5)
    y = (rng.random(2000) < 0.04).astype(np.int64)
    s = np.round(rng.random(2000) + 0.6 * y, 2)  # ties, as rank scores have
    for wanted in (0.5, 0.8, 0.9, 0.95, 1.0):
        for threshold in sorted(set(s), reverse=True):
            if (s[y == 1] >= threshold).mean() >= wanted:
                break
        assert threshold_for_sensitivity(y, s, wanted) == threshold
    # By hand: malignant scores 0.9, 0.7, 0.4, 0.2; 3 of 4 found from 0.4 down.
    assert threshold_for_sensitivity(Y10, S10, 0.75) == 0.4
    assert threshold_for_sensitivity(Y10, S10, 0.76) == 0.2


def test_operating_point_by_hand():
    out = operating_point(Y10, S10, P10, 0.5, n_boot=20, seed=0)
    # Flagged: 0.9 (m), 0.6 (b), 0.5 (b), 0.8 (b), 0.7 (m): TP 2, FP 3, FN 2, TN 3.
    assert out["threshold"] == 0.5
    assert out["sensitivity"] == pytest.approx(2 / 4)
    assert out["specificity"] == pytest.approx(3 / 6)
    assert out["ppv"] == pytest.approx(2 / 5)
    assert out["npv"] == pytest.approx(3 / 5)
    # Flagged per patient: a 2, b 1, c 1, d 1.
    assert out["flagged_per_patient_median"] == 1.0
    assert out["flagged_per_patient_p90"] == pytest.approx(np.percentile([2, 1, 1, 1], 90))
    nothing = operating_point(Y10, S10, P10, 2.0, n_boot=20, seed=0)
    assert nothing["ppv"] is None and nothing["ppv_ci"] is None
    assert nothing["sensitivity"] == 0.0 and nothing["npv"] == pytest.approx(6 / 10)


def test_operating_point_intervals_equal_materialised_resamples():
    y, p, ids, codes = _cohort(2)
    threshold = threshold_for_sensitivity(y, p, 0.9)
    out = operating_point(y, p, ids, threshold, n_boot=80, seed=4)
    draws = {"sensitivity": [], "specificity": [], "ppv": [], "npv": []}
    for rows in _materialised(y, codes, codes.max() + 1, 80, 4):
        flagged, malignant = p[rows] >= threshold, y[rows] == 1
        draws["sensitivity"].append(flagged[malignant].mean())
        draws["specificity"].append(1 - flagged[~malignant].mean())
        draws["ppv"].append(malignant[flagged].mean() if flagged.any() else np.nan)
        draws["npv"].append((~malignant[~flagged]).mean() if (~flagged).any() else np.nan)
    for name, values in draws.items():
        assert out[f"{name}_ci"] == pytest.approx(_interval(values), abs=1e-12)
        assert out[f"{name}_ci"][0] <= out[name] <= out[f"{name}_ci"][1]


def test_calibration_against_sklearn_and_a_hand_newton():
    y, p, ids, _ = _cohort(3, slope=0.7)
    out = calibration(y, p, ids, n_boot=40, seed=0)
    x = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    assert out["slope"] == pytest.approx(fit.coef_[0, 0], abs=1e-6)
    # Calibration-in-the-large: solve sum(y - expit(a + x)) = 0 for a by Newton, by hand.
    a = 0.0
    for _ in range(50):
        fitted = expit(a + x)
        a += (y - fitted).sum() / (fitted * (1 - fitted)).sum()
    assert out["intercept"] == pytest.approx(a, abs=1e-10)
    assert out["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-15)
    prevalence = y.mean()
    assert out["scaled_brier"] == pytest.approx(
        1 - brier_score_loss(y, p) / (prevalence * (1 - prevalence)), abs=1e-12
    )
    assert out["observed_expected"] == pytest.approx(y.sum() / p.sum(), abs=1e-12)
    assert out["logit_clip"] == LOGIT_CLIP
    for key in ("observed_expected", "slope", "intercept", "brier", "scaled_brier"):
        low, high = out[f"{key}_ci"]
        assert low <= out[key] <= high, key
    # A slope of 0.7 was drawn: the interval says the probabilities are too extreme.
    assert out["slope_ci"][1] < 1


def test_calibration_intervals_equal_materialised_resamples():
    y, p, ids, codes = _cohort(4, n_patients=80)
    out = calibration(y, p, ids, n_boot=30, seed=2, bins=4)
    x = np.log(p / (1 - p))
    draws = {"observed_expected": [], "brier": [], "slope": [], "intercept": []}
    edges = np.percentile(p, np.linspace(0, 100, 5))
    bin_of_row = np.searchsorted(edges[1:-1], p)
    observed = []
    for rows in _materialised(y, codes, codes.max() + 1, 30, 2):
        draws["observed_expected"].append(y[rows].sum() / p[rows].sum())
        draws["brier"].append(brier_score_loss(y[rows], p[rows]))
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[rows, None], y[rows])
        draws["slope"].append(fit.coef_[0, 0])
        a = 0.0
        for _ in range(50):
            fitted = expit(a + x[rows])
            a += (y[rows] - fitted).sum() / (fitted * (1 - fitted)).sum()
        draws["intercept"].append(a)
        observed.append([y[rows][bin_of_row[rows] == k].mean() for k in range(4)])
    for key, values in draws.items():
        tolerance = 1e-6 if key == "slope" else 1e-10
        assert out[f"{key}_ci"] == pytest.approx(_interval(values), abs=tolerance), key
    for k, row in enumerate(out["bins"]):
        assert row["observed_ci"] == pytest.approx(_interval(np.array(observed)[:, k]), abs=1e-12)


def test_calibration_is_seeded():
    y, p, ids, _ = _cohort(6, n_patients=60)
    first = calibration(y, p, ids, n_boot=25, seed=1)
    assert first == calibration(y, p, ids, n_boot=25, seed=1)
    assert first["slope_ci"] != calibration(y, p, ids, n_boot=25, seed=2)["slope_ci"]


def test_reliability_bins_against_a_plain_loop_and_sklearn():
    y, p, ids, _ = _cohort(7)
    p = np.round(p, 3)  # tied edges leave empty bins, which are dropped
    table = reliability_table(p, y, 10)
    edges = np.percentile(p, np.linspace(0, 100, 11))
    expected = []
    for k in range(10):
        low_edge, high_edge = edges[k], edges[k + 1]
        mine = (p > low_edge) & (p <= high_edge) if k else p <= high_edge
        if k == 9:
            mine = p > low_edge
        if mine.any():
            expected.append((int(mine.sum()), p[mine].mean(), y[mine].mean()))
    got = [(r["count"], r["mean_predicted"], r["observed"]) for r in table]
    np.testing.assert_allclose(np.array(got), np.array(expected), rtol=1e-12)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    assert [r["observed"] for r in table] == pytest.approx(observed.tolist())
    assert [r["mean_predicted"] for r in table] == pytest.approx(predicted.tolist())
    bins = calibration(y, p, ids, n_boot=20, seed=0)["bins"]
    assert [{k: r[k] for k in ("count", "mean_predicted", "observed")} for r in bins] == table
    assert sum(r["count"] for r in bins) == y.size


def test_decision_curve_by_hand():
    rows = decision_curve(Y10, S10, thresholds=[0.25, 0.5])
    # t = 0.25, odds 1/3: flagged 0.9, 0.6, 0.5, 0.4, 0.8, 0.3, 0.7 -> TP 3, FP 4.
    assert rows[0]["model"] == pytest.approx(1000 * (3 / 10 - 4 / 10 / 3))
    assert rows[0]["all"] == pytest.approx(1000 * (0.4 - 0.6 / 3))
    # t = 0.5, odds 1: TP 2, FP 3.
    assert rows[1]["model"] == pytest.approx(1000 * (2 / 10 - 3 / 10))
    assert rows[1]["all"] == pytest.approx(1000 * (0.4 - 0.6))
    assert all(r["none"] == 0.0 for r in rows)
    default = decision_curve(Y10, S10)
    assert len(default) == 25
    assert default[0]["threshold"] == pytest.approx(0.0005)
    assert default[-1]["threshold"] == pytest.approx(0.10)
    ratios = np.diff(np.log([r["threshold"] for r in default]))
    assert ratios == pytest.approx(np.full(24, ratios[0]))


def test_group_summary_scores_only_groups_with_enough_malignant_lesions():
    y, p, ids, codes = _cohort(8)
    rng = np.random.default_rng(0)
    labels = np.array(["north", "south", None], dtype=object)[codes % 3]
    # "few" holds exactly one malignant lesion fewer than the rule wants.
    few = np.flatnonzero(y == 1)[: MIN_MALIGNANT_FOR_SCORE - 1]
    benign = np.flatnonzero(y == 0)[:50]
    labels[few], labels[benign] = "few", "few"
    out = group_summary(y, p + rng.normal(0, 0.01, p.size), p, ids, labels, 40, 5)
    assert [g["group"] for g in out] == sorted(["north", "south", "few", MISSING_GROUP])
    by_name = {g["group"]: g for g in out}
    small = by_name["few"]
    assert small["malignant"] == MIN_MALIGNANT_FOR_SCORE - 1 and small["lesions"] == 54
    assert small["pauc"] is None and small["pauc_ci"] is None
    assert small["observed_expected"] == pytest.approx(4 / p[labels == "few"].sum())
    for name in ("north", "south", MISSING_GROUP):
        group = by_name[name]
        mine = labels == (None if name == MISSING_GROUP else name)
        if name == MISSING_GROUP:
            mine = np.array([label is None for label in labels])
        assert group["lesions"] == mine.sum() and group["malignant"] == y[mine].sum()
        assert group["pauc"] is not None
        assert group["observed_expected"] == pytest.approx(y[mine].sum() / p[mine].sum())
    without = group_summary(y, p, None, ids, labels, 10, 5)
    assert all(g["observed_expected"] is None for g in without)
