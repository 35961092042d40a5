"""The check a user can trust: the best trial's value is optimistic (it was chosen on the
study's folds), so the tuned configuration and the default are trained again on a split seed
that no trial saw, the same folds for both, and compared with a paired patient bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.blend import ENSEMBLE_COLUMN, run_ensemble
from models.config import Config
from models.cv import TrainingData, cross_validate, repeated_patient_folds
from models.evaluation import isic_pauc, paired_bootstrap_diff

# The fresh split's seed is the config's seed plus this: the study's folds use the seed itself
# (and repeats seed + 1, ...), so this split is one no trial trained or was scored on.
FRESH_SPLIT_OFFSET = 1000


@dataclass(frozen=True)
class Verdict:
    column: str  # the library, or "ensemble"
    split_seed: int
    tuned: float
    default: float
    difference: tuple[float, float, float]  # tuned minus default, low, high

    @property
    def word(self) -> str:
        _, low, high = self.difference
        if low > 0:
            return "better"
        if high < 0:
            return "worse"
        return "within noise"

    def line(self) -> str:
        d, low, high = self.difference
        return (
            f"on split seed {self.split_seed} (no trial saw it), {self.column}: tuned "
            f"{self.tuned:.4f}, default {self.default:.4f}, difference {d:+.4f} "
            f"[{low:+.4f}, {high:+.4f}] (95 % paired patient bootstrap): {self.word}"
        )


def fresh_split_verdict(
    tuned: Config, default: Config, data: TrainingData, models: list[str]
) -> Verdict:
    """Train `tuned` and `default` (each limited to `models`) on one seeded patient-grouped
    split the study never used, and compare the library's (one model) or the ensemble's
    out-of-fold scores."""
    split_seed = default.seed + FRESH_SPLIT_OFFSET
    folds = repeated_patient_folds(data.patient_ids, data.y, default.cv.folds, [split_seed])
    tuned_scores = _scores(tuned, data, folds, models)
    default_scores = _scores(default, data, folds, models)
    difference = paired_bootstrap_diff(
        data.y,
        tuned_scores,
        default_scores,
        data.patient_ids,
        n_boot=default.training.bootstrap_samples,
        seed=default.seed,
    )
    return Verdict(
        column=models[0] if len(models) == 1 else ENSEMBLE_COLUMN,
        split_seed=split_seed,
        tuned=isic_pauc(data.y, tuned_scores),
        default=isic_pauc(data.y, default_scores),
        difference=difference,
    )


def _scores(config: Config, data: TrainingData, folds: np.ndarray, models: list[str]) -> np.ndarray:
    config = config.replace(models={"names": models}, cv={"repeats": 1})
    cv = cross_validate(data.x, data.patient_ids, config, folds=folds)
    if len(models) == 1:
        return cv.oof[models[0]]
    e = config.ensemble
    return run_ensemble(cv.oof, cv.oof_probability, data.y, folds, e.method, e.calibration).oof
