"""Real-row blend benchmark: does any fitted blend beat the plain rank mean on the 5,000 real
SLICE-3D rows? For each split seed, `train_gbdt` trains runs that differ (the default, one run
per library, the presets) on the same folds (`--folds-file` from the default run's
`folds.csv`), and `pipelines.blend` blends them with every method; recorded in
benchmarks/RESULTS.md.

python -m benchmarks.blend_real [--seeds 0-2] [--data FILE] [--work DIR] [--no-write]
[--results benchmarks/RESULTS.md]

Two blends per split seed: the three single-library runs, and all six runs. Every method's
out-of-fold score is honest (weights fitted on the other folds), and the table gives each
fitted method minus the rank mean with a 95 % paired patient-bootstrap interval, per seed and
over all seeds together (the mean pAUC over seeds of each side, resampled on the same
patients). The split seed is each run's `seed`, so it also seeds the models.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import tomli_w

from benchmarks.harness import section_head, write_section
from benchmarks.real import DEFAULT_DATA, parse_seeds
from features.errors import UserError
from models.evaluation import BETTER, compare_scores, isic_pauc
from pipelines._cli import run_cli

SECTION = "benchmarks.blend_real"
REPO = Path(__file__).resolve().parents[1]
BOOTSTRAP_SAMPLES = 1000
# Run name -> (preset in configs/ or None, changes to it, extra train_gbdt arguments). The 1st
# place's preset runs with one bag, not ten: 150 fits per split seed were out of reach on the
# shared two-core machine, and its sampling and features still make it a run that differs.
RUNS = {
    "default": (None, {}, []),
    "lgbm": (None, {}, ["--models", "lgbm"]),
    "xgb": (None, {}, ["--models", "xgb"]),
    "cat": (None, {}, ["--models", "cat"]),
    "recipe": ("recipe.toml", {}, []),
    "first_place_1bag": ("first_place.toml", {"training": {"bags": 1}}, []),
}
BLENDS = {"libraries": ["lgbm", "xgb", "cat"], "all runs": list(RUNS)}
METHODS = ("rank_mean", "weighted_rank", "stack")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.data.is_file():
        raise UserError(f"{args.data}: real rows not found (../shared/data/real/)")
    seeds = parse_seeds(args.seeds)
    work = args.work
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.data, data / "train-metadata.csv")
    blends: dict[str, dict[int, Path]] = {name: {} for name in BLENDS}
    for seed in seeds:
        runs = _train_runs(work / f"seed{seed}", data, seed)
        for name, members in BLENDS.items():
            blends[name][seed] = _blend(work / f"seed{seed}", name, [runs[m] for m in members])
    table = _table(blends, seeds, work)
    print(table)
    if not args.no_write:
        write_section(args.results, table, SECTION)
    return 0


def run_config(name: str, seed: int) -> dict:
    """The config overlay of run `name` for one split seed: its preset, changed, and the seed."""
    preset, changes, _ = RUNS[name]
    table = {} if preset is None else tomllib.loads((REPO / "configs" / preset).read_text())
    for section, values in changes.items():
        table.setdefault(section, {}).update(values)
    return {**table, "seed": seed}


def _train_runs(folder: Path, data: Path, seed: int) -> dict[str, Path]:
    """Every run of one split seed; the default's folds are every other run's."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name, (_, _, extra) in RUNS.items():
        out = folder / name
        runs[name] = out
        if (out / "metrics.json").is_file():
            print(f"reusing {out}", flush=True)
            continue
        config = folder / f"{name}.toml"
        config.write_text(tomli_w.dumps(run_config(name, seed)))
        command = ["pipelines.train_gbdt", "--data-dir", str(data), "--out", str(out)]
        command += ["--config", str(config), *extra]
        if name != "default":
            command += ["--folds-file", str(runs["default"] / "folds.csv")]
        _call(command)
    return runs


def _blend(folder: Path, name: str, runs: list[Path]) -> Path:
    out = folder / f"blend-{name.replace(' ', '-')}"
    if (out / "metrics.json").is_file():
        print(f"reusing {out}", flush=True)
        return out
    command = ["pipelines.blend", "--out", str(out), "--bootstrap", str(BOOTSTRAP_SAMPLES)]
    for run in runs:
        command += ["--run", str(run)]
    _call(command)
    return out


def _call(command: list[str]) -> None:
    print("python -m " + " ".join(command), flush=True)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(
            f"error: {command[0]} exited {result.returncode}:\n{result.stderr[-3000:]}"
        )
    print(f"  {time.perf_counter() - start:.0f} s", flush=True)


def _table(blends: dict[str, dict[int, Path]], seeds: list[int], work: Path) -> str:
    lines = [
        *section_head("Real rows: blends of runs against the plain rank mean", SECTION),
        f"- data: the 5,000 real rows, split seeds {seeds} x 5 patient-grouped folds; "
        f"{BOOTSTRAP_SAMPLES} patient-bootstrap resamples; {_minutes(work, seeds):.0f} min of "
        "train_gbdt and blend in all (their metrics.json seconds)",
        f"- load: {_load()}",
        "",
        "Each run's out-of-fold ensemble (one row per split seed; every run of a seed on the "
        "default run's folds):",
        "",
        "| seed | " + " | ".join(RUNS) + " |",
        "| --- |" + " ---: |" * len(RUNS),
    ]
    for seed in seeds:
        metrics = json.loads((blends["all runs"][seed] / "metrics.json").read_text())
        lines.append(
            f"| {seed} | " + " | ".join(f"{metrics['oof_pauc'][r]:.4f}" for r in RUNS) + " |"
        )
    lines += [
        "",
        "Every blend method's honest out-of-fold score, and each fitted method minus the rank mean "
        "(95 % paired patient-bootstrap interval); `best` is what `--method best` chose:",
        "",
        "| blend | seed | rank_mean | weighted_rank | stack | weighted_rank - rank_mean | "
        "stack - rank_mean | best |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    better: list[str] = []
    for name, by_seed in blends.items():
        frames = {seed: pl.read_parquet(folder / "oof.parquet") for seed, folder in by_seed.items()}
        for seed, folder in by_seed.items():
            m = json.loads((folder / "metrics.json").read_text())
            cells = [f"{m['oof_pauc'][k]:.4f}" for k in METHODS]
            cells += [_difference(m["against_rank_mean"][k]) for k in METHODS[1:]]
            lines.append(f"| {name} | {seed} | " + " | ".join(cells) + f" | {m['method']} |")
        lines.append(_pooled(name, frames, better))
    lines += [
        "",
        f"Work folder: `{work}` (the runs and blends of every seed). {_verdict(blends, better)}",
    ]
    return "\n".join(lines)


def _pooled(name: str, frames: dict[int, pl.DataFrame], better: list[str]) -> str:
    """All seeds together: each method's mean score over seeds, and the fitted methods' mean
    difference to the rank mean, resampled on the same patients; a fitted method that beats
    the rank mean beyond noise is added to `better` as 'method (blend)'."""
    base = next(iter(frames.values()))
    y, patients = base["target"].to_numpy(), base["patient_id"].to_numpy()
    for frame in frames.values():
        if not frame["isic_id"].equals(base["isic_id"]):
            raise SystemExit("error: the seeds' blends hold other rows")
    columns = {k: [f[k].to_numpy() for f in frames.values()] for k in METHODS}
    cells = []
    for k in METHODS[1:]:
        c = compare_scores(y, columns["rank_mean"], columns[k], patients, BOOTSTRAP_SAMPLES)
        cells.append(f"{c.difference:+.4f} [{c.low:+.4f}, {c.high:+.4f}] {c.verdict}")
        if c.verdict == BETTER:
            better.append(f"{k} ({name})")
    means = [np.mean([isic_pauc(y, s) for s in columns[k]]) for k in METHODS]
    return (
        f"| **{name}** | all | {means[0]:.4f} | {means[1]:.4f} | {means[2]:.4f} | "
        + " | ".join(cells)
        + " | |"
    )


def _minutes(work: Path, seeds: list[int]) -> float:
    """What the runs and blends took, by their own account (a reused one took no time here)."""
    files = [f for seed in seeds for f in (work / f"seed{seed}").glob("*/metrics.json")]
    return sum(json.loads(f.read_text())["seconds"] for f in files) / 60


def _difference(c: dict) -> str:
    return f"{c['difference']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}] {c['verdict']}"


def _verdict(blends: dict[str, dict[int, Path]], better: list[str]) -> str:
    pooled = (
        f"Over all seeds together, {' and '.join(better)} beat the plain rank mean beyond noise."
        if better
        else "Over all seeds together, no fitted method beat the plain rank mean beyond noise."
    )
    chosen = [
        json.loads((folder / "metrics.json").read_text())["method"]
        for by_seed in blends.values()
        for folder in by_seed.values()
    ]
    fitted = [c for c in chosen if c != "rank_mean"]
    if not fitted:
        return f"{pooled} On single seeds `--method best` kept the rank mean every time."
    return (
        f"{pooled} On single seeds `--method best` chose a fitted method {len(fitted)} of "
        f"{len(chosen)} times ({', '.join(fitted)}): one split's patient-bootstrap interval "
        "does not cover the noise of the split itself."
    )


def _load() -> str:
    try:
        return (
            "load average "
            + Path("/proc/loadavg").read_text().split()[0]
            + " at the end (2 cores, shared)"
        )
    except OSError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.blend_real", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seeds", default="0-2", help="split seeds: A-B or a comma list (0-2)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the real train rows")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/blend_real"),
        help="runs and blends (kept; a finished one is reused)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    return parser


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
