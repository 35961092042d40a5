"""Running a plan of fit tasks: what every task reads (`TaskData`), what it returns
(`TaskOutput`), and `run_plan`, which reuses the fits a store already holds, runs the rest on
an executor (`models.cv.executors`), stores each as it arrives and reports progress.

Every (library, fold, split seed, bag) fit is an independent task with its own seed. Wherever
it runs, its out-of-fold scores and its model (the library's native file, as bytes: never a
pickled booster) come back to this process, and the caller combines them in plan order: the
result does not depend on where, or in which order, the tasks ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from models.boosters import FitSettings, Fitted, Matrix, load_model_bytes
from models.cv.resume import TaskStore, stored_outputs
from models.evaluation import pauc_or_none
from models.progress import progress

# Test-only: end the process abruptly (as a kill would) once this many fits are stored.
STOP_AFTER_ENV = "TBP_GBDT_TEST_STOP_AFTER_FITS"


@dataclass(frozen=True)
class TaskData:
    """What every task reads: the feature matrix with labels, patients and every repeat's folds."""

    x: Matrix
    patient_ids: np.ndarray
    folds: np.ndarray  # (repeats, rows)

    def valid_rows(self, task: Any) -> np.ndarray:
        return np.flatnonzero(self.folds[task.repeat] == task.fold)


@dataclass
class TaskOutput:
    task: Any  # models.cv.FitTask
    scores: np.ndarray  # out-of-fold scores of the task's validation rows, in row order
    rounds: int
    model: bytes  # the native model file
    fitted: Fitted | None = None  # set once the model is in this process
    rows: np.ndarray | None = None  # the validation rows the scores belong to


TaskWork = Callable[[Any, TaskData, FitSettings], TaskOutput]


class Executor(Protocol):
    def fit_settings(self, settings: FitSettings) -> FitSettings: ...

    def run(
        self,
        tasks: Sequence[Any],
        work: TaskWork,
        data: TaskData,
        settings: FitSettings,
        on_done: Callable[[TaskOutput], None],
    ) -> None: ...

    def close(self) -> None: ...


def run_plan(
    tasks: Sequence[Any],
    work: TaskWork,
    data: TaskData,
    settings: FitSettings,
    *,
    executor: Executor | None = None,
    store: TaskStore | None = None,
    label: str = "cross-validation",
) -> dict[str, TaskOutput]:
    """Every task's output by `task.stem`: the ones `store` already holds, then the rest run
    on `executor` (in this process by default), each stored as soon as it finishes; `label`
    names them in the progress bar and log."""
    outputs = stored_outputs(tasks, data, store) if store is not None else {}
    pending = [task for task in tasks if task.stem not in outputs]
    executor = executor or InProcess()
    stop_after = int(os.environ.get(STOP_AFTER_ENV, "0") or 0)
    y = np.asarray(data.x.y)
    with progress(len(pending), label) as bar:

        def on_done(output: TaskOutput) -> None:
            if store is not None:
                store.save(output)
            outputs[output.task.stem] = output
            if stop_after and len(outputs) >= stop_after:
                os._exit(75)
            task = output.task
            bar.step(
                f"repeat {task.repeat} fold {task.fold} {task.model} bag {task.bag}: "
                f"{output.rounds} rounds, pAUC "
                f"{_score_text(y[data.valid_rows(task)], output.scores)}"
            )

        executor.run(pending, work, data, executor.fit_settings(settings), on_done)
    for output in outputs.values():
        if output.fitted is None:
            output.fitted = load_model_bytes(output.task.model, output.model, output.rounds)
    return outputs


class InProcess:
    """Today's loop: one task after another, in this process, with the config's threads."""

    def fit_settings(self, settings: FitSettings) -> FitSettings:
        return settings

    def run(self, tasks, work, data, settings, on_done) -> None:
        for task in tasks:
            on_done(work(task, data, settings))

    def close(self) -> None:
        pass


def _score_text(y: np.ndarray, scores: np.ndarray) -> str:
    value = pauc_or_none(y, scores)
    return "nan" if value is None else f"{value:.4f}"
