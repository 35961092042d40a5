"""Blend methods: the rank mean by hand, honest fold weights, the choice of `best`, and blending
new lesions again from the stored fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from features.errors import UserError
from models.blend import METHODS, apply_blend, blend, choose, method_scores
from models.evaluation import BETTER, WITHIN_NOISE, WORSE, Comparison, isic_pauc


def _cohort(seed: int = 0, n_patients: int = 400, per_patient: int = 10):
    rng = np.random.default_rng(seed)
    patients = np.repeat(np.arange(n_patients), per_patient)
    y = (rng.random(patients.size) < 0.03).astype(np.int8)
    folds = (patients % 5).astype(np.int32)  # a patient sits in one fold
    return rng, y, patients, folds


def test_rank_mean_is_the_mean_of_max_ranks_over_rows():
    rng, y, patients, folds = _cohort()
    oof = {"a": rng.integers(0, 50, y.size) * 1.0, "b": y + rng.normal(size=y.size)}
    result = blend(oof, y, folds, patients, "rank_mean", n_boot=50)
    by_hand = (rankdata(oof["a"], "max") + rankdata(oof["b"], "max")) / (2 * y.size)
    np.testing.assert_allclose(result.oof["rank_mean"], by_hand, rtol=1e-14)
    assert result.chosen == "rank_mean" and result.asked == "rank_mean"


def test_a_pure_noise_component_gets_no_weight_and_best_drops_it():
    rng, y, patients, folds = _cohort(1)
    oof = {"good": y * 3.0 + rng.normal(size=y.size), "noise": rng.normal(size=y.size)}
    result = blend(oof, y, folds, patients, "best", n_boot=200)
    assert result.fits["weighted_rank"]["weights"] == {"good": 1.0, "noise": 0.0}
    assert all(w["weights"]["noise"] == 0.0 for w in result.fold_fits["weighted_rank"])
    stack = result.fits["stack"]["stack"]["coefficients"]
    assert abs(stack["noise"]) < 0.2 * stack["good"]
    # Halving the good ranks with noise is a real loss, which the fitted methods undo.
    assert result.comparisons["weighted_rank"].verdict == BETTER
    assert result.chosen in ("weighted_rank", "stack")
    assert isic_pauc(y, result.oof[result.chosen]) > isic_pauc(y, result.oof["rank_mean"])


@pytest.mark.parametrize("method", ["weighted_rank", "stack"])
def test_fold_weights_never_see_their_own_fold_labels(method):
    rng, y, patients, folds = _cohort(2)
    oof = {k: y * s + rng.normal(size=y.size) for k, s in (("a", 1.0), ("b", 0.7), ("c", 0.3))}
    before = blend(oof, y, folds, patients, method, n_boot=20)
    flipped = y.copy()
    held = folds == 3
    flipped[held] = rng.permutation(flipped[held])  # fold 3's labels scrambled
    flipped[np.flatnonzero(held)[:5]] = 1
    after = blend(oof, flipped, folds, patients, method, n_boot=20)
    assert after.fold_fits[method][3] == before.fold_fits[method][3]
    np.testing.assert_array_equal(after.oof[method][held], before.oof[method][held])
    # ... while the other folds' weights do use fold 3's labels.
    assert any(after.fold_fits[method][k] != before.fold_fits[method][k] for k in (0, 1, 2, 4))


def _comparison(difference: float, verdict: str) -> Comparison:
    return Comparison(0.1, 0.1 + difference, (0, 0), (0, 0), difference, 0, 0, verdict, 0.95, 1)


def test_best_takes_the_largest_gain_beyond_noise_else_the_rank_mean():
    assert choose({"weighted_rank": _comparison(0.02, WITHIN_NOISE)}) == "rank_mean"
    assert choose({"weighted_rank": _comparison(-0.02, WORSE)}) == "rank_mean"
    both = {"weighted_rank": _comparison(0.01, BETTER), "stack": _comparison(0.02, BETTER)}
    assert choose(both) == "stack"


@pytest.mark.parametrize("method", METHODS)
def test_the_stored_fit_blends_the_out_of_fold_rows_as_the_final_fit_does(method):
    # Blending the components' own out-of-fold scores again with the fit on every row gives
    # that fit's in-sample column (not the honest one, which uses each fold's own fit).
    rng, y, patients, folds = _cohort(3)
    oof = {"a": y + rng.normal(size=y.size), "b": y * 0.5 + rng.random(y.size)}
    result = blend(oof, y, folds, patients, method, n_boot=20)
    stored = result.stored(["a", "b"])
    again = apply_blend(stored, oof, oof)
    if method == "rank_mean":
        np.testing.assert_array_equal(again, result.oof["rank_mean"])
    elif method == "weighted_rank":
        w = stored["weights"]
        ranks = {k: rankdata(v, "max") / v.size for k, v in oof.items()}
        np.testing.assert_allclose(again, w["a"] * ranks["a"] + w["b"] * ranks["b"], rtol=1e-12)
    # A new lesion's blend does not depend on the other new lesions.
    new = {k: v[:7] for k, v in oof.items()}
    one = {k: v[4:5] for k, v in oof.items()}
    assert apply_blend(stored, oof, new)[4] == pytest.approx(apply_blend(stored, oof, one)[0])
    assert method_scores(result, oof, new)[method] == pytest.approx(apply_blend(stored, oof, new))


def test_too_many_components_for_the_weight_grid_leave_weighted_rank_out():
    rng, y, patients, folds = _cohort(4, n_patients=100)
    oof = {f"c{k}": y + rng.normal(size=y.size) for k in range(9)}
    result = blend(oof, y, folds, patients, "best", n_boot=20)
    assert set(result.oof) == {"rank_mean", "stack"} and set(result.comparisons) == {"stack"}
    assert set(method_scores(result, oof, oof)) == {"rank_mean", "stack"}
    with pytest.raises(UserError, match="9 components; the weight grid takes at most 8"):
        blend(oof, y, folds, patients, "weighted_rank", n_boot=20)
