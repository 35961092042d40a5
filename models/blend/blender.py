"""Blends of components (runs' scores, image-model scores): the plain rank mean, the weighted
rank mean and stacking, each with an honest out-of-fold column, and the choice between them.

Every component is first put on one scale, its percentile rank against its own out-of-fold
scores; a new lesion is ranked against the same out-of-fold scores, so its blended score does
not depend on the other lesions of its file. A fitted method's weights for a fold's rows are
fitted on the other folds' rows only, so the out-of-fold score of every method is honest; the
weights kept for new lesions are then fitted on every row.

`best` keeps the plain rank mean unless a fitted method beats it beyond noise (the paired
patient-bootstrap interval of the difference above zero): with a few hundred positives a
fitted weight often just follows the noise of the folds it was fitted on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.errors import UserError
from models.blend.calibrate import Calibrator, fit_calibrator
from models.blend.ranks import (
    fold_honest_weighted_rank,
    percentile_against,
    rank_mean,
    search_weights,
    weighted_rank,
)
from models.blend.stack import apply_stack, fit_stack, fold_honest_stack
from models.evaluation import BETTER, Comparison, compare_scores

log = logging.getLogger(__name__)

RANK_MEAN, WEIGHTED_RANK, STACK, BEST = "rank_mean", "weighted_rank", "stack", "best"
METHODS = (RANK_MEAN, WEIGHTED_RANK, STACK)
FITTED = (WEIGHTED_RANK, STACK)
# The weight grid has C(WEIGHT_STEPS + k - 1, k - 1) points for k components: 1,287 for 8, and
# each is a full ISIC score. Beyond this many components weighted_rank is left out.
MAX_WEIGHTED_COMPONENTS = 8
# The chosen method's out-of-fold column in a blend folder's oof.parquet (also as `ensemble`).
BLEND_COLUMN = "blend"


@dataclass
class BlendResult:
    oof: dict[str, np.ndarray]  # method -> its honest out-of-fold column
    fits: dict[str, dict[str, Any]]  # method -> what it fitted on every row
    fold_fits: dict[str, list[dict[str, Any]]]  # method -> what it fitted for each fold's rows
    comparisons: dict[str, Comparison]  # fitted method -> it against the rank mean
    asked: str  # the method asked for (BEST or one of METHODS)
    chosen: str  # the method whose column is the blend
    calibrator: Calibrator  # the chosen column to a probability, fitted on every row

    def stored(self, components: list[str]) -> dict[str, Any]:
        """blend.json: enough to blend new lesions' component scores again (with the
        components' out-of-fold columns as references, from the blend's oof.parquet)."""
        return {
            "method": self.chosen,
            "asked": self.asked,
            "components": components,
            **self.fits[self.chosen],
            "calibrator": self.calibrator.to_dict(),
        }


def blend(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    fold_of_row: np.ndarray,
    patient_ids: np.ndarray,
    method: str = BEST,
    n_boot: int = 1000,
    seed: int = 0,
) -> BlendResult:
    """Every method's honest out-of-fold column on the components' out-of-fold scores `oof`,
    its comparison with the rank mean, and the method `method` asks for (`best`: see the
    module docstring)."""
    if method not in (*METHODS, BEST):
        raise ValueError(f"unknown blend method {method!r}")
    searchable = len(oof) <= MAX_WEIGHTED_COMPONENTS
    if method == WEIGHTED_RANK and not searchable:
        raise UserError(
            f"--method weighted_rank: {len(oof)} components; the weight grid takes at most "
            f"{MAX_WEIGHTED_COMPONENTS} (blend each run's ensemble, not its models)"
        )
    y = np.asarray(y)
    ranks = {name: percentile_against(values, values) for name, values in oof.items()}
    columns = {RANK_MEAN: rank_mean(oof, oof)}
    fits: dict[str, dict[str, Any]] = {RANK_MEAN: {}}
    fold_fits: dict[str, list[dict[str, Any]]] = {RANK_MEAN: []}
    if searchable:
        columns[WEIGHTED_RANK], fold_weights = fold_honest_weighted_rank(ranks, y, fold_of_row)
        fits[WEIGHTED_RANK] = {"weights": search_weights(ranks, y)}
        fold_fits[WEIGHTED_RANK] = [{"weights": w} for w in fold_weights]
    else:
        log.warning("%d components: too many for the weight grid; no weighted_rank", len(oof))
    columns[STACK], fold_fits[STACK] = fold_honest_stack(ranks, y, fold_of_row)
    fits[STACK] = {"stack": fit_stack(ranks, y)}
    fold_fits[STACK] = [{"stack": f} for f in fold_fits[STACK]]
    comparisons = {
        name: compare_scores(y, columns[RANK_MEAN], columns[name], patient_ids, n_boot, seed)
        for name in FITTED
        if name in columns
    }
    chosen = method if method != BEST else choose(comparisons)
    return BlendResult(
        oof=columns,
        fits=fits,
        fold_fits=fold_fits,
        comparisons=comparisons,
        asked=method,
        chosen=chosen,
        calibrator=fit_calibrator(columns[chosen], y),
    )


def choose(comparisons: dict[str, Comparison]) -> str:
    """The fitted method that beats the rank mean beyond noise by the most, else the rank mean."""
    better = {name: c.difference for name, c in comparisons.items() if c.verdict == BETTER}
    return max(better, key=better.get) if better else RANK_MEAN


def apply_blend(
    fit: dict[str, Any], references: dict[str, np.ndarray], scores: dict[str, np.ndarray]
) -> np.ndarray:
    """`fit["method"]`'s blend of new lesions' component `scores`, each ranked against its
    component's out-of-fold `references`: the method's own scale (ranks, or a probability for
    `stack`), before calibration."""
    method = fit["method"]
    names = list(fit.get("components") or scores)
    scores = {n: scores[n] for n in names}
    if method == RANK_MEAN:
        return rank_mean(scores, references)
    if method == WEIGHTED_RANK:
        return weighted_rank(scores, references, fit["weights"])
    if method == STACK:
        ranks = {n: percentile_against(references[n], scores[n]) for n in names}
        return apply_stack(fit["stack"], ranks)
    raise ValueError(f"unknown blend method {method!r}")


def method_scores(
    result: BlendResult, references: dict[str, np.ndarray], scores: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every method's blend of new lesions (with its fit on every row)."""
    return {
        name: apply_blend({"method": name, **fit}, references, scores)
        for name, fit in result.fits.items()
    }
