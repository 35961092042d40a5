"""Sampling of training rows and the ensembles, against hand counts and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import percentileofscore

from features.errors import UserError
from models.blend import (
    combine,
    fold_honest_weighted_rank,
    percentile_against,
    rank_across_repeats,
    rank_mean,
    search_weights,
)
from models.config import load_config
from models.metric import isic_pauc
from models.sampling import (
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


def test_percentile_against_matches_scipy_weak_percentile():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 20, 300).astype(float)  # many ties
    scores = rng.integers(-2, 23, 50).astype(float)
    expected = [percentileofscore(reference, s, kind="weak") / 100 for s in scores]
    np.testing.assert_allclose(percentile_against(reference, scores), expected)


def test_rank_mean_of_a_lesion_does_not_depend_on_its_batch():
    rng = np.random.default_rng(1)
    references = {"a": rng.random(500), "b": rng.random(500) * 10}
    batch = {"a": rng.random(20), "b": rng.random(20) * 10}
    whole = rank_mean(batch, references)
    alone = rank_mean({k: v[:1] for k, v in batch.items()}, references)
    assert whole[0] == alone[0]
    by_hand = (
        (references["a"] <= batch["a"][3]).mean() + (references["b"] <= batch["b"][3]).mean()
    ) / 2
    assert whole[3] == pytest.approx(by_hand, rel=1e-15)


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


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"strategy": "smote"}, "sampling.strategy"),
        ({"negatives_per_positive": -1}, "negatives_per_positive"),
        ({"positives_oversample_ratio": 1.5}, "positives_oversample_ratio"),
        ({"max_negatives_per_patient": -3}, "max_negatives_per_patient"),
    ],
)
def test_bad_sampling_values_are_user_errors(section, message):
    with pytest.raises(UserError, match=message):
        load_config().replace(sampling=section)


def test_weight_search_finds_the_informative_model_by_hand():
    # Model "good" ranks every malignant row first, "noise" is random. A weight of 4/6 or more
    # on "good" already ranks perfectly (0.2, the maximum: malignant >= 0.6, benign <= 0.41); 3/6
    # does not here. Ties go to the most even weights, so the search must return 4/6.
    rng = np.random.default_rng(3)
    y = np.zeros(400, dtype=np.int8)
    y[:20] = 1
    good = np.where(y == 1, 0.9, 0.1) + rng.random(400) * 0.01
    ranks = {"good": good, "noise": rng.random(400)}
    assert isic_pauc(y, 0.5 * ranks["good"] + 0.5 * ranks["noise"]) < 0.2
    weights = search_weights(ranks, y)
    assert weights == pytest.approx({"good": 4 / 6, "noise": 2 / 6})


def test_fold_weights_never_see_the_fold_they_score():
    rng = np.random.default_rng(4)
    y = (rng.random(3_000) < 0.05).astype(np.int8)
    folds = np.arange(3_000) % 3
    ranks = {"a": rng.random(3_000) + y * 0.3, "b": rng.random(3_000)}
    honest, chosen = fold_honest_weighted_rank(ranks, y, folds)
    # Scramble fold 0's labels: the weights used on fold 0 must not move.
    y2 = np.where(folds == 0, 1 - y, y)
    _, chosen2 = fold_honest_weighted_rank(ranks, y2, folds)
    assert chosen2[0] == chosen[0]
    w = chosen[1]
    by_hand = w["a"] * ranks["a"][folds == 1] + w["b"] * ranks["b"][folds == 1]
    np.testing.assert_allclose(honest[folds == 1], by_hand)


def test_combine_methods_against_hand_values():
    scores = {"a": np.array([0.2, 0.8]), "b": np.array([0.6, 0.1])}
    refs = {"a": np.array([0.1, 0.3, 0.9, 1.0]), "b": np.array([0.0, 0.5, 0.7, 0.9])}
    # a: 0.2 -> 1/4, 0.8 -> 2/4; b: 0.6 -> 2/4, 0.1 -> 1/4
    np.testing.assert_allclose(combine("rank_mean", scores, refs, scores), [0.375, 0.375])
    weighted = combine("weighted_rank", scores, refs, scores, {"a": 0.75, "b": 0.25})
    np.testing.assert_allclose(weighted, [0.75 * 0.25 + 0.25 * 0.5, 0.75 * 0.5 + 0.25 * 0.25])
    np.testing.assert_allclose(combine("mean", scores, refs, scores), [0.4, 0.45])


def test_rank_across_repeats_uses_each_repeats_own_reference():
    refs = np.array([[0.1, 0.2, 0.3, 0.4], [10.0, 20.0, 30.0, 40.0]])
    scores = np.array([[0.25], [35.0]])
    np.testing.assert_allclose(rank_across_repeats(refs, scores), [(2 / 4 + 3 / 4) / 2])
