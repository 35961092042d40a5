"""Workers sharing one study: the budget is the study's, a killed worker's trial is failed and
retried, and a study continues its numbering. The workers are real processes running
`models.tuning.run_worker` (tests/models/tuning/study_worker.py); the study is read back with
Optuna's own API, not ours.

PostgreSQL tests use the server that `.ci/run` starts (TBP_TEST_POSTGRES_URL) and skip
without one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from models.tuning import OVER_BUDGET, count, open_storage, run_worker
from tests.conftest import REPO

POSTGRES = os.environ.get("TBP_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES, reason="no PostgreSQL (set TBP_TEST_POSTGRES_URL; .ci/run starts one)"
)


def start_worker(url: str, study: str, n_trials: int, *, sleep: float = 0.05) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.models.tuning.study_worker", url, study, str(n_trials)]
        + ["--sleep", str(sleep), "--heartbeat", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished_numbers(worker: subprocess.Popen, timeout: float = 120) -> list[int]:
    out, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("finished")]


def trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    storage = url if not url.startswith("journal:") else open_storage(url, 1)
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


def states(url: str, name: str) -> dict[TrialState, int]:
    found = {state: 0 for state in TrialState}
    for trial in trials(url, name):
        found[trial.state] += 1
    return found


def storage_urls(tmp_path: Path) -> list[str]:
    return [f"sqlite:///{tmp_path / 'study.db'}", f"journal:{tmp_path / 'study.log'}"]


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_study_continues_its_numbering_after_every_worker_stopped(tmp_path, kind):
    url = dict(zip(["sqlite", "journal"], storage_urls(tmp_path), strict=True))[kind]
    assert finished_numbers(start_worker(url, "s", 3)) == [0, 1, 2]
    # The budget is the study's: asking for 3 again runs nothing, 5 runs two more.
    assert finished_numbers(start_worker(url, "s", 3)) == []
    assert finished_numbers(start_worker(url, "s", 5)) == [3, 4]
    assert states(url, "s")[TrialState.COMPLETE] == 5


@needs_postgres
def test_postgres_study_continues_its_numbering():
    name = f"resume-{uuid.uuid4().hex[:8]}"
    assert finished_numbers(start_worker(POSTGRES, name, 2)) == [0, 1]
    assert finished_numbers(start_worker(POSTGRES, name, 4)) == [2, 3]


def two_workers_share_the_budget(url: str, name: str, budget: int) -> None:
    workers = [start_worker(url, name, budget, sleep=0.1) for _ in range(2)]
    done = [finished_numbers(w) for w in workers]
    both = done[0] + done[1]
    assert len(both) == len(set(both)), f"a trial ran twice: {done}"
    complete = sorted(t.number for t in trials(url, name) if t.state == TrialState.COMPLETE)
    assert sorted(both) == complete
    assert len(complete) == budget
    assert all(done), f"one worker did all the work, no coordination was tested: {done}"
    # A trial drawn past the budget never trained and never counts as finished.
    for trial in trials(url, name):
        if trial.state == TrialState.FAIL:
            assert trial.user_attrs.get(OVER_BUDGET)


@needs_postgres
def test_two_postgres_workers_finish_exactly_the_budget():
    two_workers_share_the_budget(POSTGRES, f"two-{uuid.uuid4().hex[:8]}", 12)


def test_two_sqlite_workers_finish_exactly_the_budget(tmp_path):
    two_workers_share_the_budget(f"sqlite:///{tmp_path / 'study.db'}", "two", 8)


def killed_worker_is_retried(url: str, name: str) -> None:
    slow = start_worker(url, name, 4, sleep=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = slow.stdout.readline()
        if line.startswith("started"):
            break
    killed_number = int(line.split()[1])
    time.sleep(1.5)  # a heartbeat or two reach the storage
    slow.send_signal(signal.SIGKILL)
    slow.wait()
    finished_numbers(start_worker(url, name, 4, sleep=0.05))
    found = trials(url, name)
    killed = next(t for t in found if t.number == killed_number)
    assert killed.state == TrialState.FAIL
    retries = [t for t in found if t.system_attrs.get("failed_trial") == killed_number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == killed.params
    # The retry took the killed trial's place: the study still ends with exactly its budget.
    assert sum(t.state == TrialState.COMPLETE for t in found) == 4


@needs_postgres
def test_a_killed_postgres_worker_has_its_trial_failed_and_retried():
    killed_worker_is_retried(POSTGRES, f"kill-{uuid.uuid4().hex[:8]}")


def test_a_killed_sqlite_worker_has_its_trial_failed_and_retried(tmp_path):
    killed_worker_is_retried(f"sqlite:///{tmp_path / 'study.db'}", "kill")


def test_count_reads_the_states_of_a_study():
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    study.add_trial(optuna.create_trial(state=TrialState.WAITING))
    found = count(study)
    assert (found.complete, found.waiting, found.budget_used) == (3, 1, 4)


def test_an_in_memory_worker_stops_at_the_budget_whatever_is_enqueued():
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    for x in (0.1, 0.2, 0.3):
        study.enqueue_trial({"x": x})
    run_worker(study, lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    complete = study.get_trials(states=[TrialState.COMPLETE])
    assert [t.params["x"] for t in complete] == [0.1, 0.2]
    # The third enqueued trial was drawn past the budget: failed, marked, never trained.
    over = study.get_trials(states=[TrialState.FAIL])
    assert len(over) == 1 and over[0].user_attrs[OVER_BUDGET]
