"""Tests for models/cv/folds.py: grouping, stratification, balance, seeding and clear errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.errors import UserError
from models.cv import inner_split, patient_folds, read_folds_file, repeated_patient_folds


def _lesions(n_patients: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Patients with 1-60 lesions each, rows shuffled; about one in five has a malignant one."""
    rng = np.random.default_rng(seed)
    per_patient = rng.integers(1, 60, n_patients)
    patient = np.repeat([f"IP_{i:05d}" for i in range(n_patients)], per_patient)
    y = np.zeros(patient.size, dtype=np.int64)
    for i in rng.choice(n_patients, n_patients // 5, replace=False):
        rows = np.flatnonzero(patient == f"IP_{i:05d}")
        y[rng.choice(rows, rng.integers(1, 4))] = 1
    order = rng.permutation(patient.size)
    return patient[order], y[order]


def _folds_per_patient(patient: np.ndarray, fold: np.ndarray) -> pl.DataFrame:
    return (
        pl.DataFrame({"patient": patient, "fold": fold})
        .group_by("patient")
        .agg(pl.col("fold").n_unique().alias("n_folds"), pl.col("fold").first())
    )


def test_no_patient_in_two_folds_and_every_fold_has_malignant_rows():
    patient, y = _lesions()
    fold = patient_folds(patient, y, n_folds=5, seed=0)
    assert fold.shape == patient.shape
    assert set(np.unique(fold)) == set(range(5))
    per_patient = _folds_per_patient(patient, fold)
    assert per_patient["n_folds"].max() == 1
    for k in range(5):
        assert y[fold == k].sum() > 0
    patients_per_fold = per_patient["fold"].value_counts()["count"]
    assert patients_per_fold.max() - patients_per_fold.min() <= 2


@pytest.mark.filterwarnings("error")
def test_every_fold_has_malignant_rows_with_exactly_n_folds_malignant_patients():
    patient, y = _lesions()
    malignant_patients = np.unique(patient[y == 1])
    keep = ~np.isin(patient, malignant_patients[5:])
    for seed in range(5):
        fold = patient_folds(patient[keep], y[keep], n_folds=5, seed=seed)
        assert all(y[keep][fold == k].sum() > 0 for k in range(5))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("malignant_counts", [[1] + [2] * 10, [1] * 10 + [2], [1] * 6 + [9] * 2])
def test_skewed_malignant_counts_still_reach_every_fold(malignant_counts):
    # Few benign-only patients and lopsided count buckets: buckets are merged, never warned about.
    patient = np.repeat(np.arange(len(malignant_counts) + 2), 10)
    y = np.zeros(patient.size, dtype=np.int64)
    for i, count in enumerate(malignant_counts):
        y[i * 10 : i * 10 + count] = 1
    for seed in range(5):
        fold = patient_folds(patient, y, n_folds=5, seed=seed)
        assert all(y[fold == k].sum() > 0 for k in range(5))


def test_same_seed_same_folds_different_seed_different():
    patient, y = _lesions()
    first = patient_folds(patient, y, 5, seed=1)
    np.testing.assert_array_equal(first, patient_folds(patient, y, 5, seed=1))
    assert not np.array_equal(first, patient_folds(patient, y, 5, seed=2))


def test_folds_follow_patients_not_row_order():
    patient, y = _lesions()
    fold = patient_folds(patient, y, 5, seed=3)
    order = np.random.default_rng(9).permutation(patient.size)
    np.testing.assert_array_equal(fold[order], patient_folds(patient[order], y[order], 5, seed=3))


def test_accepts_lists_and_polars_series():
    patient, y = _lesions(60)
    expected = patient_folds(patient, y, 3, seed=0)
    np.testing.assert_array_equal(expected, patient_folds(list(patient), list(y), 3, seed=0))
    np.testing.assert_array_equal(
        expected, patient_folds(pl.Series(patient), pl.Series(y), 3, seed=0)
    )


def test_repeated_folds_one_row_per_seed():
    patient, y = _lesions()
    repeated = repeated_patient_folds(patient, y, 4, seeds=[0, 1, 2])
    assert repeated.shape == (3, patient.size)
    for i, seed in enumerate([0, 1, 2]):
        np.testing.assert_array_equal(repeated[i], patient_folds(patient, y, 4, seed))
    assert not np.array_equal(repeated[0], repeated[1])
    assert not np.array_equal(repeated[1], repeated[2])


def test_inner_split_disjoint_patients_with_positives_on_both_sides():
    patient, y = _lesions()
    train, valid = inner_split(patient, y, n_splits=5, seed=0)
    assert np.intersect1d(train, valid).size == 0
    assert train.size + valid.size == patient.size
    assert not set(patient[train]) & set(patient[valid])
    assert y[train].sum() > 0 and y[valid].sum() > 0
    share = np.unique(patient[valid]).size / np.unique(patient).size
    assert 0.15 <= share <= 0.25


def test_too_few_malignant_patients_is_a_user_error():
    patient = np.repeat(["a", "b", "c", "d", "e", "f"], 3)
    y = np.zeros(patient.size, dtype=np.int64)
    y[[0, 3, 6]] = 1
    message = r"^only 3 patients have a malignant lesion; 5 folds need at least 5 — use fewer"
    with pytest.raises(UserError, match=message):
        patient_folds(patient, y, n_folds=5, seed=0)
    with pytest.raises(UserError, match="only 3 patients"):
        repeated_patient_folds(patient, y, n_folds=4, seeds=[0])
    with pytest.raises(UserError, match=r"only 3 patients .* inner split into 4 parts"):
        inner_split(patient, y, n_splits=4, seed=0)
    assert set(patient_folds(patient, y, n_folds=3, seed=0)) == {0, 1, 2}


def test_fewer_than_two_folds_is_a_user_error():
    patient, y = _lesions(30)
    with pytest.raises(UserError, match="at least 2"):
        patient_folds(patient, y, n_folds=1, seed=0)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="y has 2 values"):
        patient_folds(["a", "b", "c"], [0, 1], n_folds=2, seed=0)


def test_folds_file_round_trips_and_reports_bad_rows(tmp_path):
    patients = np.array(["p2", "p1", "p2", "p3", "p1"])
    good = tmp_path / "folds.csv"
    pl.DataFrame({"patient_id": ["p1", "p2", "p3"], "fold": [1, 0, 1]}).write_csv(good)
    np.testing.assert_array_equal(read_folds_file(good, patients), [[0, 1, 0, 1, 1]])
    parquet = tmp_path / "folds.parquet"
    pl.read_csv(good).write_parquet(parquet)
    np.testing.assert_array_equal(read_folds_file(parquet, patients), [[0, 1, 0, 1, 1]])

    missing = tmp_path / "missing.csv"
    pl.DataFrame({"patient_id": ["p1", "p2"], "fold": [1, 0]}).write_csv(missing)
    with pytest.raises(UserError, match=r"missing.csv: patient_id 'p3' \(training row 4\)"):
        read_folds_file(missing, patients)
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,fold\np1,0\np2,x\np3,1\n")
    with pytest.raises(UserError, match=r"bad.csv: data row 2: column 'fold' is 'x'"):
        read_folds_file(bad, patients)
    gap = tmp_path / "gap.csv"
    gap.write_text("patient_id,fold\np1,0\np2,2\np3,2\n")
    with pytest.raises(UserError, match=r"gap.csv: column 'fold' has folds \[0, 2\]"):
        read_folds_file(gap, patients)
    with pytest.raises(UserError, match="fold_r1"):
        read_folds_file(good, patients, repeats=2)
