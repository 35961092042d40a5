"""Ensembles of model scores. The default is the mean of percentile ranks, each taken against
that model's stored out-of-fold scores, so a test lesion's ensemble score does not depend on
which other lesions share its file.

Three methods (config `[ensemble] method`):
- "rank_mean": mean over models of the percentile ranks;
- "weighted_rank": a weighted mean of the same ranks, the weights chosen on out-of-fold rows
  by a grid search over non-negative weights that sum to 1, maximising the ISIC score;
- "mean": the plain mean of the models' probabilities.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from models.evaluation import isic_pauc

# Weight grid resolution: weights are multiples of 1/WEIGHT_STEPS. Six steps put equal weights
# on the grid for two and three models and keep the search to 28 scores for three.
WEIGHT_STEPS = 6


def percentile_against(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Share of `reference` scores at or below each score, in [0, 1]."""
    return _count_at_or_below(reference, scores) / np.asarray(reference).size


def rank_mean(scores: dict[str, np.ndarray], references: dict[str, np.ndarray]) -> np.ndarray:
    """Mean over models of each model's percentile rank against its reference scores."""
    names = list(scores)
    return _mean_rank([references[n] for n in names], [scores[n] for n in names])


def weighted_rank(
    scores: dict[str, np.ndarray], references: dict[str, np.ndarray], weights: dict[str, float]
) -> np.ndarray:
    """Weighted mean over models of each model's percentile rank against its references."""
    names = list(scores)
    return _mean_rank(
        [references[n] for n in names], [scores[n] for n in names], [weights[n] for n in names]
    )


def probability_mean(scores: dict[str, np.ndarray]) -> np.ndarray:
    return np.mean([np.asarray(values, dtype=np.float64) for values in scores.values()], axis=0)


def rank_across_repeats(references: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Mean over repeats r of the percentile rank of `scores[r]` against `references[r]`.

    Both are (repeats, rows) arrays (rows may differ between the two): the out-of-fold scores
    of each repeat, and the scores to put on their scale (the same out-of-fold scores, or a
    test file's scores from each repeat's own fold models)."""
    return _mean_rank(list(references), list(scores))


def combine(
    method: str,
    scores: dict[str, np.ndarray],
    references: dict[str, np.ndarray],
    probabilities: dict[str, np.ndarray],
    weights: dict[str, float] | None = None,
) -> np.ndarray:
    """The ensemble by `method`: ranks of `scores` against `references`, or (for "mean") the
    mean of `probabilities`."""
    if method == "rank_mean":
        return rank_mean(scores, references)
    if method == "weighted_rank":
        if weights is None:
            raise ValueError("weighted_rank needs weights")
        return weighted_rank(scores, references, weights)
    if method == "mean":
        return probability_mean(probabilities)
    raise ValueError(f"unknown ensemble method {method!r}")


def search_weights(ranks: dict[str, np.ndarray], y: np.ndarray) -> dict[str, float]:
    """Non-negative weights summing to 1, multiples of 1/WEIGHT_STEPS, whose weighted mean of
    `ranks` has the highest ISIC score on labels `y`; ties go to the most even weights."""
    names = list(ranks)
    stacked = np.vstack([ranks[name] for name in names])
    best, best_score = None, -np.inf
    for grid in _simplex_grid(len(names), WEIGHT_STEPS):
        score = isic_pauc(y, grid @ stacked)
        if score > best_score:
            best, best_score = grid, score
    return {name: float(w) for name, w in zip(names, best, strict=True)}


def fold_honest_weighted_rank(
    ranks: dict[str, np.ndarray], y: np.ndarray, fold_of_row: np.ndarray
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Out-of-fold weighted-rank ensemble: each fold's rows are combined with weights searched
    on the other folds' rows only, so no row's label takes part in choosing its own weights.
    Returns the ensemble and each fold's weights."""
    names = list(ranks)
    out = np.zeros(y.size)
    chosen = []
    for fold in np.unique(fold_of_row):
        scored = fold_of_row == fold
        weights = search_weights({n: ranks[n][~scored] for n in names}, y[~scored])
        chosen.append(weights)
        out[scored] = sum(weights[n] * ranks[n][scored] for n in names)
    return out, chosen


def _count_at_or_below(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    ordered = np.sort(np.asarray(reference, dtype=np.float64))
    return np.searchsorted(ordered, np.asarray(scores, dtype=np.float64), side="right")


def _mean_rank(
    references: list[np.ndarray], scores: list[np.ndarray], weights: list[float] | None = None
) -> np.ndarray:
    """(Weighted) mean of percentile ranks. When the references share one size and the weights
    are grid multiples, it is computed from integer counts and divided once, so two lesions
    with the same ranks get exactly the same score: a float sum of fractions would differ in
    the last bit depending on which fractions were added, and a later strictly increasing map
    (calibration) could not keep such pseudo-distinct scores apart."""
    weights = [1.0] * len(scores) if weights is None else [float(w) for w in weights]
    total = sum(weights)
    denominator = len(weights) if len(set(weights)) == 1 else WEIGHT_STEPS
    steps = np.asarray(weights) / total * denominator
    sizes = {np.asarray(r).size for r in references}
    if len(sizes) == 1 and np.allclose(steps, np.round(steps), rtol=0, atol=1e-9):
        counts = sum(
            int(k) * _count_at_or_below(r, s)
            for k, r, s in zip(np.round(steps), references, scores, strict=True)
        )
        return counts / (sizes.pop() * denominator)
    return sum(
        w / total * percentile_against(r, s)
        for w, r, s in zip(weights, references, scores, strict=True)
    )


def _simplex_grid(n_models: int, steps: int) -> Sequence[np.ndarray]:
    """Every weight vector of multiples of 1/steps summing to 1, most even first."""
    points = [
        np.array(c, dtype=np.float64) / steps
        for c in itertools.product(range(steps + 1), repeat=n_models)
        if sum(c) == steps
    ]
    even = np.full(n_models, 1.0 / n_models)
    return sorted(points, key=lambda w: (float(np.abs(w - even).sum()), tuple(-w)))
