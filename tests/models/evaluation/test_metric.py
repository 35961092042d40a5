"""Tests for models/evaluation/metric.py: hand-worked curves, scikit-learn and check_run.py
agreement, the weighted (bootstrap) pAUC against materialised resamples, and top-15 retrieval."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from models.evaluation import (
    isic_pauc,
    paired_bootstrap_diff,
    patient_bootstrap_ci,
    top15_retrieval,
)
from models.evaluation.metric import SortedCurve

CHECK_RUN = Path(__file__).resolve().parents[3] / ".." / "shared" / "tools" / "check_run.py"


def _random_case(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels with both classes and scores rounded to two decimals, so ties are common."""
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(np.int64)
    y[:2] = [0, 1]
    s = np.round(rng.random(n) + rng.uniform(0, 1) * y, 2)
    return y, s


def _lesion_table(rng: np.random.Generator, n_patients: int, lesions: int = 30):
    patient = np.repeat([f"IP_{i:05d}" for i in range(n_patients)], lesions)
    y = (rng.random(patient.size) < 0.05).astype(np.int64)
    score = y + rng.normal(0, 0.8, patient.size)
    return y, score, patient


def test_hand_worked_curve():
    # Flipped: benign is the positive class and low scores rank first. Walking the scores up:
    #   0.10 benign    -> (FPR 0,   TPR 0.5)
    #   0.35 malignant -> (FPR 0.5, TPR 0.5)
    #   0.40 benign    -> (FPR 0.5, TPR 1)
    #   0.80 malignant -> (FPR 1,   TPR 1)
    # From FPR 0 to 0.2 the curve is flat at TPR 0.5: area 0.2 * 0.5 = 0.1.
    assert isic_pauc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.1, abs=1e-12)


def test_tied_scores_make_a_diagonal():
    # 0.2 benign -> (0, 0.5); the tie at 0.5 (one benign, one malignant) is one threshold:
    # a diagonal from (0, 0.5) to (0.5, 1), so TPR = 0.5 + FPR; area over [0, 0.2] = 0.12.
    assert isic_pauc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(0.12, abs=1e-12)


def test_perfect_and_inverted_ranking():
    y = [0, 0, 0, 1, 1]
    assert isic_pauc(y, [0.1, 0.2, 0.3, 0.8, 0.9]) == pytest.approx(0.2, abs=1e-12)
    assert isic_pauc(y, [0.9, 0.8, 0.7, 0.2, 0.1]) == pytest.approx(0.0, abs=1e-12)


def test_min_tpr_sets_the_range():
    y = [0, 0, 0, 1, 1]
    assert isic_pauc(y, [0.1, 0.2, 0.3, 0.8, 0.9], min_tpr=0.5) == pytest.approx(0.5, abs=1e-12)


def test_equals_rescaled_mcclish_pauc_from_sklearn():
    # roc_auc_score(max_fpr=0.2) is McClish-standardised: s = (1 + (A - 0.02) / 0.18) / 2,
    # with 0.02 the area of the chance diagonal and 0.2 the maximum; undone here.
    rng = np.random.default_rng(0)
    for n in (50, 500, 5000):
        y, p = _random_case(rng, n)
        standardised = roc_auc_score(1 - y, 1 - p, max_fpr=0.2)
        assert isic_pauc(y, p) == pytest.approx(0.02 + 0.36 * (standardised - 0.5), abs=1e-9)


def test_agrees_with_check_run():
    if not CHECK_RUN.exists():
        pytest.skip(f"{CHECK_RUN} not present")
    spec = importlib.util.spec_from_file_location("check_run", CHECK_RUN)
    check_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_run)
    rng = np.random.default_rng(1)
    for n in (10, 100, 3000):
        y, s = _random_case(rng, n)
        assert isic_pauc(y, s) == pytest.approx(check_run.isic_pauc(y, s), abs=1e-9)


def test_accepts_lists_bools_and_polars():
    y, s = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    expected = isic_pauc(y, s)
    assert isic_pauc(np.array(y, dtype=bool), np.array(s, dtype=np.float32)) == pytest.approx(
        expected
    )
    assert isic_pauc(pl.Series(y), pl.Series(s)) == expected


@pytest.mark.parametrize(
    ("y", "message"),
    [([0, 0, 0], r"needs both classes; y_true has only 0 \(n=3\)"), ([1, 1], r"only 1 \(n=2\)")],
)
def test_one_class_is_a_clear_error(y, message):
    with pytest.raises(ValueError, match=message):
        isic_pauc(y, np.linspace(0, 1, len(y)))


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="shape"):
        isic_pauc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        isic_pauc([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match=r"only 0 .* and 1"):
        isic_pauc([0, 1, 2], [0.1, 0.2, 0.3])


def test_weighted_curve_with_unit_weights_equals_isic_pauc():
    rng = np.random.default_rng(2)
    for n in (5, 40, 400, 4000):
        y, s = _random_case(rng, n)
        curve = SortedCurve.build(y, s, np.arange(n))
        assert curve.pauc(np.ones(n, dtype=np.int64)) == pytest.approx(isic_pauc(y, s), abs=1e-12)


def test_weighted_curve_equals_materialised_resample():
    rng = np.random.default_rng(3)
    n_patients = 60
    patient = rng.integers(0, n_patients, 600)
    y, s = _random_case(rng, patient.size)
    curve = SortedCurve.build(y, s, patient)
    checked = 0
    while checked < 5:
        weight = np.bincount(rng.integers(0, n_patients, n_patients), minlength=n_patients)
        rows = np.repeat(np.arange(patient.size), weight[patient])
        if np.unique(y[rows]).size < 2:
            continue
        assert curve.pauc(weight) == pytest.approx(isic_pauc(y[rows], s[rows]), abs=1e-12)
        checked += 1


def test_bootstrap_ci_contains_estimate_and_narrows_with_more_patients():
    rng = np.random.default_rng(4)
    widths = []
    for n_patients in (40, 640):
        y, score, patient = _lesion_table(rng, n_patients)
        low, high = patient_bootstrap_ci(y, score, patient, n_boot=200, seed=0)
        assert low <= isic_pauc(y, score) <= high
        assert 0.0 <= low <= high <= 0.2
        widths.append(high - low)
    assert widths[1] < widths[0] / 2


def test_bootstrap_ci_is_seeded():
    y, score, patient = _lesion_table(np.random.default_rng(5), 50)
    first = patient_bootstrap_ci(y, score, patient, n_boot=50, seed=7)
    assert first == patient_bootstrap_ci(y, score, patient, n_boot=50, seed=7)
    assert first != patient_bootstrap_ci(y, score, patient, n_boot=50, seed=8)


def test_paired_diff_of_a_score_with_itself_is_zero():
    y, score, patient = _lesion_table(np.random.default_rng(6), 50)
    assert paired_bootstrap_diff(y, score, score, patient, n_boot=100) == (0.0, 0.0, 0.0)


def test_paired_diff_sees_a_better_score():
    rng = np.random.default_rng(7)
    y, score, patient = _lesion_table(rng, 300)
    worse = score + rng.normal(0, 1.5, score.size)
    diff, low, high = paired_bootstrap_diff(y, score, worse, patient, n_boot=200)
    assert diff == pytest.approx(isic_pauc(y, score) - isic_pauc(y, worse))
    assert 0 < low <= diff <= high


def test_paired_diff_over_several_runs_compares_mean_scores():
    rng = np.random.default_rng(8)
    y, score, patient = _lesion_table(rng, 300)
    other = score + rng.normal(0, 0.3, score.size)
    worse = score + rng.normal(0, 1.5, score.size)
    diff, low, high = paired_bootstrap_diff(y, [score, other], [worse], patient, n_boot=200)
    mean_a = (isic_pauc(y, score) + isic_pauc(y, other)) / 2
    assert diff == pytest.approx(mean_a - isic_pauc(y, worse))
    assert low <= diff <= high
    # the same run twice on each side is that run
    twice = paired_bootstrap_diff(y, [score, score], [worse, worse], patient, n_boot=100, seed=3)
    assert twice == paired_bootstrap_diff(y, score, worse, patient, n_boot=100, seed=3)


def test_top15_hand_example():
    # Patient A: 17 lesions, malignant ones score 0.95 (rank 1) and 0.01 (rank 17) -> 1/2.
    # Patient B: 2 lesions, its one malignant lesion is in its top 15 -> 1.
    # Patient C: no malignant lesion, left out. Mean over A and B: 0.75.
    a_scores = [0.95, *np.linspace(0.9, 0.5, 15), 0.01]
    a_labels = [1, *[0] * 15, 1]
    y = [*a_labels, 0, 1, 0, 0]
    s = [*a_scores, 0.3, 0.2, 0.9, 0.8]
    patient = ["A"] * 17 + ["B", "B", "C", "C"]
    assert top15_retrieval(y, s, patient) == pytest.approx(0.75)
    assert top15_retrieval(y, s, patient, k=17) == pytest.approx(1.0)
    assert top15_retrieval(y, s, pl.Series(patient), k=1) == pytest.approx(0.5 * (0.5 + 0.0))


def test_top15_ties_follow_row_order():
    # Three lesions tie; with k=1 the first row wins, so the malignant one is found only when
    # it comes first.
    assert top15_retrieval([1, 0, 0], [0.5, 0.5, 0.5], ["p"] * 3, k=1) == 1.0
    assert top15_retrieval([0, 1, 0], [0.5, 0.5, 0.5], ["p"] * 3, k=1) == 0.0


def test_top15_without_malignant_is_an_error():
    with pytest.raises(ValueError, match="malignant"):
        top15_retrieval([0, 0], [0.1, 0.2], ["a", "b"])


def test_weighted_pauc_equals_repeated_rows():
    rng = np.random.default_rng(11)
    y, s = _random_case(rng, 300)
    counts = rng.integers(1, 4, y.size)
    repeated = isic_pauc(np.repeat(y, counts), np.repeat(s, counts))
    assert isic_pauc(y, s, sample_weight=counts) == pytest.approx(repeated, abs=1e-12)
