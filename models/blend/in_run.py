"""The ensemble of one run's models: its out-of-fold column, what predicting needs to rebuild
it on new lesions (method, weights, calibrator: `ensemble.json`), and the calibration report.

Choices fitted on labels (blend weights, the calibrator) are made for each fold's rows on the
other folds' rows (folds of the first repeat), so the reported numbers stay honest; the
weights and calibrator stored for test lesions are fit on every out-of-fold row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from models.blend import calibrate
from models.blend.ranks import (
    combine,
    fold_honest_weighted_rank,
    percentile_against,
    search_weights,
)

# The ensemble's column in oof.parquet, test predictions and metrics.json.
ENSEMBLE_COLUMN = "ensemble"


@dataclass
class RunEnsemble:
    oof: np.ndarray  # the out-of-fold ensemble column
    stored: dict[str, Any]  # ensemble.json: method, repeats, weights, calibrator
    calibration: dict[str, Any]  # metrics.json "calibration": Brier score, reliability


def run_ensemble(
    oof: dict[str, np.ndarray],
    oof_probability: dict[str, np.ndarray],
    y: np.ndarray,
    folds: np.ndarray,
    method: str,
    calibration: str,
    form: str = "trees",
) -> RunEnsemble:
    """`oof` holds each model's out-of-fold column, `oof_probability` its mean probability
    over CV repeats, `folds` (repeats, rows) the folds; `method` and `calibration` are the
    config's `[ensemble]` choices. An additive run (`form`, `[models] form`) has one model
    whose column is its mean log-odds: its ensemble is `additive_ensemble`, whatever
    `method` says."""
    fold_of_row = folds[0]
    stored: dict[str, Any] = {"method": method, "repeats": int(folds.shape[0])}
    if form == "additive":
        column = additive_ensemble(oof)
    elif method == "weighted_rank":
        ranks = {name: percentile_against(values, values) for name, values in oof.items()}
        column, fold_weights = fold_honest_weighted_rank(ranks, y, fold_of_row)
        stored["weights"] = search_weights(ranks, y)
        stored["fold_weights"] = fold_weights
    else:
        column = combine(method, oof, oof, oof_probability)
    stored["calibrator"] = calibrate.fit_calibrator(column, y, calibration).to_dict()
    honest = calibrate.cross_fitted(column, y, fold_of_row, calibration)
    report = {
        "method": calibration,
        "cross_fitted_on": "folds of repeat 0",
        **calibrate.calibration_report(honest, y),
    }
    return RunEnsemble(column, stored, report)


def additive_ensemble(scores: dict[str, np.ndarray]) -> np.ndarray:
    """An additive run's ensemble: the logistic of its one model's mean log-odds. Strictly
    increasing and inside (0, 1), so the calibrator, blends and rank-based readers take it as
    they take any ensemble, and the run's curves explain its ranking exactly."""
    (log_odds,) = scores.values()
    return expit(np.asarray(log_odds, dtype=np.float64))


def repeat_ensemble(
    method: str,
    scores: dict[str, np.ndarray],
    y: np.ndarray,
    fold_of_row: np.ndarray,
    form: str = "trees",
) -> np.ndarray:
    """The ensemble of one CV repeat's out-of-fold probabilities (for its own score); in an
    additive run (`form`) of its log-odds."""
    if form == "additive":
        return additive_ensemble(scores)
    if method == "weighted_rank":
        ranks = {name: percentile_against(values, values) for name, values in scores.items()}
        return fold_honest_weighted_rank(ranks, y, fold_of_row)[0]
    return combine(method, scores, scores, scores)
