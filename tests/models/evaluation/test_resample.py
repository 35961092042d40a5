"""The batched patient bootstrap against the per-resample loop it replaced (kept here as the
reference), and its pieces against plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from models.evaluation import isic_pauc, paired_bootstrap_diff, patient_bootstrap_ci
from models.evaluation.metric import SortedCurve
from models.evaluation.resample import PatientResamples, patient_sums, percentile_interval


def _loop_weights(n_patients: int, y: np.ndarray, codes: np.ndarray, n_boot: int, seed: int):
    """The replaced generator: one resample at a time, redrawn until it has both classes."""
    rng = np.random.default_rng(seed)
    made = failed = 0
    while made < n_boot:
        weight = np.bincount(rng.integers(0, n_patients, n_patients), minlength=n_patients)
        if weight[codes[y == 1]].any() and weight[codes[y == 0]].any():
            made += 1
            yield weight
        else:
            failed += 1
            if failed > 10 * n_boot:
                raise ValueError("too few patients with malignant lesions")


def _loop_interval(y, s, codes, n_patients, n_boot, seed):
    """The replaced `patient_bootstrap_ci`: each resample materialised as repeated rows."""
    values = []
    for weight in _loop_weights(n_patients, y, codes, n_boot, seed):
        rows = np.repeat(np.arange(y.size), weight[codes])
        values.append(isic_pauc(y[rows], s[rows]))
    return tuple(np.quantile(values, [0.025, 0.975]))


def _frame(rng: np.random.Generator, n_patients: int, max_lesions: int):
    """Patients with uneven lesion counts, scores rounded so that ties are common."""
    lesions = rng.integers(1, max_lesions, n_patients)
    codes = np.repeat(np.arange(n_patients), lesions)
    y = (rng.random(codes.size) < 0.08).astype(np.int64)
    y[:2] = [0, 1]
    s = np.round(rng.random(codes.size) + 0.7 * y, 2)
    return y, s, codes


@pytest.mark.parametrize(("n_patients", "max_lesions", "seed"), [(12, 6, 0), (60, 20, 3)])
def test_interval_equals_the_per_resample_loop(n_patients, max_lesions, seed):
    y, s, codes = _frame(np.random.default_rng(n_patients), n_patients, max_lesions)
    ids = np.array([f"IP_{c:04d}" for c in codes])
    expected = _loop_interval(y, s, codes, n_patients, 120, seed)
    assert patient_bootstrap_ci(y, s, ids, 120, seed) == pytest.approx(expected, abs=1e-12)


def test_paired_difference_equals_the_per_resample_loop():
    rng = np.random.default_rng(4)
    y, s, codes = _frame(rng, 40, 15)
    other = s + np.round(rng.normal(0, 0.3, s.size), 2)
    diffs = []
    for weight in _loop_weights(40, y, codes, 150, 9):
        rows = np.repeat(np.arange(y.size), weight[codes])
        diffs.append(isic_pauc(y[rows], s[rows]) - isic_pauc(y[rows], other[rows]))
    observed, low, high = paired_bootstrap_diff(y, s, other, codes, 150, 9)
    assert observed == pytest.approx(isic_pauc(y, s) - isic_pauc(y, other), abs=1e-12)
    assert (low, high) == pytest.approx(tuple(np.quantile(diffs, [0.025, 0.975])), abs=1e-12)


def test_batches_draw_the_same_resamples_whatever_their_size():
    y, _, codes = _frame(np.random.default_rng(5), 30, 8)
    resamples = PatientResamples.of(y, codes, 30, 50, 11)
    expected = np.stack(list(_loop_weights(30, y, codes, 50, 11)))
    for cells in (1, 30 * 7, 10**6):
        batches = list(resamples.batches(cells))
        assert all(b.shape[0] <= max(1, cells // 30) for b in batches)
        np.testing.assert_array_equal(np.concatenate(batches), expected)


def test_too_thin_data_raise():
    # One patient, malignant lesions only: no resample can hold a benign lesion.
    resamples = PatientResamples.of(np.array([1, 1]), np.array([0, 0]), 1, 5, 0)
    with pytest.raises(ValueError, match="too few patients with malignant lesions"):
        list(resamples.batches())


def test_batched_curves_equal_the_metric_on_materialised_resamples():
    y, s, codes = _frame(np.random.default_rng(6), 25, 12)
    curve = SortedCurve.build(y, s, codes, n_patients=25)
    weights = next(PatientResamples.of(y, codes, 25, 8, 0).batches())
    batched = curve.pauc(weights)
    areas = curve.areas(weights, (1.0,))[0]
    for row, weight in enumerate(weights.astype(np.int64)):
        rows = np.repeat(np.arange(y.size), weight[codes])
        assert batched[row] == pytest.approx(isic_pauc(y[rows], s[rows]), abs=1e-12)
        # The full area of the flipped curve is the ROC AUC, by a plain pair count.
        malignant, benign = s[rows][y[rows] == 1], s[rows][y[rows] == 0]
        pairs = (malignant[:, None] > benign[None, :]) + 0.5 * (malignant[:, None] == benign)
        assert areas[row] == pytest.approx(pairs.mean(), abs=1e-12)


def test_patient_sums_and_interval():
    codes = np.array([2, 0, 2, 1, 2])
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(patient_sums(codes, 4, values, values**2)[:, 0], [2, 4, 9, 0])
    assert patient_sums(codes, 4, values, values**2)[2, 1] == 1 + 9 + 25
    assert percentile_interval(np.array([np.nan, 1.0, 3.0]), 0.5) == [1.5, 2.5]
    assert percentile_interval(np.array([np.nan])) is None
