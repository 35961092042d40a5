"""Resuming a plan: fits a store already holds (an interrupted run's) are reused, after
checking that they belong to this run's folds. Where and how they are kept on disk is the
run folder's business (`models.artifacts.TaskFolder`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from features.errors import UserError

if TYPE_CHECKING:
    from models.cv.plan import TaskData, TaskOutput

log = logging.getLogger(__name__)


class TaskStore(Protocol):
    """Where finished tasks are kept between runs (`artifacts.TaskFolder`)."""

    def load(self, task: Any) -> TaskOutput | None: ...

    def save(self, output: TaskOutput) -> None: ...


def stored_outputs(tasks: Sequence[Any], data: TaskData, store: TaskStore) -> dict[str, TaskOutput]:
    """The outputs `store` holds for `tasks`, by `task.stem`; a user error when a stored fit
    was scored on other rows than this run's folds give it."""
    outputs: dict[str, TaskOutput] = {}
    for task in tasks:
        stored = store.load(task)
        if stored is None:
            continue
        if stored.rows is not None and not np.array_equal(stored.rows, data.valid_rows(task)):
            raise UserError(
                f"stored fit {task.stem}: its held-out rows differ from this run's folds; "
                "resume with the same data and folds, or start a new --out"
            )
        outputs[task.stem] = stored
    if outputs:
        log.info(
            "resuming: %d of %d fits already done, %d to run",
            len(outputs),
            len(tasks),
            len(tasks) - len(outputs),
        )
    return outputs
