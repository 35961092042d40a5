"""One fit task of a cross-validation: a library on one fold of one CV repeat, with one bag's
seed; how it fits, wherever it runs.

Nothing fitted sees the rows it is scored on: the rounds are fixed, or chosen by early
stopping on the ISIC score of an inner patient-grouped split of the training fold (see
`fit_one` for the three ways, `[training] stopping`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from models import faults
from models.boosters import FitSettings, Fitted, Matrix, booster, model_bytes
from models.config import ADDITIVE, Config
from models.cv.folds import inner_split
from models.cv.plan import TaskData, TaskOutput
from models.cv.sampling import derive_seed, sample_rows, sampling_plan


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
    scores = task_scores(fitted, data.x.take(valid_rows), config)
    model = model_bytes(task.model, fitted)
    faults.reached("fit_done")
    return TaskOutput(task, scores, fitted.rounds, model, fitted, rows=valid_rows)


def task_scores(fitted: Fitted, x: Matrix, config: Config) -> np.ndarray:
    """A fold model's scores of `x`'s rows: its probabilities, or in an additive run its log-odds
    (`log_odds`), which the run's curves add up to exactly."""
    if config.models.form == ADDITIVE:
        return log_odds(fitted, x.codes)
    return fitted.predict(x)


def log_odds(fitted: Fitted, data: np.ndarray) -> np.ndarray:
    """A LightGBM fold model's raw score (the log-odds, before the logistic) of `data`'s rows
    (`Matrix.codes`, or any float matrix with the same columns). LightGBM only: the one
    library an additive run may use (`[models] form`)."""
    return fitted.log_odds(data)


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
    """One fold model for `train_rows`, by `[training] stopping`:

    - "refit": choose the rounds by early stopping on an inner patient-grouped split of
      `train_rows`, then refit on all of them with that many rounds (two fits);
    - "inner": the early-stopped fit on the inner split is the model (one fit, on less data);
    - "fixed": boost `fixed_rounds` (per library, else `max_rounds`) on all of them (one fit,
      no inner split).

    Every fit trains on a sample of its rows (`[sampling]`, this `bag`'s share); the inner
    validation rows, like the fold being scored, are never resampled."""
    model = booster(name)
    params = config.models.params(name)
    y = np.asarray(x.y)
    plan, bags = sampling_plan(config, name), config.training.bags
    shared = seed if partition_seed is None else partition_seed
    stopping = config.training.stopping
    if stopping != "fixed":
        inner_train, inner_valid = inner_split(
            patient_ids[train_rows], y[train_rows], config.cv.inner_splits, seed
        )
        inner_train, inner_valid = train_rows[inner_train], train_rows[inner_valid]
        picked = sample_rows(
            y[inner_train], patient_ids[inner_train], plan, seed, bag, bags, shared
        )
        chooser = model.fit(
            x.take(inner_train[picked]), x.take(inner_valid), params, seed, settings
        )
        if stopping == "inner":
            return chooser
        rounds = chooser.rounds
    else:
        rounds = config.training.fixed_rounds.get(name, settings.max_rounds)
    picked = sample_rows(
        y[train_rows], patient_ids[train_rows], plan, seed + 1, bag, bags, shared + 1
    )
    full_settings = dataclasses.replace(settings, max_rounds=rounds)
    return model.fit(x.take(train_rows[picked]), None, params, seed, full_settings)
