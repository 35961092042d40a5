"""Cross-validation over patient-grouped folds: every task of the plan fitted, and the
out-of-fold predictions, fold models and repeats combined in plan order."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from models.blend import rank_across_repeats
from models.boosters import Fitted, Matrix
from models.config import ADDITIVE, Config
from models.cv.folds import repeated_patient_folds
from models.cv.plan import Executor, TaskData, run_plan
from models.cv.resume import TaskStore
from models.cv.tasks import FitTask, fit_settings, fit_task, plan_tasks, split_seeds


@dataclass
class FoldModel:
    task: FitTask
    fitted: Fitted

    @property
    def model(self) -> str:
        return self.task.model

    @property
    def repeat(self) -> int:
        return self.task.repeat

    @property
    def fold(self) -> int:
        return self.task.fold

    @property
    def bag(self) -> int:
        return self.task.bag


@dataclass
class CVResult:
    folds: np.ndarray  # (repeats, rows): fold index of each row in each repeat
    # model -> out-of-fold score: the probability with one repeat, else the mean over repeats
    # of the row's percentile rank within that repeat's scores (see `repeat_scores`); in an
    # additive run the mean log-odds over repeats
    oof: dict[str, np.ndarray]
    # model -> (repeats, rows): probabilities (log-odds in an additive run), mean over bags
    oof_by_repeat: dict[str, np.ndarray]
    models: list[FoldModel] = field(default_factory=list)

    @property
    def oof_probability(self) -> dict[str, np.ndarray]:
        """model -> mean over repeats of its out-of-fold probability."""
        return {name: values.mean(axis=0) for name, values in self.oof_by_repeat.items()}


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
    its bags, and a row's score combines the repeats (`repeat_scores`; in an additive run,
    `[models] form`, the plain mean of the fold models' log-odds). `folds` (repeats, rows)
    imposes folds made elsewhere instead of the seeded patient-grouped split.

    The tasks run on `executor` (in this process by default, see `models.cv.executors`); tasks
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
    if config.models.form == ADDITIVE:
        # Log-odds average as they are: the mean is what the run's curves explain exactly.
        result.oof = {name: values.mean(axis=0) for name, values in oof_by_repeat.items()}
    else:
        result.oof = {name: repeat_scores(values) for name, values in oof_by_repeat.items()}
    return result


def repeat_scores(by_repeat: np.ndarray) -> np.ndarray:
    """One score per row from a (repeats, rows) array of one model's out-of-fold scores: the
    scores themselves with one repeat, else the mean of each row's percentile rank within
    every repeat. Ranks, because a repeat's models can be shifted or stretched as a whole
    (another split, other rounds) and a probability mean would let one repeat dominate."""
    if by_repeat.shape[0] == 1:
        return by_repeat[0].copy()
    return rank_across_repeats(by_repeat, by_repeat)
