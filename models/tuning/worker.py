"""One worker's loop over a shared study, with a budget for the whole study.

`--n-trials N` is the study's budget, across every worker: the first N trials by number that
are not retries of a dead worker's trial are the budget (numbers come from the storage, so
workers agree without talking), and a retry takes its original's place. A worker that draws a
trial beyond the budget marks it failed ("over_budget") without training, so the study never
finishes more than N trials, running ones counted. Before it leaves, a worker on a storage
with heartbeats waits for the study's running trials: if one's worker died, it retries it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from models.tuning.storage import heartbeat_enabled, retried_number

log = logging.getLogger(__name__)
OVER_BUDGET = "over_budget"


class OverBudget(Exception):
    """A trial drawn after the study's budget was spent."""


@dataclass(frozen=True)
class StudyCount:
    complete: int
    pruned: int
    failed: int
    running: int
    waiting: int
    budget_used: int  # trials that take a budget slot: every non-retry trial within budget

    def line(self) -> str:
        return (
            f"{self.complete} complete, {self.pruned} pruned, {self.failed} failed, "
            f"{self.running} running"
        )


def count(study: optuna.Study) -> StudyCount:
    trials = study.get_trials(deepcopy=False)
    by_state = {state: 0 for state in TrialState}
    for trial in trials:
        by_state[trial.state] += 1
    over = sum(1 for t in trials if t.user_attrs.get(OVER_BUDGET))
    return StudyCount(
        complete=by_state[TrialState.COMPLETE],
        pruned=by_state[TrialState.PRUNED],
        failed=by_state[TrialState.FAIL] - over,
        running=by_state[TrialState.RUNNING],
        waiting=by_state[TrialState.WAITING],
        budget_used=sum(1 for t in trials if _takes_a_slot(t)),
    )


def run_worker(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    timeout: float | None = None,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Run trials of `study` until its budget of `n_trials` is spent (or `timeout` seconds
    have passed for this worker), calling `on_trial` after each of this worker's trials."""
    started = time.monotonic()
    beats = heartbeat_enabled(study._storage)
    poll = poll_seconds or (study._storage.get_heartbeat_interval() if beats else 1)

    def guarded(trial: optuna.Trial) -> float:
        frozen = study._storage.get_trial(trial._trial_id)
        if retried_number(frozen) is None and _slot(study, trial.number) >= n_trials:
            trial.set_user_attr(OVER_BUDGET, True)
            raise OverBudget(f"trial {trial.number} is beyond the budget of {n_trials}")
        return objective(trial)

    def reported(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if on_trial is not None and not trial.user_attrs.get(OVER_BUDGET):
            on_trial(study, trial)

    callbacks = [reported]
    while timeout is None or time.monotonic() - started < timeout:
        if beats:
            optuna.storages.fail_stale_trials(study)
        state = count(study)
        if state.budget_used >= n_trials and not state.waiting:
            if beats and state.running:
                # Another worker's trial may belong to a dead worker: wait to retry it.
                time.sleep(poll)
                continue
            break
        study.optimize(guarded, n_trials=1, catch=(OverBudget,), callbacks=callbacks)


def _slot(study: optuna.Study, number: int) -> int:
    """How many budget slots trials numbered below `number` take."""
    return sum(
        1 for t in study.get_trials(deepcopy=False) if t.number < number and _takes_a_slot(t)
    )


def _takes_a_slot(trial: optuna.trial.FrozenTrial) -> bool:
    return retried_number(trial) is None and not trial.user_attrs.get(OVER_BUDGET)
