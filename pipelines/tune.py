"""Tune LightGBM, XGBoost and CatBoost with Optuna across the patient-grouped folds that
`train_gbdt` uses, on one machine or many (see DESIGN.md and the README's "Tuning").

Every worker given the same --storage and --study works on the same study (one per library:
with --model all, STUDY-lgbm, STUDY-xgb, STUDY-cat); --n-trials is each study's budget across
all workers."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import optuna

from models.config import MODEL_NAMES, load_config
from models.tuning import TuneOutcome, TuneRequest, count, tune
from pipelines._cli import run_cli
from pipelines._data import dataset_and_inputs


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = load_config(args.config)
    if args.folds is not None:
        config = config.replace(cv={"folds": args.folds})
    # Optuna's own lines (a trial per line, over-budget trials as failures) give way to ours,
    # and so do the sampler's per-fit notes.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("models.cv.sampling").setLevel(logging.WARNING)
    request = TuneRequest(
        models=list(MODEL_NAMES) if args.model == "all" else [args.model],
        out=args.out,
        storage=args.storage,
        study=args.study,
        n_trials=args.n_trials,
        timeout=args.timeout,
        enqueue=args.enqueue,
        space_file=args.space,
        heartbeat_seconds=args.heartbeat,
        finish=not args.no_finish,
    )
    request.check()  # before the data is read or any storage is touched
    dataset, inputs = dataset_and_inputs(args.data_dir, config)
    outcome = tune(dataset.train, config, inputs, request, folds_file=args.folds_file)
    print(summary(outcome, request), file=sys.stdout)
    return 0


def summary(outcome: TuneOutcome, request: TuneRequest) -> str:
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
    elif not request.finish:
        lines.append("--no-finish: this worker only ran trials; a finishing worker writes --out")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipelines.tune", description=__doc__)
    p.add_argument("--model", required=True, choices=[*MODEL_NAMES, "all"])
    p.add_argument("--data-dir", type=Path, help="Kaggle layout; default: the embedded data")
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
    p.add_argument("--out", type=Path, default=Path("best.toml"), help="default: best.toml")
    return p


def cli() -> int:
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
