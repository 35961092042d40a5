"""Under-sampling and the rank ensemble, against hand counts and scipy."""

from __future__ import annotations

import numpy as np
from scipy.stats import percentileofscore

from models.blend import percentile_against, rank_mean
from models.sampling import derive_seed, undersample_negatives


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
    assert whole[3] == by_hand
