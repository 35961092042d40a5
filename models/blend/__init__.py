"""Combining scores: rank-based ensembles of a run's models (each model's percentile rank
against its own out-of-fold scores, so a test lesion's score never depends on its batch), the
weight search, the in-run ensemble with its honest out-of-fold column, calibration to a
probability, and blends of runs and image-model scores (rank mean, weighted ranks, stacking).
Imports only `features` and `evaluation`."""

from models.blend.blender import (
    BEST,
    BLEND_COLUMN,
    METHODS,
    BlendResult,
    apply_blend,
    blend,
    choose,
    method_scores,
)
from models.blend.calibrate import (
    Calibrator,
    calibration_report,
    cross_fitted,
    fit_calibrator,
)
from models.blend.components import (
    Components,
    RunScores,
    ScoreFile,
    component_names,
    join_components,
)
from models.blend.in_run import (
    ENSEMBLE_COLUMN,
    RunEnsemble,
    additive_ensemble,
    repeat_ensemble,
    run_ensemble,
)
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
from models.blend.stack import apply_stack, fit_stack, fold_honest_stack

__all__ = [
    "BEST",
    "BLEND_COLUMN",
    "ENSEMBLE_COLUMN",
    "METHODS",
    "WEIGHT_STEPS",
    "BlendResult",
    "Calibrator",
    "Components",
    "RunEnsemble",
    "RunScores",
    "ScoreFile",
    "additive_ensemble",
    "apply_blend",
    "apply_stack",
    "blend",
    "choose",
    "calibration_report",
    "combine",
    "component_names",
    "cross_fitted",
    "fit_calibrator",
    "fit_stack",
    "fold_honest_stack",
    "fold_honest_weighted_rank",
    "join_components",
    "method_scores",
    "percentile_against",
    "probability_mean",
    "rank_across_repeats",
    "rank_mean",
    "repeat_ensemble",
    "run_ensemble",
    "search_weights",
    "weighted_rank",
]
