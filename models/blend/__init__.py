"""Combining scores: rank-based ensembles of a run's models (each model's percentile rank
against its own out-of-fold scores, so a test lesion's score never depends on its batch), the
weight search, the in-run ensemble with its honest out-of-fold column, and calibration to a
probability. Imports only `evaluation`."""

from models.blend.calibrate import (
    Calibrator,
    calibration_report,
    cross_fitted,
    fit_calibrator,
)
from models.blend.in_run import ENSEMBLE_COLUMN, RunEnsemble, repeat_ensemble, run_ensemble
from models.blend.ranks import (
    WEIGHT_STEPS,
    combine,
    fold_honest_weighted_rank,
    percentile_against,
    probability_mean,
    rank_across_repeats,
    rank_mean,
    search_weights,
    weighted_rank,
)

__all__ = [
    "ENSEMBLE_COLUMN",
    "WEIGHT_STEPS",
    "Calibrator",
    "RunEnsemble",
    "calibration_report",
    "combine",
    "cross_fitted",
    "fit_calibrator",
    "fold_honest_weighted_rank",
    "percentile_against",
    "probability_mean",
    "rank_across_repeats",
    "rank_mean",
    "repeat_ensemble",
    "run_ensemble",
    "search_weights",
    "weighted_rank",
]
