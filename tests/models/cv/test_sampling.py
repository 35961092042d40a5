"""Sampling of training rows and seeds, against hand counts."""

from __future__ import annotations

import numpy as np

from models.cv import (
    SamplingPlan,
    cap_per_patient,
    derive_seed,
    sample_rows,
    undersample_negatives,
)


def test_undersampling_keeps_every_positive_and_the_asked_ratio():
    y = np.zeros(10_000, dtype=np.int8)
    y[::500] = 1  # 20 positives
    rows = undersample_negatives(y, 100, seed=1)
    assert y[rows].sum() == 20
    assert (y[rows] == 0).sum() == 2_000
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, undersample_negatives(y, 100, seed=1))
    assert not np.array_equal(rows, undersample_negatives(y, 100, seed=2))


def test_no_sampling_when_fewer_negatives_than_asked(caplog):
    y = np.array([1, 0, 0, 0, 1])
    with caplog.at_level("INFO"):
        rows = undersample_negatives(y, 100, seed=1)
    np.testing.assert_array_equal(rows, np.arange(5))
    assert "no under-sampling" in caplog.text
    np.testing.assert_array_equal(undersample_negatives(y, 0, seed=1), np.arange(5))


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(42, 0, 1, 2) == derive_seed(42, 0, 1, 2)
    seeds = {derive_seed(42, r, f, m) for r in range(3) for f in range(5) for m in range(3)}
    assert len(seeds) == 45


def _imbalanced(n=20_000, positives=20, patients=200):
    y = np.zeros(n, dtype=np.int8)
    y[:: n // positives] = 1
    return y, np.arange(n) % patients


def test_oversampling_then_undersampling_reaches_both_ratios():
    y, patients = _imbalanced()
    plan = SamplingPlan(negatives_per_positive=100, positives_oversample_ratio=0.003)
    rows = sample_rows(y, patients, plan, seed=4)
    negatives_before = int((y == 0).sum())
    n_pos = int(round(0.003 * negatives_before))  # 60 positives per 19,980 negatives
    assert (y[rows] == 1).sum() == n_pos
    assert (y[rows] == 0).sum() == 100 * n_pos
    assert set(rows[y[rows] == 1]) == set(np.flatnonzero(y))  # every positive kept
    assert len(set(rows[y[rows] == 0])) == 100 * n_pos  # negatives are never repeated
    np.testing.assert_array_equal(rows, sample_rows(y, patients, plan, seed=4))


def test_disjoint_bags_split_the_capped_negatives():
    y, patients = _imbalanced()
    plan = SamplingPlan(strategy="disjoint", max_negatives_per_patient=30)
    parts = [
        sample_rows(y, patients, plan, seed=b, bag=b, bags=4, partition_seed=9) for b in range(4)
    ]
    negatives = [set(p[y[p] == 0]) for p in parts]
    for a in range(4):
        for b in range(a + 1, 4):
            assert not negatives[a] & negatives[b]
    union = set().union(*negatives)
    per_patient = np.bincount(patients[list(union)], minlength=200)
    # 100 rows per patient, at most 30 kept each: by hand, exactly 30 per patient.
    assert per_patient.tolist() == [30] * 200
    assert max(len(n) for n in negatives) - min(len(n) for n in negatives) <= 1
    for p in parts:
        assert set(np.flatnonzero(y)) <= set(p)


def test_per_patient_cap_keeps_small_patients_whole():
    patients = np.array([0] * 10 + [1] * 2 + [2] * 5)
    rows = np.arange(17)
    kept = cap_per_patient(rows, patients, 3, seed=1)
    assert np.bincount(patients[kept]).tolist() == [3, 2, 3]
