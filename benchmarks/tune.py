"""Tuning benchmark: a time-boxed `pipelines.tune` study (one worker, or several on one
storage) on the real 5,000 rows or on synthetic rows, recorded in benchmarks/RESULTS.md:
trials per hour, the pruned share, the best value against the default's trial 0 on the
study's folds, and the verdict `tune` prints (tuned against default on a split seed no trial
saw, with the paired patient-bootstrap interval).

python -m benchmarks.tune [--data real|synthetic] [--rows 400000] [--minutes 20]
[--model all] [--workers 1] [--storage URL] [--work DIR] [--no-write]

With --workers N > 1 every worker gets the same --storage (PostgreSQL, say) and study; the
first finishes the study (verdict, best.toml), the others run trials only (`--no-finish`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from benchmarks import harness
from benchmarks.real import DEFAULT_DATA
from models.config import MODEL_NAMES
from models.tuning import OVER_BUDGET, open_storage

REPO = Path(__file__).resolve().parents[1]
# A budget no time-boxed study reaches: the --minutes decide when it stops.
UNLIMITED_TRIALS = 100_000


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    data = _data_dir(args, work)
    out = work / "best.toml"
    storage = args.storage or f"sqlite:///{(work / 'study.db').resolve()}"
    study = f"bench-{int(time.time())}"
    command = [
        sys.executable, "-m", "pipelines.tune", "--model", args.model, "--data-dir", str(data),
        "--storage", storage, "--study", study, "--n-trials", str(UNLIMITED_TRIALS),
        "--timeout", str(args.minutes * 60), "--out", str(out),
    ]  # fmt: skip
    if args.config is not None:
        command += ["--config", str(args.config)]
    started = time.perf_counter()
    workers = []
    for index in range(args.workers):
        log = open(work / f"worker{index}.log", "w")  # noqa: SIM115 (closed below)
        extra = [] if index == 0 else ["--no-finish"]
        process = subprocess.Popen([*command, *extra], stdout=log, stderr=log, cwd=REPO)
        workers.append((process, log))
        print(f"worker {index} started: log {work / f'worker{index}.log'}", flush=True)
    for process, log in workers:
        process.wait()
        log.close()
        if process.returncode != 0:
            raise SystemExit(f"error: a worker exited with {process.returncode}; see {work}")
    seconds = time.perf_counter() - started
    models = list(MODEL_NAMES) if args.model == "all" else [args.model]
    names = {m: f"{study}-{m}" if args.model == "all" else study for m in models}
    rows = [_study_row(storage, names[m], m) for m in models]
    header = [line[2:] for line in out.read_text().splitlines() if line.startswith("# ")]
    verdict = [line for line in header if line.startswith(("Verdict", "ensemble"))]
    text = _section(args, rows, verdict, seconds)
    print(text)
    (work / "result.json").write_text(json.dumps({"rows": rows, "verdict": verdict}, indent=2))
    if not args.no_write:
        harness.write_section(args.results, text, _section_name(args))
    return 0


def _data_dir(args: argparse.Namespace, work: Path) -> Path:
    data = work / "data"
    if args.data == "real":
        if not DEFAULT_DATA.is_file():
            raise SystemExit(f"error: {DEFAULT_DATA} not found (the real rows live in ../shared)")
        data.mkdir(exist_ok=True)
        shutil.copy(DEFAULT_DATA, data / "train-metadata.csv")
    else:
        harness.ensure_data(data, args.rows, 0, args.seed)
    return data


def _study_row(storage_url: str, name: str, model: str) -> dict:
    storage = open_storage(storage_url, 60) if storage_url.startswith("journal:") else storage_url
    study = optuna.load_study(study_name=name, storage=storage)
    trials = [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(OVER_BUDGET)]
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    pruned = sum(t.state == TrialState.PRUNED for t in finished)
    span = max(t.datetime_complete for t in finished) - min(t.datetime_start for t in finished)
    hours = max(span.total_seconds(), 1) / 3600
    default = next(t for t in trials if t.number == 0)
    return {
        "model": model,
        "finished": len(finished),
        "per_hour": len(finished) / hours,
        "pruned_share": pruned / len(finished),
        "default": default.value,
        "best": study.best_value,
        "best_trial": study.best_trial.number,
        "best_pooled": study.best_trial.user_attrs.get("pooled_pauc"),
    }


def _section(args: argparse.Namespace, rows: list[dict], verdict: list[str], seconds: float):
    data = "the 5,000 real rows" if args.data == "real" else f"{args.rows:,} synthetic rows"
    lines = harness.section_head(
        f"Tuning: a {args.minutes:g}-minute `--model {args.model}` study on {data}, "
        f"{args.workers} worker{'s' if args.workers > 1 else ''}",
        "benchmarks.tune",
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines += [
        f"- wall time {seconds:.0f} s (each library gets an equal share of the minutes), then "
        "the verdict's two trainings on a fresh split",
        f"- load average at the end (1, 5, 15 minutes): {load}; on a busy machine a time-boxed "
        "study runs fewer trials, and the per-hour rate says so",
        "",
        "| library | trials | per hour | pruned | default (trial 0) | best | best trial | "
        "best, pooled out-of-fold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['finished']} | {r['per_hour']:.0f} | {r['pruned_share']:.0%} "
            f"| {r['default']:.4f} | {r['best']:.4f} | {r['best_trial']} | "
            f"{r['best_pooled']:.4f} |"
        )
    lines += [
        "",
        "Values are the mean of the study folds' ISIC pAUC (the trials were chosen on these "
        "folds, so the best is optimistic). What `tune` concluded:",
        "",
        *[f"- {line}" for line in verdict],
    ]
    return "\n".join(lines)


def _section_name(args: argparse.Namespace) -> str:
    return f"benchmarks.tune.{args.data}.{args.workers}w"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tune", description=__doc__)
    p.add_argument("--data", choices=["real", "synthetic"], default="real")
    p.add_argument("--rows", type=int, default=400_000, help="synthetic train rows")
    p.add_argument("--seed", type=int, default=42, help="synthetic data seed")
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--model", default="all", choices=[*MODEL_NAMES, "all"])
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--storage", help="a storage URL all workers share (default: SQLite in WORK)")
    p.add_argument("--config", type=Path, help="partial TOML overlay, passed to tune")
    p.add_argument("--work", type=Path, default=Path("/tmp/tbp-bench-tune"))
    p.add_argument("--results", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    p.add_argument("--no-write", action="store_true")
    return p


if __name__ == "__main__":
    raise SystemExit(main())
