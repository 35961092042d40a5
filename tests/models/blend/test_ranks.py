"""Rank ensembles and the weight search, against hand values and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import percentileofscore

from models.blend import (
    combine,
    fold_honest_weighted_rank,
    percentile_against,
    rank_across_repeats,
    rank_mean,
    search_weights,
)
from models.evaluation import isic_pauc


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
