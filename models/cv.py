"""Cross-validation over patient-grouped folds: out-of-fold predictions, fold models and
per-fold scores.

Nothing fitted sees the rows it is scored on. For each outer fold, an inner patient-grouped
split of the training fold chooses the number of rounds by early stopping on its ISIC score;
the model is then refitted on the whole (under-sampled) training fold with that many rounds.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field

import numpy as np

from models.blend import rank_across_repeats
from models.config import Config
from models.execution import (
    Executor,
    TaskData,
    TaskOutput,
    TaskStore,
    model_bytes,
    run_plan,
)
from models.folds import inner_split, repeated_patient_folds
from models.gbdt import FitSettings, Fitted, Matrix
from models.metric import isic_pauc
from models.registry import booster
from models.sampling import derive_seed, sample_rows

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
    # model -> out-of-fold score: the probability with one repeat, else the mean over repeats
    # of the row's percentile rank within that repeat's scores (see `repeat_scores`)
    oof: dict[str, np.ndarray]
    oof_by_repeat: dict[str, np.ndarray]  # model -> (repeats, rows), probabilities
    models: list[FoldModel] = field(default_factory=list)

    @property
    def oof_probability(self) -> dict[str, np.ndarray]:
        """model -> mean over repeats of its out-of-fold probability."""
        return {name: values.mean(axis=0) for name, values in self.oof_by_repeat.items()}


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
        device=t.device,
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


def cross_validate(
    x: Matrix,
    patient_ids: np.ndarray,
    config: Config,
    folds: np.ndarray | None = None,
    *,
    executor: Executor | None = None,
    store: TaskStore | None = None,
) -> CVResult:
    """Fit every task of the plan; a fold's out-of-fold score for a library is the mean over
    its bags, and a row's score combines the repeats (`repeat_scores`). `folds` (repeats, rows)
    imposes folds made elsewhere instead of the seeded patient-grouped split.

    The tasks run on `executor` (in this process by default, see `models.execution`); tasks
    that `store` already holds are not run again, and each new one is stored as it finishes."""
    y = np.asarray(x.y)
    if folds is None:
        folds = repeated_patient_folds(patient_ids, y, config.cv.folds, split_seeds(config))
    names = list(config.models.names)
    oof_by_repeat = {name: np.zeros(folds.shape) for name in names}
    result = CVResult(folds, {}, oof_by_repeat)
    tasks = plan_tasks(config)
    outputs = run_plan(
        tasks,
        functools.partial(fit_task, config=config),
        TaskData(x, patient_ids, folds),
        fit_settings(config),
        executor=executor,
        store=store,
    )
    # In plan order, whatever order the tasks finished in: the sums are then bit-identical.
    for task in tasks:
        output = outputs[task.stem]
        valid_rows = np.flatnonzero(folds[task.repeat] == task.fold)
        oof_by_repeat[task.model][task.repeat, valid_rows] += output.scores / config.training.bags
        result.models.append(FoldModel(task, output.fitted))
    result.oof = {name: repeat_scores(values) for name, values in oof_by_repeat.items()}
    return result


def fit_task(
    task: FitTask,
    data: TaskData,
    settings: FitSettings,
    *,
    config: Config,
    seed_key: int | None = None,
) -> TaskOutput:
    """One task, wherever it runs: fit on the fold's training rows, score its held-out rows,
    and return the model as its native bytes. `seed_key` replaces the repeat in the bags'
    shared partition seed, for task families other than the cross-validation's."""
    fold_of_row = data.folds[task.repeat]
    train_rows = np.flatnonzero(fold_of_row != task.fold)
    valid_rows = np.flatnonzero(fold_of_row == task.fold)
    fitted = fit_one(
        data.x,
        data.patient_ids,
        train_rows,
        task.model,
        task.seed,
        config,
        settings,
        bag=task.bag,
        partition_seed=partition_seed(config, task, seed_key),
    )
    scores = fitted.predict(data.x.take(valid_rows))
    model = model_bytes(task.model, fitted)
    return TaskOutput(task, scores, fitted.rounds, model, fitted, rows=valid_rows)


def repeat_scores(by_repeat: np.ndarray) -> np.ndarray:
    """One score per row from a (repeats, rows) array of one model's out-of-fold scores: the
    scores themselves with one repeat, else the mean of each row's percentile rank within
    every repeat. Ranks, because a repeat's models can be shifted or stretched as a whole
    (another split, other rounds) and a probability mean would let one repeat dominate."""
    if by_repeat.shape[0] == 1:
        return by_repeat[0].copy()
    return rank_across_repeats(by_repeat, by_repeat)


def partition_seed(config: Config, task: FitTask, key: int | None = None) -> int:
    """The seed every bag of one library on one fold shares: it deals the negatives into the
    bags' disjoint subsets, so they must all deal them the same way. `key` stands in for the
    task's repeat (see `fit_task`)."""
    index = config.models.names.index(task.model)
    # Four keys where task seeds have five: never the same as any task's own seed.
    return derive_seed(config.seed, task.repeat if key is None else key, task.fold, index)


def fit_one(
    x: Matrix,
    patient_ids: np.ndarray,
    train_rows: np.ndarray,
    name: str,
    seed: int,
    config: Config,
    settings: FitSettings,
    *,
    bag: int = 0,
    partition_seed: int | None = None,
) -> Fitted:
    """Choose the rounds on an inner split of `train_rows`, then refit on all of them.

    Both fits train on a sample of their rows (`[sampling]`, this `bag`'s share); the inner
    validation rows, like the fold being scored, are never resampled."""
    model = booster(name)
    params = config.models.params(name)
    y = np.asarray(x.y)
    inner_train, inner_valid = inner_split(
        patient_ids[train_rows], y[train_rows], config.cv.inner_splits, seed
    )
    inner_train, inner_valid = train_rows[inner_train], train_rows[inner_valid]
    plan, bags = config.sampling.plan(), config.training.bags
    shared = seed if partition_seed is None else partition_seed
    picked = sample_rows(y[inner_train], patient_ids[inner_train], plan, seed, bag, bags, shared)
    chooser = model.fit(x.take(inner_train[picked]), x.take(inner_valid), params, seed, settings)
    refit_settings = dataclasses.replace(settings, max_rounds=chooser.rounds)
    picked = sample_rows(
        y[train_rows], patient_ids[train_rows], plan, seed + 1, bag, bags, shared + 1
    )
    return model.fit(x.take(train_rows[picked]), None, params, seed, refit_settings)


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
