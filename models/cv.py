"""Cross-validation over patient-grouped folds: out-of-fold predictions, fold models and
per-fold scores.

Nothing fitted sees the rows it is scored on. For each outer fold, an inner patient-grouped
split of the training fold chooses the number of rounds by early stopping on its ISIC score;
the model is then refitted on the whole (under-sampled) training fold with that many rounds.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np

from models.config import Config
from models.folds import inner_split, repeated_patient_folds
from models.gbdt import FitSettings, Fitted, Matrix
from models.metric import isic_pauc
from models.progress import progress
from models.registry import booster
from models.sampling import derive_seed, undersample_negatives

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitTask:
    """One independent fit: a library on one fold of one CV repeat, with one bag's seed."""

    model: str
    repeat: int
    fold: int
    bag: int
    seed: int

    @property
    def stem(self) -> str:
        return f"{self.model}_r{self.repeat}_f{self.fold}_b{self.bag}"


@dataclass
class FoldModel:
    task: FitTask
    fitted: Fitted

    @property
    def model(self) -> str:
        return self.task.model


@dataclass
class CVResult:
    folds: np.ndarray  # (repeats, rows): fold index of each row in each repeat
    oof: dict[str, np.ndarray]  # model -> out-of-fold score, mean over repeats
    oof_by_repeat: dict[str, np.ndarray]  # model -> (repeats, rows)
    models: list[FoldModel] = field(default_factory=list)


def split_seeds(config: Config) -> list[int]:
    return [config.seed + repeat for repeat in range(config.cv.repeats)]


def fit_settings(config: Config) -> FitSettings:
    t = config.training
    return FitSettings(
        max_rounds=t.max_rounds,
        early_stopping_rounds=t.early_stopping_rounds,
        min_rounds=t.min_rounds,
        eval_every=t.eval_every,
        smoothing_rounds=t.smoothing_rounds,
        threads=t.n_threads,
    )


def plan_tasks(config: Config) -> list[FitTask]:
    """Every fit of a run, in the order they are reported: repeat, fold, library, bag."""
    return [
        FitTask(name, repeat, fold, bag, derive_seed(config.seed, repeat, fold, index, bag))
        for repeat in range(config.cv.repeats)
        for fold in range(config.cv.folds)
        for index, name in enumerate(config.models.names)
        for bag in range(config.training.bags)
    ]


def cross_validate(x: Matrix, patient_ids: np.ndarray, config: Config) -> CVResult:
    """Fit every task of the plan; a fold's out-of-fold score for a library is the mean over
    its bags, and a row's score the mean over repeats."""
    y = np.asarray(x.y)
    folds = repeated_patient_folds(patient_ids, y, config.cv.folds, split_seeds(config))
    names = list(config.models.names)
    oof_by_repeat = {name: np.zeros(folds.shape) for name in names}
    result = CVResult(folds, {}, oof_by_repeat)
    settings = fit_settings(config)
    tasks = plan_tasks(config)
    with progress(len(tasks), "cross-validation") as bar:
        for task in tasks:
            fold_of_row = folds[task.repeat]
            train_rows = np.flatnonzero(fold_of_row != task.fold)
            valid_rows = np.flatnonzero(fold_of_row == task.fold)
            fitted = fit_one(x, patient_ids, train_rows, task.model, task.seed, config, settings)
            scores = fitted.predict(x.take(valid_rows))
            oof_by_repeat[task.model][task.repeat, valid_rows] += scores / config.training.bags
            result.models.append(FoldModel(task, fitted))
            bar.step(
                f"repeat {task.repeat} fold {task.fold} {task.model} bag {task.bag}: "
                f"{fitted.rounds} rounds, pAUC {_safe_pauc(y[valid_rows], scores):.4f}"
            )
    result.oof = {name: values.mean(axis=0) for name, values in oof_by_repeat.items()}
    return result


def fit_one(
    x: Matrix,
    patient_ids: np.ndarray,
    train_rows: np.ndarray,
    name: str,
    seed: int,
    config: Config,
    settings: FitSettings,
) -> Fitted:
    """Choose the rounds on an inner split of `train_rows`, then refit on all of them."""
    model = booster(name)
    params = config.models.params(name)
    y = np.asarray(x.y)
    inner_train, inner_valid = inner_split(
        patient_ids[train_rows], y[train_rows], config.cv.inner_splits, seed
    )
    inner_train, inner_valid = train_rows[inner_train], train_rows[inner_valid]
    ratio = config.sampling.negatives_per_positive
    sampled = inner_train[undersample_negatives(y[inner_train], ratio, seed)]
    chooser = model.fit(x.take(sampled), x.take(inner_valid), params, seed, settings)
    refit_settings = dataclasses.replace(settings, max_rounds=chooser.rounds)
    sampled = train_rows[undersample_negatives(y[train_rows], ratio, seed + 1)]
    return model.fit(x.take(sampled), None, params, seed, refit_settings)


def fold_scores(y: np.ndarray, scores: np.ndarray, fold_of_row: np.ndarray) -> list[float]:
    return [
        _safe_pauc(y[fold_of_row == fold], scores[fold_of_row == fold])
        for fold in np.unique(fold_of_row)
    ]


def _safe_pauc(y: np.ndarray, scores: np.ndarray) -> float:
    """The fold's score, or NaN for a fold with one class (reported, never raised)."""
    if y.min() == y.max():
        return float("nan")
    return isic_pauc(y, scores)
