"""The Optuna objective: one library with a drawn configuration, trained fold by fold on the
same features and patient-grouped folds as `train_gbdt`, each fold's ISIC score reported as
it comes so the pruner can stop a trial that is losing.

The value is the mean of the folds' scores. The folds are instances of one task, not steps of
a learning curve, which is what Optuna's `WilcoxonPruner` assumes: it prunes a trial once a
signed-rank test over the folds seen so far says it is worse than the best trial on the same
folds (`trial.report(score, step=fold)`, so the fold index pairs them)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import optuna

from models.config import Config
from models.cv import TaskData, TrainingData, fit_settings, fit_task, plan_tasks
from models.evaluation import isic_pauc
from models.tuning.space import SearchSpace


@dataclass
class FoldRun:
    """One configuration's fold-by-fold cross-validation so far."""

    fold_scores: list[float] = field(default_factory=list)
    fold_rounds: list[float] = field(default_factory=list)
    fold_seconds: list[float] = field(default_factory=list)
    oof: np.ndarray | None = None  # out-of-fold scores (mean over bags) of the folds done

    @property
    def value(self) -> float:
        return float(np.mean(self.fold_scores))

    def attrs(self) -> dict[str, object]:
        return {
            "fold_scores": [round(s, 6) for s in self.fold_scores],
            "fold_rounds": self.fold_rounds,
            "fold_seconds": [round(s, 2) for s in self.fold_seconds],
            "seconds": round(sum(self.fold_seconds), 2),
        }


def cross_validate_folds(
    config: Config,
    model: str,
    data: TrainingData,
    folds: np.ndarray,
    on_fold=None,
) -> FoldRun:
    """Fit `model` on every fold of `folds` (one repeat, (rows,)) in order, calling
    `on_fold(fold, run)` after each; it may raise to stop (a pruned trial)."""
    task_data = TaskData(data.x, data.patient_ids, folds[np.newaxis, :])
    settings = fit_settings(config)
    tasks = [t for t in plan_tasks(config) if t.repeat == 0 and t.model == model]
    run = FoldRun(oof=np.full(folds.size, np.nan))
    y = data.y
    for fold in range(int(folds.max()) + 1):
        started = time.perf_counter()
        rows = np.flatnonzero(folds == fold)
        scores, rounds = np.zeros(rows.size), []
        fold_tasks = [t for t in tasks if t.fold == fold]
        for task in fold_tasks:
            output = fit_task(task, task_data, settings, config=config)
            scores += output.scores / len(fold_tasks)
            rounds.append(output.rounds)
        run.oof[rows] = scores
        run.fold_scores.append(isic_pauc(y[rows], scores))
        run.fold_rounds.append(float(np.mean(rounds)))
        run.fold_seconds.append(time.perf_counter() - started)
        if on_fold is not None:
            on_fold(fold, run)
    return run


@dataclass
class FoldObjective:
    """Optuna's objective for one library: `base` (models.names = [model]) overlaid with the
    trial's point of `space`, on `data` with one repeat's `folds` (rows,)."""

    base: Config
    space: SearchSpace
    data: TrainingData
    folds: np.ndarray

    def __call__(self, trial: optuna.Trial) -> float:
        point = self.space.suggest(trial)
        config = self.base.replace(**self.space.overlay(point))
        last_fold = int(self.folds.max())

        def report(fold: int, run: FoldRun) -> None:
            trial.report(run.fold_scores[-1], step=fold)
            for key, value in run.attrs().items():
                trial.set_user_attr(key, value)
            # After the last fold there is nothing left to save: the trial completes.
            if fold < last_fold and trial.should_prune():
                raise optuna.TrialPruned(f"worse than the best trial after fold {fold}")

        run = cross_validate_folds(config, self.space.model, self.data, self.folds, report)
        trial.set_user_attr("pooled_pauc", round(isic_pauc(self.data.y, run.oof), 6))
        return run.value
