"""Tests for models/shift.py: the adversarial classifier finds a planted shift and names its
feature, finds none where there is none, and the KS statistics match scipy's."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import ks_2samp

from models.boosters import Matrix
from models.shift import patient_sample, row_sample, shift_test, too_small


def _side(rng, n_patients: int, first: int, moved: float) -> tuple[Matrix, np.ndarray]:
    patients = np.repeat(np.arange(first, first + n_patients), 40)
    n = patients.size
    frame = pl.DataFrame(
        {
            "steady": rng.normal(size=n).astype(np.float32),
            "moved": (rng.normal(size=n) + moved).astype(np.float32),
            "site": pl.Series(rng.choice(["a", "b"], n)).cast(pl.Enum(["a", "b"])),
        }
    )
    return Matrix(frame, ["steady", "moved", "site"], ["site"]), patients


# A mean shift of 1.5 SD separates at best with AUC Phi(1.5 / sqrt 2) = 0.855.
@pytest.mark.parametrize(("moved", "low", "high"), [(0.0, 0.4, 0.6), (1.5, 0.78, 0.87)])
def test_the_classifier_finds_a_planted_shift_and_only_that(moved, low, high):
    rng = np.random.default_rng(2)
    train, train_patients = _side(rng, 60, 0, 0.0)
    test, test_patients = _side(rng, 60, 1000, moved)
    result = shift_test(train, train_patients, test, test_patients, seed=0)
    assert low <= result.auc <= high
    a, b = train.frame["moved"].to_numpy(), test.frame["moved"].to_numpy()
    ks = {name: value for name, value, _, _ in result.ks}
    assert ks["moved"] == pytest.approx(ks_2samp(a, b).statistic)
    if moved:
        assert result.importance[0][0] == "moved" and result.ks[0][0] == "moved"


def test_a_tiny_test_file_makes_no_shift_test():
    assert "needs at least 200 rows of 50 patients" in too_small(3, 3)
    assert too_small(5000, 60) is None


def test_a_shift_sample_takes_whole_patients_then_rows():
    patients = pl.Series("patient_id", np.repeat([f"P{i:03d}" for i in range(500)], 30))
    frame = pl.DataFrame({"patient_id": patients, "x": np.arange(patients.len())})
    rows = patient_sample(frame["patient_id"], 300, seed=1)
    taken = frame[rows]
    # Whole patients: each drawn patient keeps all 30 of its lesions.
    assert taken["patient_id"].n_unique() == 300
    assert (taken["patient_id"].value_counts()["count"] == 30).all()
    assert (np.diff(rows) > 0).all()
    assert row_sample(10, 20, seed=0).tolist() == list(range(10))
    assert len(set(row_sample(1000, 50, seed=0).tolist())) == 50
    assert "the cohort has 3 rows of 3 patients" in too_small(3, 3, "the cohort")
