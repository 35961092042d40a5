"""A worker process for the storage tests: the real `run_worker` loop (budget, heartbeats,
retries) over a study whose objective only sleeps, so the tests measure coordination, not
training. Prints the number of every trial it finished, one per line.

python -m tests.models.tuning.study_worker URL STUDY N_TRIALS [--sleep S] [--heartbeat H]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import optuna

from models.tuning import open_storage, open_study, run_worker

STEPS = 3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("study")
    parser.add_argument("n_trials", type=int)
    parser.add_argument("--sleep", type=float, default=0.05, help="seconds per reported step")
    parser.add_argument("--heartbeat", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(args.url, args.heartbeat)
    study = open_study(
        storage,
        args.study,
        "lgbm",
        "test-data",
        optuna.samplers.RandomSampler(seed=0),
        optuna.pruners.NopPruner(),
    )

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        print(f"started {trial.number}", flush=True)
        for step in range(STEPS):
            time.sleep(args.sleep)
            trial.report(x, step=step)
        return x

    def finished(_study, trial) -> None:
        print(f"finished {trial.number}", flush=True)

    run_worker(study, objective, args.n_trials, on_trial=finished, poll_seconds=0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
