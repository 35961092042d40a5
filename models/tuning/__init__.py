"""Optuna tuning across patient-grouped folds: each library's search space (its adapter's
ranges, rounds and sampling ratio), the fold-by-fold objective that the Wilcoxon pruner reads,
storage shared by workers on one machine or many with a budget for the whole study, the
tuned ensemble's method, the fresh-split verdict and `best.toml`. Sits on `cv`, `blend`,
`boosters` and `evaluation`."""

from models.tuning.ensemble import EnsembleChoice, choose_ensemble
from models.tuning.objective import FoldObjective, FoldRun, cross_validate_folds
from models.tuning.session import TuneOutcome, TuneRequest, data_key, trial_line, tune
from models.tuning.space import NEGATIVES, ROUNDS, SearchSpace, read_space_file, search_space
from models.tuning.storage import open_storage, open_study, redact
from models.tuning.verdict import FRESH_SPLIT_OFFSET, Verdict, fresh_split_verdict
from models.tuning.worker import OVER_BUDGET, StudyCount, count, run_worker

__all__ = [
    "FRESH_SPLIT_OFFSET",
    "NEGATIVES",
    "OVER_BUDGET",
    "ROUNDS",
    "EnsembleChoice",
    "FoldObjective",
    "FoldRun",
    "SearchSpace",
    "StudyCount",
    "TuneOutcome",
    "TuneRequest",
    "Verdict",
    "choose_ensemble",
    "count",
    "cross_validate_folds",
    "data_key",
    "fresh_split_verdict",
    "open_storage",
    "open_study",
    "read_space_file",
    "redact",
    "run_worker",
    "search_space",
    "trial_line",
    "tune",
]
