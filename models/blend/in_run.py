"""The ensemble of one run's models: its out-of-fold column, what predicting needs to rebuild
it on new lesions (method, weights, calibrator: `ensemble.json`), and the calibration report.

Choices fitted on labels (blend weights, the calibrator) are made for each fold's rows on the
other folds' rows (folds of the first repeat), so the reported numbers stay honest; the
weights and calibrator stored for test lesions are fit on every out-of-fold row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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
) -> RunEnsemble:
    """`oof` holds each model's out-of-fold column, `oof_probability` its mean probability
    over CV repeats, `folds` (repeats, rows) the folds; `method` and `calibration` are the
    config's `[ensemble]` choices."""
    fold_of_row = folds[0]
    stored: dict[str, Any] = {"method": method, "repeats": int(folds.shape[0])}
    if method == "weighted_rank":
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


def repeat_ensemble(
    method: str, scores: dict[str, np.ndarray], y: np.ndarray, fold_of_row: np.ndarray
) -> np.ndarray:
    """The ensemble of one CV repeat's out-of-fold probabilities (for its own score)."""
    if method == "weighted_rank":
        ranks = {name: percentile_against(values, values) for name, values in scores.items()}
        return fold_honest_weighted_rank(ranks, y, fold_of_row)[0]
    return combine(method, scores, scores, scores)
