"""B against A: the paired difference and its verdict, and the check that both sides scored the
same rows on the same folds."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.errors import UserError
from models.evaluation import (
    BETTER,
    WITHIN_NOISE,
    WORSE,
    aligned,
    compare_scores,
    isic_pauc,
    patient_bootstrap_ci,
    verdict,
)


def _lesions(n_patients: int = 300, per_patient: int = 20, seed: int = 0):
    """Labels (about 2 % malignant) and patients of a synthetic cohort."""
    rng = np.random.default_rng(seed)
    patients = np.repeat(np.arange(n_patients), per_patient)
    y = (rng.random(patients.size) < 0.02).astype(np.int8)
    return rng, y, patients


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.001, 0.01, BETTER),
        (-0.01, -0.001, WORSE),
        (-0.001, 0.01, WITHIN_NOISE),
        (0, 0.1, WITHIN_NOISE),
    ],
)
def test_verdict_needs_the_interval_to_exclude_zero(low, high, expected):
    assert verdict(low, high) == expected


def test_a_planted_improvement_is_better_and_its_reverse_worse():
    rng, y, patients = _lesions()
    weak = y * 0.5 + rng.normal(size=y.size)
    strong = y * 2.5 + rng.normal(size=y.size)
    found = compare_scores(y, weak, strong, patients, n_boot=300, seed=1)
    assert found.verdict == BETTER
    # The difference is B - A, each side scored independently.
    assert found.difference == pytest.approx(isic_pauc(y, strong) - isic_pauc(y, weak))
    assert found.score_a == pytest.approx(isic_pauc(y, weak))
    assert found.interval_b == pytest.approx(patient_bootstrap_ci(y, strong, patients, 300, 1))
    assert found.low > 0 and found.low <= found.difference <= found.high
    assert compare_scores(y, strong, weak, patients, n_boot=300, seed=1).verdict == WORSE


def test_the_same_scores_differ_by_nothing():
    rng, y, patients = _lesions(seed=2)
    score = y + rng.normal(size=y.size)
    same = compare_scores(y, score, score.copy(), patients, n_boot=100)
    assert (same.difference, same.low, same.high) == (0.0, 0.0, 0.0)
    assert same.verdict == WITHIN_NOISE


def test_two_noisy_copies_of_one_signal_are_within_noise():
    rng, y, patients = _lesions(seed=3)
    signal = y * 1.5 + rng.normal(size=y.size)
    a = signal + 0.1 * rng.normal(size=y.size)
    b = signal + 0.1 * rng.normal(size=y.size)
    assert compare_scores(y, a, b, patients, n_boot=300).verdict == WITHIN_NOISE


def _oof(ids, patients, y, folds, score) -> pl.DataFrame:
    return pl.DataFrame(
        {"isic_id": ids, "patient_id": patients, "target": y, "fold": folds, "ensemble": score}
    )


@pytest.fixture
def pair():
    ids = [f"ISIC_{i}" for i in range(6)]
    patients = ["P1", "P1", "P2", "P2", "P3", "P3"]
    a = _oof(ids, patients, [0, 1, 0, 0, 1, 0], [0, 0, 1, 1, 2, 2], [0.1] * 6)
    return a, a.with_columns(pl.Series("ensemble", np.arange(6.0)))


def test_aligned_puts_b_into_a_order(pair):
    a, b = pair
    shuffled = b.sample(fraction=1.0, shuffle=True, seed=4)
    joined = aligned(a, shuffled, "A", "B")
    assert joined["isic_id"].to_list() == a["isic_id"].to_list()
    assert joined["ensemble"].to_list() == list(np.arange(6.0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.filter(pl.col("isic_id") != "ISIC_3"), "B: isic_id ISIC_3 of A is missing"),
        (
            lambda b: pl.concat([b, b.tail(1).with_columns(isic_id=pl.lit("ISIC_9"))]),
            "B: isic_id ISIC_9 is not a row of A",
        ),
        (
            lambda b: b.with_columns(
                fold=pl.when(pl.col("patient_id") == "P2").then(0).otherwise(pl.col("fold"))
            ),
            "B: patient P2 is in fold 0 there but in fold 1 in A",
        ),
        (
            lambda b: b.with_columns(
                target=pl.when(pl.col("isic_id") == "ISIC_2").then(1).otherwise(pl.col("target"))
            ),
            "B: isic_id ISIC_2 has target 1 there but 0 in A",
        ),
        (lambda b: pl.concat([b, b.head(1)]), "B: isic_id ISIC_0 occurs more than once"),
        (lambda b: b.drop("fold"), "B: column 'fold' is missing"),
    ],
)
def test_other_rows_or_folds_are_refused_naming_the_first_difference(pair, change, message):
    a, b = pair
    with pytest.raises(UserError, match=message):
        aligned(a, change(b), "A", "B")
