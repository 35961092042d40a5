"""Tune LightGBM, XGBoost and CatBoost with Optuna across the patient-grouped folds that
`train_gbdt` uses, on one machine or many (see DESIGN.md and docs/tuning.md).

Every worker given the same --storage and --study works on the same study (one per library:
with --model all, STUDY-lgbm, STUDY-xgb, STUDY-cat); --n-trials is each study's budget across
all workers."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna

from features.errors import UserError
from features.frames import DataInput
from models.config import MODEL_NAMES, load_config
from models.tuning import TuneOutcome, TuneRequest, count
from models.tuning import tune as run_tune
from pipelines._cli import run_cli
from pipelines._data import dataset_and_inputs

DEFAULT_OUT = "best.toml"


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    # The command writes best.toml by default; the function writes only what it is asked.
    args["out"] = args["out"] or Path(DEFAULT_OUT)
    outcome = tune(**args)
    print(summary(outcome, not args["no_finish"]), file=sys.stdout)
    return 0


def tune(
    model: str,
    *,
    data_dir: Path | None = None,
    train: DataInput | None = None,
    config: Path | Mapping[str, Any] | None = None,
    folds: int | None = None,
    folds_file: Path | None = None,
    storage: str | None = None,
    study: str | None = None,
    n_trials: int = 50,
    timeout: float | None = None,
    enqueue: Path | None = None,
    space: Path | None = None,
    heartbeat: int = 60,
    no_finish: bool = False,
    out: Path | None = None,
) -> TuneOutcome:
    """Tune `model` ("lgbm", "xgb", "cat" or "all") with Optuna on the patient-grouped folds;
    the command `python -m pipelines.tune` with its flags as keyword arguments. The data: a
    Kaggle-layout folder `data_dir`, or `train` as a path or a Polars or pandas DataFrame,
    else the embedded synthetic data; `config` a partial TOML file or the same tables as a dict.
    Without `out` or `storage` nothing is written: the
    studies live in memory. Returns the `TuneOutcome`: `best_config` (the tuned partial
    config, best.toml's tables, as a dict), `verdict` (tuned against the default on a fresh
    split) and `path` (the TOML written, or None)."""
    if model not in (*MODEL_NAMES, "all"):
        raise UserError(f"--model {model}: expected one of {', '.join([*MODEL_NAMES, 'all'])}")
    settings = load_config(config)
    if folds is not None:
        settings = settings.replace(cv={"folds": folds})
    # Optuna's own lines (a trial per line, over-budget trials as failures) give way to ours,
    # and so do the sampler's per-fit notes.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("models.cv.sampling").setLevel(logging.WARNING)
    request = TuneRequest(
        models=list(MODEL_NAMES) if model == "all" else [model],
        out=None if out is None else Path(out),
        storage=storage,
        study=study,
        n_trials=n_trials,
        timeout=timeout,
        enqueue=enqueue,
        space_file=space,
        heartbeat_seconds=heartbeat,
        finish=not no_finish,
    )
    request.check()  # before the data is read or any storage is touched
    dataset, inputs = dataset_and_inputs(data_dir, settings, train)
    return run_tune(dataset.train, settings, inputs, request, folds_file=folds_file)


def summary(outcome: TuneOutcome, finish: bool) -> str:
    lines = []
    for model, study in outcome.studies.items():
        # The study's own counts: trials drawn past the budget never ran and are not trials.
        state = count(study)
        best = outcome.best.get(model)
        best_text = f", best {best.value:.4f} (trial {best.number})" if best else ""
        lines.append(
            f"{study.study_name}: {state.complete + state.pruned} trials, "
            f"{state.pruned} pruned{best_text}"
        )
    if outcome.ensemble is not None:
        lines.append(outcome.ensemble.line())
    if outcome.verdict is not None:
        lines += [outcome.verdict.line(), *outcome.notes]
    if outcome.written:
        lines.append("wrote " + ", ".join(str(p) for p in outcome.written))
    elif not finish:
        lines.append("--no-finish: this worker only ran trials; a finishing worker writes --out")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipelines.tune", description=__doc__)
    p.add_argument(
        "--model",
        required=True,
        choices=[*MODEL_NAMES, "all"],
        help="the library to tune, or all of them (one study each)",
    )
    p.add_argument("--data-dir", type=Path, help="Kaggle layout; default: the embedded data")
    p.add_argument(
        "--train",
        type=Path,
        metavar="FILE",
        help="instead of --data-dir: the train metadata file (CSV or Parquet), any name",
    )
    p.add_argument("--config", type=Path, help="partial TOML overlay on configs/default.toml")
    p.add_argument("--folds", type=int, help="patient-grouped folds (default: the config's)")
    p.add_argument("--folds-file", type=Path, help="CSV or Parquet with patient_id,fold")
    p.add_argument(
        "--storage",
        help="an Optuna storage URL: sqlite:///FILE (default: OUT's name with .db), "
        "postgresql://USER:PASSWORD@HOST/DB for workers on many machines, or journal:FILE "
        "for processes on one host",
    )
    p.add_argument(
        "--study",
        help="the study to create or continue (default: tbp-MODEL); with --model all, "
        "a prefix: STUDY-lgbm, STUDY-xgb, STUDY-cat",
    )
    p.add_argument(
        "--n-trials", type=int, default=50, help="each study's budget, across every worker"
    )
    p.add_argument("--timeout", type=float, help="seconds for this worker, over all libraries")
    p.add_argument("--enqueue", type=Path, help="a partial config TOML to try early")
    p.add_argument("--space", type=Path, help="TOML ranges replacing the default search space")
    p.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        help="seconds between a worker's heartbeats; a trial silent for twice this is retried",
    )
    p.add_argument(
        "--no-finish",
        action="store_true",
        help="an extra worker: run trials only, leave the verdict and --out to another",
    )
    p.add_argument(
        "--out",
        type=Path,
        help=f"the tuned config to write (default: {DEFAULT_OUT}; from Python, written only "
        "when given, the studies then in memory unless --storage)",
    )
    return p


def cli() -> int:
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
